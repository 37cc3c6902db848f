//! Workstream rules: a name is unique within its workplan; tasks name the workstream they
//! belong to, which is created the first time it is named.

use chrono::Utc;
use hub_core::{HubError, Tx};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use super::model;

/// The workstreams of a workplan, by name.
pub async fn list(
    db: &impl ConnectionTrait,
    workplan: &str,
) -> Result<Vec<model::Model>, HubError> {
    Ok(model::Entity::find()
        .filter(model::Column::WorkplanId.eq(workplan))
        .order_by_asc(model::Column::Name)
        .all(db)
        .await?)
}

/// Creates the workstreams of `names` that `workplan` does not have yet; returns the new names.
pub async fn ensure(
    tx: &mut Tx<'_>,
    workplan: &str,
    names: &[String],
) -> Result<Vec<String>, HubError> {
    let have: Vec<String> = list(&**tx, workplan)
        .await?
        .into_iter()
        .map(|w| w.name)
        .collect();
    let mut added = Vec::new();
    for name in names {
        if have.contains(name) || added.contains(name) {
            continue;
        }
        let row = model::ActiveModel {
            id: Set(hub_core::ids::new_id()),
            workplan_id: Set(workplan.to_owned()),
            name: Set(name.clone()),
            created_at: Set(Utc::now()),
        }
        .insert(&**tx)
        .await?;
        tx.emit(
            "dev_workstream",
            "created",
            &row.id,
            &serde_json::json!({"workplan": workplan, "name": name}),
        )
        .await?;
        added.push(name.clone());
    }
    Ok(added)
}
