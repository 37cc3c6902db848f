//! Evidence rules: a kind, a status, at least one subject (service, deployment or run) that
//! exists and agrees on its service, and no secret anywhere in the summary or fields.

use chrono::Utc;
use hub_core::api::page::{Page, PageRequest, page_of};
use hub_core::auth::{Access, Principal};
use hub_core::error::Validator;
use hub_core::{Ctx, HubError};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::Serialize;
use serde_json::{Map, Value};

use super::model::{self, EvidenceStatus};
use super::secret;
use crate::{deployment, inventory, migration_run};

/// The largest `fields` object accepted, as JSON.
const MAX_FIELDS_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone, Default)]
pub struct NewEvidence {
    pub kind: String,
    pub service_id: Option<String>,
    pub deployment_id: Option<String>,
    pub run_id: Option<String>,
    pub status: Option<EvidenceStatus>,
    pub summary: String,
    pub fields: Map<String, Value>,
}

#[derive(Serialize)]
struct EvidenceEvent<'a> {
    kind: &'a str,
    service_id: Option<&'a str>,
    deployment_id: Option<&'a str>,
    run_id: Option<&'a str>,
    status: EvidenceStatus,
}

/// The refusal of a secret-looking value: it names the field and what the value looks like,
/// never the value.
fn refuse(f: secret::Finding) -> HubError {
    HubError::invalid(
        f.path,
        format!(
            "looks like {}: evidence must not carry secrets (remove or redact the value)",
            f.looks_like
        ),
    )
}

pub async fn record(
    ctx: &Ctx,
    who: &Principal,
    new: NewEvidence,
) -> Result<model::Model, HubError> {
    record_many(ctx, who, vec![new])
        .await?
        .pop()
        .expect("one answer per item")
}

/// Records several items in one transaction: one commit for many probe results. Each item is
/// checked as `record` checks it and answered on its own, so a refused item does not keep the
/// others out; a database failure fails them all.
pub async fn record_many(
    ctx: &Ctx,
    who: &Principal,
    items: Vec<NewEvidence>,
) -> Result<Vec<Result<model::Model, HubError>>, HubError> {
    who.require(&ctx.hub, Access::Write)?;
    let mut out = Vec::with_capacity(items.len());
    let mut tx = None;
    for new in items {
        let status = match checked(&new) {
            Ok(s) => s,
            Err(e) => {
                out.push(Err(e));
                continue;
            }
        };
        if tx.is_none() {
            tx = Some(ctx.begin().await?);
        }
        let tx = tx.as_mut().expect("the transaction is open");
        let service_id = match subject_service(&**tx, who, &new).await {
            Ok(s) => s,
            Err(e @ HubError::Db(_)) => return Err(e),
            Err(e) => {
                out.push(Err(e));
                continue;
            }
        };
        let row = model::ActiveModel {
            id: Set(hub_core::ids::new_id()),
            kind: Set(new.kind),
            service_id: Set(service_id),
            deployment_id: Set(new.deployment_id),
            run_id: Set(new.run_id),
            status: Set(status),
            summary: Set(new.summary.trim().to_owned()),
            fields: Set(Value::Object(new.fields)),
            actor: Set(who.sub.clone()),
            recorded_at: Set(Utc::now()),
        }
        .insert(&**tx)
        .await?;
        tx.emit(
            "ops_evidence",
            "recorded",
            &row.id,
            &EvidenceEvent {
                kind: &row.kind,
                service_id: row.service_id.as_deref(),
                deployment_id: row.deployment_id.as_deref(),
                run_id: row.run_id.as_deref(),
                status: row.status,
            },
        )
        .await?;
        out.push(Ok(row));
    }
    if let Some(tx) = tx {
        tx.commit().await?;
    }
    Ok(out)
}

