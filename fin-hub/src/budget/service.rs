//! Budget rules: one budget per domain and month (setting it again updates it); the status
//! counts the month's spend and commitments against the allocation, in the budget's currency.

use chrono::{NaiveDate, Utc};
use hub_core::api::page::{Page, PageRequest, page_of};
use hub_core::auth::{Access, Principal};
use hub_core::error::Validator;
use hub_core::{Ctx, HubError};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::model;
use crate::burn::calc::{actual, committed, project_month, trailing_average};
use crate::burn::service::{Scope, commitments, month_totals};
use crate::config::FinConfig;
use crate::money::{MAX_AMOUNT, MoneyChecks, Period};
use crate::signal::{Changed, Touched};
use crate::spend::service::in_domains;

/// A budget as a caller sets it.
#[derive(Debug, Clone)]
pub struct NewBudget {
    pub domain: String,
    /// `YYYY-MM`.
    pub period: String,
    /// Minor units, at least 1.
    pub allocated: i64,
    /// The configured report currency when absent.
    pub currency: Option<String>,
    /// Percentages, 1..=1000; the configured defaults when absent.
    pub thresholds: Option<Vec<u32>>,
}

/// Creates the budget of a domain and month, or updates it; `true` when created.
pub async fn set(
    ctx: &Ctx,
    who: &Principal,
    cfg: &FinConfig,
    new: NewBudget,
) -> Result<(model::Model, bool), HubError> {
    who.require(&ctx.hub, Access::Write)?;
    let currency = new.currency.unwrap_or_else(|| cfg.currency.clone());
    let mut thresholds = new.thresholds.unwrap_or_else(|| cfg.thresholds.clone());
    thresholds.sort_unstable();
    thresholds.dedup();
    let mut v = Validator::new();
    v.text(&new.domain, "domain", 64)
        .check(
            Period::parse(&new.period).is_ok(),
            "period",
            "must be a month such as 2026-01 between 2000-01 and 2100-12",
        )
        .check(
            (1..=MAX_AMOUNT).contains(&new.allocated),
            "allocated",
            format!("must be between 1 and {MAX_AMOUNT} minor units"),
        )
        .currency(&currency, "currency")
        .check(
            !thresholds.is_empty()
                && thresholds.len() <= 10
                && thresholds.iter().all(|t| (1..=1000).contains(t)),
            "thresholds",
            "must hold 1 to 10 percentages between 1 and 1000",
        );
    v.finish()?;
    let mut tx = ctx.begin().await?;
    hub_core::domain::service::check_usable(&*tx, who, &new.domain, "domain").await?;
    let existing = model::Entity::find()
        .filter(model::Column::Domain.eq(new.domain.as_str()))
        .filter(model::Column::Period.eq(new.period.as_str()))
        .lock_exclusive()
        .one(&*tx)
        .await?;
    let now = Utc::now();
    let created = existing.is_none();
    let mut row = match existing {
        Some(old) => old.into(),
        None => model::ActiveModel {
            id: Set(hub_core::ids::new_id()),
            domain: Set(new.domain.clone()),
            period: Set(new.period.clone()),
            created_at: Set(now),
            ..Default::default()
        },
    };
    row.currency = Set(currency);
    row.allocated = Set(new.allocated);
    row.thresholds = Set(Value::from(thresholds));
    row.updated_at = Set(now);
    let row = if created {
        row.insert(&*tx).await.map_err(|e| {
            HubError::from_db_unique(e, || {
                format!(
                    "budget of {} for {} changed concurrently, retry",
                    new.domain, new.period
                )
            })
        })?
    } else {
        row.update(&*tx).await?
    };
    let touched = Touched {
        budgets: [(row.domain.clone(), row.period.clone())].into(),
        ..Default::default()
    };
    tx.emit(
        "fin_budget",
        "set",
        &row.id,
        &Changed {
            row: &row,
            touched: &touched,
        },
    )
    .await?;
    tx.commit().await?;
    Ok((row, created))
}

