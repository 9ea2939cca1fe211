//! State shared by every handler: the services, the token issuer, the
//! limiters and the settings.

use std::sync::Arc;

use rekindle_auth::{
    ACCESS_TOKEN_KEY_PURPOSE, AccessTokenIssuer, AuthError, ExternalVerifier, derive_key,
};
use rekindle_ratelimit::Limiters;
use rekindle_services::App;

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
        Ok(Self(Arc::new(Inner {
            app,
            settings,
            tokens,
            external,
            limiters,
        })))
    }
}

impl std::ops::Deref for ApiState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
