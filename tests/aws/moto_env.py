"""The moto server the tests in this folder run against (started by tests/with-moto.sh)."""

import os


def moto_endpoint() -> str:
    """The endpoint of the moto server; fails (never skips) when the tests run without one."""
    endpoint = os.environ.get("AGENT_MESH_TEST_AWS_ENDPOINT")
    if not endpoint:
        raise RuntimeError(
            "AGENT_MESH_TEST_AWS_ENDPOINT is not set: these tests need a moto server; "
            "run them through tests/with-moto.sh (tests/run-all.sh does)"
        )
    return endpoint
