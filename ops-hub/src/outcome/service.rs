//! Outcome rules: a named metric value or a judgement (or both) about a known service, or a
//! deployment of it.

use chrono::Utc;
use hub_core::api::page::{Page, PageRequest, page_of};
use hub_core::auth::{Access, Principal};
use hub_core::error::Validator;
use hub_core::{Ctx, HubError};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde::Serialize;

use super::model::{self, Judgement};
use crate::{deployment, inventory};

#[derive(Debug, Clone, Default)]
pub struct NewOutcome {
    pub service_id: String,
    pub deployment_id: Option<String>,
    pub name: String,
    pub value: Option<f64>,
    pub unit: Option<String>,
    pub judgement: Option<Judgement>,
    pub summary: Option<String>,
}

#[derive(Serialize)]
struct OutcomeEvent<'a> {
    service_id: &'a str,
    deployment_id: Option<&'a str>,
    name: &'a str,
    value: Option<f64>,
    judgement: Option<Judgement>,
}

pub async fn record(ctx: &Ctx, who: &Principal, new: NewOutcome) -> Result<model::Model, HubError> {
    who.require(&ctx.hub, Access::Write)?;
    Validator::new()
        .text(&new.service_id, "service_id", 64)
        .text(&new.name, "name", 100)
        .opt_text(new.unit.as_deref(), "unit", 32)
        .check(
            new.value.is_some() || new.judgement.is_some(),
            "value",
            "an outcome needs a value or a judgement",
        )
        .check(
            new.value.is_none_or(f64::is_finite),
            "value",
            "must be a finite number",
        )
        .check(
            new.summary
                .as_ref()
                .is_none_or(|s| s.chars().count() <= 2000),
            "summary",
            "must be at most 2000 characters",
        )
        .finish()?;
    let mut tx = ctx.begin().await?;
    let svc = inventory::service::check_ref(&*tx, who, &new.service_id, "service_id").await?;
    if let Some(id) = &new.deployment_id {
        let of_service = deployment::model::Entity::find_by_id(id.as_str())
            .one(&*tx)
            .await?
            .is_some_and(|d| d.service_id == svc.id);
        if !of_service {
            return Err(HubError::invalid(
                "deployment_id",
                format!("unknown deployment {id} of service {}", svc.id),
            ));
        }
    }
    let row = model::ActiveModel {
        id: Set(hub_core::ids::new_id()),
        service_id: Set(svc.id),
        deployment_id: Set(new.deployment_id),
        name: Set(new.name.trim().to_owned()),
        value: Set(new.value),
        unit: Set(new.unit),
        judgement: Set(new.judgement),
        summary: Set(new.summary.unwrap_or_default()),
        actor: Set(who.sub.clone()),
        recorded_at: Set(Utc::now()),
    }
    .insert(&*tx)
    .await?;
    tx.emit(
        "ops_outcome",
        "recorded",
        &row.id,
        &OutcomeEvent {
            service_id: &row.service_id,
            deployment_id: row.deployment_id.as_deref(),
            name: &row.name,
            value: row.value,
            judgement: row.judgement,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Outcomes newest first, of one service or of every service the caller may see.
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
    Ok(page_of(q.all(&ctx.db).await?, page, |o| o.id.clone()))
}
