//! `@agent-mesh/client`: the napi-rs addon over the agent-mesh Rust core.
//!
//! Thin by design: argument conversion (JS objects via serde_json, `Buffer` for artifacts,
//! `Date` for times), Promises on napi's tokio runtime, and error mapping (`err.code` is the
//! error kind's name).

mod artifacts;
mod client;
mod errors;
mod events;
mod handler;
mod kv;
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
pub use timeline::{Timeline, TimelineEntry, TimelinePage, TimelineQuery};
pub use workflows::{
    Execution, ExecutionPage, ExecutionRef, HistoryEvent, ListExecutionsOptions, StartOptions,
    StateMachineInfo, StopOptions, WaitOptions, Worker, Workflows,
};
