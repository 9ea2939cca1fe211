//! Checks on output text: leftover placeholders, links outside an allow list,
//! and counts of words and characters.

use std::sync::LazyLock;

use regex::Regex;
use url::Url;

/// Template placeholders a model leaves behind: `{first_name}`, `{{company}}`,
/// `[Name]`, `[Your Company]`, `<first name>`, `%FIRST_NAME%`, `$first_name`.
static PLACEHOLDER_PATTERNS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"\{\{?[^{}\n]{0,40}\}?\}",
        r"\[[^\[\]\n]{1,40}\]",
        r"<[^<>\n]{1,40}>",
        r"%[A-Za-z_][A-Za-z0-9_ ]{0,30}%",
        r"\$[A-Za-z_][A-Za-z0-9]*_[A-Za-z0-9_]+",
    ]
    .iter()
    .map(|pattern| Regex::new(pattern).expect("placeholder pattern is a valid regex"))
    .collect()
});

/// Returns every placeholder found, in pattern order.
pub fn find_placeholders(text: &str) -> Vec<String> {
    PLACEHOLDER_PATTERNS
        .iter()
        .flat_map(|pattern| {
            pattern
                .find_iter(text)
                .map(|found| found.as_str().to_owned())
        })
        .collect()
}

/// Hosts whose links an output may contain. A host also allows its
/// subdomains: `example.com` allows `www.example.com`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkAllowList {
    hosts: Vec<String>,
}

impl LinkAllowList {
    /// Creates a list that allows no link and no email address.
    pub fn none() -> Self {
        Self::default()
    }

    pub fn new(hosts: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            hosts: hosts
                .into_iter()
                .map(|host| {
                    host.into()
                        .trim()
                        .trim_end_matches('.')
                        .to_ascii_lowercase()
                })
                .filter(|host| !host.is_empty())
                .collect(),
        }
    }

    pub fn allows_host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts
            .iter()
            .any(|allowed| host == *allowed || host.ends_with(&format!(".{allowed}")))
    }
}

/// Returns every link and email address whose host the list does not allow.
/// Links without a scheme (`evil.example/x`) count too, because mail clients
/// turn them into links.
pub fn find_disallowed_links(text: &str, allowed: &LinkAllowList) -> Vec<String> {
    let mut finder = linkify::LinkFinder::new();
    finder.url_must_have_scheme(false);

    finder
        .links(text)
        .map(|link| link.as_str().to_owned())
        .filter(|link| !link_host(link).is_some_and(|host| allowed.allows_host(&host)))
        .collect()
}

/// Returns the host of a URL or the domain of an email address.
fn link_host(link: &str) -> Option<String> {
    if let Some((_, domain)) = link.rsplit_once('@')
        && !link.contains("://")
    {
        return Some(domain.to_owned());
    }
    let with_scheme = if link.contains("://") {
        link.to_owned()
    } else {
        format!("https://{link}")
    };
    Url::parse(&with_scheme)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
}

/// Number of words, counted as runs of non-whitespace.
pub fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

/// Number of Unicode scalar values.
pub fn char_count(text: &str) -> usize {
    text.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_placeholders() {
        let text = "Hi {first_name}, {{company}} [Name] <first name> %FNAME% $first_name ok";
        assert_eq!(
            find_placeholders(text),
            vec![
                "{first_name}",
                "{{company}}",
                "[Name]",
                "<first name>",
                "%FNAME%",
                "$first_name"
            ]
        );
    }

    #[test]
    fn ordinary_text_has_no_placeholders() {
        let text = "Hi Anna, prices start at $40 and 50% off (for now). Best, Sam";
        assert!(
            find_placeholders(text).is_empty(),
            "{:?}",
            find_placeholders(text)
        );
    }

    #[test]
    fn finds_links_outside_allow_list() {
        let allowed = LinkAllowList::new(["brightpath.example"]);
        let text = "Book at https://cal.brightpath.example/sam or https://evil.example/x, \
                    write to attacker@example.com, see evil.example/y";
        assert_eq!(
            find_disallowed_links(text, &allowed),
            vec![
                "https://evil.example/x",
                "attacker@example.com",
                "evil.example/y"
            ]
        );
    }

    #[test]
    fn empty_allow_list_allows_nothing() {
        let links = find_disallowed_links("see www.brightpath.example", &LinkAllowList::none());
        assert_eq!(links, vec!["www.brightpath.example"]);
    }

    #[test]
    fn allow_list_does_not_match_lookalikes() {
        let allowed = LinkAllowList::new(["brightpath.example"]);
        assert!(allowed.allows_host("brightpath.example"));
        assert!(allowed.allows_host("WWW.Brightpath.Example."));
        assert!(!allowed.allows_host("evilbrightpath.example"));
        assert!(!allowed.allows_host("brightpath.example.evil"));
    }

    #[test]
    fn counts_words_and_chars() {
        assert_eq!(word_count(" Hi  Anna,\nhow are you? "), 5);
        assert_eq!(char_count("Grüße 李"), 7);
    }
}
