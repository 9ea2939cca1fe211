//! Extractors whose rejections are problem details that name the field at
//! fault: JSON bodies, query strings and ids in the path.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::problem::ApiError;

/// A JSON request body.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|media| {
                let media = media.trim();
                media.eq_ignore_ascii_case("application/json")
                    || (media.starts_with("application/") && media.ends_with("+json"))
            });
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body with Content-Type: application/json",
            ));
        }
        let bytes =
            Bytes::from_request(request, state)
                .await
                .map_err(|rejection| match rejection.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => {
                        ApiError::from_status(StatusCode::PAYLOAD_TOO_LARGE)
                    }
                    status => {
                        ApiError::new(status, "bad_request", "the request body could not be read")
                    }
                })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses JSON, naming the path of the first field that does not fit.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("the body is not valid JSON: {inner}"),
            )
        } else {
            let field = if path == "." { "body".to_owned() } else { path };
            ApiError::invalid(field.clone(), format!("{field}: {inner}"))
        }
    })
}

/// A query string.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded_parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(ApiQuery)
            .map_err(|error| {
                let field = error.path().to_string();
                let inner = error.into_inner();
                ApiError::invalid(field.clone(), format!("query parameter {field}: {inner}"))
            })
    }
}

fn form_urlencoded_parse(input: &[u8]) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(input)
}

/// Parses an id taken from the path.
pub fn path_id(name: &str, text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text).map_err(|_| {
        ApiError::invalid(
            name,
            format!(
                "{name} must be a UUID such as 0190a4d2-7c1e-7cc2-9f0e-5b7f7a1d2c3e, got {text:?}"
            ),
        )
    })
}

/// The one id in a route's path, such as `{id}` in `/api/v1/leads/{id}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathId(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(text) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::from_status(StatusCode::NOT_FOUND))?;
        path_id("id", &text).map(PathId)
    }
}
