//! `@agent-mesh/client`: the napi-rs addon over the agent-mesh Rust core.
//!
//! Thin by design: argument conversion (JS objects via serde_json, `Buffer` for artifacts,
//! `Date` for times), Promises on napi's tokio runtime, and error mapping (`err.code` is the
//! error kind's name).

mod artifacts;
pub mod cli;
mod client;
mod errors;
mod events;
mod handler;
mod json;
mod kv;
mod kv_item;
mod promise;
mod timeline;
mod workflows;

pub use artifacts::{Artifact, ArtifactMeta, ArtifactPage, Artifacts, PutOptions};
pub use client::MeshClient;
pub use events::{
    EventInput, Events, ReceivedEvent, SendError, SendResult, SubscribeOptions, Subscription,
    test_event_pattern,
};
pub use kv::{Kv, KvItem, KvPage, ListOptions, SetOptions};
pub use kv_item::set_kv_item_factory;
pub use timeline::{Timeline, TimelineEntry, TimelinePage, TimelineQuery};
/// The limits every JSON argument is checked against (in `index.js`) before it crosses into
/// Rust: nesting depth and node count, the core's `MAX_VALUE_DEPTH` and `MAX_VALUE_NODES`.
#[napi_derive::napi(object)]
pub struct ValueLimits {
    /// Deepest nesting of objects and arrays.
    pub max_depth: u32,
    /// Most objects, arrays and scalars in one argument.
    pub max_nodes: u32,
}

/// The value limits of this build (see `ValueLimits`).
#[napi_derive::napi]
pub fn value_limits() -> ValueLimits {
    ValueLimits {
        max_depth: agent_mesh::unstable::validate::MAX_VALUE_DEPTH as u32,
        max_nodes: agent_mesh::unstable::validate::MAX_VALUE_NODES as u32,
    }
}

/// The error kinds of this build: the `code` values a `MeshError` can carry, in the core's
/// order (the `ErrorCode` type of `index.d.ts` lists the same; a test checks it).
#[napi_derive::napi]
pub fn error_kinds() -> Vec<String> {
    agent_mesh::ErrorKind::ALL
        .iter()
        .map(|k| k.name().to_owned())
        .collect()
}

pub use workflows::{
    Execution, ExecutionPage, ExecutionRef, HistoryEvent, ListExecutionsOptions, StartOptions,
    StateMachineInfo, StopOptions, WaitOptions, Worker, Workflows,
};
