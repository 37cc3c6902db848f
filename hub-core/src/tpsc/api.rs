//! REST: `/api/v1/services`, `/api/v1/services/ingest`, `/api/v1/gdpr-report`.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service::{GdprReport, IngestEntry, IngestReport, NewService};
use super::{model, service};
use crate::api::extract::{Json, Path, Query};
use crate::api::page::{Page, PageParams, PageRequest};
use crate::api::problem::Problem;
use crate::auth::Principal;
use crate::error::{FieldError, HubError};
use crate::hub::Hub;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(services_create, services_list))
        .routes(routes!(services_ingest))
        .routes(routes!(services_get))
        .routes(routes!(gdpr_report))
}

/// A third-party service or tool; also one entry of an ingest list.
#[derive(Debug, Deserialize, ToSchema, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateService {
    /// Unique per hub.
    pub name: String,
    /// The domain using the service.
    pub domain: String,
    pub vendor: Option<String>,
    pub description: Option<String>,
    /// `http://` or `https://` URL.
    pub url: Option<String>,
    /// Categories of data processed, e.g. `contact`, `financial`, `health`.
    #[serde(default)]
    pub data_categories: Vec<String>,
    pub processing_purpose: Option<String>,
    /// Where the data is processed, e.g. `EU`, `US`, `eu-west-1`.
    pub region: String,
    /// Whether a data processing agreement is in place.
    pub dpa_in_place: bool,
    #[serde(default)]
    pub sub_processors: Vec<String>,
    /// Defaults to true when `data_categories` is not empty.
    pub personal_data: Option<bool>,
}

impl From<CreateService> for NewService {
    fn from(b: CreateService) -> Self {
        Self {
            name: b.name,
            domain: b.domain,
            vendor: b.vendor,
            description: b.description,
            url: b.url,
            data_categories: b.data_categories,
            processing_purpose: b.processing_purpose,
            region: b.region,
            dpa_in_place: b.dpa_in_place,
            sub_processors: b.sub_processors,
            personal_data: b.personal_data,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Service {
    pub id: String,
    pub name: String,
    pub domain: String,
    pub vendor: Option<String>,
    pub description: String,
    pub url: Option<String>,
    pub data_categories: Vec<String>,
    pub processing_purpose: String,
    pub region: String,
    pub dpa_in_place: bool,
    pub sub_processors: Vec<String>,
    pub personal_data: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<model::Model> for Service {
    fn from(m: model::Model) -> Self {
        Self {
            data_categories: m.data_categories(),
            sub_processors: m.sub_processors(),
            id: m.id,
            name: m.name,
            domain: m.domain,
            vendor: m.vendor,
            description: m.description,
            url: m.url,
            processing_purpose: m.processing_purpose,
            region: m.region,
            dpa_in_place: m.dpa_in_place,
            personal_data: m.personal_data,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DomainFilter {
    /// Only this domain.
    pub domain: Option<String>,
}

/// Registers a service (needs write access to its domain).
#[utoipa::path(post, path = "/api/v1/services", tag = "services", request_body = CreateService,
    responses((status = 201, body = Service), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn services_create(
    State(hub): State<Hub>,
    who: Principal,
    Json(body): Json<CreateService>,
) -> Result<(StatusCode, Json<Service>), HubError> {
    let row = service::create(hub.ctx(), &who, body.into()).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Lists services by name, of one domain or of every domain the caller may see.
#[utoipa::path(get, path = "/api/v1/services", tag = "services", params(PageParams, DomainFilter),
    responses((status = 200, body = Page<Service>), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn services_list(
    State(hub): State<Hub>,
    who: Principal,
    Query(params): Query<PageParams>,
    Query(filter): Query<DomainFilter>,
) -> Result<Json<Page<Service>>, HubError> {
    let page = PageRequest::try_from(&params)?;
    let page = service::list(hub.ctx(), &who, filter.domain.as_deref(), &page).await?;
    Ok(Json(page.map(Service::from)))
}

/// One service.
#[utoipa::path(get, path = "/api/v1/services/{id}", tag = "services", params(("id" = String, Path)),
    responses((status = 200, body = Service), (status = 404, body = Problem)))]
async fn services_get(
    State(hub): State<Hub>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<Service>, HubError> {
    Ok(Json(service::get(hub.ctx(), &who, &id).await?.into()))
}

/// Creates or updates services by name from a list of up to 1000 entries; each entry is
/// written or rejected on its own.
#[utoipa::path(post, path = "/api/v1/services/ingest", tag = "services", request_body = Vec<CreateService>,
    responses((status = 200, body = IngestReport), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn services_ingest(
    State(hub): State<Hub>,
    who: Principal,
    Json(entries): Json<Vec<Value>>,
) -> Result<Json<IngestReport>, HubError> {
    let entries = entries.into_iter().map(read_entry).collect();
    Ok(Json(service::ingest(hub.ctx(), &who, entries).await?))
}

/// Reads one ingest entry the way a request body is read, so its errors name fields alike.
pub(crate) fn read_entry(value: Value) -> IngestEntry {
    let name = value.get("name").and_then(Value::as_str).map(str::to_owned);
    let read = serde_json::to_vec(&value)
        .map_err(|e| HubError::Internal(e.to_string()))
        .and_then(|bytes| Ok(axum::Json::<CreateService>::from_bytes(&bytes)?.0));
    match read {
        Ok(body) => IngestEntry::Read(body.into()),
        Err(err) => IngestEntry::Unreadable {
            name,
            errors: match err {
                HubError::BadRequest { field, message } => {
                    vec![FieldError::new(
                        field.unwrap_or_else(|| "body".into()),
                        message,
                    )]
                }
                other => vec![FieldError::new("body", other.to_string())],
            },
        },
    }
}

/// GDPR facts per domain: services, personal data, missing DPAs, categories, regions,
/// sub-processors and findings. A region counts as inside the EU/EEA when it starts with `EU`
/// (any case) or is an EEA country code, alone or followed by `-`.
#[utoipa::path(get, path = "/api/v1/gdpr-report", tag = "services", params(DomainFilter),
    responses((status = 200, body = GdprReport), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn gdpr_report(
    State(hub): State<Hub>,
    who: Principal,
    Query(filter): Query<DomainFilter>,
) -> Result<Json<GdprReport>, HubError> {
    Ok(Json(
        service::gdpr_report(hub.ctx(), &who, filter.domain.as_deref()).await?,
    ))
}
