//! Twilio webhooks: message status callbacks and inbound SMS and WhatsApp
//! messages. The signature covers the public URL Twilio called and the form
//! parameters. That URL comes from the configuration, so TLS termination and
//! proxies in front do not change it. The auth token is the one of the
//! request's `AccountSid`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header as http_header};
use axum::response::IntoResponse;
use rekindle_services::inbound::{InboundOutcome, receive_text};
use rekindle_services::webhooks::apply_twilio_status;
use rekindle_webhooks::VerifyError;
use rekindle_webhooks::twilio::{
    SIGNATURE_HEADER, parse_form, parse_inbound_message, parse_status_callback,
    verify_json_request, verify_request,
};

use super::{RequestMeta, WebhookAck, header, invalid_payload, reject};
use crate::problem::{ApiError, Problem};
use crate::state::ApiState;

const PROVIDER: &str = "twilio";

/// An empty TwiML document, so Twilio sends no automatic reply to the sender.
const EMPTY_TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>";

/// Receives a delivery status change of a message we sent, and applies it.
#[utoipa::path(post, path = "/webhooks/twilio/status", tag = "webhooks",
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "Twilio's status callback form, signed in X-Twilio-Signature."),
    responses((status = 200, body = WebhookAck), (status = 401, body = Problem),
        (status = 413, body = Problem), (status = 422, body = Problem),
        (status = 429, body = Problem), (status = 503, body = Problem)))]
pub async fn twilio_status(
    State(state): State<ApiState>,
    meta: RequestMeta,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WebhookAck>, ApiError> {
    let url = signed_url(&state.settings.webhooks.twilio_status_url, &uri);
    let params = verified_params(&state, &meta, &url, &headers, &body).await?;
    let callback =
        parse_status_callback(&params).map_err(|error| invalid_payload(PROVIDER, error))?;
    let report = apply_twilio_status(&state.app, &callback).await?;
    let status = if report.duplicates > 0 {
        "duplicate"
    } else if report.unmatched > 0 {
        "unmatched"
    } else {
        "applied"
    };
    Ok(Json(WebhookAck {
        status,
        events: Some(1),
    }))
}

/// Receives an SMS or WhatsApp message sent to one of our numbers, matches it
/// to the message it replies to and records the reply. The response is empty
/// TwiML, so Twilio sends nothing back on its own.
#[utoipa::path(post, path = "/webhooks/twilio/inbound", tag = "webhooks",
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "Twilio's incoming message form, signed in X-Twilio-Signature."),
    responses((status = 200, content_type = "text/xml", body = String),
        (status = 401, body = Problem), (status = 413, body = Problem),
        (status = 422, body = Problem), (status = 429, body = Problem),
        (status = 503, body = Problem)))]
pub async fn twilio_inbound(
    State(state): State<ApiState>,
    meta: RequestMeta,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let settings = &state.settings.webhooks;
    let url = signed_url(&settings.twilio_inbound_url, &uri);
    let params = verified_params(&state, &meta, &url, &headers, &body).await?;
    let message =
        parse_inbound_message(&params).map_err(|error| invalid_payload(PROVIDER, error))?;

    let outcome = receive_text(&state.app, &message, &settings.twilio_shared_numbers).await?;
    if let InboundOutcome::Ingested {
        account_id, reply, ..
    } = &outcome
    {
        tracing::info!(account_id = %account_id, reply_id = %reply.reply_id, message_sid = %message.message_sid, "inbound text message ingested");
    }
    Ok((
        [(http_header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        EMPTY_TWIML,
    ))
}

/// Returns the URL Twilio signed: the configured public URL of the endpoint
/// with the query string of the request as received.
fn signed_url(configured: &str, uri: &Uri) -> String {
    let base = configured
        .split_once('?')
        .map_or(configured, |(base, _)| base);
    match uri.query() {
        Some(query) if !query.is_empty() => format!("{base}?{query}"),
        _ => base.to_owned(),
    }
}

/// Verifies the request and returns its form parameters. A JSON body is
/// verified with the `bodySHA256` variant but is not a form this endpoint reads.
async fn verified_params(
    state: &ApiState,
    meta: &RequestMeta,
    url: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Vec<(String, String)>, ApiError> {
    let signature = header(headers, SIGNATURE_HEADER);
    let is_json = header(headers, "content-type")
        .split(';')
        .next()
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));

    if is_json {
        let token = auth_token(state, None);
        let verified = token.and_then(|token| verify_json_request(token, url, body, signature));
        if let Err(error) = verified {
            return Err(reject(state, PROVIDER, meta, error).await);
        }
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_payload",
            "the request was verified, but this endpoint reads Twilio's form-encoded callbacks, not JSON",
        ));
    }

    let params = parse_form(body);
    let account_sid = params
        .iter()
        .find(|(name, _)| name == "AccountSid")
        .map(|(_, value)| value.as_str());
    let verified = auth_token(state, account_sid)
        .and_then(|token| verify_request(token, url, &params, signature));
    if let Err(error) = verified {
        return Err(reject(state, PROVIDER, meta, error).await);
    }
    Ok(params)
}

/// Finds the auth token of `account_sid`, or the first configured one for a
/// request without a known account.
fn auth_token<'a>(state: &'a ApiState, account_sid: Option<&str>) -> Result<&'a str, VerifyError> {
    let tokens = &state.settings.webhooks.twilio_tokens;
    let token = account_sid
        .and_then(|sid| tokens.iter().find(|(known, _)| known == sid))
        .or_else(|| tokens.first())
        .map(|(_, token)| token.as_str());
    token
        .filter(|token| !token.is_empty())
        .ok_or(VerifyError::NotConfigured {
            what: "Twilio auth token",
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_url_keeps_request_query() {
        let uri: Uri = "/webhooks/twilio/status?foo=1&bar=2".parse().unwrap();
        assert_eq!(
            signed_url("https://hooks.example.com/twilio", &uri),
            "https://hooks.example.com/twilio?foo=1&bar=2"
        );
        let bare: Uri = "/webhooks/twilio/status".parse().unwrap();
        assert_eq!(
            signed_url("https://hooks.example.com/twilio?old=1", &bare),
            "https://hooks.example.com/twilio"
        );
    }
}
