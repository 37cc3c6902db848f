//! Cost rules: a figure is the period's running total, so a newer one replaces the older.

use chrono::Utc;
use hub_core::api::page::{Page, PageRequest, page_of};
use hub_core::auth::{Access, Principal};
use hub_core::error::Validator;
use hub_core::{Ctx, HubError, Tx};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::Serialize;

use super::model;
use crate::inventory;

/// A cost figure for a service and period (the payload of `hubmesh.sig.fin.cost`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostFigure {
    pub service_id: String,
    pub period: String,
    pub amount: i64,
    pub currency: String,
}

#[derive(Serialize)]
struct CostEvent<'a> {
    service_id: &'a str,
    period: &'a str,
    amount: i64,
    currency: &'a str,
}

fn is_period(p: &str) -> bool {
    chrono::NaiveDate::parse_from_str(&format!("{p}-01"), "%Y-%m-%d").is_ok() && p.len() == 7
}

/// Stores the figure for its service, period and currency, replacing an older one. Costs of
/// services the inventory does not know are kept: the service may be registered later.
pub async fn record(ctx: &Ctx, who: &Principal, fig: CostFigure) -> Result<model::Model, HubError> {
    let mut tx = ctx.begin().await?;
    let row = record_in(&mut tx, who, fig).await?;
    tx.commit().await?;
    Ok(row)
}

/// [`record`] inside `tx`: the consumer of `hubmesh.sig.fin.cost` stores the figure in the
/// transaction that also marks the signal processed.
pub async fn record_in(
    tx: &mut Tx<'_>,
    who: &Principal,
    fig: CostFigure,
) -> Result<model::Model, HubError> {
    who.require(tx.hub(), Access::Write)?;
    Validator::new()
        .text(&fig.service_id, "service_id", 200)
        .check(is_period(&fig.period), "period", "must be YYYY-MM")
        .check(
            fig.currency.len() == 3 && fig.currency.chars().all(|c| c.is_ascii_uppercase()),
            "currency",
            "must be an ISO 4217 code",
        )
        .finish()?;
    let row = model::ActiveModel {
        service_id: Set(fig.service_id.clone()),
        period: Set(fig.period.clone()),
        currency: Set(fig.currency.clone()),
        amount: Set(fig.amount),
        updated_at: Set(Utc::now()),
    };
    model::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                model::Column::ServiceId,
                model::Column::Period,
                model::Column::Currency,
            ])
            .update_columns([model::Column::Amount, model::Column::UpdatedAt])
            .to_owned(),
        )
        .exec(&**tx)
        .await?;
    tx.emit(
        "ops_cost",
        "recorded",
        &fig.service_id,
        &CostEvent {
            service_id: &fig.service_id,
            period: &fig.period,
            amount: fig.amount,
            currency: &fig.currency,
        },
    )
    .await?;
    model::Entity::find_by_id((fig.service_id, fig.period, fig.currency))
        .one(&**tx)
        .await?
        .ok_or_else(|| HubError::Internal("cost row vanished".into()))
}

/// The costs of one service, newest period first.
pub async fn of_service(
    ctx: &Ctx,
    who: &Principal,
    id: &str,
) -> Result<Vec<model::Model>, HubError> {
    inventory::service::get(ctx, who, id).await?;
    Ok(model::Entity::find()
        .filter(model::Column::ServiceId.eq(id))
        .order_by_desc(model::Column::Period)
        .order_by_asc(model::Column::Currency)
        .limit(120)
        .all(&ctx.db)
        .await?)
}

/// Filters of the cost list.
#[derive(Debug, Clone, Default)]
pub struct CostFilter {
    pub service_id: Option<String>,
    pub period: Option<String>,
}

/// Costs by service, period and currency; a domain-limited caller sees its services' costs.
pub async fn list(
    ctx: &Ctx,
    who: &Principal,
    filter: &CostFilter,
    page: &PageRequest,
) -> Result<Page<model::Model>, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    if let Some(p) = &filter.period {
        Validator::new()
            .check(is_period(p), "period", "must be YYYY-MM")
            .finish()?;
    }
    let mut q = model::Entity::find()
        .order_by_asc(model::Column::ServiceId)
        .order_by_asc(model::Column::Period)
        .order_by_asc(model::Column::Currency)
        .limit(page.limit + 1);
    if let Some(after) = &page.after {
        // The cursor is `service|period|currency`, the sort key.
        let mut parts = after.splitn(3, '|');
        let (s, p, c) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        );
        q = q.filter(
            sea_orm::Condition::any()
                .add(model::Column::ServiceId.gt(s))
                .add(
                    model::Column::ServiceId
                        .eq(s)
                        .and(model::Column::Period.gt(p)),
                )
                .add(
                    model::Column::ServiceId
                        .eq(s)
                        .and(model::Column::Period.eq(p))
                        .and(model::Column::Currency.gt(c)),
                ),
        );
    }
    if let Some(s) = &filter.service_id {
        inventory::service::get(ctx, who, s).await?;
        q = q.filter(model::Column::ServiceId.eq(s.as_str()));
    }
    if let Some(p) = &filter.period {
        q = q.filter(model::Column::Period.eq(p.as_str()));
    }
    if let Some(ids) = inventory::service::visible_ids(who) {
        q = q.filter(model::Column::ServiceId.in_subquery(ids));
    }
    Ok(page_of(q.all(&ctx.db).await?, page, |c| {
        format!("{}|{}|{}", c.service_id, c.period, c.currency)
    }))
}
