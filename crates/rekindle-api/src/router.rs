//! The route table and the layers around it.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::get;
use tower_http::cors::{AllowOrigin, CorsLayer};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{api_keys, authenticate, sessions, users};
use crate::middleware::{client_ip, deadline, problems, rate_limit, request_id, security_headers};
use crate::openapi::ApiDoc;
use crate::routes::webhooks::{inbound_email, sendgrid, stripe, tracking, twilio};
use crate::routes::{
    account, alerts, analytics, audit, campaigns, crew_runs, funnel, health, icp, imports, jobs,
    lead_outcomes, leads, meetings, messages, optimization, replies, sending_identities,
    suppressions,
};
use crate::settings::{STRIPE_BODY_LIMIT, TWILIO_BODY_LIMIT};
use crate::state::ApiState;

/// Routes that need no credential, as `METHOD path`. Every other route
/// rejects a request without a valid bearer credential with 401.
pub const PUBLIC_ROUTES: &[&str] = &[
    "GET /healthz",
    "GET /readyz",
    "GET /api/v1/openapi.json",
    "POST /api/v1/auth/signup",
    "POST /api/v1/auth/login",
    "POST /api/v1/auth/refresh",
    "POST /webhooks/sendgrid/events",
    "POST /webhooks/twilio/status",
    "POST /webhooks/twilio/inbound",
    "POST /webhooks/stripe",
    "POST /webhooks/inbound-email/{secret}",
    "GET /t/o/{token}",
    "GET /t/c/{token}",
];

/// Builds the whole application: routes, OpenAPI document and layers.
pub fn router(state: ApiState) -> Router {
    build(state, None)
}

/// Builds the application with `extra` routes behind the same authentication,
/// rate limits and outer layers as the API's own, for benchmarks that compare a
/// handler with a minimal one. `extra` routes are not in the OpenAPI document.
pub fn router_with(state: ApiState, extra: Router<ApiState>) -> Router {
    build(state, Some(extra))
}

fn build(state: ApiState, extra: Option<Router<ApiState>>) -> Router {
    let (api, document) = api_routes(&state).split_for_parts();
    // axum rejects a route layer on a router without routes, so only a given
    // router gets the layers.
    let extra = match extra {
        Some(extra) => extra
            .route_layer(from_fn_with_state(state.clone(), rate_limit::per_caller))
            .route_layer(from_fn_with_state(
                state.clone(),
                authenticate::require_caller,
            ))
            .with_state(state.clone()),
        None => Router::new(),
    };
    let document = std::sync::Arc::new(document);
    let settings = &state.settings;

    let openapi = Router::new()
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let document = document.clone();
                async move { axum::Json(document.as_ref().clone()) }
            }),
        )
        .layer(from_fn_with_state(state.clone(), rate_limit::per_ip));

    Router::new()
        .merge(api)
        .merge(extra)
        .merge(openapi)
        .method_not_allowed_fallback(|| async { axum::http::StatusCode::METHOD_NOT_ALLOWED })
        .fallback(|| async { axum::http::StatusCode::NOT_FOUND })
        .layer(DefaultBodyLimit::max(settings.body_limit_bytes))
        .layer(cors(&settings.cors_origins))
        .layer(from_fn(security_headers::add))
        .layer(from_fn_with_state(
            settings.trusted_proxies.clone(),
            client_ip::resolve,
        ))
        .layer(from_fn(problems::render))
        .layer(from_fn(request_id::assign))
}

