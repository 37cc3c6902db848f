//! Watches committed fin changes: re-checks the budgets, service costs and runway they touched,
//! raises and resolves alerts through hub-core progress, and writes the cross-hub signals.
//! Runs after commit, so a failure here is retried and never undoes the change.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{NaiveDate, Utc};
use hub_core::auth::Principal;
use hub_core::module::EventHandler;
use hub_core::outbox::Event;
use hub_core::progress::model::Severity;
use hub_core::progress::service::{AlertCondition, alert_is_open, track_alert};
use hub_core::{Ctx, HubError};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use serde::Serialize;

use super::{COST, Cost, PRESSURE, Pressure, Touched, VIABILITY, Viability, emit, model as mark};
use crate::budget::{model as budget, service::status_of};
use crate::config::FinConfig;
use crate::spend::model::totals;

/// The event kinds that can move a budget, a service cost or the runway.
const WATCHED: [&str; 6] = [
    "fin_spend.created",
    "fin_token_spend.created",
    "fin_import.finished",
    "fin_budget.set",
    "fin_commitment.created",
    "fin_balance.created",
];

/// The key of the runway alert.
pub const RUNWAY_ALERT: &str = "fin.runway";

/// The key of a budget threshold alert.
pub fn budget_alert(domain: &str, period: &str, threshold: u32) -> String {
    format!("fin.budget.{domain}.{period}.{threshold}")
}

pub struct Watch {
    cfg: Arc<FinConfig>,
}

impl Watch {
    pub fn new(cfg: Arc<FinConfig>) -> Self {
        Self { cfg }
    }
}

#[async_trait]
impl EventHandler for Watch {
    fn accepts(&self, event: &Event) -> bool {
        WATCHED.contains(&event.kind())
    }

    async fn handle(&self, ctx: &Ctx, event: &Event) -> Result<(), HubError> {
        #[derive(serde::Deserialize)]
        struct Data {
            touched: Touched,
        }
        let data: Data = event
            .data_as()
            .map_err(|e| HubError::Internal(format!("event {} touched: {e}", event.id)))?;
        evaluate(ctx, &self.cfg, &data.touched, Utc::now().date_naive()).await
    }
}

/// Re-checks what `touched` names, as seen on `as_of`.
pub async fn evaluate(
    ctx: &Ctx,
    cfg: &FinConfig,
    touched: &Touched,
    as_of: NaiveDate,
) -> Result<(), HubError> {
    let who = Principal::hub_itself(&ctx.hub);
    let mut budgets = Vec::new();
    for (domain, period) in &touched.budgets {
        budgets.extend(crate::budget::service::find(&ctx.db, domain, period).await?);
    }
    if !touched.domains.is_empty() {
        budgets.extend(
            budget::Entity::find()
                .filter(budget::Column::Domain.is_in(touched.domains.iter().cloned()))
                .all(&ctx.db)
                .await?,
        );
    }
    for b in &budgets {
        check_budget(ctx, cfg, &who, b, as_of).await?;
    }
    for (service, period) in &touched.services {
        cost_signal(ctx, cfg, service, period).await?;
    }
    check_runway(ctx, cfg, &who, as_of).await
}

