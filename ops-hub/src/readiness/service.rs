//! Readiness rules. Facts are read with latest-per-kind queries over indexed columns, for one
//! service or a page of services at once, so one service costs a handful of index seeks.

use std::collections::HashMap;

use chrono::Utc;
use hub_core::api::page::{Page, PageRequest, page_of};
use hub_core::auth::{Access, Principal};
use hub_core::progress::model::{State, StateKind, state};
use hub_core::{Ctx, HubError};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement, Value,
};
use serde::{Deserialize, Serialize};

use crate::config::GateConfig;
use crate::evidence::model::{self as evidence, EvidenceStatus};
use crate::inventory::model::service;
use crate::migration_run::model::{self as run, RunStatus};

/// The evidence kinds readiness reads.
pub const SMOKE: &str = "smoke";
pub const PROBE: &str = "probe";

/// A cutover gate.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Gate {
    /// A passing smoke evidence newer than the configured age (24 h by default).
    Smoke,
    /// The latest migration run is complete with 0 failed (no run at all passes).
    Migration,
    /// The latest probe passed.
    Probe,
    /// No open alert about the service at or above the configured severity.
    Alerts,
}

impl Gate {
    pub const ALL: [Gate; 4] = [Gate::Smoke, Gate::Migration, Gate::Probe, Gate::Alerts];
}

/// One gate's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateResult {
    pub gate: Gate,
    pub pass: bool,
    pub reason: String,
    /// The evidence, run or alert the verdict rests on.
    pub evidence_id: Option<String>,
}

/// A service's readiness: ready when every configured gate passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    pub service_id: String,
    pub ready: bool,
    pub gates: Vec<GateResult>,
}

/// The key of alerts about a service: `ops.<service>.<what>` (the probe uses `ops.<id>.probe`).
pub fn alert_key(service_id: &str, what: &str) -> String {
    format!("ops.{service_id}.{what}")
}

/// Readiness of one service the caller may see.
pub async fn for_service(
    ctx: &Ctx,
    who: &Principal,
    cfg: &GateConfig,
    id: &str,
) -> Result<Readiness, HubError> {
    let svc = crate::inventory::service::get(ctx, who, id).await?;
    Ok(evaluate(&ctx.db, cfg, &[svc.row.id]).await?.remove(0))
}

/// Readiness of the services the caller may see, by id, a page at a time.
pub async fn list(
    ctx: &Ctx,
    who: &Principal,
    cfg: &GateConfig,
    page: &PageRequest,
) -> Result<Page<Readiness>, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let mut q = service::Entity::find()
        .select_only()
        .column(service::Column::Id)
        .order_by_asc(service::Column::Id)
        .limit(page.limit + 1);
    if let Some(after) = &page.after {
        q = q.filter(service::Column::Id.gt(after.as_str()));
    }
    if let Some(allowed) = &who.domains {
        q = q.filter(service::Column::Domain.is_in(allowed.iter().cloned()));
    }
    let ids: Vec<String> = q.into_tuple().all(&ctx.db).await?;
    let ids = page_of(ids, page, Clone::clone);
    let items = evaluate(&ctx.db, cfg, &ids.items).await?;
    Ok(Page {
        items,
        next_cursor: ids.next_cursor,
    })
}

/// The latest smoke and probe evidence and the latest run of each service, in one statement
/// of correlated subqueries: one index seek per service and fact.
async fn latest_ids(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<HashMap<String, [Option<String>; 3]>, HubError> {
    let backend = db.get_database_backend();
    let marks: Vec<String> = (1..=ids.len())
        .map(|i| match backend {
            DbBackend::Postgres => format!("${i}"),
            _ => "?".to_owned(),
        })
        .collect();
    let latest = |kind: &str| {
        format!(
            "(SELECT e.id FROM ops_evidence e WHERE e.service_id = s.id AND e.kind = '{kind}' \
             ORDER BY e.recorded_at DESC, e.id DESC LIMIT 1)"
        )
    };
    let sql = format!(
        "SELECT s.id AS id, {} AS smoke, {} AS probe, \
         (SELECT r.id FROM ops_migration_runs r WHERE r.service_id = s.id ORDER BY r.id DESC LIMIT 1) AS run \
         FROM ops_services s WHERE s.id IN ({})",
        latest(SMOKE),
        latest(PROBE),
        marks.join(", ")
    );
    let values: Vec<Value> = ids.iter().map(|i| i.clone().into()).collect();
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    let mut out = HashMap::new();
    for r in rows {
        let id: String = r.try_get("", "id")?;
        out.insert(
            id,
            [
                r.try_get("", "smoke")?,
                r.try_get("", "probe")?,
                r.try_get("", "run")?,
            ],
        );
    }
    Ok(out)
}

/// The verdicts for `ids` (existing services), in the order given.
pub async fn evaluate(
    db: &impl ConnectionTrait,
    cfg: &GateConfig,
    ids: &[String],
) -> Result<Vec<Readiness>, HubError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let latest = latest_ids(db, chunk).await?;
        let evidence_ids: Vec<String> = latest
            .values()
            .flat_map(|[s, p, _]| [s.clone(), p.clone()])
            .flatten()
            .collect();
        let run_ids: Vec<String> = latest.values().filter_map(|[_, _, r]| r.clone()).collect();
        let evidence: HashMap<String, evidence::Model> = if evidence_ids.is_empty() {
            HashMap::new()
        } else {
            evidence::Entity::find()
                .filter(evidence::Column::Id.is_in(evidence_ids))
                .all(db)
                .await?
                .into_iter()
                .map(|e| (e.id.clone(), e))
                .collect()
        };
        let runs: HashMap<String, run::Model> = if run_ids.is_empty() {
            HashMap::new()
        } else {
            run::Entity::find()
                .filter(run::Column::Id.is_in(run_ids))
                .all(db)
                .await?
                .into_iter()
                .map(|r| (r.id.clone(), r))
                .collect()
        };
        let alerts = open_alerts(db, chunk, cfg).await?;
        for id in chunk {
            let [smoke, probe, last_run] = latest.get(id).cloned().unwrap_or_default();
            let facts = Facts {
                smoke: smoke.and_then(|e| evidence.get(&e)),
                probe: probe.and_then(|e| evidence.get(&e)),
                run: last_run.and_then(|r| runs.get(&r)),
                alert: alerts.get(id.as_str()),
            };
            let gates: Vec<GateResult> = cfg.gates.iter().map(|g| judge(*g, &facts, cfg)).collect();
            out.push(Readiness {
                service_id: id.clone(),
                ready: gates.iter().all(|g| g.pass),
                gates,
            });
        }
    }
    Ok(out)
}

