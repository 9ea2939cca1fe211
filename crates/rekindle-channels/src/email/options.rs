//! Optional headers of an email that `OutboundEmail` has no field for.

use std::fmt;

use url::Url;

use super::{NamedAddress, validate_name};
use crate::ChannelError;

/// Optional headers for `EmailTransport::send_email_with`: the `Reply-To`
/// mailbox and a `mailto:` address for `List-Unsubscribe`.
///
/// `Debug` shows only which options are set, so that logging them never logs
/// an address.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct EmailOptions {
    /// The mailbox that replies go to, for example the inbound address that
    /// reads and classifies replies.
    pub reply_to: Option<NamedAddress>,
    /// A `mailto:` URL that the `List-Unsubscribe` header lists after the
    /// one-click https link (RFC 2369 section 3.2), for mail clients that
    /// unsubscribe by email.
    pub list_unsubscribe_mailto: Option<Url>,
}

impl EmailOptions {
    pub fn with_reply_to(self, reply_to: NamedAddress) -> Self {
        Self {
            reply_to: Some(reply_to),
            ..self
        }
    }

    pub fn with_list_unsubscribe_mailto(self, mailto: Url) -> Self {
        Self {
            list_unsubscribe_mailto: Some(mailto),
            ..self
        }
    }

    /// Returns true when no option is set, so the email is the same as one
    /// sent with `send_email`.
    pub fn is_empty(&self) -> bool {
        self.reply_to.is_none() && self.list_unsubscribe_mailto.is_none()
    }

    /// Checks the reply-to name and the `mailto:` URL. The error names the
    /// field.
    pub fn validate(&self) -> Result<(), ChannelError> {
        if let Some(reply_to) = &self.reply_to {
            validate_name("reply_to.name", reply_to.name.as_deref())?;
        }
        if let Some(mailto) = &self.list_unsubscribe_mailto {
            validate_mailto(mailto)?;
        }
        Ok(())
    }
}

/// Checks that `url` is a `mailto:` URL with an address (RFC 6068). `Url`
/// percent-encodes spaces, angle brackets and non-ASCII text, so the value
/// fits in `<...>`.
fn validate_mailto(url: &Url) -> Result<(), ChannelError> {
    if url.scheme() != "mailto" {
        return Err(ChannelError::invalid_input(format!(
            "list_unsubscribe_mailto must be a mailto: URL, got scheme {:?}",
            url.scheme()
        )));
    }
    if !url.path().contains('@') {
        return Err(ChannelError::invalid_input(
            "list_unsubscribe_mailto has no address: expected mailto:name@domain",
        ));
    }
    Ok(())
}

impl fmt::Debug for EmailOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailOptions")
            .field("reply_to_set", &self.reply_to.is_some())
            .field(
                "list_unsubscribe_mailto_set",
                &self.list_unsubscribe_mailto.is_some(),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use rekindle_domain::{Email, ErrorClass};

    use super::*;

    #[test]
    fn mailto_must_be_mailto() {
        let https = EmailOptions::default()
            .with_list_unsubscribe_mailto(Url::parse("https://x.example/u").unwrap());
        let error = https.validate().unwrap_err();
        assert_eq!(error.class(), ErrorClass::InvalidInput);
        assert!(error.message().contains("\"https\""), "{error}");

        let no_address =
            EmailOptions::default().with_list_unsubscribe_mailto(Url::parse("mailto:").unwrap());
        assert!(no_address.validate().is_err());

        let good = EmailOptions::default().with_list_unsubscribe_mailto(
            Url::parse("mailto:unsubscribe@rekindle.example?subject=tok").unwrap(),
        );
        assert_eq!(good.validate(), Ok(()));
    }

    #[test]
    fn reply_to_name_checked() {
        let address = Email::parse("replies@rekindle.example").unwrap();
        let options = EmailOptions::default()
            .with_reply_to(NamedAddress::new("Replies\r\nBcc: x@example.com", address));
        let error = options.validate().unwrap_err();
        assert!(error.message().starts_with("reply_to.name"), "{error}");
    }

    #[test]
    fn debug_hides_addresses() {
        let address = Email::parse("replies@rekindle.example").unwrap();
        let options = EmailOptions::default().with_reply_to(NamedAddress::without_name(address));
        let text = format!("{options:?}");
        assert!(!text.contains("replies@"), "{text}");
        assert!(text.contains("reply_to_set: true"), "{text}");
        assert!(!options.is_empty());
        assert!(EmailOptions::default().is_empty());
    }
}
