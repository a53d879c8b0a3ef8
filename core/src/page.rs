//! Pagination shared by every listing: [`ListOptions`] in, [`Page`] out, opaque cursors.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::backend::BackendPage;
use crate::error::{Error, Result};
use crate::validate;

/// Options of a `list` call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListOptions {
    /// Most items per page (default 100, at most 1000; larger values are clamped).
    pub limit: Option<usize>,
    /// The `next_cursor` of the previous page; `None` starts at the beginning.
    pub cursor: Option<String>,
}

impl ListOptions {
    /// Pages of at most `limit` items.
    pub fn limit(limit: usize) -> Self {
        ListOptions {
            limit: Some(limit),
            cursor: None,
        }
    }

    /// The same options continuing after `cursor`.
    pub fn with_cursor(mut self, cursor: Option<String>) -> Self {
        self.cursor = cursor;
        self
    }

    /// The same options with pages of at most `limit` items (`None`: the default, 100).
    pub fn with_limit(mut self, limit: Option<usize>) -> Self {
        self.limit = limit;
        self
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items, in ascending key order.
    pub items: Vec<T>,
    /// Pass this as `ListOptions::cursor` to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// The checked arguments of a listing: page size and the key to start after.
pub(crate) struct ListRequest {
    pub limit: usize,
    pub start_after: Option<String>,
}

impl ListRequest {
    /// Validates `options` for `operation` under `prefix`.
    pub fn new(operation: &str, prefix: &str, options: &ListOptions) -> Result<Self> {
        if prefix.contains('\0') {
            return Err(Error::invalid_input(
                operation,
                prefix,
                "the prefix contains a NUL character; remove it",
            ));
        }
        let limit = validate::page_limit(operation, prefix, options.limit)?;
        let start_after = options
            .cursor
            .as_deref()
            .map(|c| decode_cursor(operation, prefix, c))
            .transpose()?;
        Ok(ListRequest { limit, start_after })
    }

    /// Turns a backend page into a public page, with a cursor after its last item.
    pub fn finish<T>(page: BackendPage<T>, key_of: impl Fn(&T) -> &str) -> Page<T> {
        let next_cursor = match (page.more, &page.resume_after, page.items.last()) {
            (true, Some(after), _) => Some(encode_cursor(after)),
            (true, None, Some(last)) => Some(encode_cursor(key_of(last))),
            _ => None,
        };
        Page {
            items: page.items,
            next_cursor,
        }
    }
}

/// The opaque cursor for a listing that continues after `position`.
pub(crate) fn encode_cursor(position: &str) -> String {
    URL_SAFE_NO_PAD.encode(position)
}

/// The position a cursor from [`encode_cursor`] stands for; `InvalidInput` for anything else.
pub(crate) fn decode_cursor(operation: &str, prefix: &str, cursor: &str) -> Result<String> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            Error::invalid_input(
                operation,
                prefix,
                format!("cursor {cursor:?} is not one this library returned; pass a page's next_cursor unchanged, or None to start over"),
            )
        })
}

/// The smallest string greater than every string that starts with `prefix`, or `None` when no
/// such bound exists (empty prefix, or only maximal characters). UTF-8 byte order equals code
/// point order, so `prefix <= key < bound` selects exactly the keys under `prefix`.
pub(crate) fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last {
            '\u{D7FF}' => Some('\u{E000}'),
            c => char::from_u32(c as u32 + 1),
        };
        if let Some(n) = next {
            chars.push(n);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_bound_brackets_exactly_the_prefix() {
        assert_eq!(prefix_upper_bound("abc").as_deref(), Some("abd"));
        assert_eq!(prefix_upper_bound("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_upper_bound("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(prefix_upper_bound(""), None);
        let bound = prefix_upper_bound("user:").unwrap();
        for key in ["user:", "user:\u{10FFFF}zz", "user:~"] {
            assert!(key >= "user:" && key < bound.as_str(), "{key}");
        }
        assert!("user;" >= bound.as_str());
    }

    #[test]
    fn bad_cursor_is_invalid_input() {
        let opts = ListOptions::default().with_cursor(Some("%%%".into()));
        let e = ListRequest::new("kv.list", "p", &opts).err().unwrap();
        assert_eq!(e.kind, crate::ErrorKind::InvalidInput);
        assert!(e.message.contains("next_cursor"), "{e}");
    }
}
