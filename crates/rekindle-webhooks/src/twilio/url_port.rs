//! URL forms that Twilio may have signed.
//!
//! Twilio does not always sign the URL exactly as it was configured: a request to
//! `https://host:1234/x` may be signed as `https://host/x`, and one to
//! `https://host/x` as `https://host:443/x`. Twilio's own validators (for example
//! twilio-python's `RequestValidator`) therefore accept the URL with the port and
//! without it. The other bytes of the URL are kept exactly, which is why this
//! module edits the string instead of re-serialising it with a URL parser (that
//! would change case, percent-encoding or an empty path, and so the signed bytes).

use std::borrow::Cow;

/// Returns the URL as given, then the same URL with the scheme's default port
/// added (when it has no port) or with its explicit port removed (when it has one).
/// The second form is absent when the URL has no `scheme://` prefix, or no port
/// and a scheme other than http or https.
pub(crate) fn signed_url_candidates(url: &str) -> Vec<Cow<'_, str>> {
    let mut candidates = vec![Cow::Borrowed(url)];
    if let Some(other) = toggle_port(url) {
        candidates.push(Cow::Owned(other));
    }
    candidates
}

fn toggle_port(url: &str) -> Option<String> {
    let (scheme, rest_start) = url
        .split_once("://")
        .map(|(scheme, _)| (scheme, scheme.len() + 3))?;
    let authority_end = url[rest_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |offset| rest_start + offset);
    let authority = &url[rest_start..authority_end];

    match port_colon(authority) {
        Some(colon) => {
            let colon = rest_start + colon;
            Some(format!("{}{}", &url[..colon], &url[authority_end..]))
        }
        None => {
            let port = default_port(scheme)?;
            Some(format!(
                "{}:{port}{}",
                &url[..authority_end],
                &url[authority_end..]
            ))
        }
    }
}

/// Returns the offset of the `:` before the port inside an authority
/// (`user:password@host:port`), or `None` when there is no port.
fn port_colon(authority: &str) -> Option<usize> {
    let host_start = authority.rfind('@').map_or(0, |at| at + 1);
    let host_and_port = &authority[host_start..];

    // An IPv6 literal such as `[::1]` contains colons of its own.
    let search_from = match host_and_port.strip_prefix('[') {
        Some(_) => host_and_port.find(']')? + 1,
        None => 0,
    };
    let colon = host_and_port[search_from..].find(':')? + search_from;

    Some(host_start + colon)
}

fn default_port(scheme: &str) -> Option<u16> {
    if scheme.eq_ignore_ascii_case("https") {
        Some(443)
    } else if scheme.eq_ignore_ascii_case("http") {
        Some(80)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn other_form(url: &str) -> Option<String> {
        signed_url_candidates(url)
            .get(1)
            .map(|form| form.to_string())
    }

    #[test]
    fn default_port_added() {
        assert_eq!(
            other_form("https://example.com/hook?a=1").as_deref(),
            Some("https://example.com:443/hook?a=1")
        );
        assert_eq!(
            other_form("http://example.com").as_deref(),
            Some("http://example.com:80")
        );
    }

    #[test]
    fn explicit_port_removed() {
        assert_eq!(
            other_form("https://example.com:8443/hook").as_deref(),
            Some("https://example.com/hook")
        );
        assert_eq!(
            other_form("https://user:secret@example.com:8443/hook").as_deref(),
            Some("https://user:secret@example.com/hook")
        );
    }

    #[test]
    fn ipv6_literal_ports() {
        assert_eq!(
            other_form("https://[::1]/hook").as_deref(),
            Some("https://[::1]:443/hook")
        );
        assert_eq!(
            other_form("https://[::1]:8443/hook").as_deref(),
            Some("https://[::1]/hook")
        );
    }

    #[test]
    fn given_form_comes_first() {
        let candidates = signed_url_candidates("https://Example.com/a%2fb");
        assert_eq!(candidates[0], "https://Example.com/a%2fb");
        assert_eq!(candidates[1], "https://Example.com:443/a%2fb");
    }

    #[test]
    fn no_second_form_without_scheme() {
        assert_eq!(other_form("example.com/hook"), None);
        assert_eq!(other_form("ftp://example.com/hook"), None);
    }
}
