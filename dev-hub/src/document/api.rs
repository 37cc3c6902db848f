//! REST: `/api/v1/dev/workplans/import` (a markdown body) and
//! `/api/v1/dev/workplans/{id}/document` (the workplan as markdown).

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use futures::StreamExt;
use hub_core::api::extract::{Json, Path, Query};
use hub_core::api::problem::Problem;
use hub_core::auth::{Access, Principal};
use hub_core::{Hub, HubError};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::parse::check_size;
use super::service::{self, ImportReport};

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(workplans_import))
        .routes(routes!(workplans_document))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ImportQuery {
    /// Report what would change without writing anything.
    #[serde(default)]
    pub dry_run: bool,
}

/// Reads the body as UTF-8 text, refusing it as soon as it passes the document limit.
async fn read_document(headers: &axum::http::HeaderMap, body: Body) -> Result<String, HubError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(len) = declared {
        check_size(len)?;
    }
    let mut bytes = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk
            .map_err(|e| HubError::bad_request("body", format!("cannot read the document: {e}")))?;
        check_size(bytes.len() + chunk.len())?;
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes)
        .map_err(|e| HubError::bad_request("body", format!("the document is not UTF-8: {e}")))
}

/// Imports a workplan document (markdown, at most 4 MiB) sent as the body: creates the workplan
/// or brings it in line with the document, and reports what changed. Nothing is written when
/// the document has problems (422 listing them with line numbers) or with `dry_run=true`.
#[utoipa::path(post, path = "/api/v1/dev/workplans/import", tag = "dev", params(ImportQuery),
    request_body(content = String, content_type = "text/markdown"),
    responses((status = 200, body = ImportReport), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)))]
async fn workplans_import(
    State(hub): State<Hub>,
    who: Principal,
    Query(q): Query<ImportQuery>,
    headers: axum::http::HeaderMap,
    body: Body,
) -> Result<Json<ImportReport>, HubError> {
    // Refuse before reading a body the caller may not send.
    who.require(&hub.ctx().hub, Access::Write)?;
    let text = read_document(&headers, body).await?;
    Ok(Json(
        service::import(hub.ctx(), &who, &text, q.dry_run).await?,
    ))
}

/// The workplan as a markdown document, in the format import reads.
#[utoipa::path(get, path = "/api/v1/dev/workplans/{id}/document", tag = "dev", params(("id" = String, Path)),
    responses((status = 200, body = String, content_type = "text/markdown"), (status = 404, body = Problem)))]
async fn workplans_document(
    State(hub): State<Hub>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, HubError> {
    let text = service::export(hub.ctx(), &who, &id).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
        text,
    ))
}
