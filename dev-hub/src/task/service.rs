//! Task rules: a task lives in a workplan and takes its domain; dependencies name existing
//! tasks and never form a cycle; a task cannot be `done` while a dependency is open; a task
//! claimed by someone else cannot be moved by you; every status change is a progress event.

use std::collections::HashMap;

use chrono::Utc;
use hub_core::api::page::{Page, PageRequest, page_of};
use hub_core::auth::{Access, Principal};
use hub_core::error::Validator;
use hub_core::{Ctx, HubError};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::Serialize;

use super::deps;
use super::model::{self, Priority, TaskStatus};
use crate::scope::{HUMAN_ID, in_domains, is_human_id, task_event};
use crate::workplan;

/// A task and the ids of the tasks it depends on.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskWithDeps {
    pub task: model::Model,
    pub depends_on: Vec<String>,
}

/// A new task's fields; the id is the workplan's next `…-Tnn` when absent.
#[derive(Debug, Clone, Default)]
pub struct NewTask {
    pub id: Option<String>,
    pub workplan: String,
    pub title: String,
    pub body: Option<String>,
    pub status: Option<TaskStatus>,
    pub priority: Option<Priority>,
    pub assignee: Option<String>,
    pub phase: Option<String>,
    pub workstream: Option<String>,
    pub depends_on: Vec<String>,
}

/// The longest task body accepted, in characters.
pub const MAX_BODY: usize = 100_000;

/// The event data of task changes.
#[derive(Serialize)]
struct StatusChanged<'a> {
    id: &'a str,
    workplan: &'a str,
    from: TaskStatus,
    to: TaskStatus,
}

pub async fn create(ctx: &Ctx, who: &Principal, new: NewTask) -> Result<TaskWithDeps, HubError> {
    who.require(&ctx.hub, Access::Write)?;
    let mut v = Validator::new();
    v.text(&new.workplan, "workplan", 64)
        .text(&new.title, "title", 300)
        .check(
            new.body
                .as_ref()
                .is_none_or(|b| b.chars().count() <= MAX_BODY),
            "body",
            format!("must be at most {MAX_BODY} characters"),
        )
        .opt_text(new.assignee.as_deref(), "assignee", 200)
        .opt_text(new.phase.as_deref(), "phase", 200)
        .opt_text(new.workstream.as_deref(), "workstream", 100);
    if let Some(id) = &new.id {
        let prefix = format!("{}-", new.workplan);
        if !is_human_id(id) {
            v.check(false, "id", HUMAN_ID);
        } else if !id.starts_with(&prefix) {
            v.check(
                false,
                "id",
                format!("must start with the workplan id {prefix}"),
            );
        }
    }
    v.finish()?;

    let mut tx = ctx.begin().await?;
    let wp = workplan::service::find(&*tx, &new.workplan)
        .await?
        .filter(|w| who.may_use_domain(&w.domain))
        .ok_or_else(|| {
            HubError::invalid("workplan", format!("unknown workplan {}", new.workplan))
        })?;
    let siblings: Vec<(String, i32)> = model::Entity::find()
        .select_only()
        .column(model::Column::Id)
        .column(model::Column::Position)
        .filter(model::Column::WorkplanId.eq(&wp.id))
        .into_tuple()
        .all(&*tx)
        .await?;
    let id = match new.id {
        Some(id) => id,
        None => next_task_id(&wp.id, siblings.iter().map(|(id, _)| id.as_str())),
    };
    let mut depends_on = new.depends_on;
    depends_on.sort();
    depends_on.dedup();
    check_deps_exist(&*tx, &id, &depends_on).await?;
    let status = new.status.unwrap_or_default();
    if status == TaskStatus::Done {
        refuse_open_blockers(&id, &deps::open_among(&*tx, &depends_on).await?)?;
    }
    let now = Utc::now();
    let row = model::ActiveModel {
        id: Set(id.clone()),
        workplan_id: Set(wp.id.clone()),
        domain: Set(wp.domain.clone()),
        title: Set(new.title.trim().to_owned()),
        body: Set(new.body.unwrap_or_default()),
        status: Set(status),
        priority: Set(new.priority.unwrap_or_default()),
        assignee: Set(new.assignee),
        phase: Set(new.phase),
        workstream: Set(new.workstream.clone()),
        position: Set(siblings.iter().map(|(_, p)| *p + 1).max().unwrap_or(1)),
        extra: Set(serde_json::json!({})),
        claimed_by: Set(None),
        claim_expires_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&*tx)
    .await
    .map_err(|e| HubError::from_db_unique(e, || format!("task {id} already exists")))?;
    deps::insert(
        &*tx,
        depends_on.iter().map(|d| (id.clone(), d.clone())).collect(),
    )
    .await?;
    if let Some(ws) = &new.workstream {
        crate::workstream::service::ensure(&mut tx, &wp.id, std::slice::from_ref(ws)).await?;
    }
    tx.emit("dev_task", "created", &row.id, &row).await?;
    tx.commit().await?;
    Ok(TaskWithDeps {
        task: row,
        depends_on,
    })
}

