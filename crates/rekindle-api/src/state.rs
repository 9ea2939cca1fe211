//! State shared by every handler: the services, the token issuer, the
//! limiters and the settings.

use std::sync::Arc;

use rekindle_auth::{
    ACCESS_TOKEN_KEY_PURPOSE, AccessTokenIssuer, AuthError, ExternalVerifier, derive_key,
};
use rekindle_ratelimit::Limiters;
use rekindle_services::App;
use rekindle_webhooks::sendgrid::SendgridVerifier;

use crate::settings::ApiSettings;

#[derive(Clone)]
pub struct ApiState(Arc<Inner>);

pub struct Inner {
    pub app: App,
    pub settings: ApiSettings,
    pub tokens: AccessTokenIssuer,
    /// Verifier of an external identity provider's tokens, when configured.
    pub external: Option<ExternalVerifier>,
    pub limiters: Limiters,
    /// The SendGrid verification key, parsed once. `None` when it is unset or
    /// invalid, and the SendGrid webhook then responds with 503.
    pub sendgrid_verifier: Option<SendgridVerifier>,
}

impl ApiState {
    /// Builds the state; the access-token key is derived from the master key.
    pub fn new(
        app: App,
        settings: ApiSettings,
        master_key: &[u8],
        limiters: Limiters,
    ) -> Result<Self, AuthError> {
        let tokens = AccessTokenIssuer::new(
            derive_key(master_key, ACCESS_TOKEN_KEY_PURPOSE),
            settings.token_issuer.clone(),
            settings.token_audience.clone(),
            settings.access_token_ttl,
        )?;
        let external = settings
            .external_identity
            .clone()
            .map(ExternalVerifier::new)
            .transpose()?;
        let sendgrid_verifier = sendgrid_verifier(settings.webhooks.sendgrid_key.as_deref());
        Ok(Self(Arc::new(Inner {
            app,
            settings,
            tokens,
            external,
            limiters,
            sendgrid_verifier,
        })))
    }
}

/// Parses the SendGrid key, logging why an invalid one is ignored.
fn sendgrid_verifier(key: Option<&str>) -> Option<SendgridVerifier> {
    match SendgridVerifier::new(key?) {
        Ok(verifier) => Some(verifier),
        Err(error) => {
            tracing::error!(%error, "the SendGrid verification key is invalid, so the SendGrid webhook responds with 503 until REKINDLE_WEBHOOK_SENDGRID_VERIFICATION_KEY is fixed");
            None
        }
    }
}

impl std::ops::Deref for ApiState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
