//! Token spend rules: counts and costs within bounds, a price from the configured table when
//! no cost is given (an unknown model is an error, never a zero), the agent is the caller, and
//! each record also enters the spend ledger (source `token`) in the same transaction.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use hub_core::api::page::{Page, PageRequest, page_of};
use hub_core::auth::{Access, Principal};
use hub_core::error::Validator;
use hub_core::{Ctx, HubError};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use super::model;
use crate::bulk::{BulkInsert, Conflict, time_text};
use crate::config::FinConfig;
use crate::money::{MAX_AMOUNT, MoneyChecks, date_range, div_round, exponent};
use crate::signal::Changed;
use crate::spend::model::Source;
use crate::spend::service::{Entry, Written, in_domains, insert_entries};

/// The most tokens one record may count.
pub const MAX_TOKENS: i64 = 1_000_000_000_000;

/// A token-spend record as a caller gives it.
#[derive(Debug, Clone, Default)]
pub struct NewTokenSpend {
    pub provider: String,
    pub model: String,
    pub tokens_in: i64,
    pub tokens_out: i64,
    /// Minor units; computed from the price table when absent.
    pub cost: Option<i64>,
    /// The currency of `cost`; the configured one when absent (or the price's, when priced).
    pub currency: Option<String>,
    pub session_id: Option<String>,
    pub domain: String,
    /// Now when absent.
    pub time: Option<DateTime<Utc>>,
    /// The caller's id of the record: recording it again returns the first record.
    pub external_id: Option<String>,
}

/// A validated record, ready to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub provider: String,
    pub model: String,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub cost: i64,
    pub currency: String,
    pub priced: bool,
    pub session_id: Option<String>,
    pub agent: String,
    pub domain: String,
    pub time: DateTime<Utc>,
    pub external_id: String,
}

/// The cost of a call from the price table, in minor units of the price's currency.
pub fn price(
    cfg: &FinConfig,
    provider: &str,
    model: &str,
    tokens_in: i64,
    tokens_out: i64,
) -> Result<(i64, String), String> {
    let p = cfg
        .prices
        .get(&(provider.to_owned(), model.to_owned()))
        .ok_or_else(|| {
            format!("no price known for provider {provider} model {model}: give cost or configure modules.fin.prices")
        })?;
    let exp = exponent(&p.currency).unwrap_or(2) as u32;
    let (i, o) = (p.input_per_million, p.output_per_million);
    // tokens * price / 10^scale / 10^6 in major units, times 10^exp for minor units.
    let num = tokens_in as i128 * i.mantissa * 10i128.pow(exp + o.scale)
        + tokens_out as i128 * o.mantissa * 10i128.pow(exp + i.scale);
    let cost = div_round(num, 10i128.pow(i.scale + o.scale + 6));
    let cost = i64::try_from(cost).map_err(|_| "cost is too large".to_owned())?;
    Ok((cost, p.currency.clone()))
}

/// Checks a record and fills its cost, currency, time and external id.
pub fn validate(cfg: &FinConfig, new: NewTokenSpend, agent: &str) -> Result<TokenRow, HubError> {
    let mut v = Validator::new();
    v.text(&new.provider, "provider", 100)
        .text(&new.model, "model", 200)
        .text(&new.domain, "domain", 64)
        .check(
            (0..=MAX_TOKENS).contains(&new.tokens_in),
            "tokens_in",
            format!("must be between 0 and {MAX_TOKENS}"),
        )
        .check(
            (0..=MAX_TOKENS).contains(&new.tokens_out),
            "tokens_out",
            format!("must be between 0 and {MAX_TOKENS}"),
        )
        .opt_text(new.session_id.as_deref(), "session_id", 200)
        .opt_text(new.external_id.as_deref(), "external_id", 200);
    if let Some(c) = new.cost {
        v.amount(c, "cost");
    }
    if let Some(c) = &new.currency {
        v.currency(c, "currency");
    }
    let time = new.time.unwrap_or_else(Utc::now);
    let (first, last) = date_range();
    v.check(
        (first..=last).contains(&time.date_naive()),
        "time",
        format!("must be between {first} and {last}"),
    );
    v.finish()?;
    let (cost, currency, priced) = match new.cost {
        Some(cost) => (
            cost,
            new.currency.unwrap_or_else(|| cfg.currency.clone()),
            false,
        ),
        None => {
            let (cost, currency) = price(
                cfg,
                &new.provider,
                &new.model,
                new.tokens_in,
                new.tokens_out,
            )
            .map_err(|m| HubError::invalid("cost", m))?;
            if new.currency.as_ref().is_some_and(|c| *c != currency) {
                return Err(HubError::invalid(
                    "currency",
                    format!(
                        "the price of {} {} is in {currency}",
                        new.provider, new.model
                    ),
                ));
            }
            if cost > MAX_AMOUNT {
                return Err(HubError::invalid(
                    "cost",
                    format!("must be at most {MAX_AMOUNT} minor units"),
                ));
            }
            (cost, currency, true)
        }
    };
    Ok(TokenRow {
        provider: new.provider.trim().to_owned(),
        model: new.model.trim().to_owned(),
        tokens_in: new.tokens_in,
        tokens_out: new.tokens_out,
        cost,
        currency,
        priced,
        session_id: new.session_id,
        agent: agent.to_owned(),
        domain: new.domain,
        time,
        external_id: new.external_id.unwrap_or_else(hub_core::ids::new_id),
    })
}

