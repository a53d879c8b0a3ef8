"""The ``agent-mesh`` console script: the Rust command line of the extension, run in this
process (``pip install ./bindings-python`` installs it; ``agent-mesh --help`` lists the
subcommands and exit codes)."""

from __future__ import annotations

import signal
import sys

from ._agent_mesh import cli_main


def main() -> None:
    """Runs ``agent-mesh`` with ``sys.argv`` and exits with its exit code."""
    # Ctrl-C behaves as in the native binary: it ends the process, or the command's own handler
    # (``events tail``, ``mcp``) stops it cleanly, instead of waiting for Python's handler.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.exit(cli_main(["agent-mesh", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
