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
pub mod asl;
#[cfg(feature = "aws")]
mod aws;
pub mod backend;
#[cfg(feature = "cli")]
pub mod cli;
mod client;
mod clock;
pub mod config;
mod embedded;
mod error;
pub mod events;
mod fsutil;
pub mod kv;
mod local;
#[cfg(feature = "cli")]
pub mod mcp;
mod memory;
mod page;
pub mod pattern;
pub mod redact;
mod sqlite;
pub mod timeline;
pub mod tools;
mod types;
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

/// The README and docs/ code blocks, run as doctests (see the module).
#[cfg(doctest)]
mod doc_snippets;
