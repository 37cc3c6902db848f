//! Questions about tasks: what is next, what is blocked and by what, how far a workplan is.

use chrono::Utc;
use hub_core::api::page::{Page, PageRequest, page_of};
use hub_core::auth::{Access, Principal};
use hub_core::{Ctx, HubError};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::deps;
use super::model::{self, TaskStatus, dep};
use crate::scope::in_domains;

/// Where to look for next or blocked tasks.
#[derive(Debug, Clone, Default)]
pub struct TaskScope {
    pub workplan: Option<String>,
    pub domain: Option<String>,
}

/// The most tasks `next` returns.
pub const MAX_NEXT: u64 = 100;

/// `EXISTS (an open dependency of the outer task)`.
pub(crate) fn has_open_dependency() -> SelectStatement {
    let d = Alias::new("d");
    let u = Alias::new("u");
    Query::select()
        .expr(Expr::val(1))
        .from_as(dep::Entity, d.clone())
        .join_as(
            JoinType::InnerJoin,
            model::Entity,
            u.clone(),
            Expr::col((u.clone(), model::Column::Id)).equals((d.clone(), dep::Column::DependsOn)),
        )
        .and_where(Expr::col((d, dep::Column::TaskId)).equals((model::Entity, model::Column::Id)))
        .and_where(
            Expr::col((u, model::Column::Status)).is_not_in(TaskStatus::CLOSED.map(|s| s.as_str())),
        )
        .to_owned()
}

/// Tasks ready to start: `todo`, not claimed, every dependency closed; by priority (highest
/// first), then id.
pub async fn next(
    ctx: &Ctx,
    who: &Principal,
    scope: &TaskScope,
    limit: u64,
) -> Result<Vec<model::Model>, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    if !(1..=MAX_NEXT).contains(&limit) {
        return Err(HubError::bad_request(
            "limit",
            format!("must be between 1 and {MAX_NEXT}"),
        ));
    }
    let mut q = model::Entity::find()
        .filter(model::Column::Status.eq(TaskStatus::Todo))
        .filter(
            Condition::any()
                .add(model::Column::ClaimedBy.is_null())
                .add(model::Column::ClaimExpiresAt.lte(Utc::now())),
        )
        .filter(Expr::exists(has_open_dependency()).not())
        .order_by_desc(model::Column::Priority)
        .order_by_asc(model::Column::Id)
        .limit(limit);
    q = in_domains(q, who, scope.domain.as_deref(), model::Column::Domain)?;
    if let Some(wp) = &scope.workplan {
        q = q.filter(model::Column::WorkplanId.eq(wp.as_str()));
    }
    Ok(q.all(&ctx.db).await?)
}

/// An open task and the open tasks it waits for.
#[derive(Debug, Clone, PartialEq)]
pub struct Blocked {
    pub task: model::Model,
    pub blockers: Vec<String>,
}

/// Open tasks with at least one open dependency, by id.
pub async fn blocked(
    ctx: &Ctx,
    who: &Principal,
    scope: &TaskScope,
    page: &PageRequest,
) -> Result<Page<Blocked>, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let mut q = model::Entity::find()
        .filter(model::Column::Status.is_not_in(TaskStatus::CLOSED))
        .filter(Expr::exists(has_open_dependency()))
        .order_by_asc(model::Column::Id)
        .limit(page.limit + 1);
    if let Some(after) = &page.after {
        q = q.filter(model::Column::Id.gt(after.as_str()));
    }
    q = in_domains(q, who, scope.domain.as_deref(), model::Column::Domain)?;
    if let Some(wp) = &scope.workplan {
        q = q.filter(model::Column::WorkplanId.eq(wp.as_str()));
    }
    let page = page_of(q.all(&ctx.db).await?, page, |t| t.id.clone());
    let ids: Vec<String> = page.items.iter().map(|t| t.id.clone()).collect();
    let mut blockers = deps::open_blockers(&ctx.db, &ids).await?;
    Ok(page.map(|task| Blocked {
        blockers: blockers.remove(&task.id).unwrap_or_default(),
        task,
    }))
}

/// How far one phase (section) of a workplan is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, schemars::JsonSchema)]
pub struct PhaseProgress {
    /// The section heading; `null` for tasks outside any section.
    pub phase: Option<String>,
    pub total: u64,
    pub done: u64,
    pub cancelled: u64,
    /// Tasks neither done nor cancelled.
    pub open: u64,
}

/// Done/total per phase of `workplan`, in document order.
pub async fn progress(
    db: &impl ConnectionTrait,
    workplan: &str,
) -> Result<Vec<PhaseProgress>, HubError> {
    let rows: Vec<(Option<String>, TaskStatus)> = model::Entity::find()
        .select_only()
        .column(model::Column::Phase)
        .column(model::Column::Status)
        .filter(model::Column::WorkplanId.eq(workplan))
        .order_by_asc(model::Column::Position)
        .into_tuple()
        .all(db)
        .await?;
    let mut out: Vec<PhaseProgress> = Vec::new();
    for (phase, status) in rows {
        let i = match out.iter().position(|p| p.phase == phase) {
            Some(i) => i,
            None => {
                out.push(PhaseProgress {
                    phase,
                    total: 0,
                    done: 0,
                    cancelled: 0,
                    open: 0,
                });
                out.len() - 1
            }
        };
        let p = &mut out[i];
        p.total += 1;
        match status {
            TaskStatus::Done => p.done += 1,
            TaskStatus::Cancel => p.cancelled += 1,
            _ => p.open += 1,
        }
    }
    Ok(out)
}
