//! `agent-mesh events send|tail` and `agent-mesh timeline get|tail|append`.

use std::time::{Duration, Instant};

use clap::Subcommand;
use serde_json::{Value, json};

use super::exit::{CliResult, Failure};
use super::output::{Output, human_value, note, read_json_arg, truncate};
use crate::client::MeshClient;
use crate::events::{Event, ReceivedEvent, SubscribeOptions};
use crate::timeline::{Order, TimelineEntry, TimelineQuery};
use crate::tools::time;

/// The pattern `events tail` uses when none is given: every event.
const EVERY_EVENT: &str = r#"{"source": [{"prefix": ""}]}"#;

/// Events.
#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Send an event; prints its id.
    Send {
        /// What happened, e.g. OrderCreated.
        detail_type: String,
        /// The event's data: a JSON object, @FILE or - for stdin (default {}).
        #[arg(default_value = "{}")]
        detail: String,
        /// Who sends it (default agent-mesh).
        #[arg(long)]
        source: Option<String>,
        /// Timeline stream to append it to (default events/<source>/<detail-type>).
        #[arg(long)]
        stream: Option<String>,
        /// A resource the event is about (repeatable).
        #[arg(long = "resource")]
        resources: Vec<String>,
    },
    /// Print events as they arrive (the EventBridge envelope; JSON lines with --json) until
    /// Ctrl-C, --count or --timeout.
    Tail {
        /// An EventBridge event pattern (JSON, @FILE or -), e.g. '{"detail-type": ["OrderCreated"]}'
        /// (default: every event).
        #[arg(long)]
        pattern: Option<String>,
        /// A durable subscription's name: it resumes after the last event it printed.
        #[arg(long)]
        name: Option<String>,
        /// Stop after this many events.
        #[arg(long)]
        count: Option<u64>,
        /// Stop after this many seconds without an event.
        #[arg(long)]
        timeout: Option<f64>,
    },
}

/// The timeline.
#[derive(Debug, Subcommand)]
pub enum TimelineCommand {
    /// Print entries of every stream under PREFIX, newest first.
    Get {
        /// Stream prefix, e.g. user/user123/ (default: the whole timeline).
        #[arg(default_value = "")]
        prefix: String,
        /// Entries per page (1-1000, default 100).
        #[arg(long)]
        limit: Option<usize>,
        /// The next_cursor of the previous page.
        #[arg(long)]
        cursor: Option<String>,
        /// Only entries at or after this time (RFC 3339, e.g. 2024-01-15T10:00:00Z).
        #[arg(long)]
        since: Option<String>,
        /// Only entries before this time (RFC 3339).
        #[arg(long)]
        until: Option<String>,
        /// Oldest entries first.
        #[arg(long)]
        oldest_first: bool,
        /// Follow next_cursor to the end and print every entry.
        #[arg(long)]
        all: bool,
    },
    /// Print entries appended under PREFIX from now on (oldest first) until Ctrl-C, --count or
    /// --timeout.
    Tail {
        /// Stream prefix (default: the whole timeline).
        #[arg(default_value = "")]
        prefix: String,
        /// Start at this time (RFC 3339) instead of now.
        #[arg(long)]
        since: Option<String>,
        /// Stop after this many entries.
        #[arg(long)]
        count: Option<u64>,
        /// Stop after this many seconds without an entry.
        #[arg(long)]
        timeout: Option<f64>,
        /// Milliseconds between polls (default 200).
        #[arg(long, default_value_t = 200)]
        interval_ms: u64,
    },
    /// Append DATA (JSON, @FILE or -) to STREAM (a slash path such as user/user123/profile).
    Append {
        /// The stream.
        stream: String,
        /// The entry's data.
        data: String,
    },
}

fn event_text(e: &ReceivedEvent) -> String {
    format!(
        "{}  {}  {}  {}",
        human_value(&time(e.time)),
        e.source,
        e.detail_type,
        truncate(&e.detail.to_string(), 200)
    )
}

fn entry_json(e: &TimelineEntry) -> Value {
    json!({
        "key": format!("{}/{}", e.stream, e.id),
        "timestamp": time(e.time),
        "data": e.data,
        "stream": e.stream,
        "id": e.id,
    })
}

fn entry_text(e: &TimelineEntry) -> String {
    format!(
        "{}  {}  {}",
        human_value(&time(e.time)),
        e.stream,
        truncate(&e.data.to_string(), 200)
    )
}

fn parse_time(flag: &str, text: &str) -> CliResult<crate::Timestamp> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| {
            Failure::usage(format!(
                "{flag} {text:?} is not an RFC 3339 time ({e}); write e.g. 2024-01-15T10:00:00Z"
            ))
        })
}

fn timeout(flag: &str, seconds: Option<f64>) -> CliResult<Option<Duration>> {
    seconds
        .map(|s| crate::validate::timeout("tail", flag, s).map_err(Failure::from))
        .transpose()
}

/// Resolves when the user presses Ctrl-C (or the process gets SIGTERM).
pub async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

