//! The messages the provider tests send, and the exact text and HTML parts
//! that the footer and the HTML conversion must produce for them.

use rekindle_channels::{
    EmailFooter, EmailOptions, InternetMessageId, NamedAddress, OutboundEmail, OutboundSms,
};
use rekindle_domain::{AccountId, Email, LeadId, MessageId, Phone};
use url::Url;

pub const UNSUBSCRIBE: &str = "https://links.rekindle.example/unsubscribe/AQIDBAUG-token_x";
pub const UNSUBSCRIBE_MAILTO: &str =
    "mailto:unsubscribe@inbound.rekindle.example?subject=AQIDBAUG-token_x";
pub const MESSAGE_ID: &str = "0190f3c2a1b2c3d4@fernweh-reisen.example";
pub const FROM: &str = "juergen@fernweh-reisen.example";
pub const TO: &str = "zoe@brightlane.example";
pub const REPLY_TO: &str = "replies@inbound.rekindle.example";
pub const SUBJECT: &str = "Grüße aus Köln — kurze Frage zu 2027 🚀";

/// The body as the writer produced it, without a footer. The `<Q3>` and `&`
/// must be escaped in the HTML part.
pub const BODY: &str =
    "Hallo Zoë,\n\nes ist eine Weile her. Hätten Sie 15 Minuten für <Q3> & 2027?\n\nJürgen";

/// The plain-text part after `with_footer(&footer())`.
pub const EXPECTED_TEXT: &str = "Hallo Zoë,\n\n\
es ist eine Weile her. Hätten Sie 15 Minuten für <Q3> & 2027?\n\n\
Jürgen\n\n\
-- \n\
Sent by Jürgen Müller, Fernweh\n\
Fernweh Reisen GmbH, Hohe Straße 1, 50667 Köln\n\
To stop receiving these emails, unsubscribe here: \
https://links.rekindle.example/unsubscribe/AQIDBAUG-token_x";

/// The HTML part after `with_footer(&footer())`.
pub const EXPECTED_HTML: &str = "<!DOCTYPE html>\n<html>\n<head>\n\
<meta charset=\"utf-8\">\n</head>\n<body>\n\
<p>Hallo Zoë,</p>\n\
<p>es ist eine Weile her. Hätten Sie 15 Minuten für &lt;Q3&gt; &amp; 2027?</p>\n\
<p>Jürgen</p>\n\
<hr>\n\
<p>Sent by Jürgen Müller, Fernweh<br>\n\
Fernweh Reisen GmbH, Hohe Straße 1, 50667 Köln<br>\n\
To stop receiving these emails, \
<a href=\"https://links.rekindle.example/unsubscribe/AQIDBAUG-token_x\">unsubscribe here</a>.</p>\n\
</body>\n</html>\n";

pub fn footer() -> EmailFooter {
    EmailFooter::new("Fernweh Reisen GmbH\nHohe Straße 1\n50667 Köln")
        .unwrap()
        .with_sender("Jürgen Müller, Fernweh")
        .unwrap()
}

/// Returns an email without footer, HTML part or threading headers.
pub fn plain_email() -> OutboundEmail {
    OutboundEmail {
        account_id: AccountId::new(),
        lead_id: LeadId::new(),
        message_id: MessageId::new(),
        from: NamedAddress::new("Jürgen Müller, Fernweh", Email::parse(FROM).unwrap()),
        to: NamedAddress::new("Zoë Ångström", Email::parse(TO).unwrap()),
        subject: SUBJECT.into(),
        text_body: BODY.into(),
        html_body: None,
        internet_message_id: InternetMessageId::parse(MESSAGE_ID).unwrap(),
        list_unsubscribe: Url::parse(UNSUBSCRIBE).unwrap(),
        in_reply_to: None,
        references: Vec::new(),
    }
}

/// Returns a follow-up with the footer in both parts and threading headers.
pub fn email() -> OutboundEmail {
    let first = InternetMessageId::parse("first.1@fernweh-reisen.example").unwrap();
    let second = InternetMessageId::parse("second.2@fernweh-reisen.example").unwrap();
    let mut email = plain_email().with_footer(&footer());
    email.in_reply_to = Some(second.clone());
    email.references = vec![first, second];
    email
}

/// Reply-To and a mailto unsubscribe address.
pub fn options() -> EmailOptions {
    EmailOptions::default()
        .with_reply_to(NamedAddress::new(
            "Jürgen Müller",
            Email::parse(REPLY_TO).unwrap(),
        ))
        .with_list_unsubscribe_mailto(Url::parse(UNSUBSCRIBE_MAILTO).unwrap())
}

pub fn sms() -> OutboundSms {
    OutboundSms {
        account_id: AccountId::new(),
        lead_id: LeadId::new(),
        message_id: MessageId::new(),
        from: Phone::parse("+44 20 7946 0958", None).unwrap(),
        to: Phone::parse("+34 912 345 678", None).unwrap(),
        body: "Hola Lucía, ¿hablamos? 50% & más. Responde STOP para no recibir más.".into(),
    }
}
