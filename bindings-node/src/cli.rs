//! The `agent-mesh` command line inside the addon, for the package's `bin`
//! (`bin/agent-mesh.js`, so `npx agent-mesh` runs the Rust CLI without a second build).

/// Runs the `agent-mesh` command line with `argv` (the program name first) in this process and
/// returns its exit code. It blocks the JavaScript thread until the command ends (`mcp`: until
/// its client leaves or SIGINT/SIGTERM stops it), so only the `bin` script calls it.
#[napi_derive::napi]
pub fn cli_main(argv: Vec<String>) -> i32 {
    restore_default_signal_handlers();
    std::panic::catch_unwind(|| agent_mesh::unstable::cli::main(argv))
        .unwrap_or_else(|_| agent_mesh::unstable::cli::exit::code(agent_mesh::ErrorKind::Internal))
}

/// Node handles SIGINT and SIGTERM by resetting the terminal and raising the signal again. The
/// CLI's tokio handlers chain to the handler they find, so under Node's that re-raise loops
/// forever (a process spinning at 100% CPU that never exits). The JavaScript thread is blocked
/// in [`cli_main`] anyway, so the default dispositions go back before the CLI installs its own.
fn restore_default_signal_handlers() {
    #[cfg(unix)]
    // SAFETY: `signal` with `SIG_DFL` only changes this process's dispositions; no handler runs.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL);
        libc::signal(libc::SIGTERM, libc::SIG_DFL);
    }
}
