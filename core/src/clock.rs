//! Wall-clock helpers: agent-mesh stores times as epoch milliseconds and exposes them as
//! `chrono::DateTime<Utc>`.

use chrono::{DateTime, Utc};

/// A point in time as agent-mesh exposes it.
pub type Timestamp = DateTime<Utc>;

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// The timestamp for `ms` milliseconds since the Unix epoch.
pub(crate) fn from_ms(ms: i64) -> Timestamp {
    DateTime::from_timestamp_millis(ms).unwrap_or(if ms > 0 {
        DateTime::<Utc>::MAX_UTC
    } else {
        DateTime::UNIX_EPOCH
    })
}
