//! Cursor pagination shared by every list endpoint: `{"items": […], "next_cursor": …}`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::HubError;

/// Default and largest page sizes.
pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 500;

/// A page of a list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

/// `limit` and `cursor` query parameters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams, ToSchema)]
pub struct PageParams {
    /// Page size, 1..=500 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A validated page request: `after` is the sort key the previous page ended at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u64,
    pub after: Option<String>,
}

impl PageRequest {
    pub fn first(limit: u64) -> Self {
        Self { limit, after: None }
    }
}

impl TryFrom<&PageParams> for PageRequest {
    type Error = HubError;

    fn try_from(p: &PageParams) -> Result<Self, HubError> {
        let limit = p.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(HubError::bad_request(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = p.cursor.as_deref().map(decode_cursor).transpose()?;
        Ok(Self { limit, after })
    }
}

/// Encodes a sort key as an opaque cursor.
pub fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{key}"))
}

fn decode_cursor(cursor: &str) -> Result<String, HubError> {
    let bad = || HubError::bad_request("cursor", "is not a cursor this server issued");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    text.strip_prefix("v1:")
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .ok_or_else(bad)
}

/// Builds a page from up to `limit + 1` rows fetched in order: the extra row only tells that
/// another page exists. `key` gives each row's sort key.
pub fn page_of<T>(mut rows: Vec<T>, req: &PageRequest, key: impl Fn(&T) -> String) -> Page<T> {
    let more = rows.len() as u64 > req.limit;
    rows.truncate(req.limit as usize);
    let next_cursor = if more {
        rows.last().map(|r| encode_cursor(&key(r)))
    } else {
        None
    };
    Page {
        items: rows,
        next_cursor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_bad_ones_are_named() {
        let req = PageRequest::try_from(&PageParams {
            limit: Some(2),
            cursor: Some(encode_cursor("abc")),
        })
        .unwrap();
        assert_eq!(req.after.as_deref(), Some("abc"));
        for bad in ["!!", "eHl6", ""] {
            let err = PageRequest::try_from(&PageParams {
                limit: None,
                cursor: Some(bad.into()),
            })
            .unwrap_err();
            assert!(
                matches!(err, HubError::BadRequest { field: Some(ref f), .. } if f == "cursor"),
                "{bad}"
            );
        }
        assert!(
            PageRequest::try_from(&PageParams {
                limit: Some(0),
                cursor: None
            })
            .is_err()
        );
        assert!(
            PageRequest::try_from(&PageParams {
                limit: Some(501),
                cursor: None
            })
            .is_err()
        );
    }

    #[test]
    fn page_of_sets_the_cursor_only_when_more_exist() {
        let req = PageRequest::first(2);
        let page = page_of(vec!["a", "b", "c"], &req, |s| s.to_string());
        assert_eq!(page.items, ["a", "b"]);
        assert_eq!(page.next_cursor, Some(encode_cursor("b")));
        assert_eq!(
            page_of(vec!["a"], &req, |s| s.to_string()).next_cursor,
            None
        );
    }
}
