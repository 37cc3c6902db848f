//! Repo rules: a name is unique within its domain; a principal limited to some domains sees and
//! changes only their repos.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::Serialize;

use super::model;
use crate::api::page::{Page, PageRequest, page_of};
use crate::auth::{Access, Principal};
use crate::ctx::Ctx;
use crate::domain::service::check_usable;
use crate::error::{HubError, Validator};
use crate::ids::new_id;

/// The branch a repo gets when none is named.
pub const DEFAULT_BRANCH: &str = "main";

/// A new repo's fields.
#[derive(Debug, Clone)]
pub struct NewRepo {
    pub domain: String,
    pub name: String,
    /// A filesystem path or a URL.
    pub location: String,
    /// [`DEFAULT_BRANCH`] when `None`.
    pub default_branch: Option<String>,
}

/// A change to a repo; at least one field must be given.
#[derive(Debug, Clone, Default)]
pub struct RepoChange {
    pub location: Option<String>,
    pub default_branch: Option<String>,
}

/// The event data of `repo.registered` and `repo.updated`: the repo as it now is.
#[derive(Serialize)]
struct RepoEvent<'a> {
    id: &'a str,
    domain: &'a str,
    name: &'a str,
    location: &'a str,
    default_branch: &'a str,
}

impl<'a> From<&'a model::Model> for RepoEvent<'a> {
    fn from(m: &'a model::Model) -> Self {
        Self {
            id: &m.id,
            domain: &m.domain,
            name: &m.name,
            location: &m.location,
            default_branch: &m.default_branch,
        }
    }
}

pub async fn register(ctx: &Ctx, who: &Principal, new: NewRepo) -> Result<model::Model, HubError> {
    who.require(&ctx.hub, Access::Write)?;
    let branch = new.default_branch.as_deref().unwrap_or(DEFAULT_BRANCH);
    Validator::new()
        .text(&new.domain, "domain", 64)
        .text(&new.name, "name", 200)
        .text(&new.location, "location", 2000)
        .text(branch, "default_branch", 200)
        .finish()?;
    check_usable(&ctx.db, who, &new.domain, "domain").await?;
    let now = Utc::now();
    let mut tx = ctx.begin().await?;
    let row = model::ActiveModel {
        id: Set(new_id()),
        domain: Set(new.domain.clone()),
        name: Set(new.name.trim().to_owned()),
        location: Set(new.location.trim().to_owned()),
        default_branch: Set(branch.trim().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&*tx)
    .await
    .map_err(|e| {
        HubError::from_db_unique(e, || {
            format!(
                "repo {} already exists in domain {}",
                new.name.trim(),
                new.domain
            )
        })
    })?;
    tx.emit("repo", "registered", &row.id, &RepoEvent::from(&row))
        .await?;
    tx.commit().await?;
    Ok(row)
}

/// Repos in creation order, of `domain` or of every domain the caller may use.
pub async fn list(
    ctx: &Ctx,
    who: &Principal,
    domain: Option<&str>,
    page: &PageRequest,
) -> Result<Page<model::Model>, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let mut q = model::Entity::find()
        .order_by_asc(model::Column::Id)
        .limit(page.limit + 1);
    if let Some(after) = &page.after {
        q = q.filter(model::Column::Id.gt(after.as_str()));
    }
    if let Some(domain) = domain {
        who.require_domain(domain)?;
        q = q.filter(model::Column::Domain.eq(domain));
    }
    if let Some(allowed) = &who.domains {
        q = q.filter(model::Column::Domain.is_in(allowed.iter().cloned()));
    }
    Ok(page_of(q.all(&ctx.db).await?, page, |r| r.id.clone()))
}

/// One repo, if the caller may see its domain; else `NotFound`.
pub async fn get(ctx: &Ctx, who: &Principal, id: &str) -> Result<model::Model, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    model::Entity::find_by_id(id)
        .one(&ctx.db)
        .await?
        .filter(|r| who.may_use_domain(&r.domain))
        .ok_or_else(|| HubError::not_found("repo", id))
}

pub async fn update(
    ctx: &Ctx,
    who: &Principal,
    id: &str,
    change: RepoChange,
) -> Result<model::Model, HubError> {
    who.require(&ctx.hub, Access::Write)?;
    let nothing = change.location.is_none() && change.default_branch.is_none();
    let needed = "at least one of location or default_branch must be given";
    Validator::new()
        .check(!nothing, "location", needed)
        .check(!nothing, "default_branch", needed)
        .opt_text(change.location.as_deref(), "location", 2000)
        .opt_text(change.default_branch.as_deref(), "default_branch", 200)
        .finish()?;
    let mut row = get(ctx, who, id).await?.into_active_model();
    if let Some(location) = change.location {
        row.location = Set(location.trim().to_owned());
    }
    if let Some(branch) = change.default_branch {
        row.default_branch = Set(branch.trim().to_owned());
    }
    row.updated_at = Set(Utc::now());
    let mut tx = ctx.begin().await?;
    let row = row.update(&*tx).await?;
    tx.emit("repo", "updated", &row.id, &RepoEvent::from(&row))
        .await?;
    tx.commit().await?;
    Ok(row)
}

/// How many repos there are, in `domain` or in all.
pub async fn count(db: &impl ConnectionTrait, domain: Option<&str>) -> Result<u64, HubError> {
    let mut q = model::Entity::find();
    if let Some(domain) = domain {
        q = q.filter(model::Column::Domain.eq(domain));
    }
    Ok(q.count(db).await?)
}
