//! Balance rules: one snapshot per date, an amount of 0 or more in a known currency. Balances
//! are the organisation's cash position, so recording one needs admin access.

use chrono::{NaiveDate, Utc};
use hub_core::api::page::{Page, PageRequest, page_of};
use hub_core::auth::{Access, Principal};
use hub_core::error::Validator;
use hub_core::{Ctx, HubError};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::model;
use crate::money::MoneyChecks;
use crate::signal::{Changed, Touched};

#[derive(Debug, Clone)]
pub struct NewBalance {
    pub date: NaiveDate,
    pub amount: i64,
    pub currency: String,
    pub note: Option<String>,
}

pub async fn record(ctx: &Ctx, who: &Principal, new: NewBalance) -> Result<model::Model, HubError> {
    who.require(&ctx.hub, Access::Admin)?;
    Validator::new()
        .date(new.date, "date")
        .amount(new.amount, "amount")
        .currency(&new.currency, "currency")
        .check(
            new.note.as_ref().is_none_or(|n| n.chars().count() <= 2000),
            "note",
            "must be at most 2000 characters",
        )
        .finish()?;
    let mut tx = ctx.begin().await?;
    let row = model::ActiveModel {
        id: Set(hub_core::ids::new_id()),
        date: Set(new.date),
        amount: Set(new.amount),
        currency: Set(new.currency),
        note: Set(new.note.unwrap_or_default()),
        created_at: Set(Utc::now()),
    }
    .insert(&*tx)
    .await
    .map_err(|e| {
        HubError::from_db_unique(e, || format!("a balance for {} exists already", new.date))
    })?;
    tx.emit(
        "fin_balance",
        "created",
        &row.id,
        &Changed {
            row: &row,
            touched: &Touched::default(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Balances, latest date first.
pub async fn list(
    ctx: &Ctx,
    who: &Principal,
    page: &PageRequest,
) -> Result<Page<model::Model>, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let mut q = model::Entity::find()
        .order_by_desc(model::Column::Date)
        .limit(page.limit + 1);
    if let Some(after) = &page.after {
        let after: NaiveDate = after
            .parse()
            .map_err(|_| HubError::bad_request("cursor", "is not a cursor this server issued"))?;
        q = q.filter(model::Column::Date.lt(after));
    }
    Ok(page_of(q.all(&ctx.db).await?, page, |b| b.date.to_string()))
}
