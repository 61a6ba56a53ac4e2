"""Shared pytest configuration: make tests/ importable (the reference module)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


import pytest


@pytest.fixture(scope="session")
def dask_client():
    """A real two-worker ``distributed.LocalCluster`` (worker processes, one thread each) and its Client.

    Skips the test when the optional Dask extra is not installed. One cluster
    serves the session (starting one takes seconds); tests must leave it usable.
    """
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  worker_dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
        yield client
