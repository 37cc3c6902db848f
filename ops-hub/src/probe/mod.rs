//! Probes: a background job checks the health URL of every active service each interval,
//! records the results as `probe` evidence (a batch per commit), and raises the alert `ops.<service>.probe` when a
//! service goes down and resolves it when it comes back.

use std::time::{Duration, Instant};

use futures::StreamExt;
use hub_core::auth::Principal;
use hub_core::progress::model::{Severity, StateKind, state};
use hub_core::progress::service::{raise_alert, resolve_alert};
use hub_core::{Ctx, HubError};
use sea_orm::{
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use serde_json::{Map, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::ProbeConfig;
use crate::evidence::model::EvidenceStatus;
use crate::evidence::service::{NewEvidence, record_many};
use crate::inventory::model::{Lifecycle, service};
use crate::readiness::service::{PROBE, alert_key};

/// What one round of probes found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Round {
    pub probed: usize,
    pub healthy: usize,
    pub raised: usize,
    pub resolved: usize,
    /// Checks whose evidence was stored.
    pub recorded: usize,
}

/// The probe job: a round each interval until `stop`. A round that takes longer than the
/// interval is followed by the next at once; rounds never overlap.
pub async fn run(ctx: Ctx, cfg: ProbeConfig, stop: CancellationToken) {
    let client = hub_core::auth::http::client();
    loop {
        let started = Instant::now();
        if let Err(e) = round(&ctx, &cfg, &client, &stop).await {
            tracing::warn!(error = %e, "probe round failed");
        }
        let rest = cfg.interval.saturating_sub(started.elapsed());
        tokio::select! {
            () = tokio::time::sleep(rest) => {}
            () = stop.cancelled() => return,
        }
    }
}

/// Active services with a health URL.
fn targets() -> Select<service::Entity> {
    service::Entity::find()
        .filter(service::Column::Lifecycle.eq(Lifecycle::Active))
        .filter(service::Column::HealthUrl.is_not_null())
}

/// Probes every active service with a health URL once, at most `cfg.concurrency` at a time;
/// with `cfg.spread` the checks start evenly over `cfg.interval`. Their evidence is written a
/// batch at a time (`cfg.flush`, `cfg.flush_rows`) and all of it before the round returns.
/// Once `stop` is cancelled no check starts, checks in flight are abandoned, and the evidence
/// of finished checks is still written.
pub async fn round(
    ctx: &Ctx,
    cfg: &ProbeConfig,
    client: &reqwest::Client,
    stop: &CancellationToken,
) -> Result<Round, HubError> {
    let who = Principal::hub_itself(&ctx.hub);
    let (found, results) = mpsc::channel(cfg.flush_rows);
    let (checked, recorded) = tokio::join!(
        check_all(ctx, cfg, client, stop, &who, found),
        write_evidence(ctx, cfg, &who, results),
    );
    Ok(Round {
        recorded,
        ..checked?
    })
}

/// The checks of a round; each hands its evidence to `found` and settles the alert itself.
async fn check_all(
    ctx: &Ctx,
    cfg: &ProbeConfig,
    client: &reqwest::Client,
    stop: &CancellationToken,
    who: &Principal,
    found: mpsc::Sender<NewEvidence>,
) -> Result<Round, HubError> {
    let pace = if cfg.spread {
        let n = targets().count(&ctx.db).await?;
        cfg.interval / u32::try_from(n.max(1)).unwrap_or(u32::MAX)
    } else {
        Duration::ZERO
    };
    let (start, mut k) = (tokio::time::Instant::now(), 0u32);
    let mut total = Round::default();
    let mut after = String::new();
    while !stop.is_cancelled() {
        // A page of targets at a time keeps memory flat for any inventory size.
        let page: Vec<(String, Option<String>, String)> = targets()
            .select_only()
            .column(service::Column::Id)
            .column(service::Column::HealthUrl)
            .column(service::Column::Domain)
            .filter(service::Column::Id.gt(after.as_str()))
            .order_by_asc(service::Column::Id)
            .limit(1000)
            .into_tuple()
            .all(&ctx.db)
            .await?;
        let Some(last) = page.last() else {
            break;
        };
        after = last.0.clone();
        let results: Vec<Option<Result<Outcome, HubError>>> = futures::stream::iter(page)
            .map(|(id, url, domain)| {
                let found = &found;
                let due = start + pace.saturating_mul(k);
                k = k.saturating_add(1);
                async move {
                    let url = url.unwrap_or_default();
                    let check = tokio::select! {
                        () = stop.cancelled() => return None,
                        c = async {
                            tokio::time::sleep_until(due).await;
                            check(client, &url, cfg.timeout).await
                        } => c,
                    };
                    Some(settle(ctx, who, found, &id, &domain, check).await)
                }
            })
            .buffer_unordered(cfg.concurrency)
            .collect()
            .await;
        for r in results.into_iter().flatten() {
            match r {
                Ok(o) => {
                    total.probed += 1;
                    total.healthy += usize::from(o.healthy);
                    total.raised += usize::from(o.raised);
                    total.resolved += usize::from(o.resolved);
                }
                Err(e) => tracing::warn!(error = %e, "settling a probe failed"),
            }
        }
    }
    Ok(total)
}

/// Writes the evidence of a round a batch at a time until every check is done: a batch is
/// written `cfg.flush` after its first result arrived, or once it holds `cfg.flush_rows`.
/// Answers how many were stored.
async fn write_evidence(
    ctx: &Ctx,
    cfg: &ProbeConfig,
    who: &Principal,
    mut results: mpsc::Receiver<NewEvidence>,
) -> usize {
    let mut recorded = 0;
    let mut batch = Vec::with_capacity(cfg.flush_rows);
    while results.recv_many(&mut batch, cfg.flush_rows).await > 0 {
        let due = tokio::time::Instant::now() + cfg.flush;
        while batch.len() < cfg.flush_rows {
            let room = cfg.flush_rows - batch.len();
            match tokio::time::timeout_at(due, results.recv_many(&mut batch, room)).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        match record_many(ctx, who, std::mem::take(&mut batch)).await {
            Ok(answers) => {
                for a in answers {
                    match a {
                        Ok(_) => recorded += 1,
                        Err(e) => tracing::warn!(error = %e, "probe evidence refused"),
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "recording probe evidence failed"),
        }
    }
    recorded
}

/// The result of one health check.
#[derive(Debug, Clone)]
struct Check {
    healthy: bool,
    summary: String,
    fields: Map<String, serde_json::Value>,
}

/// GETs `url`: healthy on a 2xx answer within the timeout.
async fn check(client: &reqwest::Client, url: &str, timeout: Duration) -> Check {
    let started = Instant::now();
    let res = client.get(url).timeout(timeout).send().await;
    let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let mut fields = Map::new();
    fields.insert("latency_ms".into(), json!(ms));
    match res {
        Ok(r) => {
            let code = r.status().as_u16();
            fields.insert("http_status".into(), json!(code));
            Check {
                healthy: r.status().is_success(),
                summary: format!("health check answered {code} in {ms} ms"),
                fields,
            }
        }
        Err(e) => {
            let why = if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "could not connect"
            } else {
                "failed"
            };
            fields.insert("error".into(), json!(why));
            Check {
                healthy: false,
                summary: format!("health check {why} after {ms} ms"),
                fields,
            }
        }
    }
}

struct Outcome {
    healthy: bool,
    raised: bool,
    resolved: bool,
}

/// Hands the check's evidence to the round's writer and moves the service's probe alert to
/// match it. The alert's current state, not the previous probe, decides: a failed raise is
/// retried next round.
async fn settle(
    ctx: &Ctx,
    who: &Principal,
    found: &mpsc::Sender<NewEvidence>,
    id: &str,
    domain: &str,
    check: Check,
) -> Result<Outcome, HubError> {
    let status = if check.healthy {
        EvidenceStatus::Pass
    } else {
        EvidenceStatus::Fail
    };
    let summary = check.summary.clone();
    found
        .send(NewEvidence {
            kind: PROBE.into(),
            service_id: Some(id.to_owned()),
            status: Some(status),
            summary: check.summary,
            fields: check.fields,
            ..Default::default()
        })
        .await
        .map_err(|_| HubError::Internal("the probe evidence writer stopped".into()))?;
    let key = alert_key(id, PROBE);
    let open = state::Entity::find_by_id((StateKind::Alert, key.clone()))
        .one(&ctx.db)
        .await?
        .is_some_and(|s| s.state.is_open());
    let mut out = Outcome {
        healthy: check.healthy,
        raised: false,
        resolved: false,
    };
    if !check.healthy && !open {
        let text = format!("service {id} is down: {summary}");
        raise_alert(ctx, who, &key, &text, Severity::High, Some(domain)).await?;
        out.raised = true;
    } else if check.healthy && open {
        resolve_alert(
            ctx,
            who,
            &key,
            Some(&format!("service {id} is up: {summary}")),
        )
        .await?;
        out.resolved = true;
    }
    Ok(out)
}
