//! Burn reports: loads ledger totals and commitments of a scope and runs the arithmetic.

use chrono::{NaiveDate, Utc};
use hub_core::auth::{Access, Principal};
use hub_core::error::Validator;
use hub_core::{Ctx, HubError};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::calc::{self, Burn, BurnInput, MonthTotal, Terms};
use crate::commitment::model as commitment;
use crate::config::FinConfig;
use crate::money::{MoneyChecks, Period};
use crate::spend::model::totals;

/// Which domains a computation covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Domains(Vec<String>),
}

impl Scope {
    /// One domain (checked to exist and be allowed), or every domain the caller may see.
    pub async fn of(
        db: &impl ConnectionTrait,
        who: &Principal,
        domain: Option<&str>,
    ) -> Result<Self, HubError> {
        Ok(match (domain, &who.domains) {
            (Some(d), _) => {
                hub_core::domain::service::check_usable(db, who, d, "domain").await?;
                Scope::Domains(vec![d.to_owned()])
            }
            (None, Some(allowed)) => Scope::Domains(allowed.clone()),
            (None, None) => Scope::All,
        })
    }

    fn filter<E: EntityTrait>(
        &self,
        q: sea_orm::Select<E>,
        col: impl ColumnTrait,
    ) -> sea_orm::Select<E> {
        match self {
            Scope::All => q,
            Scope::Domains(ds) => q.filter(col.is_in(ds.iter().cloned())),
        }
    }
}

/// Ledger totals of `scope` per month and currency, for the months `from..=to`.
pub async fn month_totals(
    db: &impl ConnectionTrait,
    scope: &Scope,
    from: Period,
    to: Period,
) -> Result<Vec<MonthTotal>, HubError> {
    let q = totals::Entity::find()
        .select_only()
        .column(totals::Column::Period)
        .column(totals::Column::Currency)
        .expr_as(Expr::cust("CAST(SUM(total) AS BIGINT)"), "total")
        .filter(totals::Column::Period.gte(from.to_string()))
        .filter(totals::Column::Period.lte(to.to_string()))
        .group_by(totals::Column::Period)
        .group_by(totals::Column::Currency);
    let rows: Vec<(String, String, i64)> = scope
        .filter(q, totals::Column::Domain)
        .into_tuple()
        .all(db)
        .await?;
    rows.into_iter()
        .map(|(period, currency, total)| {
            Ok(MonthTotal {
                period: Period::parse(&period)
                    .map_err(|e| HubError::Internal(format!("stored period: {e}")))?,
                currency,
                total,
            })
        })
        .collect()
}

/// The commitments of `scope`.
pub async fn commitments(db: &impl ConnectionTrait, scope: &Scope) -> Result<Vec<Terms>, HubError> {
    let q = scope.filter(commitment::Entity::find(), commitment::Column::Domain);
    Ok(q.all(db)
        .await?
        .iter()
        .map(commitment::Model::terms)
        .collect())
}

/// A burn report's question.
#[derive(Debug, Clone, Default)]
pub struct BurnQuery {
    /// One domain; all the caller may see when absent.
    pub domain: Option<String>,
    pub currency: Option<String>,
    /// Months of history, 1..=36 (default 6).
    pub months: Option<u32>,
    /// The day the report is made for (default today).
    pub as_of: Option<NaiveDate>,
}

/// Checks a report's currency and date, filling the defaults.
pub fn report_basis(
    cfg: &FinConfig,
    currency: Option<String>,
    as_of: Option<NaiveDate>,
) -> Result<(String, NaiveDate), HubError> {
    let currency = currency.unwrap_or_else(|| cfg.currency.clone());
    let as_of = as_of.unwrap_or_else(|| Utc::now().date_naive());
    Validator::new()
        .currency(&currency, "currency")
        .date(as_of, "as_of")
        .finish()?;
    Ok((currency, as_of))
}

pub async fn burn(
    ctx: &Ctx,
    who: &Principal,
    cfg: &FinConfig,
    q: BurnQuery,
) -> Result<Burn, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let months = q.months.unwrap_or(6);
    Validator::new()
        .check(
            (1..=36).contains(&months),
            "months",
            "must be between 1 and 36",
        )
        .finish()?;
    let (currency, as_of) = report_basis(cfg, q.currency, q.as_of)?;
    let scope = Scope::of(&ctx.db, who, q.domain.as_deref()).await?;
    let current = Period::of(as_of);
    let back = months.max(cfg.trailing_months + 1) as i32;
    let spend = month_totals(&ctx.db, &scope, current.plus(-back), current).await?;
    let commitments = commitments(&ctx.db, &scope).await?;
    let input = BurnInput {
        as_of,
        months,
        trailing: cfg.trailing_months,
        currency: &currency,
        spend: &spend,
        commitments: &commitments,
    };
    Ok(calc::burn(&input, &cfg.rates)?)
}