fn api_routes(state: &ApiState) -> OpenApiRouter {
    let settings = &state.settings;
    let deadline = from_fn_with_state(settings.request_timeout, deadline::enforce);
    let public = OpenApiRouter::new()
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .route_layer(from_fn_with_state(state.clone(), rate_limit::per_ip))
        .route_layer(deadline.clone());
    let login = OpenApiRouter::new()
        .routes(routes!(sessions::signup))
        .routes(routes!(sessions::login))
        .routes(routes!(sessions::refresh))
        .route_layer(from_fn_with_state(state.clone(), rate_limit::per_ip_login))
        .route_layer(deadline.clone());

    let resources = OpenApiRouter::new()
        .routes(routes!(sessions::logout))
        .routes(routes!(sessions::me))
        .routes(routes!(users::list_users, users::add_user))
        .routes(routes!(api_keys::list_api_keys, api_keys::create_api_key))
        .routes(routes!(api_keys::revoke_api_key))
        .routes(routes!(account::get_account, account::update_account))
        .routes(routes!(leads::list_leads, leads::create_lead))
        .routes(routes!(
            leads::get_lead,
            leads::update_lead,
            leads::delete_lead
        ))
        .routes(routes!(leads::list_signals))
        .routes(routes!(leads::record_consent))
        .routes(routes!(lead_outcomes::set_lead_status))
        .routes(routes!(icp::get_icp))
        .routes(routes!(imports::list_imports))
        .routes(routes!(imports::get_import))
        .routes(routes!(imports::list_rows))
        .routes(routes!(
            campaigns::list_campaigns,
            campaigns::create_campaign
        ))
        .routes(routes!(
            campaigns::get_campaign,
            campaigns::update_campaign,
            campaigns::delete_campaign
        ))
        .routes(routes!(campaigns::list_steps))
        .routes(routes!(campaigns::enroll))
        .routes(routes!(campaigns::pause))
        .routes(routes!(campaigns::resume))
        .routes(routes!(campaigns::stats))
        .routes(routes!(funnel::campaign_funnel))
        .routes(routes!(optimization::decide_ab))
        .routes(routes!(optimization::optimization))
        .routes(routes!(messages::list_messages))
        .routes(routes!(messages::get_message))
        .routes(routes!(replies::list_replies, replies::ingest))
        .routes(routes!(
            suppressions::list_suppressions,
            suppressions::add_suppression
        ))
        .routes(routes!(suppressions::remove_suppression))
        .routes(routes!(alerts::list_alerts))
        .routes(routes!(meetings::list_meetings))
        .routes(routes!(suppressions::export_suppressions))
        .routes(routes!(analytics::funnel))
        .routes(routes!(audit::list_audit))
        .routes(routes!(audit::verify_audit))
        .routes(routes!(
            sending_identities::list_identities,
            sending_identities::create_identity
        ))
        .routes(routes!(
            sending_identities::update_identity,
            sending_identities::delete_identity
        ))
        .routes(routes!(crew_runs::list_crew_runs))
        .routes(routes!(crew_runs::get_crew_run))
        .routes(routes!(jobs::list_jobs))
        .routes(routes!(jobs::retry_job))
        .routes(routes!(jobs::discard_job))
        .routes(routes!(sessions::change_password))
        .route_layer(deadline.clone());

    // Operations that call the AI crew: their own budgets and concurrency cap.
    let ai = OpenApiRouter::new()
        .routes(routes!(leads::score_lead))
        .routes(routes!(campaigns::preview))
        .routes(routes!(campaigns::launch))
        .routes(routes!(crew_runs::retry_crew_run))
        .route_layer(from_fn_with_state(state.clone(), rate_limit::ai))
        .route_layer(deadline);

    let uploads = OpenApiRouter::new()
        .routes(routes!(imports::upload))
        .route_layer(DefaultBodyLimit::max(
            usize::try_from(settings.upload_limit_bytes).unwrap_or(usize::MAX),
        ))
        .route_layer(from_fn_with_state(
            settings.upload_timeout,
            deadline::enforce,
        ));

    let protected = OpenApiRouter::new()
        .merge(resources)
        .merge(ai)
        .merge(uploads)
        .route_layer(from_fn_with_state(state.clone(), rate_limit::per_caller))
        .route_layer(from_fn_with_state(
            state.clone(),
            authenticate::require_caller,
        ));

    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(public)
        .merge(login)
        .merge(protected)
        .merge(webhook_routes(state))
        .with_state(state.clone())
}

/// Provider webhooks and tracking links: no bearer credential, each with its
/// own rate limit, body cap and deadline. The handlers verify every request.
fn webhook_routes(state: &ApiState) -> OpenApiRouter<ApiState> {
    let settings = &state.settings;
    let deadline = from_fn_with_state(settings.request_timeout, deadline::enforce);
    let provider = |name: &'static str, router: OpenApiRouter<ApiState>, body_limit: usize| {
        router
            .route_layer(DefaultBodyLimit::max(body_limit))
            .route_layer(from_fn_with_state(
                (state.clone(), name),
                rate_limit::per_provider,
            ))
            .route_layer(deadline.clone())
    };
    let hooks = &settings.webhooks;

    let sendgrid = provider(
        "sendgrid",
        OpenApiRouter::new().routes(routes!(sendgrid::sendgrid_events)),
        hooks.sendgrid_body_limit,
    );
    let twilio = provider(
        "twilio",
        OpenApiRouter::new()
            .routes(routes!(twilio::twilio_status))
            .routes(routes!(twilio::twilio_inbound)),
        TWILIO_BODY_LIMIT,
    );
    let stripe = provider(
        "stripe",
        OpenApiRouter::new().routes(routes!(stripe::stripe_event)),
        STRIPE_BODY_LIMIT,
    );
    let inbound = provider(
        "inbound_email",
        OpenApiRouter::new().routes(routes!(inbound_email::inbound_email)),
        hooks.inbound_body_limit,
    );
    let tracking = OpenApiRouter::new()
        .routes(routes!(tracking::open_pixel))
        .routes(routes!(tracking::click_redirect))
        .route_layer(from_fn_with_state(
            state.clone(),
            rate_limit::per_ip_tracking,
        ))
        .route_layer(deadline);

    OpenApiRouter::new()
        .merge(sendgrid)
        .merge(twilio)
        .merge(stripe)
        .merge(inbound)
        .merge(tracking)
}

fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::PUT,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static(request_id::REQUEST_ID_HEADER),
        ])
        .expose_headers([
            HeaderName::from_static(request_id::REQUEST_ID_HEADER),
            header::RETRY_AFTER,
        ])
        .max_age(std::time::Duration::from_secs(600))
}
