//! Decision rules: a decision belongs to a domain, optionally to a workplan of that domain
//! (where its title is unique) and names existing tasks.

use chrono::Utc;
use hub_core::api::page::{Page, PageRequest, page_of};
use hub_core::auth::{Access, Principal};
use hub_core::error::Validator;
use hub_core::{Ctx, HubError};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::model::{self, DecisionStatus};
use crate::scope::in_domains;
use crate::{task, workplan};

/// A new decision; its domain is the workplan's when it names one.
#[derive(Debug, Clone, Default)]
pub struct NewDecision {
    pub title: String,
    pub choice: String,
    pub rationale: String,
    pub status: Option<DecisionStatus>,
    pub workplan: Option<String>,
    pub domain: Option<String>,
    pub tasks: Vec<String>,
}

pub async fn record(
    ctx: &Ctx,
    who: &Principal,
    new: NewDecision,
) -> Result<model::Model, HubError> {
    who.require(&ctx.hub, Access::Write)?;
    Validator::new()
        .text(&new.title, "title", 300)
        .text(&new.choice, "choice", 4000)
        .check(
            new.rationale.chars().count() <= 8000,
            "rationale",
            "must be at most 8000 characters",
        )
        .check(
            new.workplan.is_some() || new.domain.is_some(),
            "domain",
            "is required when no workplan is named",
        )
        .finish()?;
    let mut tx = ctx.begin().await?;
    let wp = match &new.workplan {
        Some(id) => Some(
            workplan::service::find(&*tx, id)
                .await?
                .filter(|w| who.may_use_domain(&w.domain))
                .ok_or_else(|| HubError::invalid("workplan", format!("unknown workplan {id}")))?,
        ),
        None => None,
    };
    let domain = match (&wp, new.domain) {
        (Some(w), Some(d)) if w.domain != d => {
            return Err(HubError::invalid(
                "domain",
                format!("workplan {} belongs to domain {}", w.id, w.domain),
            ));
        }
        (Some(w), _) => w.domain.clone(),
        (None, d) => d.unwrap_or_default(),
    };
    hub_core::domain::service::check_usable(&*tx, who, &domain, "domain").await?;
    let known: Vec<String> = task::model::Entity::find()
        .select_only()
        .column(task::model::Column::Id)
        .filter(task::model::Column::Id.is_in(new.tasks.iter().cloned()))
        .into_tuple()
        .all(&*tx)
        .await?;
    if let Some(missing) = new.tasks.iter().find(|t| !known.contains(t)) {
        return Err(HubError::invalid(
            "tasks",
            format!("unknown task {missing}"),
        ));
    }
    let position = match &wp {
        Some(w) => next_position(&*tx, &w.id).await?,
        None => 0,
    };
    let now = Utc::now();
    let row = model::ActiveModel {
        id: Set(hub_core::ids::new_id()),
        domain: Set(domain),
        workplan_id: Set(wp.map(|w| w.id)),
        title: Set(new.title.trim().to_owned()),
        choice: Set(new.choice.trim().to_owned()),
        rationale: Set(new.rationale.trim().to_owned()),
        status: Set(new.status.unwrap_or(DecisionStatus::Proposed)),
        section: Set(None),
        position: Set(position),
        tasks: Set(serde_json::json!(new.tasks)),
        created_by: Set(who.sub.clone()),
        created_at: Set(now),
        updated_at: Set(now),
    };
    if let Some(wp) = row.workplan_id.as_ref()
        && find_by_title(&*tx, wp, row.title.as_ref()).await?.is_some()
    {
        return Err(HubError::Conflict(format!(
            "workplan {wp} already has a decision titled {:?}",
            row.title.as_ref()
        )));
    }
    let row = row.insert(&*tx).await?;
    tx.emit("dev_decision", "recorded", &row.id, &serde_json::json!({"id": row.id, "title": row.title, "domain": row.domain, "workplan": row.workplan_id}))
        .await?;
    tx.commit().await?;
    Ok(row)
}

async fn next_position(db: &impl ConnectionTrait, workplan: &str) -> Result<i32, HubError> {
    let max: Option<i32> = model::Entity::find()
        .select_only()
        .column_as(model::Column::Position.max(), "max")
        .filter(model::Column::WorkplanId.eq(workplan))
        .into_tuple::<Option<i32>>()
        .one(db)
        .await?
        .flatten();
    Ok(max.map_or(1, |m| m + 1))
}

pub async fn find_by_title(
    db: &impl ConnectionTrait,
    workplan: &str,
    title: &str,
) -> Result<Option<model::Model>, HubError> {
    Ok(model::Entity::find()
        .filter(model::Column::WorkplanId.eq(workplan))
        .filter(model::Column::Title.eq(title))
        .one(db)
        .await?)
}

/// The decisions of a workplan in document order.
pub async fn of_workplan(
    db: &impl ConnectionTrait,
    workplan: &str,
) -> Result<Vec<model::Model>, HubError> {
    Ok(model::Entity::find()
        .filter(model::Column::WorkplanId.eq(workplan))
        .order_by_asc(model::Column::Position)
        .order_by_asc(model::Column::Id)
        .all(db)
        .await?)
}

pub async fn get(ctx: &Ctx, who: &Principal, id: &str) -> Result<model::Model, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    model::Entity::find_by_id(id)
        .one(&ctx.db)
        .await?
        .filter(|d| who.may_use_domain(&d.domain))
        .ok_or_else(|| HubError::not_found("decision", id))
}

/// Filters of the decision list.
#[derive(Debug, Clone, Default)]
pub struct DecisionFilter {
    pub domain: Option<String>,
    pub workplan: Option<String>,
}

/// Decisions newest first, of the domains the caller may see.
pub async fn list(
    ctx: &Ctx,
    who: &Principal,
    filter: &DecisionFilter,
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
    if let Some(wp) = &filter.workplan {
        q = q.filter(model::Column::WorkplanId.eq(wp.as_str()));
    }
    Ok(page_of(q.all(&ctx.db).await?, page, |d| d.id.clone()))
}
