"""Fixtures of the sandbox tests: the session's embedded cluster and an access to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dbgov.sandbox.binaries import choose
from dbgov.sandbox.cluster import EmbeddedCluster
from dbgov.sandbox.server import ServerAccess


@pytest.fixture(scope="session")
def cluster(private_sandbox) -> Iterator[EmbeddedCluster]:
    """The embedded cluster of the machine's major version (started on first use)."""
    found = EmbeddedCluster(choose(15), private_sandbox)
    found.ensure_running()
    yield found


@pytest.fixture
def admin(cluster: EmbeddedCluster) -> ServerAccess:
    params = {k: v for k, v in cluster.conninfo().items() if k != "dbname"}
    return ServerAccess(params, label="the test sandbox")
