//! The OpenAPI 3.1 document. Paths and schemas come from the handlers'
//! annotations through the same router that serves them, so the document
//! lists exactly the routes the server has.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Rekindle API",
        description = "Revive dormant sales leads: import a CRM export, score the leads, write each one a personal message, send within safe limits, and read the replies. Every error is RFC 9457 problem details (application/problem+json). Every list is cursor-paginated: pass the `next` value as `cursor`.",
    ),
    modifiers(&Security),
    components(schemas(crate::problem::Problem)),
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT access token or rk_live_ API key")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "operator",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
