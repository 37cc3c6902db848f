//! Ledger rules: an entry's (source, external id) is unique and a repeat adds nothing; every
//! insert updates the totals in the same transaction; amounts, currencies and dates are checked.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use hub_core::api::page::{Page, PageRequest, page_of};
use hub_core::auth::{Access, Principal};
use hub_core::error::Validator;
use hub_core::{Ctx, HubError};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::model::{self, Source, totals};
use crate::bulk::{BulkInsert, Conflict, time_text};
use crate::config::FinConfig;
use crate::money::{MoneyChecks, Period};
use crate::signal::{Changed, Touched};
use migrations::fin::key_hash;

/// A ledger entry ready to be written (already validated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub date: NaiveDate,
    pub amount: i64,
    pub currency: String,
    pub domain: String,
    pub service_id: Option<String>,
    pub vendor: Option<String>,
    pub source: Source,
    pub external_id: String,
    pub import_id: Option<String>,
}

/// What a batch insert did.
#[derive(Debug, Default)]
pub struct Written {
    /// The ids of the rows inserted (entries whose key existed are skipped).
    pub ids: Vec<String>,
    pub touched: Touched,
}

const LEDGER: BulkInsert = BulkInsert {
    table: "fin_spend",
    columns: &[
        ("id", "text"),
        ("date", "date"),
        ("period", "text"),
        ("amount", "bigint"),
        ("currency", "text"),
        ("domain", "text"),
        ("service_id", "text"),
        ("vendor", "text"),
        ("source", "text"),
        ("external_id", "text"),
        ("import_id", "text"),
        ("created_at", "timestamptz"),
        ("key_hash", "bigint"),
    ],
    conflict: Conflict::Skip {
        hash: "key_hash",
        key: &["source", "external_id"],
    },
    returning: Some("id"),
};

const TOTALS: BulkInsert = BulkInsert {
    table: "fin_spend_totals",
    columns: &[
        ("domain", "text"),
        ("period", "text"),
        ("service", "text"),
        ("currency", "text"),
        ("total", "bigint"),
        ("entries", "bigint"),
    ],
    conflict: Conflict::Clause(
        "(domain, period, service, currency) DO UPDATE SET \
        total = fin_spend_totals.total + excluded.total, \
        entries = fin_spend_totals.entries + excluded.entries",
    ),
    returning: None,
};

/// One ledger row as the JSON array [`LEDGER`] reads.
#[derive(Serialize)]
struct LedgerRow<'a>(
    &'a str,
    NaiveDate,
    Month,
    i64,
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    &'static str,
    &'a str,
    Option<&'a str>,
    &'a str,
    i64,
);

/// A period serialized as its `YYYY-MM` text without an intermediate string.
struct Month(Period);

impl Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// Inserts `entries` in one statement, skipping those whose (source, external id) is already in
/// the ledger, and adds the inserted ones to the totals. Call inside the transaction that emits
/// the event; callers bound the slice (an import batch at most).
pub async fn insert_entries(
    db: &impl ConnectionTrait,
    entries: &[Entry],
) -> Result<Written, HubError> {
    let mut written = Written::default();
    let now = time_text(hub_core::db::now());
    let ids: Vec<String> = entries.iter().map(|_| hub_core::ids::new_id()).collect();
    // The insert skips keys stored before it; a key repeated in `entries` counts once, first wins.
    let mut seen = HashSet::with_capacity(entries.len());
    let rows: Vec<LedgerRow> = entries
        .iter()
        .zip(&ids)
        .filter(|(e, _)| seen.insert((e.source, e.external_id.as_str())))
        .map(|(e, id)| {
            LedgerRow(
                id,
                e.date,
                Month(Period::of(e.date)),
                e.amount,
                &e.currency,
                &e.domain,
                e.service_id.as_deref(),
                e.vendor.as_deref(),
                source_text(e.source),
                &e.external_id,
                e.import_id.as_deref(),
                &now,
                key_hash(source_text(e.source), &e.external_id),
            )
        })
        .collect();
    let by_id: HashMap<&str, &Entry> = ids.iter().map(String::as_str).zip(entries).collect();
    let mut sums: BTreeMap<(&str, Period, &str, &str), (i64, i64)> = BTreeMap::new();
    for id in LEDGER.run(db, &rows).await? {
        let Some(e) = by_id.get(id.as_str()) else {
            continue;
        };
        let service = e.service_id.as_deref().unwrap_or("");
        let sum = sums
            .entry((&e.domain, Period::of(e.date), service, &e.currency))
            .or_default();
        sum.0 += e.amount;
        sum.1 += 1;
        written.ids.push(id);
    }
    for &(domain, period, service, _) in sums.keys() {
        let period = period.to_string();
        if !service.is_empty() {
            written
                .touched
                .services
                .insert((service.to_owned(), period.clone()));
        }
        written.touched.budgets.insert((domain.to_owned(), period));
    }
    let totals: Vec<_> = sums
        .into_iter()
        .map(|((domain, period, service, currency), (total, n))| {
            (domain, Month(period), service, currency, total, n)
        })
        .collect();
    TOTALS.run(db, &totals).await?;
    Ok(written)
}

