"""``KernelCoupledRegressor`` on Dask collections, on a real two-process ``distributed`` cluster.

The fit from Dask arrays or DataFrames (per-partition Gram statistics merged
by a tree reduction) must equal the in-memory fit on the same rows for any
partitioning; predictions on Dask input are lazy Dask collections with the
in-memory values; bad partitionings fail with a clear ValueError; and a worker
lost mid-fit either costs only a recomputation (same model) or, when a
partition kills every worker it runs on, makes the fit raise and leaves the
estimator as it was: never a wrong model.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")

import dask  # noqa: E402
import dask.array as da  # noqa: E402
import dask.dataframe as dd  # noqa: E402

import multitask as mt  # noqa: E402

N_TASKS, N_FEATURES = 4, 3
PENALTIES = {"none": {}, "l1": {"l1": 0.02}, "l21": {"l21": 0.02}, "trace_norm": {"trace_norm": 0.02}}
ALLOWED_FAILURES = 1  # for the test whose partition kills every worker: fail at its second loss


@pytest.fixture
def client(dask_client):
    """The session's two-process cluster (tests/conftest.py); a killed worker's nanny restarts it."""
    return dask_client


@pytest.fixture
def few_allowed_failures(client):
    """The scheduler gives a task up (KilledWorker) after ALLOWED_FAILURES + 1 lost workers, not the default 4."""

    def set_allowed(value, dask_scheduler=None):
        previous, dask_scheduler.allowed_failures = dask_scheduler.allowed_failures, value
        return previous

    default = client.run_on_scheduler(set_allowed, ALLOWED_FAILURES)
    yield
    client.run_on_scheduler(set_allowed, default)


def regressor(**params):
    return mt.KernelCoupledRegressor(**{"alpha": 0.3, "tol": 1e-12, "max_iter": 100_000, **params})


def assert_same_model(model, reference, rtol=1e-10):
    scale = np.abs(reference.coef_).max()
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(model.intercept_, reference.intercept_, rtol=rtol,
                               atol=rtol * max(np.abs(reference.intercept_).max(), scale))
    np.testing.assert_allclose(model.objective_, reference.objective_, rtol=rtol)
    np.testing.assert_array_equal(model.tasks_, reference.tasks_)


# --- data and partitionings ------------------------------------------------------------------------------------------


def long_rows(rng, n=60):
    """Long-format rows; task 0's rows contiguous at a random place (so that a partition can hold all of it)."""
    tasks = rng.integers(1, N_TASKS, size=n)
    solo = int(rng.integers(2, 6))
    where = int(rng.integers(0, n))
    tasks = np.concatenate([tasks[:where], np.zeros(solo, dtype=int), tasks[where:]])
    X = rng.normal(size=(tasks.size, N_FEATURES)) + 2.0
    y = np.einsum("nd,nd->n", X, rng.normal(size=(N_TASKS, N_FEATURES))[tasks]) + tasks + rng.normal(size=tasks.size)
    return X, y, tasks, (where, where + solo)


def partition_sizes(rng, n, keep_together=None, n_cuts=5):
    """Random row chunk sizes summing to n, with two empty partitions, and rows [a, b) in one partition alone."""
    cuts = set(rng.integers(0, n + 1, size=n_cuts).tolist()) | {0, n}
    if keep_together is not None:
        a, b = keep_together
        cuts = {c for c in cuts if not a < c < b} | {a, b}
    cuts = sorted(cuts)
    sizes = list(np.diff(cuts))
    for _ in range(2):
        sizes.insert(int(rng.integers(0, len(sizes) + 1)), 0)
    return tuple(int(s) for s in sizes)


def shared_rows(rng, n=50):
    X = rng.normal(size=(n, N_FEATURES)) - 1.0
    Y = X @ rng.normal(size=(N_FEATURES, N_TASKS)) + rng.normal(size=(n, N_TASKS)) + np.arange(N_TASKS)
    return X, Y