async fn tail_events(
    mesh: &MeshClient,
    out: Output,
    pattern: Option<String>,
    name: Option<String>,
    count: Option<u64>,
    idle: Option<Duration>,
) -> CliResult {
    let pattern = read_json_arg("the pattern", pattern.as_deref().unwrap_or(EVERY_EVENT))?;
    let options = SubscribeOptions::default().with_name(name);
    let mut sub = mesh.events().subscribe_with(&pattern, options).await?;
    note(format!(
        "agent-mesh: tailing events matching {pattern} (Ctrl-C to stop)"
    ));
    let mut seen = 0u64;
    let outcome = loop {
        if count.is_some_and(|c| seen >= c) {
            break Ok(());
        }
        let wait = idle.unwrap_or(Duration::from_secs(3600));
        let next = tokio::select! {
            next = sub.next_timeout(wait) => next,
            _ = interrupted() => break Ok(()),
        };
        match next {
            Ok(Some(event)) => {
                seen += 1;
                let printed = if out.json {
                    out.json_line(&event.to_json())
                } else {
                    out.line(event_text(&event))
                };
                if let Err(stop) = printed {
                    break Err(stop);
                }
            }
            Ok(None) if idle.is_some() => break Ok(()),
            Ok(None) => {}
            Err(e) => break Err(e.into()),
        }
    };
    sub.close().await?;
    outcome
}

async fn tail_timeline(
    mesh: &MeshClient,
    out: Output,
    prefix: String,
    since: Option<crate::Timestamp>,
    count: Option<u64>,
    idle: Option<Duration>,
    interval: Duration,
) -> CliResult {
    let since = since.unwrap_or_else(chrono::Utc::now);
    note(format!(
        "agent-mesh: tailing the timeline under {prefix:?} (Ctrl-C to stop)"
    ));
    let (mut cursor, mut seen, mut last_entry) = (None::<String>, 0u64, Instant::now());
    loop {
        let query = TimelineQuery {
            limit: Some(1000),
            cursor: cursor.clone(),
            since: Some(since),
            order: Order::OldestFirst,
            ..Default::default()
        };
        let page = mesh.timeline().get(&prefix, query).await?;
        for entry in &page.items {
            if count.is_some_and(|c| seen >= c) {
                return Ok(());
            }
            seen += 1;
            last_entry = Instant::now();
            if out.json {
                out.json_line(&entry_json(entry))?;
            } else {
                out.line(entry_text(entry))?;
            }
        }
        if let Some(last) = page.items.last() {
            cursor = Some(last.id.clone());
        }
        if count.is_some_and(|c| seen >= c) || idle.is_some_and(|i| last_entry.elapsed() >= i) {
            return Ok(());
        }
        if page.next_cursor.is_none() {
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = interrupted() => return Ok(()),
            }
        }
    }
}

/// Runs one `events` subcommand.
pub async fn run(mesh: &MeshClient, out: Output, command: EventsCommand) -> CliResult {
    match command {
        EventsCommand::Send {
            detail_type,
            detail,
            source,
            stream,
            resources,
        } => {
            let detail = read_json_arg("the detail", &detail)?;
            let mut event = Event::new(&detail_type, detail).with_resources(resources);
            event.source = source;
            event.stream = stream;
            let shown_source = event
                .source
                .clone()
                .unwrap_or_else(|| crate::events::DEFAULT_SOURCE.to_owned());
            let id = mesh.events().send(event).await?;
            let value = json!({"event_id": id, "detail_type": detail_type, "source": shown_source, "status": "sent"});
            out.either(&value, || {
                format!("sent {detail_type} from {shown_source}: {id}")
            })
        }
        EventsCommand::Tail {
            pattern,
            name,
            count,
            timeout: idle,
        } => {
            let idle = timeout("--timeout", idle)?;
            tail_events(mesh, out, pattern, name, count, idle).await
        }
    }
}

/// Runs one `timeline` subcommand.
pub async fn run_timeline(mesh: &MeshClient, out: Output, command: TimelineCommand) -> CliResult {
    match command {
        TimelineCommand::Get {
            prefix,
            limit,
            cursor,
            since,
            until,
            oldest_first,
            all,
        } => {
            let mut query = TimelineQuery {
                limit,
                cursor,
                since: since.map(|t| parse_time("--since", &t)).transpose()?,
                until: until.map(|t| parse_time("--until", &t)).transpose()?,
                order: if oldest_first {
                    Order::OldestFirst
                } else {
                    Order::NewestFirst
                },
            };
            let mut entries = Vec::new();
            let next = loop {
                let page = mesh.timeline().get(&prefix, query.clone()).await?;
                entries.extend(page.items);
                match page.next_cursor {
                    Some(next) if all => query.cursor = Some(next),
                    next => break next,
                }
            };
            if out.json {
                let events: Vec<Value> = entries.iter().map(entry_json).collect();
                return out.json_line(&json!({
                    "timeline_events": events,
                    "prefix": prefix,
                    "count": events.len(),
                    "next_cursor": next,
                }));
            }
            for entry in &entries {
                out.line(entry_text(entry))?;
            }
            if let Some(next) = next {
                note(format!(
                    "more entries: --cursor {next} (or --all for every page)"
                ));
            }
            Ok(())
        }
        TimelineCommand::Tail {
            prefix,
            since,
            count,
            timeout: idle,
            interval_ms,
        } => {
            let since = since.map(|t| parse_time("--since", &t)).transpose()?;
            let idle = timeout("--timeout", idle)?;
            let interval = Duration::from_millis(interval_ms.max(10));
            tail_timeline(mesh, out, prefix, since, count, idle, interval).await
        }
        TimelineCommand::Append { stream, data } => {
            let data = read_json_arg("the data", &data)?;
            let entry = mesh.timeline().append(&stream, data).await?;
            out.either(&entry_json(&entry), || {
                format!("appended {}/{}", entry.stream, entry.id)
            })
        }
    }
}
