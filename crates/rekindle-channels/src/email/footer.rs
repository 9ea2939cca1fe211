//! The footer that every marketing email carries: who sent it, the sender's
//! postal address and the unsubscribe link (CAN-SPAM, 15 U.S.C. 7704(a)(5)).

use url::Url;

use super::MAX_DISPLAY_NAME_CHARS;
use super::html::link;
use crate::ChannelError;

/// Maximum postal address length in characters, after its lines are joined.
pub const MAX_POSTAL_ADDRESS_CHARS: usize = 300;

/// The sender line and postal address of a footer. The unsubscribe link comes
/// from `OutboundEmail::list_unsubscribe`, so the footer and the
/// `List-Unsubscribe` header always name the same link.
///
/// Built only through `new`, so the address is never empty and contains no
/// control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailFooter {
    sender: Option<String>,
    postal_address: String,
}

impl EmailFooter {
    /// Checks `postal_address` and puts it on one line, its non-blank lines
    /// joined by commas.
    pub fn new(postal_address: &str) -> Result<Self, ChannelError> {
        let has_control = postal_address
            .chars()
            .any(|character| character.is_control() && character != '\n' && character != '\r');
        if has_control {
            return Err(ChannelError::invalid_input(
                "footer postal address contains a control character other than a line break",
            ));
        }

        let lines: Vec<&str> = postal_address
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect();
        let one_line = lines.join(", ");
        if one_line.is_empty() {
            return Err(ChannelError::invalid_input(
                "footer postal address is empty: every email must carry the sender's postal address",
            ));
        }
        if one_line.chars().count() > MAX_POSTAL_ADDRESS_CHARS {
            return Err(ChannelError::invalid_input(format!(
                "footer postal address is longer than {MAX_POSTAL_ADDRESS_CHARS} characters"
            )));
        }

        Ok(Self {
            sender: None,
            postal_address: one_line,
        })
    }

    /// Adds the line `Sent by <sender>`, for example `Jürgen Müller, Fernweh`.
    pub fn with_sender(self, sender: &str) -> Result<Self, ChannelError> {
        let sender = sender.trim();
        if sender.is_empty() {
            return Err(ChannelError::invalid_input("footer sender is empty"));
        }
        if sender.chars().any(char::is_control) {
            return Err(ChannelError::invalid_input(
                "footer sender contains a control character or line break",
            ));
        }
        if sender.chars().count() > MAX_DISPLAY_NAME_CHARS {
            return Err(ChannelError::invalid_input(format!(
                "footer sender is longer than {MAX_DISPLAY_NAME_CHARS} characters"
            )));
        }

        Ok(Self {
            sender: Some(sender.to_owned()),
            ..self
        })
    }

    pub fn sender(&self) -> Option<&str> {
        self.sender.as_deref()
    }

    /// Returns the postal address on one line.
    pub fn postal_address(&self) -> &str {
        &self.postal_address
    }

    /// Renders the plain-text footer, which starts with the signature
    /// separator `-- ` of RFC 3676 section 4.3.
    pub(crate) fn text(&self, unsubscribe: &Url) -> String {
        let mut lines = vec!["-- ".to_owned()];
        if let Some(sender) = &self.sender {
            lines.push(format!("Sent by {sender}"));
        }
        lines.push(self.postal_address.clone());
        lines.push(format!(
            "To stop receiving these emails, unsubscribe here: {unsubscribe}"
        ));
        lines.join("\n")
    }

    /// Renders the HTML footer: a rule and one escaped paragraph.
    pub(crate) fn html(&self, unsubscribe: &Url) -> String {
        let mut lines = Vec::new();
        if let Some(sender) = &self.sender {
            lines.push(format!(
                "Sent by {}",
                html_escape::encode_quoted_attribute(sender)
            ));
        }
        lines.push(html_escape::encode_quoted_attribute(&self.postal_address).into_owned());
        lines.push(format!(
            "To stop receiving these emails, {}.",
            link(unsubscribe, "unsubscribe here")
        ));
        format!("<hr>\n<p>{}</p>\n", lines.join("<br>\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unsubscribe() -> Url {
        Url::parse("https://links.rekindle.example/unsubscribe/tok?a=1&b=2").unwrap()
    }

    #[test]
    fn address_lines_are_joined() {
        let footer =
            EmailFooter::new("  Fernweh Reisen GmbH\r\n\nHohe Straße 1 \n50667 Köln\n").unwrap();
        assert_eq!(
            footer.postal_address(),
            "Fernweh Reisen GmbH, Hohe Straße 1, 50667 Köln"
        );
    }

    #[test]
    fn bad_addresses_are_rejected() {
        for bad in ["", " \n \n", "Street 1\u{0}", "Street 1\tBerlin"] {
            let error = EmailFooter::new(bad).unwrap_err();
            assert_eq!(
                error.class(),
                rekindle_domain::ErrorClass::InvalidInput,
                "{bad:?}"
            );
        }
        let long = "x".repeat(MAX_POSTAL_ADDRESS_CHARS + 1);
        assert!(EmailFooter::new(&long).is_err());
    }

    #[test]
    fn bad_senders_are_rejected() {
        let footer = EmailFooter::new("1 Example Street, London").unwrap();
        assert!(footer.clone().with_sender(" ").is_err());
        assert!(
            footer
                .clone()
                .with_sender("Sam\nBcc: x@example.com")
                .is_err()
        );
        assert!(
            footer
                .with_sender(&"x".repeat(MAX_DISPLAY_NAME_CHARS + 1))
                .is_err()
        );
    }

    #[test]
    fn text_footer_lines() {
        let footer = EmailFooter::new("1 Example Street\nLondon EC1A 1AA")
            .unwrap()
            .with_sender("Sam Lee, Brightlane")
            .unwrap();
        assert_eq!(
            footer.text(&unsubscribe()),
            "-- \nSent by Sam Lee, Brightlane\n1 Example Street, London EC1A 1AA\n\
             To stop receiving these emails, unsubscribe here: \
             https://links.rekindle.example/unsubscribe/tok?a=1&b=2"
        );
    }

    #[test]
    fn html_footer_is_escaped() {
        let footer = EmailFooter::new("<b>1 Example Street</b> & Co")
            .unwrap()
            .with_sender("Sam \"S\" Lee")
            .unwrap();
        assert_eq!(
            footer.html(&unsubscribe()),
            "<hr>\n<p>Sent by Sam &quot;S&quot; Lee<br>\n\
             &lt;b&gt;1 Example Street&lt;/b&gt; &amp; Co<br>\n\
             To stop receiving these emails, \
             <a href=\"https://links.rekindle.example/unsubscribe/tok?a=1&amp;b=2\">unsubscribe here</a>.</p>\n"
        );
    }
}