/// A conversion the configuration cannot make is logged, not retried: retrying cannot help.
fn unless_no_rate<T>(res: Result<T, HubError>, what: &str) -> Result<Option<T>, HubError> {
    match res {
        Ok(v) => Ok(Some(v)),
        Err(HubError::Invalid(errors)) => {
            tracing::warn!(what, ?errors, "fin watch skipped a check");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Raises each threshold alert once when crossed and resolves it when the budget is back under
/// it (the allocation was raised or spend corrected), with a pressure signal for each move.
async fn check_budget(
    ctx: &Ctx,
    cfg: &FinConfig,
    who: &Principal,
    b: &budget::Model,
    as_of: NaiveDate,
) -> Result<(), HubError> {
    let Some(status) = unless_no_rate(status_of(&ctx.db, cfg, b, as_of).await, "budget")? else {
        return Ok(());
    };
    for t in b.thresholds() {
        let key = budget_alert(&b.domain, &b.period, t);
        let crossed = status.percent >= t;
        if crossed == alert_is_open(&ctx.db, &key).await? {
            continue;
        }
        let summary = if crossed {
            format!(
                "budget of {} for {} is at {}% ({} of {} {} spent or committed): crossed {t}%",
                b.domain, b.period, status.percent, status.used, b.allocated, b.currency
            )
        } else {
            format!(
                "budget of {} for {} is back at {}%",
                b.domain, b.period, status.percent
            )
        };
        let signal = Pressure {
            domain: b.domain.clone(),
            period: b.period.clone(),
            threshold: t,
            percent: status.percent,
            currency: b.currency.clone(),
            allocated: b.allocated,
            spent: status.spent,
            committed: status.committed,
            projected: status.projected,
            severity: match t {
                ..90 => Severity::Medium,
                90..100 => Severity::High,
                _ => Severity::Critical,
            },
            summary,
            recovered: !crossed,
        };
        let alert = AlertCondition {
            key: &key,
            holds: crossed,
            summary: &signal.summary,
            severity: signal.severity,
            domain: Some(&b.domain),
        };
        signal_alert(ctx, who, PRESSURE, alert, &signal).await?;
    }
    Ok(())
}

/// Moves fin's alert and writes the signal that tells the other hubs, in one transaction: they
/// hear of every move and of nothing that did not happen.
async fn signal_alert(
    ctx: &Ctx,
    who: &Principal,
    subject: &str,
    alert: AlertCondition<'_>,
    signal: &impl Serialize,
) -> Result<(), HubError> {
    let mut tx = ctx.begin().await?;
    emit(&mut tx, subject, alert.key, signal).await?;
    track_alert(&mut tx, who, alert).await?;
    tx.commit().await
}

/// Sends the service's total of the month when it differs from the last one sent.
async fn cost_signal(
    ctx: &Ctx,
    cfg: &FinConfig,
    service: &str,
    period: &str,
) -> Result<(), HubError> {
    let sums: Vec<(String, i64)> = totals::Entity::find()
        .select_only()
        .column(totals::Column::Currency)
        .expr_as(Expr::cust("CAST(SUM(total) AS BIGINT)"), "total")
        .filter(totals::Column::Service.eq(service))
        .filter(totals::Column::Period.eq(period))
        .group_by(totals::Column::Currency)
        .into_tuple()
        .all(&ctx.db)
        .await?;
    let amount = sums.iter().try_fold(0i64, |sum, (cur, total)| {
        Ok::<_, HubError>(sum + cfg.rates.convert(*total, cur, &cfg.currency)?)
    });
    let Some(amount) = unless_no_rate(amount, "service cost")? else {
        return Ok(());
    };
    let key = format!("cost.{service}.{period}");
    let mut tx = ctx.begin().await?;
    let last = mark::Entity::find_by_id(key.as_str())
        .lock_exclusive()
        .one(&*tx)
        .await?;
    if last.as_ref().is_some_and(|m| m.value == amount) {
        return Ok(());
    }
    let row = mark::ActiveModel {
        key: Set(key.clone()),
        value: Set(amount),
        updated_at: Set(Utc::now()),
    };
    if last.is_some() {
        row.update(&*tx).await?;
    } else {
        row.insert(&*tx).await?;
    }
    let signal = Cost {
        service_id: service.to_owned(),
        period: period.to_owned(),
        amount,
        currency: cfg.currency.clone(),
    };
    emit(&mut tx, COST, &key, &signal).await?;
    tx.commit().await
}

/// Raises the runway alert (high) when runway falls under the threshold and resolves it when
/// runway recovers, with a viability signal for each move.
async fn check_runway(
    ctx: &Ctx,
    cfg: &FinConfig,
    who: &Principal,
    as_of: NaiveDate,
) -> Result<(), HubError> {
    let computed = crate::runway::service::compute(&ctx.db, cfg, &cfg.currency, as_of).await;
    let Some(Some(r)) = unless_no_rate(computed, "runway")? else {
        return Ok(());
    };
    if r.below_threshold == alert_is_open(&ctx.db, RUNWAY_ALERT).await? {
        return Ok(());
    }
    let summary = match (r.below_threshold, r.months_left) {
        (true, months) => format!(
            "runway is {} months (cash runs out on {}), under the threshold of {} months",
            months.unwrap_or_default(),
            r.run_out_date.map_or("-".to_owned(), |d| d.to_string()),
            r.threshold_months
        ),
        (false, Some(m)) => format!("runway recovered to {m} months"),
        (false, None) => "runway recovered: the cash lasts".to_owned(),
    };
    let signal = Viability {
        months_left: r.months_left,
        run_out_date: r.run_out_date,
        threshold_months: r.threshold_months,
        cash: r.cash,
        monthly_burn: r.monthly_burn,
        currency: r.currency.clone(),
        severity: Severity::High,
        summary,
        recovered: !r.below_threshold,
    };
    let alert = AlertCondition {
        key: RUNWAY_ALERT,
        holds: r.below_threshold,
        summary: &signal.summary,
        severity: signal.severity,
        domain: None,
    };
    signal_alert(ctx, who, VIABILITY, alert, &signal).await
}