/// The worst open alert at or above the threshold per service of `ids`. Alert keys
/// `ops.<service>.…` are read as a key range, which the state table's primary key serves.
async fn open_alerts(
    db: &impl ConnectionTrait,
    ids: &[String],
    cfg: &GateConfig,
) -> Result<HashMap<String, state::Model>, HubError> {
    if !cfg.gates.contains(&Gate::Alerts) {
        return Ok(HashMap::new());
    }
    let mut q = state::Entity::find()
        .filter(state::Column::Kind.eq(StateKind::Alert))
        .filter(state::Column::State.is_in(State::OPEN));
    // One service: its own range; a page: every ops alert (few), matched below.
    q = match ids {
        [one] => q
            .filter(state::Column::Key.gte(format!("ops.{one}.")))
            .filter(state::Column::Key.lt(format!("ops.{one}/"))),
        _ => q
            .filter(state::Column::Key.gte("ops."))
            .filter(state::Column::Key.lt("ops/")),
    };
    let mut out: HashMap<String, state::Model> = HashMap::new();
    let wanted: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
    for a in q.all(db).await? {
        if a.severity < cfg.alert_severity {
            continue;
        }
        let Some(rest) = a.key.strip_prefix("ops.") else {
            continue;
        };
        // Service ids are slugs (no dots): the service is the part before the next dot.
        let Some((svc, _)) = rest.split_once('.') else {
            continue;
        };
        if !wanted.contains(svc) {
            continue;
        }
        let worse = out.get(svc).is_none_or(|b| a.severity > b.severity);
        if worse {
            out.insert(svc.to_owned(), a);
        }
    }
    Ok(out)
}

struct Facts<'a> {
    smoke: Option<&'a evidence::Model>,
    probe: Option<&'a evidence::Model>,
    run: Option<&'a run::Model>,
    alert: Option<&'a state::Model>,
}

fn judge(gate: Gate, f: &Facts<'_>, cfg: &GateConfig) -> GateResult {
    let verdict = |pass: bool, reason: String, id: Option<&String>| GateResult {
        gate,
        pass,
        reason,
        evidence_id: id.cloned(),
    };
    match gate {
        Gate::Smoke => match f.smoke {
            None => verdict(false, "no smoke evidence".into(), None),
            Some(e) if e.status != EvidenceStatus::Pass => verdict(
                false,
                format!("latest smoke evidence is {}", status_word(e.status)),
                Some(&e.id),
            ),
            Some(e) if Utc::now() - e.recorded_at > cfg.smoke_max_age => verdict(
                false,
                format!(
                    "latest passing smoke evidence is older than {} h",
                    cfg.smoke_max_age.num_hours()
                ),
                Some(&e.id),
            ),
            Some(e) => verdict(true, "smoke evidence passed".into(), Some(&e.id)),
        },
        Gate::Migration => match f.run {
            None => verdict(true, "no migration run recorded".into(), None),
            Some(r) if r.status == RunStatus::Running => verdict(
                false,
                "latest migration run is still running".into(),
                Some(&r.id),
            ),
            Some(r) if r.status == RunStatus::Aborted => verdict(
                false,
                "latest migration run was aborted".into(),
                Some(&r.id),
            ),
            Some(r) if r.failed > 0 => verdict(
                false,
                format!(
                    "latest migration run failed {} of {} records",
                    r.failed, r.expected
                ),
                Some(&r.id),
            ),
            Some(r) => verdict(
                true,
                format!(
                    "latest migration run complete: {} migrated, 0 failed",
                    r.migrated
                ),
                Some(&r.id),
            ),
        },
        Gate::Probe => match f.probe {
            None => verdict(false, "no probe evidence".into(), None),
            Some(e) if e.status == EvidenceStatus::Pass => {
                verdict(true, "latest probe healthy".into(), Some(&e.id))
            }
            Some(e) => verdict(
                false,
                format!("latest probe failed: {}", e.summary),
                Some(&e.id),
            ),
        },
        Gate::Alerts => match f.alert {
            None => verdict(true, "no open high-severity alert".into(), None),
            Some(a) => verdict(
                false,
                format!(
                    "open {} alert {}: {}",
                    format!("{:?}", a.severity).to_lowercase(),
                    a.key,
                    a.summary
                ),
                Some(&a.key),
            ),
        },
    }
}

fn status_word(s: EvidenceStatus) -> &'static str {
    match s {
        EvidenceStatus::Pass => "pass",
        EvidenceStatus::Fail => "fail",
        EvidenceStatus::Pending => "pending",
    }
}
