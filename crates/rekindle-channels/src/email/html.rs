//! The HTML part that real providers send, built from the plain-text body.
//!
//! The text is escaped, blank lines separate paragraphs, single line breaks
//! become `<br>`, and `http(s)` URLs become links. `provider_html` adds no
//! tracking pixel and no remote content. `tracked_html` builds the same part
//! with tracked links and an open pixel, for campaigns with tracking on.

use std::borrow::Cow;

use html_escape::encode_quoted_attribute;
use url::Url;

use super::OutboundEmail;

/// Characters that end a sentence or close a bracket right after a URL in
/// running text, and that are not taken as part of the link.
const URL_TRAILING_PUNCTUATION: &[char] = &['.', ',', ';', ':', '!', '?', ')', ']', '>', '\'', '"'];

/// Returns the HTML part that a real provider sends: `html_body` when the
/// caller set one, else a document built from `text_body`.
pub(crate) fn provider_html(email: &OutboundEmail) -> Cow<'_, str> {
    match &email.html_body {
        Some(html) => Cow::Borrowed(html),
        None => Cow::Owned(html_document(&text_to_paragraphs(&email.text_body))),
    }
}

/// Returns a link's tracked replacement, or `None` to keep the link as it is.
pub type LinkRewriter<'a> = &'a dyn Fn(&Url) -> Option<Url>;

/// Builds the HTML part of `text_body` as `provider_html` does, with each web
/// link's target replaced by `rewrite_link` (the shown text stays the
/// original URL) and a 1x1 image loading `pixel_url` at the end of the body.
pub fn tracked_html(text_body: &str, rewrite_link: LinkRewriter<'_>, pixel_url: &Url) -> String {
    let body = paragraphs_with_links(text_body, rewrite_link);
    let pixel = format!(
        "<img src=\"{}\" width=\"1\" height=\"1\" alt=\"\" style=\"display:block;border:0\">\n",
        encode_quoted_attribute(pixel_url.as_str())
    );
    html_document(&format!("{body}{pixel}"))
}

/// Builds a complete HTML document whose body is `body_html`.
pub(crate) fn html_document(body_html: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n</head>\n<body>\n{body_html}</body>\n</html>\n"
    )
}

/// Converts plain text to HTML paragraphs, one `<p>` per block of lines
/// between blank lines.
pub(crate) fn text_to_paragraphs(text: &str) -> String {
    paragraphs_with_links(text, &|_| None)
}

/// Converts plain text to HTML paragraphs, passing each link through
/// `rewrite_link`.
fn paragraphs_with_links(text: &str, rewrite_link: LinkRewriter<'_>) -> String {
    let normalised = text.replace("\r\n", "\n");
    let mut html = String::new();

    for paragraph in paragraphs(&normalised) {
        let lines: Vec<String> = paragraph
            .iter()
            .map(|line| line_to_html(line, rewrite_link))
            .collect();
        html.push_str("<p>");
        html.push_str(&lines.join("<br>\n"));
        html.push_str("</p>\n");
    }
    html
}

/// Splits text into paragraphs: runs of non-blank lines.
fn paragraphs(text: &str) -> Vec<Vec<&str>> {
    let mut result: Vec<Vec<&str>> = Vec::new();
    let mut current: Vec<&str> = Vec::new();

    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                result.push(std::mem::take(&mut current));
            }
        } else {
            current.push(line.trim_end());
        }
    }
    if !current.is_empty() {
        result.push(current);
    }
    result
}

/// Escapes one line and turns each `http(s)` URL in it into a link.
fn line_to_html(line: &str, rewrite_link: LinkRewriter<'_>) -> String {
    let mut html = String::with_capacity(line.len());

    // Each piece is a word with the whitespace that follows it, so the
    // spacing of the line survives.
    for piece in line.split_inclusive(char::is_whitespace) {
        let word = piece.trim_end();
        let spacing = &piece[word.len()..];
        html.push_str(&word_to_html(word, rewrite_link));
        html.push_str(&encode_quoted_attribute(spacing));
    }
    html
}

