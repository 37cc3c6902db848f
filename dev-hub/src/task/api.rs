//! REST: `/api/v1/dev/tasks`, `/api/v1/dev/tasks/{id}` and its claim, release, status and
//! dependencies; `/api/v1/dev/tasks/next` and `/api/v1/dev/tasks/blocked`.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use hub_core::api::extract::{Json, Path, Query};
use hub_core::api::page::{Page, PageParams, PageRequest};
use hub_core::api::problem::Problem;
use hub_core::auth::Principal;
use hub_core::{Hub, HubError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::claim;
use super::model::{self, Priority, TaskStatus};
use super::query::{self, Blocked, TaskScope};
use super::service::{self, NewTask, TaskFilter, TaskWithDeps};

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(tasks_create, tasks_list))
        .routes(routes!(tasks_next))
        .routes(routes!(tasks_blocked))
        .routes(routes!(tasks_get))
        .routes(routes!(tasks_claim))
        .routes(routes!(tasks_release))
        .routes(routes!(tasks_status))
        .routes(routes!(tasks_dependencies))
}

#[derive(Debug, Serialize, Deserialize, ToSchema, schemars::JsonSchema)]
pub struct Task {
    /// The human id, e.g. `CUST-WP-0025-T03`.
    pub id: String,
    pub workplan: String,
    pub domain: String,
    pub title: String,
    pub body: String,
    pub status: TaskStatus,
    pub priority: Priority,
    pub assignee: Option<String>,
    pub phase: Option<String>,
    pub workstream: Option<String>,
    pub depends_on: Vec<String>,
    /// Who holds the live claim, if anyone.
    pub claimed_by: Option<String>,
    /// When that claim's lease ends.
    pub claim_expires_at: Option<DateTime<Utc>>,
    /// Task block keys the hub does not interpret.
    pub extra: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<model::Model> for Task {
    fn from(m: model::Model) -> Self {
        TaskWithDeps {
            task: m,
            depends_on: Vec::new(),
        }
        .into()
    }
}

impl From<TaskWithDeps> for Task {
    fn from(t: TaskWithDeps) -> Self {
        let m = t.task;
        let live = m.holder(Utc::now()).is_some();
        Self {
            claimed_by: m.claimed_by.filter(|_| live),
            claim_expires_at: m.claim_expires_at.filter(|_| live),
            id: m.id,
            workplan: m.workplan_id,
            domain: m.domain,
            title: m.title,
            body: m.body,
            status: m.status,
            priority: m.priority,
            assignee: m.assignee,
            phase: m.phase,
            workstream: m.workstream,
            depends_on: t.depends_on,
            extra: m.extra,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// An open task and the open tasks it waits for.
#[derive(Debug, Serialize, Deserialize, ToSchema, schemars::JsonSchema)]
pub struct BlockedTask {
    pub task: Task,
    pub blockers: Vec<String>,
}

impl From<Blocked> for BlockedTask {
    fn from(b: Blocked) -> Self {
        Self {
            task: b.task.into(),
            blockers: b.blockers,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTask {
    pub workplan: String,
    /// `<workplan>-Tnn`; the next free one when absent.
    pub id: Option<String>,
    pub title: String,
    pub body: Option<String>,
    /// Default `todo`.
    pub status: Option<TaskStatus>,
    /// Default `medium`.
    pub priority: Option<Priority>,
    pub assignee: Option<String>,
    /// The section (phase) heading.
    pub phase: Option<String>,
    pub workstream: Option<String>,
    #[serde(default)]
    pub depends_on: Vec<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TaskQuery {
    pub workplan: Option<String>,
    pub domain: Option<String>,
    pub status: Option<TaskStatus>,
    pub assignee: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct NextQuery {
    pub workplan: Option<String>,
    pub domain: Option<String>,
    /// 1..=100, default 10.
    pub limit: Option<u64>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ScopeQuery {
    pub workplan: Option<String>,
    pub domain: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimTask {
    /// Lease in seconds, 1..=86400 (default 900); claim again to renew.
    pub lease_seconds: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetStatus {
    pub status: TaskStatus,
    /// Why, recorded with the progress event.
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetDependencies {
    pub depends_on: Vec<String>,
}

/// Creates a task in a workplan.
#[utoipa::path(post, path = "/api/v1/dev/tasks", tag = "dev", request_body = CreateTask,
    responses((status = 201, body = Task), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn tasks_create(
    State(hub): State<Hub>,
    who: Principal,
    Json(b): Json<CreateTask>,
) -> Result<(StatusCode, Json<Task>), HubError> {
    let new = NewTask {
        id: b.id,
        workplan: b.workplan,
        title: b.title,
        body: b.body,
        status: b.status,
        priority: b.priority,
        assignee: b.assignee,
        phase: b.phase,
        workstream: b.workstream,
        depends_on: b.depends_on,
    };
    let task = service::create(hub.ctx(), &who, new).await?;
    Ok((StatusCode::CREATED, Json(task.into())))
}

/// Tasks by id, filtered by workplan, domain, status and assignee.
#[utoipa::path(get, path = "/api/v1/dev/tasks", tag = "dev", params(PageParams, TaskQuery),
    responses((status = 200, body = Page<Task>), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn tasks_list(
    State(hub): State<Hub>,
    who: Principal,
    Query(params): Query<PageParams>,
    Query(q): Query<TaskQuery>,
) -> Result<Json<Page<Task>>, HubError> {
    let page = PageRequest::try_from(&params)?;
    let filter = TaskFilter {
        workplan: q.workplan,
        domain: q.domain,
        status: q.status,
        assignee: q.assignee,
    };
    Ok(Json(
        service::list(hub.ctx(), &who, &filter, &page)
            .await?
            .map(Task::from),
    ))
}

/// Tasks ready to start: `todo`, unclaimed, every dependency done or cancelled; highest
/// priority first.
#[utoipa::path(get, path = "/api/v1/dev/tasks/next", tag = "dev", params(NextQuery),
    responses((status = 200, body = Vec<Task>), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn tasks_next(
    State(hub): State<Hub>,
    who: Principal,
    Query(q): Query<NextQuery>,
) -> Result<Json<Vec<Task>>, HubError> {
    let scope = TaskScope {
        workplan: q.workplan,
        domain: q.domain,
    };
    let rows = query::next(hub.ctx(), &who, &scope, q.limit.unwrap_or(10)).await?;
    Ok(Json(rows.into_iter().map(Task::from).collect()))
}

/// Open tasks waiting for open dependencies, with those dependencies.
#[utoipa::path(get, path = "/api/v1/dev/tasks/blocked", tag = "dev", params(PageParams, ScopeQuery),
    responses((status = 200, body = Page<BlockedTask>), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn tasks_blocked(
    State(hub): State<Hub>,
    who: Principal,
    Query(params): Query<PageParams>,
    Query(q): Query<ScopeQuery>,
) -> Result<Json<Page<BlockedTask>>, HubError> {
    let page = PageRequest::try_from(&params)?;
    let scope = TaskScope {
        workplan: q.workplan,
        domain: q.domain,
    };
    Ok(Json(
        query::blocked(hub.ctx(), &who, &scope, &page)
            .await?
            .map(BlockedTask::from),
    ))
}

/// One task.
#[utoipa::path(get, path = "/api/v1/dev/tasks/{id}", tag = "dev", params(("id" = String, Path)),
    responses((status = 200, body = Task), (status = 404, body = Problem)))]
async fn tasks_get(
    State(hub): State<Hub>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<Task>, HubError> {
    Ok(Json(service::get(hub.ctx(), &who, &id).await?.into()))
}

/// Claims a task for a lease, or renews the caller's claim; 409 naming the holder when
/// someone else holds it.
#[utoipa::path(post, path = "/api/v1/dev/tasks/{id}/claim", tag = "dev", params(("id" = String, Path)),
    request_body = ClaimTask,
    responses((status = 200, body = Task), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn tasks_claim(
    State(hub): State<Hub>,
    who: Principal,
    Path(id): Path<String>,
    Json(b): Json<ClaimTask>,
) -> Result<Json<Task>, HubError> {
    Ok(Json(
        claim::claim(hub.ctx(), &who, &id, b.lease_seconds)
            .await?
            .into(),
    ))
}

/// Ends the caller's claim on a task.
#[utoipa::path(post, path = "/api/v1/dev/tasks/{id}/release", tag = "dev", params(("id" = String, Path)),
    responses((status = 200, body = Task), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn tasks_release(
    State(hub): State<Hub>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<Task>, HubError> {
    Ok(Json(claim::release(hub.ctx(), &who, &id).await?.into()))
}

/// Moves a task to a status; `done` needs every dependency closed (409 naming the open ones).
#[utoipa::path(post, path = "/api/v1/dev/tasks/{id}/status", tag = "dev", params(("id" = String, Path)),
    request_body = SetStatus,
    responses((status = 200, body = Task), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn tasks_status(
    State(hub): State<Hub>,
    who: Principal,
    Path(id): Path<String>,
    Json(b): Json<SetStatus>,
) -> Result<Json<Task>, HubError> {
    let task = service::set_status(hub.ctx(), &who, &id, b.status, b.note.as_deref()).await?;
    Ok(Json(task.into()))
}

/// Replaces a task's dependencies; unknown tasks and cycles are refused (422).
#[utoipa::path(put, path = "/api/v1/dev/tasks/{id}/dependencies", tag = "dev", params(("id" = String, Path)),
    request_body = SetDependencies,
    responses((status = 200, body = Task), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn tasks_dependencies(
    State(hub): State<Hub>,
    who: Principal,
    Path(id): Path<String>,
    Json(b): Json<SetDependencies>,
) -> Result<Json<Task>, HubError> {
    Ok(Json(
        service::set_dependencies(hub.ctx(), &who, &id, b.depends_on)
            .await?
            .into(),
    ))
}