fn source_text(s: Source) -> &'static str {
    match s {
        Source::Import => "import",
        Source::Token => "token",
        Source::Manual => "manual",
    }
}

/// A manual ledger entry as a caller gives it.
#[derive(Debug, Clone)]
pub struct NewSpend {
    pub date: NaiveDate,
    pub amount: i64,
    pub currency: String,
    pub domain: String,
    pub service_id: Option<String>,
    pub vendor: Option<String>,
    /// The caller's id of the expense; recording it again returns the first entry.
    pub external_id: Option<String>,
}

/// Checks the fields every ledger entry has, whatever its source.
pub fn check_entry(v: &mut Validator, e: &Entry) {
    v.date(e.date, "date")
        .amount(e.amount, "amount")
        .currency(&e.currency, "currency")
        .text(&e.domain, "domain", 64)
        .opt_text(e.service_id.as_deref(), "service_id", 200)
        .opt_text(e.vendor.as_deref(), "vendor", 200)
        .text(&e.external_id, "external_id", 200);
}

/// Records a manual entry; `false` when its external id was recorded before (nothing added).
pub async fn record(
    ctx: &Ctx,
    who: &Principal,
    new: NewSpend,
) -> Result<(model::Model, bool), HubError> {
    who.require(&ctx.hub, Access::Write)?;
    let external_id = new
        .external_id
        .clone()
        .unwrap_or_else(hub_core::ids::new_id);
    let entry = Entry {
        date: new.date,
        amount: new.amount,
        currency: new.currency,
        domain: new.domain,
        service_id: new.service_id.map(|s| s.trim().to_owned()),
        vendor: new.vendor.map(|s| s.trim().to_owned()),
        source: Source::Manual,
        external_id,
        import_id: None,
    };
    let mut v = Validator::new();
    check_entry(&mut v, &entry);
    v.finish()?;
    let mut tx = ctx.begin().await?;
    hub_core::domain::service::check_usable(&*tx, who, &entry.domain, "domain").await?;
    let written = insert_entries(&*tx, std::slice::from_ref(&entry)).await?;
    let Some(id) = written.ids.first() else {
        drop(tx);
        return Ok((
            by_key(ctx, who, Source::Manual, &entry.external_id).await?,
            false,
        ));
    };
    let row = model::Entity::find_by_id(id.as_str())
        .one(&*tx)
        .await?
        .ok_or_else(|| HubError::Internal("inserted spend row vanished".into()))?;
    tx.emit(
        "fin_spend",
        "created",
        &row.id,
        &Changed {
            row: &row,
            touched: &written.touched,
        },
    )
    .await?;
    tx.commit().await?;
    Ok((row, true))
}

/// The entry of `source` with `external_id`.
async fn by_key(
    ctx: &Ctx,
    who: &Principal,
    source: Source,
    external_id: &str,
) -> Result<model::Model, HubError> {
    model::Entity::find()
        .filter(model::Column::KeyHash.eq(key_hash(source_text(source), external_id)))
        .filter(model::Column::Source.eq(source))
        .filter(model::Column::ExternalId.eq(external_id))
        .one(&ctx.db)
        .await?
        .filter(|r| who.may_use_domain(&r.domain))
        .ok_or_else(|| HubError::not_found("spend", external_id))
}

pub async fn get(ctx: &Ctx, who: &Principal, id: &str) -> Result<model::Model, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    model::Entity::find_by_id(id)
        .one(&ctx.db)
        .await?
        .filter(|r| who.may_use_domain(&r.domain))
        .ok_or_else(|| HubError::not_found("spend", id))
}

/// Filters of the ledger list.
#[derive(Debug, Clone, Default)]
pub struct SpendFilter {
    pub domain: Option<String>,
    pub service_id: Option<String>,
    pub source: Option<Source>,
    /// `YYYY-MM`.
    pub period: Option<String>,
}

