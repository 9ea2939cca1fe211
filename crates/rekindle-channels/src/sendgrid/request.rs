//! The JSON body of SendGrid's v3 mail send request.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;

use crate::email::{LIST_UNSUBSCRIBE_ONE_CLICK, list_unsubscribe_value, provider_html};
use crate::{ChannelError, EmailOptions, NamedAddress, OutboundEmail};

/// Keys of `custom_args`. SendGrid copies them into every event of the
/// message, so the event webhook can find our message and account.
pub const CUSTOM_ARG_MESSAGE_ID: &str = "rekindle_message_id";
pub const CUSTOM_ARG_ACCOUNT_ID: &str = "rekindle_account_id";

#[derive(Debug, Serialize)]
struct MailSend<'a> {
    personalizations: [Personalization<'a>; 1],
    from: Mailbox<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_to: Option<Mailbox<'a>>,
    subject: &'a str,
    /// `text/plain` first: SendGrid requires that order.
    content: [Content<'a>; 2],
    headers: BTreeMap<&'static str, String>,
    custom_args: BTreeMap<&'static str, String>,
    tracking_settings: TrackingSettings,
}

#[derive(Debug, Serialize)]
struct Personalization<'a> {
    to: [Mailbox<'a>; 1],
}

#[derive(Debug, Serialize)]
struct Mailbox<'a> {
    email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

impl<'a> Mailbox<'a> {
    fn from_named(named: &'a NamedAddress) -> Self {
        Self {
            email: named.address.as_str(),
            name: named.name.as_deref(),
        }
    }
}

#[derive(Debug, Serialize)]
struct Content<'a> {
    #[serde(rename = "type")]
    mime_type: &'static str,
    value: Cow<'a, str>,
}

/// Turns off SendGrid's click, open and subscription tracking, whatever the
/// account's defaults: click tracking would rewrite our links, open tracking
/// would add a pixel, and subscription tracking would add a second
/// unsubscribe link beside our signed one.
#[derive(Debug, Serialize)]
struct TrackingSettings {
    click_tracking: Switch,
    open_tracking: Switch,
    subscription_tracking: Switch,
}

#[derive(Debug, Serialize)]
struct Switch {
    enable: bool,
}

const OFF: Switch = Switch { enable: false };

/// Serialises the request body for `email` with the headers of `options`.
/// Call `OutboundEmail::validate` and `EmailOptions::validate` first.
pub(super) fn mail_send_body(
    email: &OutboundEmail,
    options: &EmailOptions,
) -> Result<Vec<u8>, ChannelError> {
    let request = MailSend {
        personalizations: [Personalization {
            to: [Mailbox::from_named(&email.to)],
        }],
        from: Mailbox::from_named(&email.from),
        reply_to: options.reply_to.as_ref().map(Mailbox::from_named),
        subject: &email.subject,
        content: [
            Content {
                mime_type: "text/plain",
                value: Cow::Borrowed(&email.text_body),
            },
            Content {
                mime_type: "text/html",
                value: provider_html(email),
            },
        ],
        headers: headers(email, options),
        custom_args: BTreeMap::from([
            (CUSTOM_ARG_MESSAGE_ID, email.message_id.to_string()),
            (CUSTOM_ARG_ACCOUNT_ID, email.account_id.to_string()),
        ]),
        tracking_settings: TrackingSettings {
            click_tracking: OFF,
            open_tracking: OFF,
            subscription_tracking: OFF,
        },
    };

    serde_json::to_vec(&request).map_err(|error| {
        ChannelError::invalid_input(format!("SendGrid request could not be serialised: {error}"))
    })
}

/// Builds the headers that SendGrid adds as given. Our `Message-ID` replaces
/// SendGrid's own, so that replies quote an id we stored.
fn headers(email: &OutboundEmail, options: &EmailOptions) -> BTreeMap<&'static str, String> {
    let mut headers = BTreeMap::from([
        ("Message-ID", email.internet_message_id.to_string()),
        ("List-Unsubscribe", list_unsubscribe_value(email, options)),
        (
            "List-Unsubscribe-Post",
            LIST_UNSUBSCRIBE_ONE_CLICK.to_owned(),
        ),
    ]);

    if let Some(parent) = &email.in_reply_to {
        headers.insert("In-Reply-To", parent.to_string());
    }
    if !email.references.is_empty() {
        let references: Vec<String> = email.references.iter().map(ToString::to_string).collect();
        headers.insert("References", references.join(" "));
    }
    headers
}
