//! The REST edge: router assembly, problem documents, extractors, pagination, metrics.

pub mod extract;
pub mod metrics;
pub mod page;
pub mod problem;
mod system;
pub mod time;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as OpenApiDoc, SecurityRequirement};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::hub::Hub;

#[derive(OpenApi)]
#[openapi(
    info(title = "Hubmesh hub API", description = "The REST API every Hubmesh hub serves: core resources plus its modules'."),
    modifiers(&BearerSecurity),
    components(schemas(problem::Problem))
)]
struct ApiDoc;

/// Declares the bearer scheme and makes it the default requirement; public routes opt out.
struct BearerSecurity;

impl Modify for BearerSecurity {
    fn modify(&self, doc: &mut OpenApiDoc) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        doc.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

/// Every core route, with its OpenAPI description.
pub fn core_routes() -> OpenApiRouter<Hub> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(system::router())
        .merge(crate::domain::api::router())
        .merge(crate::tpsc::api::router())
        .merge(crate::progress::api::router())
        .merge(crate::message::api::router())
        .merge(crate::agent::api::router())
        .merge(crate::capability::api::router())
        .merge(crate::repo::api::router())
        .merge(crate::summary::api::router())
        .merge(crate::federation::api::router())
}
