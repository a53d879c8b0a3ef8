//! Keeping secrets out of `Debug` output, error messages and `repr()`/`toString()`: the
//! user-info of URLs (`http://user:pass@host` becomes `http://***@host`, also when the URL is
//! percent-encoded inside a mesh URL's `endpoint=` option) and workflow task tokens (shown as a
//! short fingerprint that tells tokens apart without revealing them).

/// What replaces the user-info of a URL.
pub const MASK: &str = "***";

/// `text` with the user-info of every URL in it replaced by `***`: `scheme://user:pass@host`
/// becomes `scheme://***@host`, and the percent-encoded form (`http%3A%2F%2Fuser%3Apass%40host`,
/// as in `aws://?endpoint=...`) becomes `http%3A%2F%2F***%40host`. Text without a URL with
/// user-info is returned unchanged.
pub fn redact_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((start, marker_len)) = next_scheme_marker(rest) {
        let authority_start = start + marker_len;
        out.push_str(&rest[..authority_start]);
        let tail = &rest[authority_start..];
        let authority_len = authority_end(tail);
        let authority = &tail[..authority_len];
        match last_at(authority) {
            Some(at) => {
                out.push_str(MASK);
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[authority_len..];
    }
    out.push_str(rest);
    out
}

/// A task token as messages and `Debug` output show it: `task token sha256:<8 hex digits>`,
/// a fingerprint that tells tokens apart without revealing them.
pub fn token_label(token: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(token.as_bytes());
    let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    format!("task token sha256:{hex}")
}

/// `error` with every occurrence of `secret` in its message and context replaced by `label`.
pub(crate) fn scrub(mut error: crate::Error, secret: &str, label: &str) -> crate::Error {
    if secret.is_empty() {
        return error;
    }
    error.message = error.message.replace(secret, label);
    for (_, value) in &mut error.context {
        if value.contains(secret) {
            *value = value.replace(secret, label);
        }
    }
    error
}

/// Where the next `://` (or its percent-encoding `%3A%2F%2F`) starts in `text`, and its length.
fn next_scheme_marker(text: &str) -> Option<(usize, usize)> {
    let plain = text.find("://").map(|i| (i, 3));
    let encoded = find_ignore_case(text, "%3A%2F%2F").map(|i| (i, 9));
    match (plain, encoded) {
        (Some(p), Some(e)) => Some(if p.0 <= e.0 { p } else { e }),
        (p, e) => p.or(e),
    }
}

/// The length of the authority at the start of `text`: up to the first character that ends a
/// host (`/`, `?`, `#`, `&`, whitespace, quotes, brackets) or an encoded `/`, `?` or `#`.
fn authority_end(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if matches!(
            b,
            b'/' | b'?' | b'#' | b'&' | b'"' | b'\'' | b'<' | b'>' | b'\\' | b'`' | b'(' | b')'
        ) || b.is_ascii_whitespace()
        {
            return i;
        }
        if b == b'%'
            && let Some(code) = text.get(i + 1..i + 3)
            && matches!(
                code.to_ascii_uppercase().as_str(),
                "2F" | "3F" | "23" | "26"
            )
        {
            return i;
        }
        i += 1;
    }
    bytes.len()
}

/// Where the host starts after the last `@` (or encoded `%40`) of `authority`: the index of
/// that `@` or `%40`.
fn last_at(authority: &str) -> Option<usize> {
    let plain = authority.rfind('@');
    let encoded = rfind_ignore_case(authority, "%40");
    match (plain, encoded) {
        (Some(p), Some(e)) => Some(p.max(e)),
        (p, e) => p.or(e),
    }
}

fn find_ignore_case(text: &str, needle: &str) -> Option<usize> {
    text.as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

fn rfind_ignore_case(text: &str, needle: &str) -> Option<usize> {
    text.as_bytes()
        .windows(needle.len())
        .rposition(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_info_is_masked_plain_and_encoded() {
        assert_eq!(
            redact_urls("endpoint http://user:pa:ss@127.0.0.1:5055/path?q=1"),
            "endpoint http://***@127.0.0.1:5055/path?q=1"
        );
        assert_eq!(
            redact_urls("aws://?endpoint=http%3A%2F%2Fuser%3Apass%40host%3A5055&env=dev"),
            "aws://?endpoint=http%3A%2F%2F***%40host%3A5055&env=dev"
        );
        assert_eq!(
            redact_urls("aws://?endpoint=http://ak:s3cr3t@h:1&region=x"),
            "aws://?endpoint=http://***@h:1&region=x"
        );
        assert_eq!(
            redact_urls(r#"mesh URL "aws://?endpoint=https://a%40b:p%40ss@host""#),
            r#"mesh URL "aws://?endpoint=https://***@host""#
        );
        // Nothing to hide: unchanged, including '@' outside an authority.
        for text in [
            "local:///tmp/m",
            "aws://?region=us-east-1&endpoint=http://127.0.0.1:5055",
            "mailto:ann@example.com",
            "http://host/path@x",
            "",
            "://",
        ] {
            assert_eq!(redact_urls(text), text);
        }
        // Multi-byte text around URLs stays intact.
        assert_eq!(redact_urls("é http://u:p@h é"), "é http://***@h é");
    }

    #[test]
    fn tokens_become_fingerprints() {
        let label = token_label("AAAA-secret-token");
        assert!(
            label.starts_with("task token sha256:") && label.len() == 26,
            "{label}"
        );
        assert_ne!(label, token_label("AAAA-secret-token2"));
        assert!(!label.contains("secret"));
        let e = crate::Error::keyed(
            crate::ErrorKind::NotFound,
            "workflows.send_task_success",
            "AAAA-secret-token",
            "no task has this token",
        );
        let e = scrub(e, "AAAA-secret-token", &label);
        assert!(!format!("{e:?}").contains("secret"), "{e:?}");
        assert!(e.message.contains(&label));
    }
}
