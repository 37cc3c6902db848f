//! Claims: an agent takes a task for a lease, renews it by claiming again, and gives it up by
//! releasing it or by letting the lease run out. A second claimant is refused, naming the
//! holder; release and expiry are progress events.

use chrono::{Duration, Utc};
use hub_core::auth::{Access, Principal};
use hub_core::{Ctx, HubError};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::model;
use super::service::{self, TaskWithDeps, find_visible, refuse_foreign_claim};
use crate::scope::task_event;

/// The lease of a claim when the caller names none, and the longest one.
pub const DEFAULT_LEASE_SECS: i64 = 900;
pub const MAX_LEASE_SECS: i64 = 86_400;

/// Claims `id` for `lease_secs` (default 15 minutes), or renews the caller's own claim. A claim
/// whose lease ran out is taken over, and its expiry recorded.
pub async fn claim(
    ctx: &Ctx,
    who: &Principal,
    id: &str,
    lease_secs: Option<i64>,
) -> Result<TaskWithDeps, HubError> {
    who.require(&ctx.hub, Access::Write)?;
    let lease = lease_secs.unwrap_or(DEFAULT_LEASE_SECS);
    if !(1..=MAX_LEASE_SECS).contains(&lease) {
        return Err(HubError::invalid(
            "lease_seconds",
            format!("must be between 1 and {MAX_LEASE_SECS}"),
        ));
    }
    let mut tx = ctx.begin().await?;
    // Locked: two claimants of one task queue here, and the second sees the first's claim.
    let task = find_visible(&*tx, who, id, true).await?;
    if !task.status.is_open() {
        return Err(HubError::Conflict(format!(
            "task {id} is {} and cannot be claimed",
            task.status.as_str()
        )));
    }
    refuse_foreign_claim(&task, who)?;
    let now = Utc::now();
    let lapsed = task
        .claimed_by
        .clone()
        .filter(|by| *by != who.sub && task.holder(now).is_none());
    let renewed = task.holder(now) == Some(who.sub.as_str());
    let assignee = task.assignee.clone().or_else(|| Some(who.sub.clone()));
    let mut row = model::ActiveModel::from(task);
    row.claimed_by = Set(Some(who.sub.clone()));
    row.claim_expires_at = Set(Some(now + Duration::seconds(lease)));
    row.assignee = Set(assignee);
    row.updated_at = Set(now);
    let row = row.update(&*tx).await?;
    let action = if renewed { "claim_renewed" } else { "claimed" };
    tx.emit(
        "dev_task",
        action,
        id,
        &serde_json::json!({"id": id, "by": who.sub, "until": row.claim_expires_at}),
    )
    .await?;
    tx.commit().await?;
    if let Some(prev) = lapsed {
        let summary = format!("{id}: the claim of {prev} expired");
        task_event(
            ctx,
            who,
            "task_claim_expired",
            id,
            &row.workplan_id,
            &row.domain,
            summary,
        )
        .await;
    }
    if !renewed {
        let summary = format!("{id}: claimed by {}", who.sub);
        task_event(
            ctx,
            who,
            "task_claimed",
            id,
            &row.workplan_id,
            &row.domain,
            summary,
        )
        .await;
    }
    service::get(ctx, who, id).await
}

/// Ends the caller's claim on `id` (an admin may end anyone's).
pub async fn release(ctx: &Ctx, who: &Principal, id: &str) -> Result<TaskWithDeps, HubError> {
    who.require(&ctx.hub, Access::Write)?;
    let mut tx = ctx.begin().await?;
    let task = find_visible(&*tx, who, id, true).await?;
    let Some(holder) = task.holder(Utc::now()).map(str::to_owned) else {
        return Err(HubError::Conflict(format!("task {id} is not claimed")));
    };
    if holder != who.sub && !who.has(&ctx.hub, Access::Admin) {
        refuse_foreign_claim(&task, who)?;
    }
    let mut row = model::ActiveModel::from(task);
    row.claimed_by = Set(None);
    row.claim_expires_at = Set(None);
    row.updated_at = Set(Utc::now());
    let row = row.update(&*tx).await?;
    tx.emit(
        "dev_task",
        "released",
        id,
        &serde_json::json!({"id": id, "holder": holder, "by": who.sub}),
    )
    .await?;
    tx.commit().await?;
    let summary = format!("{id}: the claim of {holder} was released by {}", who.sub);
    task_event(
        ctx,
        who,
        "task_released",
        id,
        &row.workplan_id,
        &row.domain,
        summary,
    )
    .await;
    service::get(ctx, who, id).await
}

/// Ends every claim whose lease ran out, recording each expiry; returns how many ended.
pub async fn expire_claims(ctx: &Ctx) -> Result<usize, HubError> {
    let now = Utc::now();
    let due: Vec<(String, String)> = model::Entity::find()
        .select_only()
        .column(model::Column::Id)
        .column(model::Column::ClaimedBy)
        .filter(model::Column::ClaimExpiresAt.lte(now))
        .filter(model::Column::ClaimedBy.is_not_null())
        .order_by_asc(model::Column::Id)
        .limit(500)
        .into_tuple()
        .all(&ctx.db)
        .await?;
    let who = Principal::hub_itself(&ctx.hub);
    let mut ended = 0;
    for (id, holder) in due {
        let mut tx = ctx.begin().await?;
        // Only if nobody renewed or took it over meanwhile.
        let res = model::Entity::update_many()
            .col_expr(
                model::Column::ClaimedBy,
                sea_orm::sea_query::Expr::value(Option::<String>::None),
            )
            .col_expr(
                model::Column::ClaimExpiresAt,
                sea_orm::sea_query::Expr::value(Option::<chrono::DateTime<Utc>>::None),
            )
            .filter(model::Column::Id.eq(id.as_str()))
            .filter(model::Column::ClaimedBy.eq(holder.as_str()))
            .filter(model::Column::ClaimExpiresAt.lte(now))
            .exec(&*tx)
            .await?;
        if res.rows_affected == 0 {
            continue;
        }
        tx.emit(
            "dev_task",
            "claim_expired",
            &id,
            &serde_json::json!({"id": id, "holder": holder}),
        )
        .await?;
        tx.commit().await?;
        ended += 1;
        if let Some(t) = model::Entity::find_by_id(id.as_str()).one(&ctx.db).await? {
            let summary = format!("{id}: the claim of {holder} expired");
            task_event(
                ctx,
                &who,
                "task_claim_expired",
                &id,
                &t.workplan_id,
                &t.domain,
                summary,
            )
            .await;
        }
    }
    Ok(ended)
}
