//! Commitment rules: a positive amount in a known currency, an end on or after the start,
//! a domain the caller may use.

use chrono::{NaiveDate, Utc};
use hub_core::api::page::{Page, PageRequest, page_of};
use hub_core::auth::{Access, Principal};
use hub_core::error::Validator;
use hub_core::{Ctx, HubError};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::model::{self, Cadence, CommitmentKind};
use crate::money::MoneyChecks;
use crate::signal::{Changed, Touched};
use crate::spend::service::in_domains;

/// A commitment as a caller gives it.
#[derive(Debug, Clone)]
pub struct NewCommitment {
    pub kind: CommitmentKind,
    pub vendor: String,
    pub domain: String,
    pub service_id: Option<String>,
    /// Minor units per cadence period.
    pub amount: i64,
    pub currency: String,
    pub cadence: Cadence,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub description: Option<String>,
}

pub async fn create(
    ctx: &Ctx,
    who: &Principal,
    new: NewCommitment,
) -> Result<model::Model, HubError> {
    who.require(&ctx.hub, Access::Write)?;
    let mut v = Validator::new();
    v.text(&new.vendor, "vendor", 200)
        .text(&new.domain, "domain", 64)
        .opt_text(new.service_id.as_deref(), "service_id", 200)
        .amount(new.amount, "amount")
        .check(new.amount > 0, "amount", "must be more than 0")
        .currency(&new.currency, "currency")
        .date(new.start_date, "start_date")
        .check(
            new.description
                .as_ref()
                .is_none_or(|d| d.chars().count() <= 4000),
            "description",
            "must be at most 4000 characters",
        );
    if let Some(end) = new.end_date {
        v.date(end, "end_date").check(
            end >= new.start_date,
            "end_date",
            "must not be before start_date",
        );
    }
    v.finish()?;
    let mut tx = ctx.begin().await?;
    hub_core::domain::service::check_usable(&*tx, who, &new.domain, "domain").await?;
    let row = model::ActiveModel {
        id: Set(hub_core::ids::new_id()),
        kind: Set(new.kind),
        vendor: Set(new.vendor.trim().to_owned()),
        domain: Set(new.domain),
        service_id: Set(new.service_id.map(|s| s.trim().to_owned())),
        amount: Set(new.amount),
        currency: Set(new.currency),
        cadence: Set(new.cadence),
        start_date: Set(new.start_date),
        end_date: Set(new.end_date),
        description: Set(new.description.unwrap_or_default()),
        created_at: Set(Utc::now()),
    }
    .insert(&*tx)
    .await?;
    let touched = Touched {
        domains: [row.domain.clone()].into(),
        ..Default::default()
    };
    tx.emit(
        "fin_commitment",
        "created",
        &row.id,
        &Changed {
            row: &row,
            touched: &touched,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn get(ctx: &Ctx, who: &Principal, id: &str) -> Result<model::Model, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    model::Entity::find_by_id(id)
        .one(&ctx.db)
        .await?
        .filter(|c| who.may_use_domain(&c.domain))
        .ok_or_else(|| HubError::not_found("commitment", id))
}

/// Commitments newest first, of one domain or of every domain the caller may see.
pub async fn list(
    ctx: &Ctx,
    who: &Principal,
    domain: Option<&str>,
    page: &PageRequest,
) -> Result<Page<model::Model>, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let mut q = model::Entity::find()
        .order_by_desc(model::Column::Id)
        .limit(page.limit + 1);
    if let Some(after) = &page.after {
        q = q.filter(model::Column::Id.lt(after.as_str()));
    }
    q = in_domains(q, who, domain, model::Column::Domain)?;
    Ok(page_of(q.all(&ctx.db).await?, page, |c| c.id.clone()))
}
