//! Third-party service rows.

use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "tpsc_services")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    #[sea_orm(unique)]
    pub name: String,
    pub domain: String,
    pub vendor: Option<String>,
    pub description: String,
    pub url: Option<String>,
    /// JSON array of strings (lowercase, distinct).
    pub data_categories: Json,
    pub processing_purpose: String,
    pub region: String,
    pub dpa_in_place: bool,
    /// JSON array of strings (distinct).
    pub sub_processors: Json,
    pub personal_data: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub fn data_categories(&self) -> Vec<String> {
        strings(&self.data_categories)
    }

    pub fn sub_processors(&self) -> Vec<String> {
        strings(&self.sub_processors)
    }
}

/// The strings of a JSON array column; the service only ever writes arrays of strings.
fn strings(v: &Json) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