const TOKENS: BulkInsert = BulkInsert {
    table: "fin_token_spend",
    columns: &[
        ("id", "text"),
        ("provider", "text"),
        ("model", "text"),
        ("tokens_in", "bigint"),
        ("tokens_out", "bigint"),
        ("cost", "bigint"),
        ("currency", "text"),
        ("priced", "boolean"),
        ("session_id", "text"),
        ("agent", "text"),
        ("domain", "text"),
        ("time", "timestamptz"),
        ("external_id", "text"),
        ("created_at", "timestamptz"),
    ],
    conflict: Conflict::Clause("(external_id) DO NOTHING"),
    returning: Some("external_id"),
};

/// One record as the JSON array [`TOKENS`] reads.
#[derive(Serialize)]
struct Json<'a>(
    String,
    &'a str,
    &'a str,
    i64,
    i64,
    i64,
    &'a str,
    bool,
    Option<&'a str>,
    &'a str,
    &'a str,
    String,
    &'a str,
    &'a str,
);

/// Inserts records, skipping external ids already recorded, and enters the inserted ones in
/// the ledger. Call inside the transaction that emits the event.
pub async fn insert_rows(
    db: &impl ConnectionTrait,
    rows: &[TokenRow],
) -> Result<Written, HubError> {
    if rows.is_empty() {
        return Ok(Written::default());
    }
    let now = time_text(hub_core::db::now());
    let json: Vec<Json> = rows
        .iter()
        .map(|r| {
            Json(
                hub_core::ids::new_id(),
                &r.provider,
                &r.model,
                r.tokens_in,
                r.tokens_out,
                r.cost,
                &r.currency,
                r.priced,
                r.session_id.as_deref(),
                &r.agent,
                &r.domain,
                time_text(r.time),
                &r.external_id,
                &now,
            )
        })
        .collect();
    let mut inserted: HashSet<String> = TOKENS.run(db, &json).await?.into_iter().collect();
    let entries: Vec<Entry> = rows
        .iter()
        .filter(|r| inserted.remove(&r.external_id))
        .map(|r| Entry {
            date: r.time.date_naive(),
            amount: r.cost,
            currency: r.currency.clone(),
            domain: r.domain.clone(),
            service_id: None,
            vendor: Some(r.provider.clone()),
            source: Source::Token,
            external_id: r.external_id.clone(),
            import_id: None,
        })
        .collect();
    insert_entries(db, &entries).await
}

/// Records one model call of the caller; `false` when its external id was recorded before.
pub async fn record(
    ctx: &Ctx,
    who: &Principal,
    cfg: &FinConfig,
    new: NewTokenSpend,
) -> Result<(model::Model, bool), HubError> {
    who.require(&ctx.hub, Access::Write)?;
    let row = validate(cfg, new, &who.sub)?;
    let mut tx = ctx.begin().await?;
    hub_core::domain::service::check_usable(&*tx, who, &row.domain, "domain").await?;
    let written = insert_rows(&*tx, std::slice::from_ref(&row)).await?;
    let stored = model::Entity::find()
        .filter(model::Column::ExternalId.eq(row.external_id.as_str()))
        .one(&*tx)
        .await?
        .ok_or_else(|| HubError::Internal("token spend row vanished".into()))?;
    if written.ids.is_empty() {
        drop(tx);
        return if who.may_use_domain(&stored.domain) {
            Ok((stored, false))
        } else {
            Err(HubError::not_found("token spend", row.external_id))
        };
    }
    tx.emit(
        "fin_token_spend",
        "created",
        &stored.id,
        &Changed {
            row: &stored,
            touched: &written.touched,
        },
    )
    .await?;
    tx.commit().await?;
    Ok((stored, true))
}

/// Filters of the token-spend list.
#[derive(Debug, Clone, Default)]
pub struct TokenFilter {
    pub domain: Option<String>,
    pub agent: Option<String>,
    pub session_id: Option<String>,
}

/// Token spend newest first.
pub async fn list(
    ctx: &Ctx,
    who: &Principal,
    filter: &TokenFilter,
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
    if let Some(a) = &filter.agent {
        q = q.filter(model::Column::Agent.eq(a.as_str()));
    }
    if let Some(s) = &filter.session_id {
        q = q.filter(model::Column::SessionId.eq(s.as_str()));
    }
    Ok(page_of(q.all(&ctx.db).await?, page, |r| r.id.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_by_hand_and_unknown_models_are_named() {
        let t: toml::Table = toml::from_str(
            r#"
            [prices.openai."gpt-4o"]
            currency = "USD"
            input_per_million = "2.50"
            output_per_million = "10"
            "#,
        )
        .unwrap();
        let cfg = FinConfig::from_toml(Some(&t)).unwrap();
        // 1,000,000 in at 2.50 + 200,000 out at 10.00 = 2.50 + 2.00 = 4.50 USD.
        assert_eq!(
            price(&cfg, "openai", "gpt-4o", 1_000_000, 200_000),
            Ok((450, "USD".into()))
        );
        // 1,234 in = 0.003085 USD -> 0 cents; 2,000 in = 0.005 -> 1 cent (half away from zero).
        assert_eq!(price(&cfg, "openai", "gpt-4o", 1_234, 0).unwrap().0, 0);
        assert_eq!(price(&cfg, "openai", "gpt-4o", 2_000, 0).unwrap().0, 1);
        let err = price(&cfg, "openai", "gpt-5", 1, 1).unwrap_err();
        assert!(err.contains("provider openai model gpt-5"), "{err}");
    }
}