/// The next free `<workplan>-Tnn` after the highest `Tnn` among `ids`.
pub fn next_task_id<'a>(workplan: &str, ids: impl Iterator<Item = &'a str>) -> String {
    let prefix = format!("{workplan}-T");
    let n = ids
        .filter_map(|id| id.strip_prefix(&prefix)?.parse::<u32>().ok())
        .max()
        .unwrap_or(0);
    format!("{prefix}{:02}", n + 1)
}

/// `Invalid` naming `depends_on` for a dependency on itself or on an unknown task.
async fn check_deps_exist(
    db: &impl ConnectionTrait,
    id: &str,
    depends_on: &[String],
) -> Result<(), HubError> {
    if depends_on.iter().any(|d| d == id) {
        return Err(HubError::invalid(
            "depends_on",
            format!("task {id} cannot depend on itself"),
        ));
    }
    let known: Vec<String> = model::Entity::find()
        .select_only()
        .column(model::Column::Id)
        .filter(model::Column::Id.is_in(depends_on.iter().cloned()))
        .into_tuple()
        .all(db)
        .await?;
    match depends_on.iter().find(|d| !known.contains(d)) {
        Some(missing) => Err(HubError::invalid(
            "depends_on",
            format!("unknown task {missing}"),
        )),
        None => Ok(()),
    }
}

/// `Conflict` naming the open dependencies that keep `id` from being done.
pub fn refuse_open_blockers(
    id: &str,
    open: &std::collections::HashSet<String>,
) -> Result<(), HubError> {
    if open.is_empty() {
        return Ok(());
    }
    let mut ids: Vec<&str> = open.iter().map(String::as_str).collect();
    ids.sort();
    Err(HubError::Conflict(format!(
        "task {id} cannot be done while its dependencies are open: {}",
        ids.join(", ")
    )))
}

/// The task `id` if the caller may see it, locked for update inside a transaction.
pub(crate) async fn find_visible(
    db: &impl ConnectionTrait,
    who: &Principal,
    id: &str,
    lock: bool,
) -> Result<model::Model, HubError> {
    let mut q = model::Entity::find_by_id(id);
    if lock {
        q = q.lock_exclusive();
    }
    q.one(db)
        .await?
        .filter(|t| who.may_use_domain(&t.domain))
        .ok_or_else(|| HubError::not_found("task", id))
}

pub async fn get(ctx: &Ctx, who: &Principal, id: &str) -> Result<TaskWithDeps, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let task = find_visible(&ctx.db, who, id, false).await?;
    with_deps(&ctx.db, vec![task])
        .await
        .map(|mut v| v.remove(0))
}

/// Attaches each task's dependencies.
pub async fn with_deps(
    db: &impl ConnectionTrait,
    tasks: Vec<model::Model>,
) -> Result<Vec<TaskWithDeps>, HubError> {
    let ids: Vec<String> = tasks.iter().map(|t| t.id.clone()).collect();
    let mut deps = deps::of(db, &ids).await?;
    Ok(tasks
        .into_iter()
        .map(|task| TaskWithDeps {
            depends_on: deps.remove(&task.id).unwrap_or_default(),
            task,
        })
        .collect())
}

/// Filters of the task list.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub workplan: Option<String>,
    pub domain: Option<String>,
    pub status: Option<TaskStatus>,
    pub assignee: Option<String>,
}

/// Tasks by id, of the domains the caller may see.
pub async fn list(
    ctx: &Ctx,
    who: &Principal,
    filter: &TaskFilter,
    page: &PageRequest,
) -> Result<Page<TaskWithDeps>, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let mut q = model::Entity::find()
        .order_by_asc(model::Column::Id)
        .limit(page.limit + 1);
    if let Some(after) = &page.after {
        q = q.filter(model::Column::Id.gt(after.as_str()));
    }
    q = in_domains(q, who, filter.domain.as_deref(), model::Column::Domain)?;
    if let Some(wp) = &filter.workplan {
        q = q.filter(model::Column::WorkplanId.eq(wp.as_str()));
    }
    if let Some(s) = filter.status {
        q = q.filter(model::Column::Status.eq(s));
    }
    if let Some(a) = &filter.assignee {
        q = q.filter(model::Column::Assignee.eq(a.as_str()));
    }
    let page = page_of(q.all(&ctx.db).await?, page, |t| t.id.clone());
    Ok(Page {
        items: with_deps(&ctx.db, page.items).await?,
        next_cursor: page.next_cursor,
    })
}