/// Escapes one word, or links it when it contains a URL: `(https://x.example).`
/// becomes `(<a href="https://x.example/">https://x.example</a>).`.
fn word_to_html(word: &str, rewrite_link: LinkRewriter<'_>) -> String {
    let Some(start) = word.find("https://").or_else(|| word.find("http://")) else {
        return encode_quoted_attribute(word).into_owned();
    };

    let (before, rest) = word.split_at(start);
    let link_text = rest.trim_end_matches(URL_TRAILING_PUNCTUATION);
    let after = &rest[link_text.len()..];

    let Some(url) = parse_web_url(link_text) else {
        return encode_quoted_attribute(word).into_owned();
    };
    let url = rewrite_link(&url).unwrap_or(url);
    format!(
        "{}{}{}",
        encode_quoted_attribute(before),
        link(&url, link_text),
        encode_quoted_attribute(after)
    )
}

/// Parses an absolute `http` or `https` URL with a host.
fn parse_web_url(text: &str) -> Option<Url> {
    let url = Url::parse(text).ok()?;
    let is_web = matches!(url.scheme(), "http" | "https") && url.host_str().is_some();
    is_web.then_some(url)
}

/// Renders `<a href="url">text</a>`. `Url` serialises without spaces or
/// quotes, and the escaping keeps `&` in query strings valid HTML.
pub(crate) fn link(url: &Url, text: &str) -> String {
    format!(
        "<a href=\"{}\">{}</a>",
        encode_quoted_attribute(url.as_str()),
        encode_quoted_attribute(text)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_from_blank_lines() {
        let html = text_to_paragraphs("Hi Zoë,\r\n\r\nline one\nline two\n\n\n  \nBye");
        assert_eq!(
            html,
            "<p>Hi Zoë,</p>\n<p>line one<br>\nline two</p>\n<p>Bye</p>\n"
        );
    }

    #[test]
    fn markup_is_escaped() {
        let html = text_to_paragraphs("<script>alert(\"x\")</script> & 'y'");
        assert_eq!(
            html,
            "<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;y&#x27;</p>\n"
        );
    }

    #[test]
    fn urls_become_links() {
        let html = text_to_paragraphs("See (https://x.example/a?b=1&c=2). Or http://y.example");
        assert_eq!(
            html,
            "<p>See (<a href=\"https://x.example/a?b=1&amp;c=2\">https://x.example/a?b=1&amp;c=2</a>). \
             Or <a href=\"http://y.example/\">http://y.example</a></p>\n"
        );
    }

    #[test]
    fn tracked_html_rewrites_links_and_adds_pixel() {
        let pixel = Url::parse("https://t.example/t/o/abc").unwrap();
        let rewrite = |url: &Url| {
            (url.host_str() == Some("x.example"))
                .then(|| Url::parse("https://t.example/t/c/xyz").unwrap())
        };
        let html = tracked_html(
            "See https://x.example/a and https://keep.example/u",
            &rewrite,
            &pixel,
        );
        assert!(
            html.contains("<a href=\"https://t.example/t/c/xyz\">https://x.example/a</a>"),
            "{html}"
        );
        assert!(
            html.contains("<a href=\"https://keep.example/u\">https://keep.example/u</a>"),
            "{html}"
        );
        assert!(
            html.contains("<img src=\"https://t.example/t/o/abc\" width=\"1\" height=\"1\""),
            "{html}"
        );
        assert!(html.trim_end().ends_with("</html>"));
    }

    #[test]
    fn non_web_urls_stay_text() {
        let html = text_to_paragraphs("javascript:alert(1) https:// ftp://x.example");
        assert_eq!(
            html,
            "<p>javascript:alert(1) https:// ftp://x.example</p>\n"
        );
    }

    #[test]
    fn quote_in_url_cannot_break_attribute() {
        let html = text_to_paragraphs("https://x.example/\"onmouseover=\"alert(1)");
        assert_eq!(
            html,
            "<p><a href=\"https://x.example/%22onmouseover=%22alert(1\">\
             https://x.example/&quot;onmouseover=&quot;alert(1</a>)</p>\n"
        );
    }
}
