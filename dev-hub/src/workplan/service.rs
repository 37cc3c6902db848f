//! Workplan rules: workplans come from documents (see `document`), belong to a domain, and are
//! seen only by callers who may use that domain.

use std::collections::BTreeSet;

use hub_core::api::page::{Page, PageRequest, page_of};
use hub_core::auth::{Access, Principal};
use hub_core::progress::model::state;
use hub_core::{Ctx, HubError};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::{self, WorkplanStatus};
use crate::fin_signal;
use crate::scope::in_domains;
use crate::task::query::{PhaseProgress, progress};
use crate::workstream;

/// One `## …` section of a workplan document: its heading and the prose under it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, schemars::JsonSchema)]
pub struct Section {
    pub heading: String,
    pub body: String,
}

/// The sections stored with a workplan.
pub fn sections(wp: &model::Model) -> Vec<Section> {
    serde_json::from_value(wp.sections.clone()).unwrap_or_default()
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<model::Model>, HubError> {
    Ok(model::Entity::find_by_id(id).one(db).await?)
}

/// The workplan `id` if the caller may see it.
pub async fn get(ctx: &Ctx, who: &Principal, id: &str) -> Result<model::Model, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    find(&ctx.db, id)
        .await?
        .filter(|w| who.may_use_domain(&w.domain))
        .ok_or_else(|| HubError::not_found("workplan", id))
}

/// A workplan with the open fin alerts of its domain (budget pressure).
#[derive(Debug, Clone)]
pub struct Alerted {
    pub workplan: model::Model,
    pub fin_alerts: Vec<state::Model>,
}

/// A workplan with its fin alerts, its progress by phase and its workstreams.
#[derive(Debug, Clone)]
pub struct WorkplanDetail {
    pub workplan: Alerted,
    pub progress: Vec<PhaseProgress>,
    pub workstreams: Vec<String>,
}

pub async fn detail(ctx: &Ctx, who: &Principal, id: &str) -> Result<WorkplanDetail, HubError> {
    let workplan = get(ctx, who, id).await?;
    Ok(WorkplanDetail {
        progress: progress(&ctx.db, id).await?,
        workstreams: workstream::service::list(&ctx.db, id)
            .await?
            .into_iter()
            .map(|w| w.name)
            .collect(),
        workplan: Alerted {
            fin_alerts: fin_signal::open_alerts(&ctx.db, [workplan.domain.clone()]).await?,
            workplan,
        },
    })
}

/// Filters of the workplan list.
#[derive(Debug, Clone, Default)]
pub struct WorkplanFilter {
    pub domain: Option<String>,
    pub status: Option<WorkplanStatus>,
    pub topic: Option<String>,
}

/// Workplans by id, of the domains the caller may see, with their fin alerts.
pub async fn list(
    ctx: &Ctx,
    who: &Principal,
    filter: &WorkplanFilter,
    page: &PageRequest,
) -> Result<Page<Alerted>, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let mut q = model::Entity::find()
        .order_by_asc(model::Column::Id)
        .limit(page.limit + 1);
    if let Some(after) = &page.after {
        q = q.filter(model::Column::Id.gt(after.as_str()));
    }
    q = in_domains(q, who, filter.domain.as_deref(), model::Column::Domain)?;
    if let Some(s) = filter.status {
        q = q.filter(model::Column::Status.eq(s));
    }
    if let Some(t) = &filter.topic {
        q = q.filter(model::Column::Topic.eq(t.as_str()));
    }
    let found = page_of(q.all(&ctx.db).await?, page, |w| w.id.clone());
    // One query for the alerts of every domain on the page.
    let domains: BTreeSet<String> = found.items.iter().map(|w| w.domain.clone()).collect();
    let alerts = fin_signal::open_alerts(&ctx.db, domains).await?;
    Ok(found.map(|workplan| Alerted {
        fin_alerts: alerts
            .iter()
            .filter(|a| a.domain.as_deref() == Some(workplan.domain.as_str()))
            .cloned()
            .collect(),
        workplan,
    }))
}