def frame_partitions(frame, sizes):
    """A Dask DataFrame with exactly these partition lengths (zeros included)."""
    bounds = np.cumsum((0, *sizes))
    pieces = [frame.iloc[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
    return dd.from_delayed([dask.delayed(piece) for piece in pieces], meta=frame.iloc[:0], verify_meta=False)


# --- fit on Dask equals fit in memory --------------------------------------------------------------------------------


@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_dask_array_long_format_equals_in_memory(client, penalty, fit_intercept):
    rng = np.random.default_rng([list(PENALTIES).index(penalty), fit_intercept])  # another partitioning each
    X, y, tasks, solo = long_rows(rng)
    sizes = partition_sizes(rng, tasks.size, keep_together=solo)
    # y and tasks chunked otherwise: they are aligned to X's partitions
    X_dask = da.from_array(X, chunks=(sizes, (2, 1)))
    y_dask = da.from_array(y, chunks=7)
    task_dask = da.from_array(tasks, chunks=partition_sizes(rng, tasks.size))
    params = {"fit_intercept": fit_intercept, "coupling": "chain", "task_weights": "balanced", **PENALTIES[penalty]}
    model = regressor(**params).fit(X_dask, y_dask, task_dask)
    assert_same_model(model, regressor(**params).fit(X, y, tasks))
    assert model.statistics_.counts.sum() == tasks.size


@pytest.mark.parametrize("penalty", ["none", "l21", "trace_norm"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_dask_array_shared_design_equals_in_memory(client, penalty, fit_intercept):
    rng = np.random.default_rng(3)
    X, Y = shared_rows(rng)
    sizes = partition_sizes(rng, X.shape[0])
    params = {"fit_intercept": fit_intercept, **PENALTIES[penalty]}
    model = regressor(**params).fit(da.from_array(X, chunks=(sizes, -1)), da.from_array(Y, chunks=(9, 2)))
    assert_same_model(model, regressor(**params).fit(X, Y))


@pytest.mark.parametrize("penalty", ["none", "l1", "trace_norm"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_dask_dataframe_long_format_equals_in_memory(client, penalty, fit_intercept):
    rng = np.random.default_rng(4)
    X, y, tasks, solo = long_rows(rng)
    columns = ["height", "weight", "age"]
    frame = pd.DataFrame(X, columns=columns)
    frame["school"] = np.array(["north", "east", "south", "west"])[tasks]
    frame["score"] = y
    ddf = frame_partitions(frame, partition_sizes(rng, len(frame), keep_together=solo))
    params = {"fit_intercept": fit_intercept, "task_weights": np.array([1.0, 2.0, 0.5, 1.5]), **PENALTIES[penalty]}
    model = regressor(**params).fit(ddf[columns], ddf["score"], ddf["school"])
    reference = regressor(**params).fit(frame[columns], frame["score"], frame["school"].to_numpy())
    assert_same_model(model, reference)
    np.testing.assert_array_equal(model.feature_names_in_, columns)
    assert list(model.tasks_) == ["east", "north", "south", "west"]


def test_dask_dataframe_shared_design_equals_in_memory(client):
    rng = np.random.default_rng(5)
    X, Y = shared_rows(rng)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    targets = pd.DataFrame(Y, columns=[f"task{t}" for t in range(N_TASKS)])
    sizes = partition_sizes(rng, len(frame))
    model = regressor(coupling="identity").fit(frame_partitions(frame, sizes), frame_partitions(targets, sizes))
    assert_same_model(model, regressor(coupling="identity").fit(frame, Y))
    np.testing.assert_array_equal(model.feature_names_in_, ["a", "b", "c"])


# --- predictions are lazy Dask collections ---------------------------------------------------------------------------


def test_predict_on_dask_arrays(client):
    rng = np.random.default_rng(6)
    X, y, tasks, _ = long_rows(rng)
    model = regressor().fit(X, y, tasks)
    sizes = partition_sizes(rng, tasks.size)
    X_dask = da.from_array(X, chunks=(sizes, 2))
    predictions = model.predict(X_dask, da.from_array(tasks, chunks=11))
    assert isinstance(predictions, da.Array)
    assert predictions.chunks == (sizes,)
    np.testing.assert_allclose(predictions.compute(), model.predict(X, tasks), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(model.score(X_dask, da.from_array(y, chunks=9), da.from_array(tasks, chunks=11)),
                               model.score(X, y, tasks), rtol=1e-12)


def test_predict_on_a_dask_dataframe_gives_a_series(client):
    rng = np.random.default_rng(7)
    X, y, tasks, _ = long_rows(rng)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    frame["task"] = np.array(["w", "x", "y", "z"])[tasks]
    model = regressor().fit(frame[["a", "b", "c"]], y, frame["task"].to_numpy())
    ddf = frame_partitions(frame, partition_sizes(rng, len(frame)))
    predictions = model.predict(ddf[["a", "b", "c"]], ddf["task"])
    assert isinstance(predictions, dd.Series)
    values = predictions.compute()
    np.testing.assert_allclose(values.to_numpy(), model.predict(frame[["a", "b", "c"]], frame["task"].to_numpy()),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(values.index, frame.index)


def test_predict_unseen_tasks_with_the_mean_model_partitionwise(client):
    rng = np.random.default_rng(8)
    X, y, tasks, _ = long_rows(rng)
    model = regressor(unseen_tasks="mean").fit(X, y, tasks)
    new_tasks = np.where(np.arange(tasks.size) % 5 == 0, 99, tasks)  # unseen label 99 in most partitions
    predictions = model.predict(da.from_array(X, chunks=(13, 3)), da.from_array(new_tasks, chunks=13))
    expected = model.predict(X, new_tasks)
    np.testing.assert_allclose(predictions.compute(), expected, rtol=1e-12, atol=1e-12)
    mean_model = X[new_tasks == 99] @ model.coef_.mean(axis=0) + model.intercept_.mean()
    np.testing.assert_allclose(expected[new_tasks == 99], mean_model, rtol=1e-12)


def test_predict_shared_design_on_dask(client):
    rng = np.random.default_rng(9)
    X, Y = shared_rows(rng)
    model = regressor().fit(X, Y)
    predictions = model.predict(da.from_array(X, chunks=(partition_sizes(rng, X.shape[0]), 2)))
    assert isinstance(predictions, da.Array) and predictions.shape == Y.shape
    np.testing.assert_allclose(predictions.compute(), model.predict(X), rtol=1e-12, atol=1e-12)


def _never_computed(n_rows):
    raise AssertionError("predict computed a partition before refusing its input")


def test_predict_without_tasks_on_a_long_format_model_fails_at_once(client):
    rng = np.random.default_rng(10)
    X, y, tasks, _ = long_rows(rng)
    model = regressor().fit(X, y, tasks)
    poisoned = da.from_delayed(dask.delayed(_never_computed)(10), shape=(10, N_FEATURES), dtype=float)
    with pytest.raises(ValueError, match="tasks"):
        model.predict(poisoned)
    with pytest.raises(ValueError, match="features"):
        model.predict(poisoned[:, :2], da.zeros(10, chunks=10))


# --- partial_fit with Dask chunks ------------------------------------------------------------------------------------


def test_partial_fit_with_dask_chunks_equals_fit(client):
    rng = np.random.default_rng(11)
    X, y, tasks, _ = long_rows(rng, n=80)
    model = regressor(l21=0.01)
    for rows in np.array_split(rng.permutation(tasks.size), 3):
        model.partial_fit(da.from_array(X[rows], chunks=(7, 3)), da.from_array(y[rows], chunks=5),
                          da.from_array(tasks[rows], chunks=7))
    assert_same_model(model, regressor(l21=0.01).fit(X, y, tasks))


def test_dask_fit_then_numpy_partial_fit_equals_fit_on_all(client):
    rng = np.random.default_rng(12)
    X, y, tasks, _ = long_rows(rng, n=80)
    first, second = np.split(rng.permutation(tasks.size), [50])
    model = regressor().fit(da.from_array(X[first], chunks=(9, 3)), da.from_array(y[first], chunks=9),
                            da.from_array(tasks[first], chunks=9))
    model.partial_fit(X[second], y[second], tasks[second])
    assert_same_model(model, regressor().fit(X, y, tasks))
    # and a later Dask fit starts over
    model.fit(da.from_array(X[second], chunks=(9, 3)), da.from_array(y[second], chunks=9),
              da.from_array(tasks[second], chunks=9))
    assert_same_model(model, regressor().fit(X[second], y[second], tasks[second]))


def test_dask_dataframe_chunk_with_other_columns_is_refused(client):
    rng = np.random.default_rng(13)
    X, y, tasks, _ = long_rows(rng)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    model = regressor().partial_fit(dd.from_pandas(frame, npartitions=3), dd.from_pandas(pd.Series(y), npartitions=3),
                                    dd.from_pandas(pd.Series(tasks), npartitions=3))
    coef = model.coef_.copy()
    renamed = dd.from_pandas(frame.rename(columns={"c": "d"}), npartitions=3)
    with pytest.raises(ValueError, match="feature names"):
        model.partial_fit(renamed, dd.from_pandas(pd.Series(y), npartitions=3),
                          dd.from_pandas(pd.Series(tasks), npartitions=3))
    np.testing.assert_array_equal(model.coef_, coef)


# --- bad input -------------------------------------------------------------------------------------------------------


@pytest.fixture
def rows():
    X, y, tasks, _ = long_rows(np.random.default_rng(14))
    return X, y, tasks


def test_partitions_of_different_numbers_are_refused(client, rows):
    X, y, tasks = rows
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    with pytest.raises(ValueError, match="same partitions"):
        regressor().fit(dd.from_pandas(frame, npartitions=4), dd.from_pandas(pd.Series(y), npartitions=3),
                        dd.from_pandas(pd.Series(tasks), npartitions=4))


def test_partitions_of_different_lengths_are_refused(client, rows):
    X, y, tasks = rows
    n = tasks.size
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    X_parts = frame_partitions(frame, (20, n - 20))
    y_parts = frame_partitions(pd.DataFrame({"y": y}), (21, n - 21))["y"]
    task_parts = frame_partitions(pd.DataFrame({"t": tasks}), (20, n - 20))["t"]
    model = regressor()
    # (either partition may be checked first)
    with pytest.raises(ValueError, match=r"partition of X has \d+ rows but the matching partition of y has \d+"):
        model.fit(X_parts, y_parts, task_parts)
    assert not hasattr(model, "coef_")


def test_arrays_of_different_lengths_are_refused(client, rows):
    X, y, tasks = rows
    with pytest.raises(ValueError, match=f"X has {tasks.size} rows but y has {tasks.size - 1}"):
        regressor().fit(da.from_array(X, chunks=10), da.from_array(y[:-1], chunks=10), da.from_array(tasks, chunks=10))
    with pytest.raises(ValueError, match="but tasks has"):
        regressor().fit(da.from_array(X, chunks=10), da.from_array(y, chunks=10), da.from_array(tasks[1:], chunks=10))


def test_dask_mixed_with_numpy_is_refused(client, rows):
    X, y, tasks = rows
    with pytest.raises(ValueError, match="y must be one too"):
        regressor().fit(da.from_array(X, chunks=10), y, da.from_array(tasks, chunks=10))
    with pytest.raises(ValueError, match="X must be one too"):
        regressor().fit(X, da.from_array(y, chunks=10), da.from_array(tasks, chunks=10))


def test_a_list_of_per_task_dask_arrays_is_refused(client, rows):
    """Not computed into memory behind the user's back: a ValueError saying which forms Dask input takes."""
    X, y, tasks = rows
    Xs = [da.from_array(X[tasks == t], chunks=10) for t in np.unique(tasks)]
    ys = [da.from_array(y[tasks == t], chunks=10) for t in np.unique(tasks)]
    with pytest.raises(ValueError, match="list of per-task Dask arrays is not supported"):
        regressor().fit(Xs, ys)
    with pytest.raises(ValueError, match="list of per-task Dask arrays is not supported"):
        mt.KernelCoupledClassifier().fit(Xs, [(target > 0).astype(int) for target in ys])
    with pytest.raises(ValueError, match="list of per-task Dask arrays is not supported"):
        regressor().partial_fit(Xs, ys)


def test_huber_loss_on_dask_is_refused(client, rows):
    X, y, tasks = rows
    with pytest.raises(ValueError, match="huber"):
        mt.KernelCoupledRegressor(loss="huber").fit(da.from_array(X, chunks=10), da.from_array(y, chunks=10),
                                                    da.from_array(tasks, chunks=10))


# --- workers lost mid-fit --------------------------------------------------------------------------------------------


def slow_block(seed, n_rows, delay):
    """Rows of a long-format problem generated from ``seed`` after ``delay`` seconds (recomputable anywhere)."""
    time.sleep(delay)
    rng = np.random.default_rng(seed)
    tasks = rng.integers(0, N_TASKS, size=n_rows)
    X = rng.normal(size=(n_rows, N_FEATURES)) + 1.0
    y = X @ np.array([1.0, -0.5, 2.0]) + tasks + rng.normal(size=n_rows)
    return np.column_stack([X, y, tasks])


def kill_own_worker(block):
    """A partition that takes down every worker process that computes it."""
    os._exit(1)


def slow_dataset(n_blocks=8, n_rows=30, delay=0.3):
    """A Dask array of generated blocks (columns X, y, task) and the same rows in memory."""
    blocks = [da.from_delayed(dask.delayed(slow_block, pure=True)(seed, n_rows, delay),
                              shape=(n_rows, N_FEATURES + 2), dtype=float) for seed in range(n_blocks)]
    data = da.concatenate(blocks)
    in_memory = np.vstack([slow_block(seed, n_rows, 0.0) for seed in range(n_blocks)])
    return data, in_memory


def split(data):
    return data[:, :N_FEATURES], data[:, N_FEATURES], data[:, N_FEATURES + 1].astype(int)


def busy_worker(client, timeout=30.0):
    """The address of a worker in the middle of a task, once one is (only the fit runs tasks here)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for address, keys in client.processing().items():
            if keys:
                return address
        time.sleep(0.02)
    raise AssertionError(f"no worker started a task within {timeout} s")


def test_a_worker_killed_mid_fit_costs_a_recomputation_only(client):
    data, in_memory = slow_dataset()
    pids = client.run(os.getpid)  # worker address -> process id
    outcome = {}

    def fit():
        try:
            outcome["model"] = regressor().fit(*split(data))
        except BaseException as error:  # reported below
            outcome["error"] = error

    thread = threading.Thread(target=fit)
    thread.start()
    victim = busy_worker(client)  # the blocks take 8 x 0.3 s over two workers: one is under way
    assert thread.is_alive()
    os.kill(pids[victim], signal.SIGKILL)
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert "error" not in outcome, outcome.get("error")
    assert_same_model(outcome["model"], regressor().fit(*split(in_memory)))
    client.wait_for_workers(2, timeout=30)
    assert pids[victim] not in client.run(os.getpid).values()  # the nanny restarted the killed one


def test_a_partition_that_always_kills_its_worker_fails_the_fit(client, few_allowed_failures):
    """KilledWorker after ALLOWED_FAILURES + 1 losses; the estimator keeps its previous fit and statistics."""
    data, _ = slow_dataset(n_blocks=3, delay=0.0)
    # meta given: else Dask calls the function here, on an empty array, to infer it
    poisoned = da.concatenate([data, data[:5].map_blocks(kill_own_worker, dtype=float, meta=np.empty((0, 0)))])
    X, y, tasks = split(data.compute())
    previous = regressor().partial_fit(X[:40], y[:40], tasks[:40])
    before = {key: getattr(previous, key) for key in ("coef_", "intercept_", "objective_", "statistics_")}
    try:
        with pytest.raises(distributed.KilledWorker):
            previous.fit(*split(poisoned))
        for key, value in before.items():
            assert getattr(previous, key) is value, key
        previous.partial_fit(X[40:], y[40:], tasks[40:])  # still streaming from its own statistics
        assert_same_model(previous, regressor().fit(X, y, tasks))
    finally:
        client.wait_for_workers(2, timeout=30)
