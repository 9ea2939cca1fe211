//! Errors of signature checks and of payload parsing. Messages name the header,
//! parameter or field involved but never contain a secret, a signature or a body.

/// Error of a signature or credential check. Every variant means the request is
/// rejected, and [`VerifyError::code`] gives the stable code for the problem
/// details and the logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A required header or query parameter is absent or empty.
    #[error("missing {item}")]
    Missing { item: &'static str },

    /// The signature value cannot be decoded (invalid base64, hex or DER, or a
    /// header without the expected fields).
    #[error("malformed signature: {reason}")]
    MalformedSignature { reason: &'static str },

    /// The signature is well formed but does not match the request.
    #[error("signature does not match the request")]
    BadSignature,

    /// The signed timestamp is further from the current time than the tolerance.
    #[error(
        "timestamp {timestamp} is more than {tolerance_secs} s away from the current time {now}"
    )]
    TimestampOutOfTolerance {
        timestamp: i64,
        now: i64,
        tolerance_secs: i64,
    },

    /// The body does not hash to the digest that the signed URL carries.
    #[error("body SHA-256 does not match the bodySHA256 query parameter: {reason}")]
    BodyHashMismatch { reason: &'static str },

    /// Credentials (HTTP basic auth or a URL secret) are invalid.
    #[error("invalid credentials: {reason}")]
    BadCredentials { reason: &'static str },

    /// The secret, token or key for this check is empty, so nothing could be
    /// verified. Requests are rejected rather than accepted unchecked.
    #[error("{what} is not configured, so the request is rejected")]
    NotConfigured { what: &'static str },

    /// The configured verification key cannot be parsed.
    #[error("invalid {what}: {reason}")]
    InvalidKey {
        what: &'static str,
        reason: &'static str,
    },
}

impl VerifyError {
    /// Returns the stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::Missing { .. } => "missing_header",
            VerifyError::MalformedSignature { .. } => "malformed_signature",
            VerifyError::BadSignature => "bad_signature",
            VerifyError::TimestampOutOfTolerance { .. } => "timestamp_out_of_tolerance",
            VerifyError::BodyHashMismatch { .. } => "body_hash_mismatch",
            VerifyError::BadCredentials { .. } => "bad_credentials",
            VerifyError::NotConfigured { .. } => "not_configured",
            VerifyError::InvalidKey { .. } => "invalid_key",
        }
    }
}

/// Error of parsing a verified payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The body is not the JSON document the provider sends.
    #[error("invalid JSON body: {reason}")]
    InvalidJson { reason: String },

    /// A SendGrid batch contains more events than the caller allows.
    #[error("batch contains {count} events, more than the maximum of {max}")]
    TooManyEvents { count: usize, max: usize },

    /// A required form or multipart field is absent.
    #[error("missing field {field}")]
    MissingField { field: &'static str },

    /// A field appears more than once where one value is expected.
    #[error("field {field} appears more than once")]
    DuplicateField { field: String },

    /// A field has a value of the wrong form.
    #[error("invalid field {field}: {reason}")]
    InvalidField { field: String, reason: String },

    /// The Content-Type header does not describe a multipart/form-data body.
    #[error("invalid content type: {reason}")]
    InvalidContentType { reason: String },

    /// The multipart body cannot be read.
    #[error("invalid multipart body: {reason}")]
    InvalidMultipart { reason: String },

    /// A text field is larger than its limit.
    #[error("field {field} is larger than the limit of {limit} bytes")]
    FieldTooLarge { field: String, limit: u64 },

    /// One attachment is larger than the per-file limit.
    #[error("attachment {file_name:?} is larger than the per-file limit of {limit} bytes")]
    AttachmentTooLarge { file_name: String, limit: u64 },

    /// All attachments together are larger than the total limit.
    #[error("attachments total more than the limit of {limit} bytes")]
    AttachmentsTooLarge { limit: u64 },

    /// The email has more attachments than allowed.
    #[error("email has more than the maximum of {max} attachments")]
    TooManyAttachments { max: usize },
}

impl ParseError {
    /// Returns the stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::InvalidJson { .. } => "invalid_json",
            ParseError::TooManyEvents { .. } => "too_many_events",
            ParseError::MissingField { .. } => "missing_field",
            ParseError::DuplicateField { .. } => "duplicate_field",
            ParseError::InvalidField { .. } => "invalid_field",
            ParseError::InvalidContentType { .. } => "invalid_content_type",
            ParseError::InvalidMultipart { .. } => "invalid_multipart",
            ParseError::FieldTooLarge { .. } => "field_too_large",
            ParseError::AttachmentTooLarge { .. } => "attachment_too_large",
            ParseError::AttachmentsTooLarge { .. } => "attachments_too_large",
            ParseError::TooManyAttachments { .. } => "too_many_attachments",
        }
    }
}
