//! Text from providers (error messages, SMTP replies) made safe for error
//! messages and logs: one line, bounded, with addresses and numbers removed.

use std::net::IpAddr;

/// Maximum characters of provider text kept in an error message.
pub(crate) const MAX_PROVIDER_TEXT_CHARS: usize = 300;

/// Minimum length of a digit run taken as a phone number. Seven digits is the
/// shortest subscriber number in common national plans; error codes such as
/// Twilio's `21211` or SMTP's `5.1.1` are shorter.
const MIN_PHONE_DIGITS: usize = 7;

/// Returns `raw` on one line, at most `MAX_PROVIDER_TEXT_CHARS` characters,
/// with each word containing `@` replaced by `[address]` and each run of
/// seven or more digits replaced by `[number]`. Providers quote the recipient
/// in their errors, and error messages end up in logs and stored job errors.
///
/// NOTE: a phone number written with spaces between digit groups is not
/// recognised; providers' API errors quote numbers in E.164 form.
pub(crate) fn sanitise_provider_text(raw: &str) -> String {
    let words: Vec<String> = raw.split_whitespace().map(redact_word).collect();
    truncate_chars(&words.join(" "), MAX_PROVIDER_TEXT_CHARS)
}

fn redact_word(word: &str) -> String {
    if word.contains('@') {
        return "[address]".to_owned();
    }

    let mut output = String::with_capacity(word.len());
    let mut digits = String::new();
    for character in word.chars() {
        if character.is_ascii_digit() {
            digits.push(character);
            continue;
        }
        flush_digits(&mut output, &mut digits);
        if !character.is_control() {
            output.push(character);
        }
    }
    flush_digits(&mut output, &mut digits);
    output
}

fn flush_digits(output: &mut String, digits: &mut String) {
    if digits.len() >= MIN_PHONE_DIGITS {
        output.push_str("[number]");
    } else {
        output.push_str(digits);
    }
    digits.clear();
}

/// Cuts `text` to `max` characters, marking a cut with `...`.
fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let prefix: String = text.chars().take(max.saturating_sub(3)).collect();
    format!("{prefix}...")
}

/// Returns true for `localhost` and for IPv4 or IPv6 loopback literals
/// (`127.0.0.0/8`, `::1`, also in brackets). A name other than `localhost`
/// is never taken as loopback, because it could resolve anywhere.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let bare = host
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(host);
    if bare.eq_ignore_ascii_case("localhost") {
        return true;
    }
    bare.parse::<IpAddr>()
        .is_ok_and(|address| address.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_numbers_redacted() {
        let text = sanitise_provider_text(
            "550 5.1.1 <zoe@brightlane.example>: Recipient\r\n address rejected, To +34912345678 (code 21211)",
        );
        assert_eq!(
            text,
            "550 5.1.1 [address] Recipient address rejected, To +[number] (code 21211)"
        );
    }

    #[test]
    fn long_text_truncated() {
        let text = sanitise_provider_text(&"word ".repeat(200));
        assert_eq!(text.chars().count(), MAX_PROVIDER_TEXT_CHARS);
        assert!(text.ends_with("..."), "{text}");
    }

    #[test]
    fn loopback_hosts() {
        for host in [
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "[::1]",
            "localhost",
            "LOCALHOST",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "10.0.0.1",
            "192.168.1.1",
            "smtp.example.com",
            "localhost.example.com",
            "0.0.0.0",
            "",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
