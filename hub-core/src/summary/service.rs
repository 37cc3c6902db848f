//! Summaries built from each resource's own count functions, so no resource's tables are read here.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{Access, Principal};
use crate::ctx::Ctx;
use crate::error::HubError;
use crate::module::ModuleStatus;
use crate::progress::model::StateKind;
use crate::{agent, capability, domain, message, outbox, progress, repo, tpsc};

/// Counts of one domain (or of everything the caller may see). A computed view, so it is its own wire type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Counts {
    pub messages: u64,
    pub open_capability_requests: u64,
    pub repos: u64,
    pub services: u64,
    pub open_risks: u64,
    pub open_alerts: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Self) {
        self.messages += o.messages;
        self.open_capability_requests += o.open_capability_requests;
        self.repos += o.repos;
        self.services += o.services;
        self.open_risks += o.open_risks;
        self.open_alerts += o.open_alerts;
    }
}

async fn counts(ctx: &Ctx, domain: Option<&str>) -> Result<Counts, HubError> {
    let db = &ctx.db;
    Ok(Counts {
        messages: message::service::count(db, domain).await?,
        open_capability_requests: capability::service::count_open_requests(db, domain).await?,
        repos: repo::service::count(db, domain).await?,
        services: tpsc::service::count(db, domain).await?,
        open_risks: progress::service::count_open(db, StateKind::Risk, domain).await?,
        open_alerts: progress::service::count_open(db, StateKind::Alert, domain).await?,
    })
}

/// One domain with its counts.
pub struct DomainSummary {
    pub domain: domain::model::Model,
    pub counts: Counts,
}

pub async fn domain_summary(
    ctx: &Ctx,
    who: &Principal,
    slug: &str,
) -> Result<DomainSummary, HubError> {
    let domain = domain::service::get(ctx, who, slug).await?;
    Ok(DomainSummary {
        counts: counts(ctx, Some(slug)).await?,
        domain,
    })
}

/// The hub at a glance, as far as the caller may see it.
pub struct StateSummary {
    pub hub: String,
    pub time: DateTime<Utc>,
    pub domains: u64,
    /// Counts over every domain the caller may see (all, for an unlimited principal).
    pub counts: Counts,
    pub unread_messages: u64,
    pub agents_online: u64,
    pub outbox_pending: u64,
    pub modules: Vec<ModuleStatus>,
}

pub async fn state_summary(
    ctx: &Ctx,
    who: &Principal,
    presence_timeout: std::time::Duration,
    modules: &[ModuleStatus],
) -> Result<StateSummary, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let db = &ctx.db;
    let (domains, counts) = match &who.domains {
        None => (
            domain::model::Entity::find().count(db).await?,
            counts(ctx, None).await?,
        ),
        Some(allowed) => {
            let mut sum = Counts::default();
            for d in allowed {
                sum += counts(ctx, Some(d)).await?;
            }
            let n = domain::model::Entity::find()
                .filter(domain::model::Column::Slug.is_in(allowed.iter().cloned()))
                .count(db)
                .await?;
            (n, sum)
        }
    };
    Ok(StateSummary {
        hub: ctx.hub.to_string(),
        time: Utc::now(),
        domains,
        counts,
        unread_messages: message::service::count_unread(db, &who.sub).await?,
        agents_online: agent::service::count_online(db, presence_timeout).await?,
        outbox_pending: outbox::model::Entity::find()
            .filter(outbox::model::Column::SentAt.is_null())
            .count(db)
            .await?,
        modules: modules.to_vec(),
    })
}
