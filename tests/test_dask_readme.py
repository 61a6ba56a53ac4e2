"""The README's Dask example runs as written, on the session's LocalCluster (the active Client)."""

import pytest

pytest.importorskip("distributed")


def test_readme_dask_example_runs(dask_client):
    from readme_blocks import readme_blocks

    (block,) = readme_blocks("## Beyond one machine: Dask collections and `partial_fit`")
    namespace: dict = {}
    exec(block, namespace)  # noqa: S102 - the README's example
    model, classifier = namespace["model"], namespace["classifier"]
    assert model.statistics_.n_samples == 20_000 and model.coef_.shape == (50, 5)
    assert classifier.solver_ == "newton" and classifier.kkt_residual_ <= classifier.tol
