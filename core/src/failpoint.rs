//! Failpoints: `AGENT_MESH_FAILPOINT=<name>` makes the named point misbehave on purpose, so that
//! tests can check what a panic or a crash there leaves. The variable is read once; unset, a
//! point costs a load.

use std::sync::OnceLock;

/// Whether `AGENT_MESH_FAILPOINT` names `point`.
pub(crate) fn is_set(point: &str) -> bool {
    static FAILPOINT: OnceLock<Option<String>> = OnceLock::new();
    FAILPOINT
        .get_or_init(|| std::env::var("AGENT_MESH_FAILPOINT").ok())
        .as_deref()
        == Some(point)
}

/// At `point`, when named, says so on stderr and stops the process there for good (its thread
/// sleeps), for a test to kill it at that point.
pub(crate) fn pause(point: &str) {
    if is_set(point) {
        eprintln!("AGENT_MESH_FAILPOINT={point}: paused");
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
}
