//! Reading of the multipart/form-data body with `multer`, under size limits.

use std::collections::BTreeMap;
use std::convert::Infallible;

use bytes::Bytes;
use multer::{Field, Multipart};

use super::email::{AttachmentInfo, InboundLimits};
use crate::error::ParseError;

/// Text fields this crate reads. Other fields (`dkim`, `SPF`, `spam_score`, ...)
/// are skipped without being stored.
const TEXT_FIELDS: &[&str] = &[
    "from", "to", "cc", "subject", "text", "html", "headers", "envelope", "charsets",
];

/// A text field as received, before character set decoding.
pub(crate) struct RawField {
    pub bytes: Vec<u8>,
    /// `charset` parameter of the part's Content-Type, when given.
    pub part_charset: Option<String>,
}

/// The parts of an Inbound Parse body.
pub(crate) struct RawParts {
    pub fields: BTreeMap<String, RawField>,
    pub attachments: Vec<AttachmentInfo>,
}

/// Reads every part of the body. A part with a file name is an attachment, and
/// only its size is kept.
pub(crate) fn read_parts(
    content_type_header: &str,
    raw_body: &[u8],
    limits: &InboundLimits,
) -> Result<RawParts, ParseError> {
    let boundary = multer::parse_boundary(content_type_header).map_err(|error| {
        ParseError::InvalidContentType {
            reason: error.to_string(),
        }
    })?;

    // multer reads from a stream of owned chunks, so the body is copied once.
    let body = Bytes::copy_from_slice(raw_body);
    let stream = futures_util::stream::iter([Ok::<Bytes, Infallible>(body)]);
    let multipart = Multipart::new(stream, boundary);

    // The stream is in memory and always ready, so `block_on` returns without
    // waiting and callers need no async runtime.
    futures_executor::block_on(read_all(multipart, limits))
}

async fn read_all(
    mut multipart: Multipart<'_>,
    limits: &InboundLimits,
) -> Result<RawParts, ParseError> {
    let mut parts = RawParts {
        fields: BTreeMap::new(),
        attachments: Vec::new(),
    };
    let mut total_attachment_bytes = 0;

    while let Some(field) = multipart.next_field().await.map_err(invalid_multipart)? {
        let name = field.name().unwrap_or_default().to_owned();

        if field.file_name().is_some() {
            if parts.attachments.len() == limits.max_attachments {
                return Err(ParseError::TooManyAttachments {
                    max: limits.max_attachments,
                });
            }
            let attachment =
                measure_attachment(field, name, limits, total_attachment_bytes).await?;
            total_attachment_bytes += attachment.size;
            parts.attachments.push(attachment);
        } else if TEXT_FIELDS.contains(&name.as_str()) {
            if parts.fields.contains_key(&name) {
                return Err(ParseError::DuplicateField { field: name });
            }
            let raw = read_text_field(field, &name, limits).await?;
            parts.fields.insert(name, raw);
        }
    }

    Ok(parts)
}

/// Reads an attachment chunk by chunk, keeping only its size, and stops as soon
/// as the per-file or the total limit is passed.
async fn measure_attachment(
    mut field: Field<'_>,
    field_name: String,
    limits: &InboundLimits,
    total_before: u64,
) -> Result<AttachmentInfo, ParseError> {
    let file_name = field.file_name().unwrap_or_default().to_owned();
    let content_type = field.content_type().map(|mime| mime.to_string());

    let mut size: u64 = 0;
    while let Some(chunk) = field.chunk().await.map_err(invalid_multipart)? {
        size += chunk.len() as u64;
        if size > limits.max_attachment_bytes {
            return Err(ParseError::AttachmentTooLarge {
                file_name,
                limit: limits.max_attachment_bytes,
            });
        }
        if total_before + size > limits.max_total_attachment_bytes {
            return Err(ParseError::AttachmentsTooLarge {
                limit: limits.max_total_attachment_bytes,
            });
        }
    }

    Ok(AttachmentInfo {
        field_name,
        file_name,
        content_type,
        size,
    })
}

async fn read_text_field(
    mut field: Field<'_>,
    name: &str,
    limits: &InboundLimits,
) -> Result<RawField, ParseError> {
    let part_charset = field.content_type().and_then(|mime| {
        mime.params()
            .find(|(key, _)| key.as_str().eq_ignore_ascii_case("charset"))
            .map(|(_, value)| value.as_str().to_owned())
    });

    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(invalid_multipart)? {
        if (bytes.len() + chunk.len()) as u64 > limits.max_field_bytes {
            return Err(ParseError::FieldTooLarge {
                field: name.to_owned(),
                limit: limits.max_field_bytes,
            });
        }
        bytes.extend_from_slice(&chunk);
    }

    Ok(RawField {
        bytes,
        part_charset,
    })
}

fn invalid_multipart(error: multer::Error) -> ParseError {
    ParseError::InvalidMultipart {
        reason: error.to_string(),
    }
}
