//! Threading headers and the sender address, read with `mail-parser`.

use mail_parser::{HeaderValue, Message, MessageParser};

use super::email::ThreadingHeaders;

/// Parses a raw header block (the `headers` field). Returns `None` when no
/// header can be read from it.
pub(crate) fn parse_header_block(headers: &[u8]) -> Option<Message<'_>> {
    MessageParser::new().parse_headers(headers)
}

/// Extracts Message-ID, In-Reply-To and References. mail-parser removes the
/// angle brackets around each id.
pub(crate) fn threading_headers(message: &Message<'_>) -> ThreadingHeaders {
    ThreadingHeaders {
        message_id: message.message_id().map(str::to_owned),
        in_reply_to: id_list(message.in_reply_to()),
        references: id_list(message.references()),
    }
}

/// Returns the first address of the From header.
pub(crate) fn from_header_address(message: &Message<'_>) -> Option<String> {
    message
        .from()
        .and_then(|from| from.first())
        .and_then(|address| address.address())
        .map(str::to_owned)
}

/// Parses a From value on its own, such as the `from` field `Jane <jane@x.test>`.
pub(crate) fn parse_from_value(from: &str) -> Option<String> {
    let header = format!("From: {from}\r\n\r\n");
    let message = MessageParser::new().parse_headers(header.as_bytes())?;
    from_header_address(&message)
}

fn id_list(value: &HeaderValue<'_>) -> Vec<String> {
    value
        .as_text_list()
        .map(|ids| ids.iter().map(|id| id.to_string()).collect())
        .unwrap_or_default()
}
