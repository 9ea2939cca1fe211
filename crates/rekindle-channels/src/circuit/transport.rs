//! Email and SMS transports that send through a circuit breaker.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use super::CircuitRegistry;
use crate::{
    ChannelError, EmailOptions, EmailTransport, OutboundEmail, OutboundSms, SendReceipt,
    SmsTransport,
};

/// The scope of a provider's breakers: one for the provider, or one per
/// sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitScope {
    /// One breaker for the provider, keyed by its name (`sendgrid`). Right
    /// when one account and API key sends everything, and for Twilio with a
    /// fixed number or a Messaging Service, where the message's `from` is
    /// not the number used.
    Provider,
    /// One breaker per provider and sender, keyed `provider:from`
    /// (`twilio:+447700900123`, `smtp:sales@example.com`), so that one
    /// blocked number or sender address does not stop the others.
    ProviderAndSender,
}

/// An email transport that rejects sends while its circuit is open and
/// records the outcome of every send it lets through.
///
/// A rejected send returns `ChannelError::CircuitOpen` with `retry_after`
/// set to the time until the circuit half-opens (`None` while a trial send
/// is in flight), and `inner` is not called.
pub struct CircuitEmailTransport<T: ?Sized> {
    inner: Arc<T>,
    provider: String,
    scope: CircuitScope,
    registry: Arc<CircuitRegistry>,
}

impl<T: EmailTransport + ?Sized> CircuitEmailTransport<T> {
    /// Wraps `inner`. Its breaker is keyed by `provider` alone unless
    /// `with_scope` sets another scope.
    pub fn new(inner: Arc<T>, provider: impl Into<String>, registry: Arc<CircuitRegistry>) -> Self {
        Self {
            inner,
            provider: provider.into(),
            scope: CircuitScope::Provider,
            registry,
        }
    }

    pub fn with_scope(mut self, scope: CircuitScope) -> Self {
        self.scope = scope;
        self
    }

    /// Returns the key of the breaker that `email` goes through.
    pub fn circuit_key(&self, email: &OutboundEmail) -> String {
        circuit_key(&self.provider, self.scope, email.from.address.as_str())
    }

    pub fn inner(&self) -> &Arc<T> {
        &self.inner
    }
}

#[async_trait]
impl<T: EmailTransport + ?Sized> EmailTransport for CircuitEmailTransport<T> {
    async fn send_email(&self, email: &OutboundEmail) -> Result<SendReceipt, ChannelError> {
        let breaker = self.registry.breaker(&self.circuit_key(email))?;
        breaker.call(|| self.inner.send_email(email)).await
    }

    async fn send_email_with(
        &self,
        email: &OutboundEmail,
        options: &EmailOptions,
    ) -> Result<SendReceipt, ChannelError> {
        let breaker = self.registry.breaker(&self.circuit_key(email))?;
        breaker
            .call(|| self.inner.send_email_with(email, options))
            .await
    }
}

/// An SMS or WhatsApp transport that goes through a circuit breaker, as
/// `CircuitEmailTransport` does for email. With
/// `CircuitScope::ProviderAndSender` the sender is the message's `from`
/// number.
pub struct CircuitSmsTransport<T: ?Sized> {
    inner: Arc<T>,
    provider: String,
    scope: CircuitScope,
    registry: Arc<CircuitRegistry>,
}

impl<T: SmsTransport + ?Sized> CircuitSmsTransport<T> {
    /// Wraps `inner`. Its breaker is keyed by `provider` alone unless
    /// `with_scope` sets another scope.
    pub fn new(inner: Arc<T>, provider: impl Into<String>, registry: Arc<CircuitRegistry>) -> Self {
        Self {
            inner,
            provider: provider.into(),
            scope: CircuitScope::Provider,
            registry,
        }
    }

    pub fn with_scope(mut self, scope: CircuitScope) -> Self {
        self.scope = scope;
        self
    }

    /// Returns the key of the breaker that `sms` goes through.
    pub fn circuit_key(&self, sms: &OutboundSms) -> String {
        circuit_key(&self.provider, self.scope, sms.from.as_str())
    }

    pub fn inner(&self) -> &Arc<T> {
        &self.inner
    }
}

#[async_trait]
impl<T: SmsTransport + ?Sized> SmsTransport for CircuitSmsTransport<T> {
    async fn send_sms(&self, sms: &OutboundSms) -> Result<SendReceipt, ChannelError> {
        let breaker = self.registry.breaker(&self.circuit_key(sms))?;
        breaker.call(|| self.inner.send_sms(sms)).await
    }
}

fn circuit_key(provider: &str, scope: CircuitScope, sender: &str) -> String {
    match scope {
        CircuitScope::Provider => provider.to_owned(),
        CircuitScope::ProviderAndSender => format!("{provider}:{sender}"),
    }
}

impl<T: ?Sized> fmt::Debug for CircuitEmailTransport<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitEmailTransport")
            .field("provider", &self.provider)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl<T: ?Sized> fmt::Debug for CircuitSmsTransport<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitSmsTransport")
            .field("provider", &self.provider)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}
