//! REST: `/api/v1/fin/imports` — upload a CSV file as the request body.

use std::collections::BTreeMap;
use std::io::Seek;
use std::sync::Arc;

use axum::Extension;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use hub_core::api::extract::{Json, Path, Query};
use hub_core::api::page::{Page, PageParams, PageRequest};
use hub_core::api::problem::Problem;
use hub_core::auth::{Access, Principal};
use hub_core::{Hub, HubError};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::model::{self, ImportFormat, ImportKind, ImportStatus};
use super::read::RowError;
use super::service::{self, ImportOptions};
use crate::config::FinConfig;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(imports_create, imports_list))
        .routes(routes!(imports_get))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Import {
    pub id: String,
    pub kind: ImportKind,
    pub format: ImportFormat,
    pub filename: Option<String>,
    pub status: ImportStatus,
    /// Data rows read.
    pub rows: i64,
    /// Rows added to the ledger.
    pub inserted: i64,
    /// Valid rows already in the ledger: importing a file again adds nothing.
    pub duplicates: i64,
    /// Rows refused; the first 100 are in `errors`.
    pub rejected: i64,
    pub errors: Vec<RowError>,
    /// Why a failed import stopped.
    pub error: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<model::Model> for Import {
    fn from(m: model::Model) -> Self {
        Self {
            errors: serde_json::from_value(m.errors).unwrap_or_default(),
            id: m.id,
            kind: m.kind,
            format: m.format,
            filename: m.filename,
            status: m.status,
            rows: m.rows,
            inserted: m.inserted,
            duplicates: m.duplicates,
            rejected: m.rejected,
            error: m.error,
            created_by: m.created_by,
            created_at: m.created_at,
            finished_at: m.finished_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ImportParams {
    /// `costs` (default) or `token_usage`.
    pub kind: Option<ImportKind>,
    /// `focus`, `native` or `mapped`; detected from the header when absent.
    pub format: Option<ImportFormat>,
    /// The domain of every row; else each row's `domain` (FOCUS: `SubAccountName`) column.
    pub domain: Option<String>,
    /// Column mapping `field:Column,field:Column`, e.g. `date:UsageDate,amount:Cost`.
    pub map: Option<String>,
    pub filename: Option<String>,
}

/// Reads `field:Column,…`.
fn parse_map(text: Option<&str>) -> Result<BTreeMap<String, String>, HubError> {
    let mut map = BTreeMap::new();
    for pair in text
        .unwrap_or_default()
        .split(',')
        .filter(|p| !p.trim().is_empty())
    {
        let (field, column) = pair
            .split_once(':')
            .filter(|(f, c)| !f.trim().is_empty() && !c.trim().is_empty())
            .ok_or_else(|| HubError::invalid("map", format!("{pair:?} is not field:Column")))?;
        map.insert(field.trim().to_owned(), column.trim().to_owned());
    }
    Ok(map)
}

/// Writes the request body to a temporary file, refusing more than `limit` bytes.
async fn spool(body: Body, limit: u64) -> Result<std::fs::File, HubError> {
    let file =
        tempfile::tempfile().map_err(|e| HubError::Internal(format!("temporary file: {e}")))?;
    let mut out = tokio::fs::File::from_std(file);
    let mut stream = body.into_data_stream();
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk
            .map_err(|e| HubError::bad_request("body", format!("cannot read the upload: {e}")))?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(HubError::PayloadTooLarge {
                limit: limit as usize,
            });
        }
        out.write_all(&chunk)
            .await
            .map_err(|e| HubError::Internal(format!("temporary file: {e}")))?;
    }
    out.flush()
        .await
        .map_err(|e| HubError::Internal(format!("temporary file: {e}")))?;
    let mut file = out.into_std().await;
    file.rewind()
        .map_err(|e| HubError::Internal(format!("temporary file: {e}")))?;
    Ok(file)
}

/// Imports a CSV file sent as the body (`text/csv`): FOCUS, native or mapped columns. Valid
/// rows are kept, rejected rows are listed with their line numbers, rows already imported are
/// counted as duplicates. A file that cannot be read as a whole is refused (422, field `file`)
/// and nothing is written.
#[utoipa::path(post, path = "/api/v1/fin/imports", tag = "fin", params(ImportParams),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 201, body = Import), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 413, body = Problem), (status = 422, body = Problem)))]
async fn imports_create(
    State(hub): State<Hub>,
    Extension(cfg): Extension<Arc<FinConfig>>,
    who: Principal,
    Query(p): Query<ImportParams>,
    body: Body,
) -> Result<(StatusCode, Json<Import>), HubError> {
    // Refuse before reading a large body the caller may not send.
    who.require(&hub.ctx().hub, Access::Write)?;
    let opts = ImportOptions {
        kind: p.kind.unwrap_or(ImportKind::Costs),
        format: p.format,
        domain: p.domain,
        mapping: parse_map(p.map.as_deref())?,
        filename: p.filename,
    };
    let file = spool(body, cfg.import_max_bytes).await?;
    let row = service::import(hub.ctx(), &who, cfg.clone(), file, opts).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Imports, newest first.
#[utoipa::path(get, path = "/api/v1/fin/imports", tag = "fin", params(PageParams),
    responses((status = 200, body = Page<Import>), (status = 400, body = Problem)))]
async fn imports_list(
    State(hub): State<Hub>,
    who: Principal,
    Query(params): Query<PageParams>,
) -> Result<Json<Page<Import>>, HubError> {
    let page = PageRequest::try_from(&params)?;
    Ok(Json(
        service::list(hub.ctx(), &who, &page)
            .await?
            .map(Import::from),
    ))
}

/// One import and its report.
#[utoipa::path(get, path = "/api/v1/fin/imports/{id}", tag = "fin", params(("id" = String, Path)),
    responses((status = 200, body = Import), (status = 404, body = Problem)))]
async fn imports_get(
    State(hub): State<Hub>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<Import>, HubError> {
    Ok(Json(service::get(hub.ctx(), &who, &id).await?.into()))
}
