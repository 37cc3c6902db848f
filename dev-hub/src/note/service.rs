//! Note rules: a note is about an existing subject the caller may see, and takes its domain.

use chrono::Utc;
use hub_core::api::page::{Page, PageRequest, page_of};
use hub_core::auth::{Access, Principal};
use hub_core::error::Validator;
use hub_core::{Ctx, HubError};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::model::{self, SubjectKind};
use crate::scope::in_domains;
use crate::{decision, task, topic, workplan};

/// A new note about `subject_kind` `subject_id`.
#[derive(Debug, Clone)]
pub struct NewNote {
    pub subject_kind: SubjectKind,
    pub subject_id: String,
    pub body: String,
}

pub async fn add(ctx: &Ctx, who: &Principal, new: NewNote) -> Result<model::Model, HubError> {
    who.require(&ctx.hub, Access::Write)?;
    Validator::new()
        .text(&new.subject_id, "subject_id", 200)
        .text(&new.body, "body", 8000)
        .finish()?;
    let id = new.subject_id.as_str();
    let unknown = || {
        HubError::invalid(
            "subject_id",
            format!("unknown {} {id}", new.subject_kind.name()),
        )
    };
    let domain = match new.subject_kind {
        SubjectKind::Workplan => workplan::service::find(&ctx.db, id)
            .await?
            .map(|w| w.domain),
        SubjectKind::Task => task::model::Entity::find_by_id(id)
            .one(&ctx.db)
            .await?
            .map(|t| t.domain),
        SubjectKind::Decision => decision::model::Entity::find_by_id(id)
            .one(&ctx.db)
            .await?
            .map(|d| d.domain),
        SubjectKind::Topic => topic::service::find(&ctx.db, id).await?.map(|t| t.domain),
    }
    .filter(|d| who.may_use_domain(d))
    .ok_or_else(unknown)?;
    let mut tx = ctx.begin().await?;
    let row = model::ActiveModel {
        id: Set(hub_core::ids::new_id()),
        subject_kind: Set(new.subject_kind),
        subject_id: Set(new.subject_id),
        domain: Set(domain),
        body: Set(new.body.trim().to_owned()),
        author: Set(who.sub.clone()),
        created_at: Set(Utc::now()),
    }
    .insert(&*tx)
    .await?;
    tx.emit("dev_note", "added", &row.id, &serde_json::json!({"id": row.id, "subject_kind": row.subject_kind, "subject_id": row.subject_id, "author": row.author}))
        .await?;
    tx.commit().await?;
    Ok(row)
}

/// Notes newest first, about one subject or about anything the caller may see.
pub async fn list(
    ctx: &Ctx,
    who: &Principal,
    subject: Option<(SubjectKind, &str)>,
    page: &PageRequest,
) -> Result<Page<model::Model>, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let mut q = model::Entity::find()
        .order_by_desc(model::Column::Id)
        .limit(page.limit + 1);
    if let Some(after) = &page.after {
        q = q.filter(model::Column::Id.lt(after.as_str()));
    }
    if let Some((kind, id)) = subject {
        q = q
            .filter(model::Column::SubjectKind.eq(kind))
            .filter(model::Column::SubjectId.eq(id));
    }
    q = in_domains(q, who, None, model::Column::Domain)?;
    Ok(page_of(q.all(&ctx.db).await?, page, |n| n.id.clone()))
}
