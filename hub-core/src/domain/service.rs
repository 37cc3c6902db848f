//! Domain rules: slugs are unique and well-formed; a principal limited to some domains sees only those.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::Serialize;

use super::model;
use crate::api::page::{Page, PageRequest, page_of};
use crate::auth::{Access, Principal};
use crate::ctx::Ctx;
use crate::error::{HubError, Validator};

/// A new domain's fields.
#[derive(Debug, Clone)]
pub struct NewDomain {
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub owner: Option<String>,
}

/// The event data of `domain.created`.
#[derive(Serialize)]
struct DomainEvent<'a> {
    slug: &'a str,
    name: &'a str,
}

pub async fn create(ctx: &Ctx, who: &Principal, new: NewDomain) -> Result<model::Model, HubError> {
    who.require(&ctx.hub, Access::Admin)?;
    Validator::new()
        .slug(&new.slug, "slug")
        .text(&new.name, "name", 200)
        .check(
            new.description.as_ref().is_none_or(|d| d.len() <= 4000),
            "description",
            "must be at most 4000 characters",
        )
        .opt_text(new.owner.as_deref(), "owner", 200)
        .finish()?;
    let mut tx = ctx.begin().await?;
    let row = model::ActiveModel {
        slug: Set(new.slug.clone()),
        name: Set(new.name.trim().to_owned()),
        description: Set(new.description.unwrap_or_default()),
        owner: Set(new.owner),
        created_at: Set(Utc::now()),
    }
    .insert(&*tx)
    .await
    .map_err(|e| HubError::from_db_unique(e, || format!("domain {} already exists", new.slug)))?;
    tx.emit(
        "domain",
        "created",
        &row.slug,
        &DomainEvent {
            slug: &row.slug,
            name: &row.name,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn get(ctx: &Ctx, who: &Principal, slug: &str) -> Result<model::Model, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    if !who.may_use_domain(slug) {
        return Err(HubError::not_found("domain", slug));
    }
    model::Entity::find_by_id(slug)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| HubError::not_found("domain", slug))
}

pub async fn list(
    ctx: &Ctx,
    who: &Principal,
    page: &PageRequest,
) -> Result<Page<model::Model>, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let mut q = model::Entity::find()
        .order_by_asc(model::Column::Slug)
        .limit(page.limit + 1);
    if let Some(after) = &page.after {
        q = q.filter(model::Column::Slug.gt(after.as_str()));
    }
    if let Some(allowed) = &who.domains {
        q = q.filter(model::Column::Slug.is_in(allowed.iter().cloned()));
    }
    Ok(page_of(q.all(&ctx.db).await?, page, |d| d.slug.clone()))
}

/// `Invalid` naming `field` unless `slug` is an existing domain; `DomainForbidden` unless the
/// principal may use it. Other resources call this before writing a domain reference.
pub async fn check_usable(
    db: &impl ConnectionTrait,
    who: &Principal,
    slug: &str,
    field: &str,
) -> Result<(), HubError> {
    who.require_domain(slug)?;
    match model::Entity::find_by_id(slug).one(db).await? {
        Some(_) => Ok(()),
        None => Err(HubError::invalid(field, format!("unknown domain {slug}"))),
    }
}