/// Limits `q` to `domain` (which the caller must be allowed) or to the caller's domains.
pub fn in_domains<E: EntityTrait>(
    q: Select<E>,
    who: &Principal,
    domain: Option<&str>,
    column: impl ColumnTrait,
) -> Result<Select<E>, HubError> {
    Ok(match (domain, &who.domains) {
        (Some(d), _) => {
            who.require_domain(d)?;
            q.filter(column.eq(d))
        }
        (None, Some(allowed)) => q.filter(column.is_in(allowed.iter().cloned())),
        (None, None) => q,
    })
}

/// Ledger entries newest first.
pub async fn list(
    ctx: &Ctx,
    who: &Principal,
    filter: &SpendFilter,
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
    if let Some(s) = &filter.service_id {
        q = q.filter(model::Column::ServiceId.eq(s.as_str()));
    }
    if let Some(s) = filter.source {
        q = q.filter(model::Column::Source.eq(s));
    }
    if let Some(p) = &filter.period {
        Period::parse(p).map_err(|m| HubError::invalid("period", m))?;
        q = q.filter(model::Column::Period.eq(p.as_str()));
    }
    Ok(page_of(q.all(&ctx.db).await?, page, |r| r.id.clone()))
}

/// Which totals a cost report groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CostsBy {
    Service,
    Domain,
}

/// A cost report's question.
#[derive(Debug, Clone, Default)]
pub struct CostQuery {
    /// `YYYY-MM`; the current month when absent.
    pub period: Option<String>,
    pub domain: Option<String>,
    /// The report currency; the configured one when absent.
    pub currency: Option<String>,
}

/// The cost of one service or domain in a month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CostLine {
    /// The service id, or the domain, the line is about.
    pub key: String,
    pub period: String,
    /// Minor units of `currency`.
    pub amount: i64,
    pub currency: String,
    /// Ledger entries behind the amount.
    pub entries: i64,
}

/// Totals of one month by service (spend attributed to no service left out) or by domain,
/// ordered by key and converted into the report currency.
pub async fn costs(
    ctx: &Ctx,
    who: &Principal,
    cfg: &FinConfig,
    by: CostsBy,
    query: &CostQuery,
    page: &PageRequest,
) -> Result<Page<CostLine>, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let currency = query
        .currency
        .clone()
        .unwrap_or_else(|| cfg.currency.clone());
    let period = match &query.period {
        Some(p) => Period::parse(p).map_err(|m| HubError::invalid("period", m))?,
        None => Period::of(Utc::now().date_naive()),
    };
    Validator::new().currency(&currency, "currency").finish()?;
    let key_col = match by {
        CostsBy::Service => totals::Column::Service,
        CostsBy::Domain => totals::Column::Domain,
    };
    let base = || -> Result<Select<totals::Entity>, HubError> {
        let mut q = totals::Entity::find().filter(totals::Column::Period.eq(period.to_string()));
        if by == CostsBy::Service {
            q = q.filter(totals::Column::Service.ne(""));
        }
        in_domains(q, who, query.domain.as_deref(), totals::Column::Domain)
    };
    let mut keys = base()?
        .select_only()
        .column(key_col)
        .distinct()
        .order_by_asc(key_col)
        .limit(page.limit + 1);
    if let Some(after) = &page.after {
        keys = keys.filter(key_col.gt(after.as_str()));
    }
    let keys: Vec<String> = keys.into_tuple().all(&ctx.db).await?;
    let wanted: Vec<String> = keys.iter().take(page.limit as usize).cloned().collect();
    let sums: Vec<(String, String, i64, i64)> = base()?
        .select_only()
        .column(key_col)
        .column(totals::Column::Currency)
        .expr_as(Expr::cust("CAST(SUM(total) AS BIGINT)"), "total")
        .expr_as(Expr::cust("CAST(SUM(entries) AS BIGINT)"), "entries")
        .filter(key_col.is_in(wanted))
        .group_by(key_col)
        .group_by(totals::Column::Currency)
        .into_tuple()
        .all(&ctx.db)
        .await?;
    let mut lines: BTreeMap<String, CostLine> = BTreeMap::new();
    for (key, cur, total, entries) in sums {
        let amount = cfg.rates.convert(total, &cur, &currency)?;
        let line = lines.entry(key.clone()).or_insert_with(|| CostLine {
            key,
            period: period.to_string(),
            amount: 0,
            currency: currency.clone(),
            entries: 0,
        });
        line.amount += amount;
        line.entries += entries;
    }
    let mut rows: Vec<CostLine> = keys
        .into_iter()
        .map(|k| {
            lines.remove(&k).unwrap_or_else(|| CostLine {
                key: k,
                period: period.to_string(),
                amount: 0,
                currency: currency.clone(),
                entries: 0,
            })
        })
        .collect();
    rows.truncate(page.limit as usize + 1);
    Ok(page_of(rows, page, |l| l.key.clone()))
}
