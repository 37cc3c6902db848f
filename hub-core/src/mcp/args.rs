//! Argument shapes several tools share.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::api::page::{PageParams, PageRequest};
use crate::error::HubError;

/// No arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

/// Paging of a list.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PageArgs {
    /// Page size, 1..=500 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageArgs {
    /// The validated page request (a bad cursor or limit is a 400 naming the field).
    pub fn page(&self) -> Result<PageRequest, HubError> {
        page(self.limit, &self.cursor)
    }
}

/// The validated page request of a tool's `limit` and `cursor` arguments. Tools with more
/// arguments spell these two out, since `deny_unknown_fields` does not mix with `flatten`.
pub fn page(limit: Option<u64>, cursor: &Option<String>) -> Result<PageRequest, HubError> {
    PageRequest::try_from(&PageParams {
        limit,
        cursor: cursor.clone(),
    })
}
