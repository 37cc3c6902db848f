//! Topic rules: a slug, a title and a domain the caller may use.

use chrono::Utc;
use hub_core::api::page::{Page, PageRequest, page_of};
use hub_core::auth::{Access, Principal};
use hub_core::error::Validator;
use hub_core::{Ctx, HubError, Tx};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::model;
use crate::scope::in_domains;

/// A new topic's fields.
#[derive(Debug, Clone)]
pub struct NewTopic {
    pub slug: String,
    pub title: String,
    pub domain: String,
}

pub async fn create(ctx: &Ctx, who: &Principal, new: NewTopic) -> Result<model::Model, HubError> {
    who.require(&ctx.hub, Access::Write)?;
    Validator::new()
        .slug(&new.slug, "slug")
        .text(&new.title, "title", 200)
        .text(&new.domain, "domain", 64)
        .finish()?;
    let mut tx = ctx.begin().await?;
    hub_core::domain::service::check_usable(&*tx, who, &new.domain, "domain").await?;
    let row = insert(&mut tx, new).await?;
    tx.commit().await?;
    Ok(row)
}

/// Inserts a checked topic and its event inside `tx` (imports create topics they name).
pub(crate) async fn insert(tx: &mut Tx<'_>, new: NewTopic) -> Result<model::Model, HubError> {
    let row = model::ActiveModel {
        slug: Set(new.slug.clone()),
        title: Set(new.title.trim().to_owned()),
        domain: Set(new.domain),
        created_at: Set(Utc::now()),
    }
    .insert(&**tx)
    .await
    .map_err(|e| HubError::from_db_unique(e, || format!("topic {} already exists", new.slug)))?;
    tx.emit(
        "dev_topic",
        "created",
        &row.slug,
        &serde_json::json!({"slug": row.slug, "title": row.title, "domain": row.domain}),
    )
    .await?;
    Ok(row)
}

pub async fn find(db: &impl ConnectionTrait, slug: &str) -> Result<Option<model::Model>, HubError> {
    Ok(model::Entity::find_by_id(slug).one(db).await?)
}

/// Topics by slug, of one domain or of every domain the caller may see.
pub async fn list(
    ctx: &Ctx,
    who: &Principal,
    domain: Option<&str>,
    page: &PageRequest,
) -> Result<Page<model::Model>, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let mut q = model::Entity::find()
        .order_by_asc(model::Column::Slug)
        .limit(page.limit + 1);
    if let Some(after) = &page.after {
        q = q.filter(model::Column::Slug.gt(after.as_str()));
    }
    q = in_domains(q, who, domain, model::Column::Domain)?;
    Ok(page_of(q.all(&ctx.db).await?, page, |t| t.slug.clone()))
}
