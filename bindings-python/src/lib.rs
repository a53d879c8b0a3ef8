//! `agent_mesh._agent_mesh`: the PyO3 extension behind the `agent_mesh` Python package.
//!
//! Thin by design: argument conversion, runtime bridging (the GIL is released while the core
//! runs on a tokio runtime), and error mapping. The async client is derived from these classes
//! in `python/agent_mesh/__init__.py`, so every method is defined once.

mod cli;
mod client;
mod convert;
mod errors;
mod events;
mod handlers;
mod runtime;
mod timeline;
mod types;
mod workflow_types;
mod workflows;

use pyo3::prelude::*;

#[pymodule]
fn _agent_mesh(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<client::MeshClient>()?;
    m.add_class::<client::Kv>()?;
    m.add_class::<client::Artifacts>()?;
    m.add_class::<types::KvItem>()?;
    m.add_class::<types::ArtifactMeta>()?;
    m.add_class::<types::Artifact>()?;
    m.add_class::<types::Page>()?;
    m.add_class::<events::Events>()?;
    m.add_class::<events::Subscription>()?;
    m.add_class::<events::ReceivedEvent>()?;
    m.add_class::<events::SendResult>()?;
    m.add_class::<timeline::Timeline>()?;
    m.add_class::<timeline::TimelineEntry>()?;
    m.add_class::<workflows::Workflows>()?;
    m.add_class::<workflows::ExecutionRef>()?;
    m.add_class::<workflows::Worker>()?;
    m.add_class::<workflow_types::StateMachineInfo>()?;
    m.add_class::<workflow_types::Execution>()?;
    m.add_class::<workflow_types::HistoryEvent>()?;
    m.add_function(wrap_pyfunction!(events::test_event_pattern, m)?)?;
    m.add_function(wrap_pyfunction!(cli::cli_main, m)?)?;
    m.add_function(wrap_pyfunction!(runtime::before_fork, m)?)?;
    m.add_function(wrap_pyfunction!(runtime::after_fork, m)?)?;
    errors::register(m)?;
    Ok(())
}
