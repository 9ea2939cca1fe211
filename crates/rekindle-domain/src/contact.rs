//! Email addresses and phone numbers, parsed into normalised forms at the edge so
//! that an invalid contact cannot exist past it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Maximum length of an email address (RFC 5321, forward-path limit).
pub const MAX_EMAIL_LEN: usize = 254;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    #[error("invalid email")]
    InvalidEmail,
    #[error("invalid phone")]
    InvalidPhone,
    #[error("no country code")]
    NoCountryCode,
    #[error("unknown region {0:?}: use a two-letter ISO 3166 code such as GB or DE")]
    UnknownRegion(String),
}

/// A syntactically valid email address, stored in lower case so that comparisons
/// ignore letter case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Parses and normalises an address. Besides RFC 5322 syntax, the domain must
    /// have a top-level domain: `name@example` is rejected because no public mail
    /// system delivers to a dotless domain.
    pub fn parse(input: &str) -> Result<Self, ContactError> {
        let trimmed = input.trim();
        if trimmed.is_empty() || trimmed.len() > MAX_EMAIL_LEN {
            return Err(ContactError::InvalidEmail);
        }
        let parsed = email_address::EmailAddress::from_str(trimmed)
            .map_err(|_| ContactError::InvalidEmail)?;
        if parsed.display_part() != "" || trimmed.contains(['<', '>', ' ']) {
            return Err(ContactError::InvalidEmail);
        }

        let domain = parsed.domain();
        if domain.starts_with('[') || !has_valid_tld(domain) {
            return Err(ContactError::InvalidEmail);
        }
        Ok(Self(trimmed.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn domain(&self) -> &str {
        self.0
            .rsplit_once('@')
            .map(|(_, domain)| domain)
            .unwrap_or("")
    }
}

fn has_valid_tld(domain: &str) -> bool {
    let Some((_, tld)) = domain.rsplit_once('.') else {
        return false;
    };
    tld.len() >= 2 && tld.chars().all(|c| c.is_alphanumeric() || c == '-')
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Email {
    type Error = ContactError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

/// A phone number in E.164 form (`+442079460958`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

/// Result of reading a phone number from untrusted input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneOutcome {
    Empty,
    Valid(Phone),
    Invalid(ContactError),
}

impl Phone {
    /// Parses a number written with a `+` or `00` international prefix, or a
    /// national number in `default_region` (ISO 3166 alpha-2). A national number
    /// without a default region is `ContactError::NoCountryCode`.
    pub fn parse(input: &str, default_region: Option<&str>) -> Result<Self, ContactError> {
        let trimmed = input.trim();
        let international = if let Some(rest) = trimmed.strip_prefix("00") {
            Some(format!("+{rest}"))
        } else if trimmed.starts_with('+') {
            Some(trimmed.to_owned())
        } else {
            None
        };

        let number = match (international, default_region) {
            (Some(text), _) => phonenumber::parse(None, &text),
            (None, Some(region)) => phonenumber::parse(Some(parse_region(region)?), trimmed),
            (None, None) => {
                return if trimmed.chars().any(|c| c.is_ascii_digit()) {
                    Err(ContactError::NoCountryCode)
                } else {
                    Err(ContactError::InvalidPhone)
                };
            }
        }
        .map_err(|_| ContactError::InvalidPhone)?;

        if !phonenumber::is_viable(number.to_string()) && !phonenumber::is_valid(&number) {
            return Err(ContactError::InvalidPhone);
        }
        let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
        let digits = e164.len().saturating_sub(1);
        if !(8..=15).contains(&digits) {
            return Err(ContactError::InvalidPhone);
        }
        Ok(Self(e164))
    }

    /// Reads an optional field: blank input is `Empty`, not an error.
    pub fn read(input: &str, default_region: Option<&str>) -> PhoneOutcome {
        if input.trim().is_empty() {
            return PhoneOutcome::Empty;
        }
        match Self::parse(input, default_region) {
            Ok(phone) => PhoneOutcome::Valid(phone),
            Err(error) => PhoneOutcome::Invalid(error),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Parses an ISO 3166 alpha-2 region code for phone parsing.
pub fn parse_region(region: &str) -> Result<phonenumber::country::Id, ContactError> {
    region
        .trim()
        .to_ascii_uppercase()
        .parse::<phonenumber::country::Id>()
        .map_err(|_| ContactError::UnknownRegion(region.to_owned()))
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Phone {
    type Error = ContactError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value, None)
    }
}

impl From<Phone> for String {
    fn from(value: Phone) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_lowercased() {
        let email = Email::parse(" TOM.BECKER@Fernweh-Reisen.example ").unwrap();
        assert_eq!(email.as_str(), "tom.becker@fernweh-reisen.example");
        assert_eq!(email.domain(), "fernweh-reisen.example");
    }

    #[test]
    fn email_rejects_bad_forms() {
        for bad in [
            "priya.raman@@kestrelhealth.example",
            "marco.rossi@example",
            "",
            "a b@c.de",
            "x@y.z",
        ] {
            assert_eq!(Email::parse(bad), Err(ContactError::InvalidEmail), "{bad}");
        }
    }

    #[test]
    fn phone_international_forms() {
        let cases = [
            ("+44 20 7946 0958", "+442079460958"),
            ("+34 912 345 678", "+34912345678"),
            ("+48 22 123 45 67", "+48221234567"),
            ("+81 3-1234-5678", "+81312345678"),
            ("0049 211 998877", "+49211998877"),
            ("+33 1 23 45 67 89", "+33123456789"),
            ("+353 1 555 0199", "+35315550199"),
            ("+1 415 555 0134", "+14155550134"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                Phone::parse(input, None).unwrap().as_str(),
                expected,
                "{input}"
            );
        }
    }

    #[test]
    fn phone_national_needs_region() {
        assert_eq!(
            Phone::parse("(089) 123456", None),
            Err(ContactError::NoCountryCode)
        );
        assert_eq!(
            Phone::parse("030 12345678", Some("DE")).unwrap().as_str(),
            "+493012345678"
        );
        assert_eq!(Phone::read("  ", None), PhoneOutcome::Empty);
        assert!(matches!(
            Phone::parse("030 1", Some("ZZ")),
            Err(ContactError::UnknownRegion(_))
        ));
    }
}
