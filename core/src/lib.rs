//! agent-mesh: key-value memory with TTL, artifacts, events, a timeline and workflows for AI
//! agents, behind one [`MeshClient`] with an embedded local backend (SQLite + files) and an AWS
//! backend.
//!
//! ```no_run
//! # async fn demo() -> agent_mesh::Result<()> {
//! use agent_mesh::{MeshClient, SetOptions};
//! use serde_json::json;
//!
//! let mesh = MeshClient::open().await?; // ./.agent-mesh unless AGENT_MESH_URL/DIR say otherwise
//! mesh.kv().set("user:john:preferences", json!({"timezone": "PST"}), SetOptions::ttl_hours(720)).await?;
//! let item = mesh.kv().get("user:john:preferences").await?;
//! assert_eq!(item.unwrap().value["timezone"], "PST");
//! # Ok(()) }
//! ```

pub mod artifacts;
#[doc(hidden)]
pub mod asl;
#[cfg(feature = "aws")]
mod aws;
#[doc(hidden)]
pub mod backend;
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod cli;
mod client;
mod clock;
pub mod config;
mod embedded;
mod error;
pub mod events;
mod failpoint;
mod fork_gate;
mod fsutil;
pub mod kv;
mod local;
#[cfg(feature = "cli")]
pub mod mcp;
mod memory;
mod page;
#[doc(hidden)]
pub mod pattern;
#[doc(hidden)]
pub mod redact;
pub mod scope;
mod sqlite;
pub mod timeline;
pub mod tools;
mod types;
#[doc(hidden)]
pub mod validate;
pub mod workflows;

pub use artifacts::{Artifact, ArtifactMeta, Artifacts, PutOptions};
pub use client::MeshClient;
pub use clock::Timestamp;
pub use config::{AwsNames, MeshConfig, SyncMode};
pub use error::{Error, ErrorKind, Result};
pub use events::{Event, Events, ReceivedEvent, SubscribeOptions, Subscription};
pub use kv::{Kv, KvItem, SetOptions};
pub use page::{ListOptions, Page};
pub use pattern::{EventPattern, PatternSet, test_event_pattern};
pub use timeline::{Order, Timeline, TimelineEntry, TimelineQuery};
pub use workflows::{
    ActivityTask, Execution, ExecutionRef, ExecutionStatus, HistoryEvent, ListExecutionsOptions,
    StartOptions, StateMachineInfo, TaskError, TaskHandler, TaskRequest, Worker, Workflows,
};

/// The documented limits every backend enforces (see docs/limits.md): JSON nesting depth and
/// node count, the KV item size and its per-item overhead, the largest KV value, the large
/// values a `kv.list` page holds, the event pattern size.
pub mod limits {
    pub use crate::pattern::MAX_PATTERN_CHARS;
    pub use crate::validate::{
        KV_ITEM_OVERHEAD, LIST_PAGE_BODY_BYTES, MAX_KV_ITEM_BYTES, MAX_KV_VALUE_BYTES,
        MAX_VALUE_DEPTH, MAX_VALUE_NODES,
    };
}

/// Engine internals shared with the bindings, the tests and the benchmarks: the ASL engine,
/// the backend traits, the pattern matcher, validation and redaction helpers, and the CLI's
/// entry point. **Not part of the API**: anything here may change in any release, and the
/// documentation leaves it out.
#[doc(hidden)]
pub mod unstable {
    #[cfg(feature = "cli")]
    pub use crate::cli;
    pub use crate::{asl, backend, pattern, redact, validate};
    /// Closing and opening the fork gate around `fork()` (the Python binding's `os.fork`).
    pub mod fork {
        pub use crate::fork_gate::{close, open};
    }
}

/// The README and docs/ code blocks, run as doctests (see the module).
#[cfg(doctest)]
mod doc_snippets;