pub async fn get(ctx: &Ctx, who: &Principal, id: &str) -> Result<model::Model, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    model::Entity::find_by_id(id)
        .one(&ctx.db)
        .await?
        .filter(|b| who.may_use_domain(&b.domain))
        .ok_or_else(|| HubError::not_found("budget", id))
}

/// The budget of a domain and month, if one is set.
pub async fn find(
    db: &impl ConnectionTrait,
    domain: &str,
    period: &str,
) -> Result<Option<model::Model>, HubError> {
    Ok(model::Entity::find()
        .filter(model::Column::Domain.eq(domain))
        .filter(model::Column::Period.eq(period))
        .one(db)
        .await?)
}

/// Filters of the budget list.
#[derive(Debug, Clone, Default)]
pub struct BudgetFilter {
    pub domain: Option<String>,
    pub period: Option<String>,
}

/// Budgets newest first.
pub async fn list(
    ctx: &Ctx,
    who: &Principal,
    filter: &BudgetFilter,
    page: &PageRequest,
) -> Result<Page<model::Model>, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let mut q = model::Entity::find()
        .order_by_desc(model::Column::Id)
        .limit(page.limit + 1);
    if let Some(after) = &page.after {
        q = q.filter(model::Column::Id.lt(after.as_str()));
    }
    q = in_domains(q, who, filter.domain.as_deref(), model::Column::Domain)?;
    if let Some(p) = &filter.period {
        Period::parse(p).map_err(|m| HubError::invalid("period", m))?;
        q = q.filter(model::Column::Period.eq(p.as_str()));
    }
    Ok(page_of(q.all(&ctx.db).await?, page, |b| b.id.clone()))
}

/// Where a budget stands, in minor units of its currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BudgetStatus {
    /// Ledger spend of the domain in the month.
    pub spent: i64,
    /// The commitments' share of the month.
    pub committed: i64,
    /// Spent plus committed: what the thresholds are checked against.
    pub used: i64,
    /// Allocated less used (negative when over).
    pub remaining: i64,
    /// Used in percent of the allocation, rounded down.
    pub percent: u32,
    /// The month's projected total (see the burn report).
    pub projected: i64,
    /// The thresholds `percent` has reached.
    pub crossed: Vec<u32>,
}

/// The status of `budget` as seen on `as_of`.
pub async fn status_of(
    db: &impl ConnectionTrait,
    cfg: &FinConfig,
    budget: &model::Model,
    as_of: NaiveDate,
) -> Result<BudgetStatus, HubError> {
    let period = Period::parse(&budget.period)
        .map_err(|e| HubError::Internal(format!("stored period: {e}")))?;
    let scope = Scope::Domains(vec![budget.domain.clone()]);
    let current = Period::of(as_of);
    let from = period.min(current.plus(-(cfg.trailing_months as i32)));
    let spend = month_totals(db, &scope, from, period.max(current)).await?;
    let terms = commitments(db, &scope).await?;
    let cur = budget.currency.as_str();
    let spent = actual(&spend, period, cur, &cfg.rates)?;
    let committed = committed(
        &terms,
        period.first_day(),
        period.last_day(),
        cur,
        &cfg.rates,
    )?;
    let (average, _) = trailing_average(&spend, as_of, cfg.trailing_months, cur, &cfg.rates)?;
    let used = spent + committed;
    let percent =
        (used as i128 * 100 / budget.allocated.max(1) as i128).min(u32::MAX as i128) as u32;
    Ok(BudgetStatus {
        spent,
        committed,
        used,
        remaining: budget.allocated - used,
        percent,
        projected: project_month(spent, committed, average, period, as_of),
        crossed: budget
            .thresholds()
            .into_iter()
            .filter(|t| percent >= *t)
            .collect(),
    })
}
