//! Migration run rules: a run starts `running` for a known service and finishes once, as
//! `complete` or `aborted`, with non-negative counts; finishing twice is a conflict.

use chrono::Utc;
use hub_core::api::page::{Page, PageRequest, page_of};
use hub_core::auth::{Access, Principal};
use hub_core::error::Validator;
use hub_core::{Ctx, HubError};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::Serialize;

use super::model::{self, RunStatus};
use crate::inventory;

#[derive(Debug, Clone)]
pub struct NewRun {
    pub service_id: String,
    pub source: String,
    pub target: String,
    pub expected: i64,
}

#[derive(Debug, Clone)]
pub struct FinishRun {
    pub status: RunStatus,
    pub migrated: i64,
    pub failed: i64,
}

#[derive(Serialize)]
struct RunEvent<'a> {
    service_id: &'a str,
    status: RunStatus,
    expected: i64,
    migrated: i64,
    failed: i64,
}

impl<'a> From<&'a model::Model> for RunEvent<'a> {
    fn from(r: &'a model::Model) -> Self {
        Self {
            service_id: &r.service_id,
            status: r.status,
            expected: r.expected,
            migrated: r.migrated,
            failed: r.failed,
        }
    }
}

pub async fn start(ctx: &Ctx, who: &Principal, new: NewRun) -> Result<model::Model, HubError> {
    who.require(&ctx.hub, Access::Write)?;
    Validator::new()
        .text(&new.service_id, "service_id", 64)
        .text(&new.source, "source", 500)
        .text(&new.target, "target", 500)
        .check(new.expected >= 0, "expected", "must not be negative")
        .finish()?;
    let mut tx = ctx.begin().await?;
    let svc = inventory::service::check_ref(&*tx, who, &new.service_id, "service_id").await?;
    let row = model::ActiveModel {
        id: Set(hub_core::ids::new_id()),
        service_id: Set(svc.id),
        source: Set(new.source),
        target: Set(new.target),
        status: Set(RunStatus::Running),
        expected: Set(new.expected),
        migrated: Set(0),
        failed: Set(0),
        started_at: Set(Utc::now()),
        finished_at: Set(None),
        actor: Set(who.sub.clone()),
    }
    .insert(&*tx)
    .await?;
    tx.emit(
        "ops_migration_run",
        "started",
        &row.id,
        &RunEvent::from(&row),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn finish(
    ctx: &Ctx,
    who: &Principal,
    id: &str,
    fin: FinishRun,
) -> Result<model::Model, HubError> {
    who.require(&ctx.hub, Access::Write)?;
    Validator::new()
        .check(
            fin.status != RunStatus::Running,
            "status",
            "must be complete or aborted",
        )
        .check(fin.migrated >= 0, "migrated", "must not be negative")
        .check(fin.failed >= 0, "failed", "must not be negative")
        .finish()?;
    let mut tx = ctx.begin().await?;
    let run = model::Entity::find_by_id(id)
        .one(&*tx)
        .await?
        .ok_or_else(|| HubError::not_found("migration run", id))?;
    if !inventory::service::visible_to(&*tx, who, &run.service_id).await? {
        return Err(HubError::not_found("migration run", id));
    }
    // Only a running run moves: the filter makes a concurrent second finish update nothing.
    let res = model::Entity::update_many()
        .col_expr(
            model::Column::Status,
            sea_orm::sea_query::Expr::value(fin.status),
        )
        .col_expr(model::Column::Migrated, fin.migrated.into())
        .col_expr(model::Column::Failed, fin.failed.into())
        .col_expr(model::Column::FinishedAt, Some(Utc::now()).into())
        .filter(model::Column::Id.eq(id))
        .filter(model::Column::Status.eq(RunStatus::Running))
        .exec(&*tx)
        .await?;
    if res.rows_affected == 0 {
        return Err(HubError::Conflict(format!(
            "migration run {id} is already finished"
        )));
    }
    let row = model::Entity::find_by_id(id)
        .one(&*tx)
        .await?
        .ok_or_else(|| HubError::not_found("migration run", id))?;
    tx.emit(
        "ops_migration_run",
        "finished",
        &row.id,
        &RunEvent::from(&row),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn get(ctx: &Ctx, who: &Principal, id: &str) -> Result<model::Model, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let run = model::Entity::find_by_id(id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| HubError::not_found("migration run", id))?;
    if !inventory::service::visible_to(&ctx.db, who, &run.service_id).await? {
        return Err(HubError::not_found("migration run", id));
    }
    Ok(run)
}

/// Runs newest first, of one service or of every service the caller may see.
pub async fn list(
    ctx: &Ctx,
    who: &Principal,
    service_id: Option<&str>,
    page: &PageRequest,
) -> Result<Page<model::Model>, HubError> {
    let q = inventory::service::scoped(
        ctx,
        who,
        model::Entity::find(),
        service_id,
        model::Column::ServiceId,
        model::Column::Id,
        page,
    )
    .await?;
    Ok(page_of(q.all(&ctx.db).await?, page, |r| r.id.clone()))
}
