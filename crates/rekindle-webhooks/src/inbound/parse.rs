//! Assembly of an [`InboundEmail`] from the parts of an Inbound Parse body.

use std::collections::BTreeMap;

use encoding_rs::{Encoding, UTF_8};

use super::email::{Envelope, InboundEmail, InboundLimits};
use super::multipart::{RawField, RawParts, read_parts};
use super::threading::{
    from_header_address, parse_from_value, parse_header_block, threading_headers,
};
use crate::error::ParseError;

/// Parses a SendGrid Inbound Parse request body (multipart/form-data, default
/// mode). `content_type_header` is the request's Content-Type with its boundary.
/// Call it only after the URL secret and basic auth checks have passed.
///
/// Text fields are decoded with the character set that the `charsets` field
/// gives for them, then the part's own `charset` parameter, then UTF-8. Bytes
/// that are invalid in that character set become U+FFFD. Attachments are
/// measured but not kept, and the whole email is rejected when one is larger
/// than the per-file limit or all together are larger than the total limit.
pub fn parse_inbound(
    content_type_header: &str,
    raw_body: &[u8],
    limits: &InboundLimits,
) -> Result<InboundEmail, ParseError> {
    let RawParts {
        mut fields,
        attachments,
    } = read_parts(content_type_header, raw_body, limits)?;
    let charsets = parse_charsets(fields.remove("charsets"))?;
    let envelope = parse_envelope(fields.remove("envelope"))?;
    let mut decode = |name: &str| {
        fields
            .remove(name)
            .map(|raw| decode_field(name, raw, &charsets))
    };

    let from = decode("from").ok_or(ParseError::MissingField { field: "from" })?;
    let to = decode("to").ok_or(ParseError::MissingField { field: "to" })?;
    let cc = decode("cc");
    let subject = decode("subject").unwrap_or_default();
    let text = decode("text");
    let html = decode("html");
    let headers = decode("headers").unwrap_or_default();

    let header_block = parse_header_block(headers.as_bytes());
    let threading = header_block
        .as_ref()
        .map(threading_headers)
        .unwrap_or_default();
    let from_address = header_block
        .as_ref()
        .and_then(from_header_address)
        .or_else(|| parse_from_value(&from));

    Ok(InboundEmail {
        from,
        from_address,
        to,
        cc,
        subject,
        text,
        html,
        headers,
        threading,
        envelope,
        charsets,
        attachments,
    })
}

/// Decodes the `charsets` field, a JSON object from field name to character set
/// label, such as `{"text":"iso-8859-1","subject":"UTF-8"}`.
fn parse_charsets(raw: Option<RawField>) -> Result<BTreeMap<String, String>, ParseError> {
    let Some(raw) = raw else {
        return Ok(BTreeMap::new());
    };
    serde_json::from_slice(&raw.bytes).map_err(|error| ParseError::InvalidField {
        field: "charsets".to_owned(),
        reason: error.to_string(),
    })
}

/// Decodes the `envelope` field, such as `{"to":["reply@x.test"],"from":"a@y.test"}`.
fn parse_envelope(raw: Option<RawField>) -> Result<Option<Envelope>, ParseError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    serde_json::from_slice(&raw.bytes)
        .map(Some)
        .map_err(|error| ParseError::InvalidField {
            field: "envelope".to_owned(),
            reason: error.to_string(),
        })
}

fn decode_field(name: &str, raw: RawField, charsets: &BTreeMap<String, String>) -> String {
    let encoding = charsets
        .get(name)
        .or(raw.part_charset.as_ref())
        .and_then(|label| Encoding::for_label(label.trim().as_bytes()))
        .unwrap_or(UTF_8);

    let (text, _had_errors) = encoding.decode_without_bom_handling(&raw.bytes);
    text.into_owned()
}
