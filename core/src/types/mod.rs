//! The domain types of agent-mesh (items, metadata, events, entries, executions, options): where
//! both the public API (`kv.rs`, `artifacts.rs`, ...) and the backends (`backend/`, `local/`,
//! `memory/`, `aws/`, `embedded/`) can use them without importing each other. The public API
//! re-exports them; their paths there (`agent_mesh::kv::KvItem`, ...) are the public ones.

pub(crate) mod artifacts;
pub(crate) mod events;
pub(crate) mod kv;
pub(crate) mod timeline;
pub(crate) mod workflows;
