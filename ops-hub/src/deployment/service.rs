//! Deployment rules: a known service the caller may use, a version, an environment; the actor is
//! the caller, never taken from the input.

use chrono::{DateTime, Duration, Utc};
use hub_core::api::page::{Page, PageRequest, page_of};
use hub_core::auth::{Access, Principal};
use hub_core::error::Validator;
use hub_core::{Ctx, HubError};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde::Serialize;

use super::model::{self, DeployOutcome};
use crate::inventory;

#[derive(Debug, Clone)]
pub struct NewDeployment {
    pub service_id: String,
    pub version: String,
    /// The service's environment when not given.
    pub environment: Option<String>,
    /// Now when not given; not in the future.
    pub deployed_at: Option<DateTime<Utc>>,
    pub outcome: DeployOutcome,
    pub notes: Option<String>,
}

#[derive(Serialize)]
struct DeploymentEvent<'a> {
    service_id: &'a str,
    version: &'a str,
    environment: &'a str,
    outcome: DeployOutcome,
}

pub async fn record(
    ctx: &Ctx,
    who: &Principal,
    new: NewDeployment,
) -> Result<model::Model, HubError> {
    who.require(&ctx.hub, Access::Write)?;
    let now = Utc::now();
    Validator::new()
        .text(&new.service_id, "service_id", 64)
        .text(&new.version, "version", 200)
        .opt_text(new.environment.as_deref(), "environment", 64)
        .check(
            new.deployed_at
                .is_none_or(|t| t <= now + Duration::minutes(5)),
            "deployed_at",
            "must not be in the future",
        )
        .check(
            new.notes.as_ref().is_none_or(|n| n.chars().count() <= 4000),
            "notes",
            "must be at most 4000 characters",
        )
        .finish()?;
    let mut tx = ctx.begin().await?;
    let svc = inventory::service::check_ref(&*tx, who, &new.service_id, "service_id").await?;
    let row = model::ActiveModel {
        id: Set(hub_core::ids::new_id()),
        service_id: Set(svc.id),
        version: Set(new.version.trim().to_owned()),
        environment: Set(new.environment.unwrap_or(svc.environment)),
        deployed_at: Set(new.deployed_at.unwrap_or(now)),
        actor: Set(who.sub.clone()),
        outcome: Set(new.outcome),
        notes: Set(new.notes.unwrap_or_default()),
    }
    .insert(&*tx)
    .await?;
    tx.emit(
        "ops_deployment",
        "recorded",
        &row.id,
        &DeploymentEvent {
            service_id: &row.service_id,
            version: &row.version,
            environment: &row.environment,
            outcome: row.outcome,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Deployments newest first, of one service or of every service the caller may see.
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
    Ok(page_of(q.all(&ctx.db).await?, page, |d| d.id.clone()))
}
