"""A pass over Dask collections computes each source partition once, not once per collection.

X, y and tasks built from one delayed call per partition (the natural way to
generate or load a partition's columns together) share that call; the map step
must take their pieces from one graph. Optimising each collection's graph on
its own (``to_delayed()``'s default) fuses the shared call into each of them,
and every pass then draws the partition three times (once for X, y and tasks).
Counted here with the synchronous scheduler, in this process.
"""

from collections import Counter

import numpy as np
import pytest

import multitask as mt

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")

from multitask._dask_support import map_step, tree_reduce  # noqa: E402

N_FEATURES, N_TASKS, ROWS = 3, 4, 60


def _lazy(kind, calls, n_parts=3):
    """X, y, tasks as Dask arrays from one delayed (X, y, tasks) per partition; ``calls`` counts the draws."""

    def draw(index):
        calls[index] += 1
        rng = np.random.default_rng(index)
        X = rng.normal(size=(ROWS, N_FEATURES))
        tasks = np.tile(np.arange(N_TASKS), ROWS // N_TASKS)
        score = X @ np.arange(1.0, N_FEATURES + 1) + 0.5 * rng.normal(size=ROWS)
        return X, (score > 0).astype(np.int64) if kind == "classification" else score, tasks

    parts = [dask.delayed(draw, pure=True, nout=3)(i) for i in range(n_parts)]
    X = da.concatenate([da.from_delayed(p[0], (ROWS, N_FEATURES), dtype=float) for p in parts])
    y = da.concatenate([da.from_delayed(p[1], (ROWS,), dtype=float) for p in parts])
    tasks = da.concatenate([da.from_delayed(p[2], (ROWS,), dtype=np.int64) for p in parts])
    return X, y, tasks


def test_map_step_computes_each_shared_partition_once():
    calls = Counter()
    X, y, tasks = _lazy("regression", calls)
    with dask.config.set(scheduler="synchronous"):
        rows = tree_reduce(map_step(lambda X_part, y_part, t_part: X_part.shape[0], X, y, tasks))
    assert rows == 3 * ROWS
    assert calls == Counter({0: 1, 1: 1, 2: 1})


def test_regressor_fit_draws_each_partition_once():
    calls = Counter()
    X, y, tasks = _lazy("regression", calls)
    with dask.config.set(scheduler="synchronous"):
        mt.KernelCoupledRegressor(alpha=1e-3).fit(X, y, tasks)
    assert calls == Counter({0: 1, 1: 1, 2: 1})


def test_classifier_fit_draws_each_partition_once_per_pass(monkeypatch):
    """Every pass (the label pass, then one per Newton trial point) draws each partition once."""
    import multitask._dask_newton as newton

    calls, passes = Counter(), []

    def counted_tree_reduce(parts, *args):
        passes.append(len(parts))
        return tree_reduce(parts, *args)

    monkeypatch.setattr(newton, "tree_reduce", counted_tree_reduce)
    X, y, tasks = _lazy("classification", calls)
    with dask.config.set(scheduler="synchronous"):
        mt.KernelCoupledClassifier(alpha=1e-2).fit(X, y, tasks)
    assert len(passes) >= 2  # the label pass and at least one Newton pass
    assert calls == Counter({0: len(passes), 1: len(passes), 2: len(passes)})
