//! Timeline entries and queries. Shared by the public API and the backends, so neither imports the
//! other for them.

use crate::clock::Timestamp;
use crate::error::{Error, Result};
use serde_json::Value;

/// One timeline entry.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TimelineEntry {
    /// The stream, a slash path such as `user/user123/profile`.
    pub stream: String,
    /// The entry's id: a ULID, so ids sort by time (and by append order within one process).
    pub id: String,
    /// When the entry was appended.
    pub time: Timestamp,
    /// The entry's JSON data.
    pub data: Value,
}

/// Which end of the timeline a query starts from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Order {
    /// Newest entries first (the default).
    #[default]
    NewestFirst,
    /// Oldest entries first.
    OldestFirst,
}

impl Order {
    /// Parses `"newest"`/`"desc"` or `"oldest"`/`"asc"` (as the bindings accept them).
    pub fn parse(operation: &str, text: &str) -> Result<Order> {
        match text.to_ascii_lowercase().as_str() {
            "newest" | "newest_first" | "desc" => Ok(Order::NewestFirst),
            "oldest" | "oldest_first" | "asc" => Ok(Order::OldestFirst),
            _ => Err(Error::invalid_input(
                operation,
                text,
                "order must be \"newest\" (the default) or \"oldest\"",
            )),
        }
    }
}

/// Options of [`Timeline::get`].
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct TimelineQuery {
    /// Most entries per page (default 100, at most 1000).
    pub limit: Option<usize>,
    /// The `next_cursor` of the previous page (with the same prefix and options).
    pub cursor: Option<String>,
    /// Only entries at or after this time.
    pub since: Option<Timestamp>,
    /// Only entries before this time.
    pub until: Option<Timestamp>,
    /// Newest first (default) or oldest first.
    pub order: Order,
}

impl TimelineQuery {
    /// Pages of at most `limit` entries, newest first.
    pub fn limit(limit: usize) -> Self {
        TimelineQuery {
            limit: Some(limit),
            ..Default::default()
        }
    }

    /// The same query with pages of at most `limit` entries (`None`: the default, 100).
    pub fn with_limit(mut self, limit: Option<usize>) -> Self {
        self.limit = limit;
        self
    }

    /// The same query continuing after `cursor` (a page's `next_cursor`, or an entry's id).
    pub fn with_cursor(mut self, cursor: Option<String>) -> Self {
        self.cursor = cursor;
        self
    }

    /// The same query for entries at or after `since`.
    pub fn with_since(mut self, since: Option<Timestamp>) -> Self {
        self.since = since;
        self
    }

    /// The same query for entries before `until`.
    pub fn with_until(mut self, until: Option<Timestamp>) -> Self {
        self.until = until;
        self
    }

    /// The same query in `order`.
    pub fn with_order(mut self, order: Order) -> Self {
        self.order = order;
        self
    }
}