/// `Conflict` when someone other than the caller holds a live claim on `task`.
pub(crate) fn refuse_foreign_claim(task: &model::Model, who: &Principal) -> Result<(), HubError> {
    match task.holder(Utc::now()) {
        Some(holder) if holder != who.sub => Err(HubError::Conflict(format!(
            "task {} is claimed by {holder} until {}",
            task.id,
            task.claim_expires_at
                .map(|t| t.to_rfc3339())
                .unwrap_or_default()
        ))),
        _ => Ok(()),
    }
}

/// Moves a task to `status`. `done` needs every dependency closed; closing a task ends its
/// claim. Setting the current status again changes nothing.
pub async fn set_status(
    ctx: &Ctx,
    who: &Principal,
    id: &str,
    status: TaskStatus,
    note: Option<&str>,
) -> Result<TaskWithDeps, HubError> {
    who.require(&ctx.hub, Access::Write)?;
    Validator::new().opt_text(note, "note", 4000).finish()?;
    let mut tx = ctx.begin().await?;
    let task = find_visible(&*tx, who, id, true).await?;
    if task.status == status {
        drop(tx);
        return get(ctx, who, id).await;
    }
    refuse_foreign_claim(&task, who)?;
    if status == TaskStatus::Done {
        let deps = deps::of(&*tx, &[id.to_owned()]).await?;
        let deps = deps.get(id).cloned().unwrap_or_default();
        refuse_open_blockers(id, &deps::open_among(&*tx, &deps).await?)?;
    }
    let from = task.status;
    let mut row = model::ActiveModel::from(task);
    row.status = Set(status);
    row.updated_at = Set(Utc::now());
    if !status.is_open() {
        row.claimed_by = Set(None);
        row.claim_expires_at = Set(None);
    }
    let row = row.update(&*tx).await?;
    tx.emit(
        "dev_task",
        "status_changed",
        id,
        &StatusChanged {
            id,
            workplan: &row.workplan_id,
            from,
            to: status,
        },
    )
    .await?;
    tx.commit().await?;
    let summary = match note {
        Some(n) => format!("{id}: {} -> {} ({n})", from.as_str(), status.as_str()),
        None => format!("{id}: {} -> {}", from.as_str(), status.as_str()),
    };
    task_event(
        ctx,
        who,
        "task_status_changed",
        id,
        &row.workplan_id,
        &row.domain,
        summary,
    )
    .await;
    get(ctx, who, id).await
}

/// Replaces the dependencies of a task; refuses unknown tasks and cycles.
pub async fn set_dependencies(
    ctx: &Ctx,
    who: &Principal,
    id: &str,
    mut depends_on: Vec<String>,
) -> Result<TaskWithDeps, HubError> {
    who.require(&ctx.hub, Access::Write)?;
    depends_on.sort();
    depends_on.dedup();
    let mut tx = ctx.begin().await?;
    let task = find_visible(&*tx, who, id, true).await?;
    check_deps_exist(&*tx, id, &depends_on).await?;
    if let Some(cycle) =
        deps::find_cycle(&*tx, HashMap::from([(id.to_owned(), depends_on.clone())])).await?
    {
        return Err(HubError::invalid(
            "depends_on",
            format!("dependency cycle: {}", cycle.join(" -> ")),
        ));
    }
    if task.status == TaskStatus::Done {
        refuse_open_blockers(id, &deps::open_among(&*tx, &depends_on).await?)?;
    }
    deps::replace(&*tx, id, &depends_on).await?;
    tx.emit(
        "dev_task",
        "dependencies_set",
        id,
        &serde_json::json!({"id": id, "depends_on": depends_on}),
    )
    .await?;
    tx.commit().await?;
    get(ctx, who, id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_ids_follow_the_highest() {
        assert_eq!(next_task_id("WP-1", std::iter::empty()), "WP-1-T01");
        assert_eq!(
            next_task_id("WP-1", ["WP-1-T02", "WP-1-T10", "WP-1-X"].into_iter()),
            "WP-1-T11"
        );
    }
}
