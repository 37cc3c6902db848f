//! Counting the dev resources of a domain (or of every domain the caller may see).

use std::collections::BTreeMap;

use chrono::Utc;
use hub_core::auth::{Access, Principal};
use hub_core::progress::model::StateKind;
use hub_core::{Ctx, HubError};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;

use crate::decision::model as decision;
use crate::scope::{in_domains, wire_name};
use crate::task::model::{self as task, TaskStatus};
use crate::workplan::model as workplan;

#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema, schemars::JsonSchema)]
pub struct DevSummary {
    pub domain: Option<String>,
    /// Workplans per status.
    pub workplans: BTreeMap<String, u64>,
    /// Tasks per status.
    pub tasks: BTreeMap<String, u64>,
    /// Open tasks waiting for an open dependency.
    pub blocked: u64,
    /// Tasks with a live claim.
    pub claimed: u64,
    pub decisions: u64,
    /// Open alerts of the domain (all domains: every open alert).
    pub open_alerts: u64,
}

pub async fn summary(
    ctx: &Ctx,
    who: &Principal,
    domain: Option<&str>,
) -> Result<DevSummary, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let mut out = DevSummary {
        domain: domain.map(str::to_owned),
        ..Default::default()
    };
    let wq = workplan::Entity::find()
        .select_only()
        .column(workplan::Column::Status)
        .column_as(Expr::col(workplan::Column::Id).count(), "n")
        .group_by(workplan::Column::Status);
    let rows: Vec<(workplan::WorkplanStatus, i64)> =
        in_domains(wq, who, domain, workplan::Column::Domain)?
            .into_tuple()
            .all(&ctx.db)
            .await?;
    for (s, n) in rows {
        out.workplans.insert(wire_name(&s), n as u64);
    }
    let tq = task::Entity::find()
        .select_only()
        .column(task::Column::Status)
        .column_as(Expr::col(task::Column::Id).count(), "n")
        .group_by(task::Column::Status);
    let rows: Vec<(TaskStatus, i64)> = in_domains(tq, who, domain, task::Column::Domain)?
        .into_tuple()
        .all(&ctx.db)
        .await?;
    for (s, n) in rows {
        out.tasks.insert(s.as_str().to_owned(), n as u64);
    }
    let open = task::Entity::find().filter(task::Column::Status.is_not_in(TaskStatus::CLOSED));
    let open = in_domains(open, who, domain, task::Column::Domain)?;
    out.claimed = open
        .clone()
        .filter(task::Column::ClaimExpiresAt.gt(Utc::now()))
        .count(&ctx.db)
        .await?;
    out.blocked = open
        .filter(Expr::exists(crate::task::query::has_open_dependency()))
        .count(&ctx.db)
        .await?;
    let dq = in_domains(
        decision::Entity::find(),
        who,
        domain,
        decision::Column::Domain,
    )?;
    out.decisions = dq.count(&ctx.db).await?;
    out.open_alerts =
        hub_core::progress::service::count_open(&ctx.db, StateKind::Alert, domain).await?;
    Ok(out)
}
