//! The `agent-mesh` command line: see `agent_mesh::unstable::cli` (`agent-mesh --help` lists the
//! subcommands and the exit codes).

fn main() {
    std::process::exit(agent_mesh::unstable::cli::main(std::env::args_os()));
}
