//! REST: `/api/v1/dev/notes`.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use hub_core::api::extract::{Json, Query};
use hub_core::api::page::{Page, PageParams, PageRequest};
use hub_core::api::problem::Problem;
use hub_core::auth::Principal;
use hub_core::{Hub, HubError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::model::{self, SubjectKind};
use super::service::{self, NewNote};

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new().routes(routes!(notes_create, notes_list))
}

#[derive(Debug, Serialize, Deserialize, ToSchema, schemars::JsonSchema)]
pub struct Note {
    pub id: String,
    pub subject_kind: SubjectKind,
    pub subject_id: String,
    pub domain: String,
    pub body: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
}

impl From<model::Model> for Note {
    fn from(m: model::Model) -> Self {
        Self {
            id: m.id,
            subject_kind: m.subject_kind,
            subject_id: m.subject_id,
            domain: m.domain,
            body: m.body,
            author: m.author,
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddNote {
    pub subject_kind: SubjectKind,
    pub subject_id: String,
    pub body: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct NoteQuery {
    /// With `subject_id`: only notes about this subject.
    pub subject_kind: Option<SubjectKind>,
    pub subject_id: Option<String>,
}

/// Adds a progress note to a workplan, task, decision or topic.
#[utoipa::path(post, path = "/api/v1/dev/notes", tag = "dev", request_body = AddNote,
    responses((status = 201, body = Note), (status = 400, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn notes_create(
    State(hub): State<Hub>,
    who: Principal,
    Json(b): Json<AddNote>,
) -> Result<(StatusCode, Json<Note>), HubError> {
    let new = NewNote {
        subject_kind: b.subject_kind,
        subject_id: b.subject_id,
        body: b.body,
    };
    let row = service::add(hub.ctx(), &who, new).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Notes newest first.
#[utoipa::path(get, path = "/api/v1/dev/notes", tag = "dev", params(PageParams, NoteQuery),
    responses((status = 200, body = Page<Note>), (status = 400, body = Problem)))]
async fn notes_list(
    State(hub): State<Hub>,
    who: Principal,
    Query(params): Query<PageParams>,
    Query(q): Query<NoteQuery>,
) -> Result<Json<Page<Note>>, HubError> {
    let page = PageRequest::try_from(&params)?;
    let subject = match (q.subject_kind, q.subject_id.as_deref()) {
        (Some(k), Some(id)) => Some((k, id)),
        (None, None) => None,
        _ => {
            return Err(HubError::bad_request(
                "subject_id",
                "subject_kind and subject_id go together",
            ));
        }
    };
    Ok(Json(
        service::list(hub.ctx(), &who, subject, &page)
            .await?
            .map(Note::from),
    ))
}