/// The rules an item must meet before the database is asked anything; answers its status.
fn checked(new: &NewEvidence) -> Result<EvidenceStatus, HubError> {
    let status = new
        .status
        .ok_or_else(|| HubError::invalid("status", "must be pass, fail or pending"))?;
    Validator::new()
        .slug(&new.kind, "kind")
        .check(
            new.kind.len() <= 32,
            "kind",
            "must be at most 32 characters",
        )
        .text(&new.summary, "summary", 2000)
        .check(
            new.service_id.is_some() || new.deployment_id.is_some() || new.run_id.is_some(),
            "service_id",
            "evidence needs a subject: service_id, deployment_id or run_id",
        )
        .check(
            serde_json::to_string(&new.fields).map_or(0, |s| s.len()) <= MAX_FIELDS_BYTES,
            "fields",
            format!("must be at most {MAX_FIELDS_BYTES} bytes as JSON"),
        )
        .finish()?;
    if let Some(what) = secret::in_text(&new.summary) {
        return Err(refuse(secret::Finding {
            path: "summary".into(),
            looks_like: what,
        }));
    }
    if let Some(f) = secret::find("fields", &Value::Object(new.fields.clone())) {
        return Err(refuse(f));
    }
    Ok(status)
}

/// The service the evidence is about: the one named, or the one of its deployment or run; they
/// must agree, exist and be usable by the caller.
async fn subject_service(
    db: &impl ConnectionTrait,
    who: &Principal,
    new: &NewEvidence,
) -> Result<Option<String>, HubError> {
    let mut service = new.service_id.clone();
    let mut agree = |field: &str, of: String| -> Result<(), HubError> {
        match &service {
            Some(s) if *s != of => Err(HubError::invalid(
                field,
                format!("belongs to service {of}, not {s}"),
            )),
            _ => {
                service = Some(of);
                Ok(())
            }
        }
    };
    if let Some(id) = &new.deployment_id {
        let d = deployment::model::Entity::find_by_id(id.as_str())
            .one(db)
            .await?
            .ok_or_else(|| {
                HubError::invalid("deployment_id", format!("unknown deployment {id}"))
            })?;
        agree("deployment_id", d.service_id)?;
    }
    if let Some(id) = &new.run_id {
        let r = migration_run::model::Entity::find_by_id(id.as_str())
            .one(db)
            .await?
            .ok_or_else(|| HubError::invalid("run_id", format!("unknown migration run {id}")))?;
        agree("run_id", r.service_id)?;
    }
    if let Some(s) = &service {
        inventory::service::check_ref(db, who, s, "service_id").await?;
    }
    Ok(service)
}

/// Filters of the evidence list.
#[derive(Debug, Clone, Default)]
pub struct EvidenceFilter {
    pub service_id: Option<String>,
    pub kind: Option<String>,
    pub status: Option<EvidenceStatus>,
    pub deployment_id: Option<String>,
    pub run_id: Option<String>,
}

/// Evidence newest first. A domain-limited caller sees evidence of its services only.
pub async fn list(
    ctx: &Ctx,
    who: &Principal,
    filter: &EvidenceFilter,
    page: &PageRequest,
) -> Result<Page<model::Model>, HubError> {
    let mut q = inventory::service::scoped(
        ctx,
        who,
        model::Entity::find(),
        filter.service_id.as_deref(),
        model::Column::ServiceId,
        model::Column::Id,
        page,
    )
    .await?;
    if let Some(k) = &filter.kind {
        q = q.filter(model::Column::Kind.eq(k.as_str()));
    }
    if let Some(s) = filter.status {
        q = q.filter(model::Column::Status.eq(s));
    }
    if let Some(d) = &filter.deployment_id {
        q = q.filter(model::Column::DeploymentId.eq(d.as_str()));
    }
    if let Some(r) = &filter.run_id {
        q = q.filter(model::Column::RunId.eq(r.as_str()));
    }
    Ok(page_of(q.all(&ctx.db).await?, page, |e| e.id.clone()))
}

/// The newest evidence of `kind` about `service_id`: one seek on (service, kind, time).
pub async fn latest(
    db: &impl ConnectionTrait,
    service_id: &str,
    kind: &str,
) -> Result<Option<model::Model>, HubError> {
    Ok(model::Entity::find()
        .filter(model::Column::ServiceId.eq(service_id))
        .filter(model::Column::Kind.eq(kind))
        .order_by_desc(model::Column::RecordedAt)
        .limit(1)
        .one(db)
        .await?)
}
