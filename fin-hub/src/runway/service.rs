//! Runway reports: the latest balance, the organisation's ledger totals and commitments.

use chrono::NaiveDate;
use hub_core::auth::{Access, Principal};
use hub_core::{Ctx, HubError};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::calc::{self, Runway, RunwayInput};
use crate::balance::model as balance;
use crate::burn::calc::trailing_average;
use crate::burn::service::{Scope, commitments, month_totals, report_basis};
use crate::config::FinConfig;
use crate::money::Period;

/// A runway report's question.
#[derive(Debug, Clone, Default)]
pub struct RunwayQuery {
    pub currency: Option<String>,
    /// The day the report is made for (default today).
    pub as_of: Option<NaiveDate>,
}

/// The runway of the whole organisation: cash is not split by domain.
pub async fn runway(
    ctx: &Ctx,
    who: &Principal,
    cfg: &FinConfig,
    q: RunwayQuery,
) -> Result<Runway, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let (currency, as_of) = report_basis(cfg, q.currency, q.as_of)?;
    compute(&ctx.db, cfg, &currency, as_of)
        .await?
        .ok_or_else(|| HubError::not_found("balance", format!("at or before {as_of}")))
}

/// The runway on `as_of`, or `None` without a balance snapshot at or before it.
pub async fn compute(
    db: &impl ConnectionTrait,
    cfg: &FinConfig,
    currency: &str,
    as_of: NaiveDate,
) -> Result<Option<Runway>, HubError> {
    let Some(latest) = balance::Entity::find()
        .filter(balance::Column::Date.lte(as_of))
        .order_by_desc(balance::Column::Date)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let current = Period::of(as_of);
    let from = Period::of(latest.date).min(current.plus(-(cfg.trailing_months as i32)));
    let spend = month_totals(db, &Scope::All, from, current).await?;
    let commitments = commitments(db, &Scope::All).await?;
    let (average, _) = trailing_average(&spend, as_of, cfg.trailing_months, currency, &cfg.rates)?;
    let input = RunwayInput {
        as_of,
        currency,
        balance: cfg
            .rates
            .convert(latest.amount, &latest.currency, currency)?,
        balance_date: latest.date,
        spend: &spend,
        trailing_average: average,
        commitments: &commitments,
        threshold_months: cfg.runway_alert_months,
    };
    Ok(Some(calc::runway(&input, &cfg.rates)?))
}
