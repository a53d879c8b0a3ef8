//! The `agent-mesh` command line: see [`agent_mesh::cli`] (`agent-mesh --help` lists the
//! subcommands and the exit codes).

fn main() {
    std::process::exit(agent_mesh::cli::main(std::env::args_os()));
}
