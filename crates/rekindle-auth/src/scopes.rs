//! The fixed vocabulary of API key scopes, `resource:access`, and the set
//! type that decides whether a key may do something.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One permission of an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    LeadsRead,
    LeadsWrite,
    ImportsWrite,
    CampaignsRead,
    CampaignsWrite,
    MessagesRead,
    RepliesRead,
    RepliesWrite,
    SuppressionsRead,
    SuppressionsWrite,
    AnalyticsRead,
}

/// A string that is not in the scope vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope {value:?}: expected one of {expected}")]
pub struct UnknownScope {
    pub value: String,
    pub expected: String,
}

impl Scope {
    /// Every scope, in declaration order.
    pub const ALL: &'static [Scope] = &[
        Scope::LeadsRead,
        Scope::LeadsWrite,
        Scope::ImportsWrite,
        Scope::CampaignsRead,
        Scope::CampaignsWrite,
        Scope::MessagesRead,
        Scope::RepliesRead,
        Scope::RepliesWrite,
        Scope::SuppressionsRead,
        Scope::SuppressionsWrite,
        Scope::AnalyticsRead,
    ];

    /// Returns the stored and serialised form, such as `leads:read`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::LeadsRead => "leads:read",
            Scope::LeadsWrite => "leads:write",
            Scope::ImportsWrite => "imports:write",
            Scope::CampaignsRead => "campaigns:read",
            Scope::CampaignsWrite => "campaigns:write",
            Scope::MessagesRead => "messages:read",
            Scope::RepliesRead => "replies:read",
            Scope::RepliesWrite => "replies:write",
            Scope::SuppressionsRead => "suppressions:read",
            Scope::SuppressionsWrite => "suppressions:write",
            Scope::AnalyticsRead => "analytics:read",
        }
    }

    /// Returns the write scope of the same resource, for a read scope whose
    /// resource has one. Holding that write scope also grants this scope.
    pub fn granted_by_write(self) -> Option<Scope> {
        match self {
            Scope::LeadsRead => Some(Scope::LeadsWrite),
            Scope::CampaignsRead => Some(Scope::CampaignsWrite),
            Scope::RepliesRead => Some(Scope::RepliesWrite),
            Scope::SuppressionsRead => Some(Scope::SuppressionsWrite),
            _ => None,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .iter()
            .copied()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| UnknownScope {
                value: s.to_owned(),
                expected: Scope::ALL
                    .iter()
                    .map(|scope| scope.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Cow::<str>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The scopes granted to one API key. Serialised as a JSON array of scope
/// strings. `FromStr` and `Display` use the space-separated form of OAuth 2
/// (RFC 6749 section 3.3), such as `leads:read replies:write`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Scopes(BTreeSet<Scope>);

impl Scopes {
    /// Creates an empty set, which allows nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a scope.
    pub fn insert(&mut self, scope: Scope) {
        self.0.insert(scope);
    }

    /// Tells whether `scope` was granted explicitly.
    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    /// Tells whether a request that needs `required` may go ahead: the scope
    /// itself was granted, or it is a read scope and the write scope of the
    /// same resource was granted.
    pub fn allows(&self, required: Scope) -> bool {
        if self.contains(required) {
            return true;
        }

        required
            .granted_by_write()
            .is_some_and(|write| self.contains(write))
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl FromStr for Scopes {
    type Err = UnknownScope;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.split_ascii_whitespace().map(str::parse).collect()
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Scope::as_str).collect();
        f.write_str(&names.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_round_trips() {
        for &scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>(), Ok(scope));
            assert_eq!(scope.to_string(), scope.as_str());
        }
        assert_eq!(Scope::ALL.len(), 11);
    }

    #[test]
    fn unknown_scope_lists_vocabulary() {
        let error = "leads:delete".parse::<Scope>().unwrap_err();

        assert_eq!(error.value, "leads:delete");
        assert!(error.expected.contains("leads:write"), "{error}");
        assert!("LEADS:READ".parse::<Scope>().is_err());
        assert!("".parse::<Scope>().is_err());
    }

    #[test]
    fn write_grants_read_of_same_resource() {
        let scopes: Scopes = "leads:write".parse().unwrap();

        assert!(scopes.allows(Scope::LeadsWrite));
        assert!(scopes.allows(Scope::LeadsRead));
        assert!(!scopes.allows(Scope::CampaignsRead));
        assert!(!scopes.allows(Scope::RepliesRead));
    }

    #[test]
    fn read_never_grants_write() {
        let scopes: Scopes = Scope::ALL
            .iter()
            .copied()
            .filter(|scope| scope.as_str().ends_with(":read"))
            .collect();

        for &scope in Scope::ALL {
            let is_write = scope.as_str().ends_with(":write");
            assert_eq!(scopes.allows(scope), !is_write, "{scope}");
        }
    }

    #[test]
    fn granted_by_write_matches_names() {
        for &scope in Scope::ALL {
            let (resource, access) = scope.as_str().split_once(':').unwrap();
            let write_name = format!("{resource}:write");
            let expected = if access == "read" {
                write_name.parse::<Scope>().ok()
            } else {
                None
            };

            assert_eq!(scope.granted_by_write(), expected, "{scope}");
        }
    }

    #[test]
    fn empty_set_allows_nothing() {
        let scopes = Scopes::new();

        assert!(scopes.is_empty());
        for &scope in Scope::ALL {
            assert!(!scopes.allows(scope), "{scope}");
        }
    }

    #[test]
    fn scopes_parse_space_separated() {
        let scopes: Scopes = "  replies:write\tleads:read  ".parse().unwrap();

        assert!(scopes.contains(Scope::RepliesWrite));
        assert!(scopes.contains(Scope::LeadsRead));
        assert_eq!(scopes.iter().count(), 2);
        assert_eq!(scopes.to_string(), "leads:read replies:write");
        assert!("leads:read bogus".parse::<Scopes>().is_err());
        assert!("".parse::<Scopes>().unwrap().is_empty());
    }

    #[test]
    fn serde_uses_strings() {
        let scopes: Scopes = [Scope::ImportsWrite, Scope::AnalyticsRead]
            .into_iter()
            .collect();

        let json = serde_json::to_string(&scopes).unwrap();
        assert_eq!(json, r#"["imports:write","analytics:read"]"#);

        let back: Scopes = serde_json::from_str(&json).unwrap();
        assert_eq!(back, scopes);

        assert!(serde_json::from_str::<Scopes>(r#"["imports:read"]"#).is_err());
        assert_eq!(
            serde_json::to_string(&Scope::MessagesRead).unwrap(),
            r#""messages:read""#
        );
    }
}
