"""``KernelCoupledRegressor.partial_fit`` and the mergeable Gram statistics behind it (NumPy only).

The property: after any sequence of chunks, the model is the one ``fit`` gives
on all their rows together, in each input form (long format, lists of per-task
blocks, a shared design), for every coupling, task weighting and structure
penalty. ``GramStatistics`` is checked against centred statistics computed here
directly with numpy, and the square-root data against the quadratic they stand
for; a dense solve of the kernel-coupled normal equations (tests/reference.py)
is the independent reference of the fitted model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import multitask as mt
from multitask._gram_statistics import GramStatistics
from multitask._input import to_task_blocks
from reference import dense_solution, objective, random_coupling

PROPERTY = settings(max_examples=12, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
TIGHT = 1e-12  # the solvers' tol on both sides, so that their optima agree far below the 1e-10 of the checks
PENALTIES = {"none": {}, "l1": {"l1": 0.02}, "l21": {"l21": 0.02}, "trace_norm": {"trace_norm": 0.02}}
N_TASKS, N_FEATURES = 4, 3


# --- data and chunkings ---------------------------------------------------------------------------------------------


def long_problem(rng, n_tasks=N_TASKS, n_features=N_FEATURES, shift=2.0):
    """Rows of tasks with unequal sizes (some fewer rows than features), shuffled, labels 0..T-1."""
    sizes = rng.integers(2, 14, size=n_tasks)
    tasks = rng.permutation(np.repeat(np.arange(n_tasks), sizes))
    X = rng.normal(size=(tasks.size, n_features)) + shift
    models = rng.normal(size=(n_tasks, n_features))
    y = np.einsum("nd,nd->n", X, models[tasks]) + tasks + 0.3 * rng.normal(size=tasks.size)
    return X, y, tasks


def random_cuts(rng, n, n_chunks):
    """Sorted cut points splitting range(n) into ``n_chunks`` non-empty pieces of random sizes."""
    n_chunks = min(n_chunks, n)
    return np.sort(rng.choice(np.arange(1, n), size=n_chunks - 1, replace=False)) if n_chunks > 1 else np.array([], int)


def long_chunks(rng, tasks, style, all_tasks_first):
    """Row index arrays of the chunks, in order.

    style "random": a random order cut at random points; "rows": one row a
    chunk; "late": task T-1 first appears in the last chunks and task T-2 lies
    in one chunk only, placed at a random position. ``all_tasks_first``: the
    first chunk holds up to three rows of every task (a coupling matrix or task
    weights array must match the tasks seen so far; with a singular coupling the
    first chunk's problem must be well posed on its own).
    """
    order = rng.permutation(tasks.size)
    head = []
    if all_tasks_first:
        first_rows = np.concatenate([np.flatnonzero(tasks == t)[:3] for t in np.unique(tasks)])
        head = [first_rows]
        order = order[~np.isin(order, first_rows)]
    if style == "rows":
        return head + [np.array([i]) for i in order]
    if style == "random":
        return head + [piece for piece in np.split(order, random_cuts(rng, order.size, rng.integers(1, 9)))]
    late, solo = tasks.max(), tasks.max() - 1
    late_rows = order[tasks[order] == late]
    solo_rows = order[tasks[order] == solo]
    others = order[(tasks[order] != late) & (tasks[order] != solo)]
    chunks = list(np.split(others, random_cuts(rng, others.size, rng.integers(2, 7))))
    if not all_tasks_first or solo_rows.size:
        chunks.insert(int(rng.integers(0, len(chunks) + 1)), solo_rows)
    chunks += list(np.split(late_rows, random_cuts(rng, late_rows.size, 2)))
    return head + [chunk for chunk in chunks if chunk.size]


def lists_chunks(rng, Xs, ys):
    """Calls of the lists form: each a list of one non-empty chunk per task, cut at random."""
    n_calls = int(rng.integers(1, min(X.shape[0] for X in Xs) + 1))
    cuts = [random_cuts(rng, X.shape[0], n_calls) for X in Xs]
    X_pieces = [np.split(X, cut) for X, cut in zip(Xs, cuts)]
    y_pieces = [np.split(y, cut) for y, cut in zip(ys, cuts)]
    return [([pieces[k] for pieces in X_pieces], [pieces[k] for pieces in y_pieces]) for k in range(n_calls)]


def estimator_pair(**params):
    params = {"alpha": 0.3, "tol": TIGHT, "max_iter": 100_000, **params}
    return mt.KernelCoupledRegressor(**params), mt.KernelCoupledRegressor(**params)


def assert_same_model(streamed, full, rtol=1e-10):
    """coef_, intercept_ and objective_ agree to ``rtol`` (relative to the size of each)."""
    scale = max(np.abs(full.coef_).max(), 1e-300)
    np.testing.assert_allclose(streamed.coef_, full.coef_, rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(streamed.intercept_, full.intercept_, rtol=rtol,
                               atol=rtol * max(np.abs(full.intercept_).max(), scale))
    np.testing.assert_allclose(streamed.objective_, full.objective_, rtol=rtol)
    np.testing.assert_array_equal(streamed.tasks_, full.tasks_)
    assert streamed.n_features_in_ == full.n_features_in_
    assert streamed.solver_ == full.solver_


COUPLINGS = st.sampled_from(["mean_regularized", "identity", "chain", "matrix"])
WEIGHTS = st.sampled_from(["uniform", "balanced", "array"])


def resolve(rng, coupling, task_weights, n_tasks):
    """The estimator's coupling and task_weights parameters for the names drawn."""
    if coupling == "matrix":  # positive definite: every chunk's problem is well posed (a singular one: below)
        coupling = random_coupling(rng, n_tasks, "pd")
    if task_weights == "array":
        task_weights = rng.uniform(0.5, 2.0, size=n_tasks)
    return coupling, task_weights


# --- partial_fit over any chunking equals fit on all rows -----------------------------------------------------------


@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("fit_intercept", [True, False])
@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), style=st.sampled_from(["random", "rows", "late"]), coupling=COUPLINGS,
       task_weights=WEIGHTS)
def test_long_format_any_chunking_equals_fit(penalty, fit_intercept, seed, style, coupling, task_weights):
    rng = np.random.default_rng(seed)
    X, y, tasks = long_problem(rng)
    coupling, task_weights = resolve(rng, coupling, task_weights, N_TASKS)
    fixed_size = not isinstance(coupling, str) or not isinstance(task_weights, str)
    streamed, full = estimator_pair(coupling=coupling, task_weights=task_weights, fit_intercept=fit_intercept,
                                    **PENALTIES[penalty])
    full.fit(X, y, tasks)
    for rows in long_chunks(rng, tasks, style, all_tasks_first=fixed_size):
        streamed.partial_fit(X[rows], y[rows], tasks[rows])
    assert_same_model(streamed, full)
    np.testing.assert_allclose(streamed.predict(X, tasks), full.predict(X, tasks), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("fit_intercept", [True, False])
@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), coupling=COUPLINGS, task_weights=WEIGHTS)
def test_lists_form_any_chunking_equals_fit(penalty, fit_intercept, seed, coupling, task_weights):
    rng = np.random.default_rng(seed)
    X, y, tasks = long_problem(rng)
    Xs = [X[tasks == t] for t in range(N_TASKS)]
    ys = [y[tasks == t] for t in range(N_TASKS)]
    coupling, task_weights = resolve(rng, coupling, task_weights, N_TASKS)
    streamed, full = estimator_pair(coupling=coupling, task_weights=task_weights, fit_intercept=fit_intercept,
                                    **PENALTIES[penalty])
    full.fit(Xs, ys)
    for X_chunk, y_chunk in lists_chunks(rng, Xs, ys):
        streamed.partial_fit(X_chunk, y_chunk)
    assert_same_model(streamed, full)


@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("fit_intercept", [True, False])
@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), one_row_chunks=st.booleans(), coupling=COUPLINGS, task_weights=WEIGHTS)
def test_shared_design_any_chunking_equals_fit(penalty, fit_intercept, seed, one_row_chunks, coupling, task_weights):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 30))
    X = rng.normal(size=(n, N_FEATURES)) + 1.5
    Y = X @ rng.normal(size=(N_FEATURES, N_TASKS)) + rng.normal(size=(n, N_TASKS)) + np.arange(N_TASKS)
    coupling, task_weights = resolve(rng, coupling, task_weights, N_TASKS)
    streamed, full = estimator_pair(coupling=coupling, task_weights=task_weights, fit_intercept=fit_intercept,
                                    **PENALTIES[penalty])
    full.fit(X, Y)
    order = rng.permutation(n)
    pieces = [order[i : i + 1] for i in range(n)] if one_row_chunks else np.split(
        order, random_cuts(rng, n, rng.integers(1, 8)))
    for rows in pieces:
        streamed.partial_fit(X[rows], Y[rows])
    assert_same_model(streamed, full)
    assert streamed.predict(X).shape == (n, N_TASKS)


def test_single_task_one_dimensional_target():
    """X (n, d) with a 1-D y: one task, streamed."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(25, 3)) + 4.0
    y = X @ [1.0, -2.0, 0.5] + rng.normal(size=25)
    streamed, full = estimator_pair()
    full.fit(X, y)
    for rows in np.array_split(rng.permutation(25), 6):
        streamed.partial_fit(X[rows], y[rows])
    assert_same_model(streamed, full)


def test_string_labels_first_seen_late_equal_fit():
    """String task labels; a label sorting first arrives in the last chunk (tasks_ stays sorted)."""
    rng = np.random.default_rng(11)
    X, y, tasks = long_problem(rng, n_tasks=5)
    names = np.array(["school_c", "school_a", "school_e", "school_b", "school_d"])[tasks]
    streamed, full = estimator_pair(coupling="chain")
    full.fit(X, y, names)
    late = names == "school_a"
    streamed.partial_fit(X[~late], y[~late], names[~late])
    assert list(streamed.tasks_) == ["school_b", "school_c", "school_d", "school_e"]
    streamed.partial_fit(X[late], y[late], names[late])
    assert_same_model(streamed, full)


# --- against an independent dense solve ------------------------------------------------------------------------------


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("task_weights", ["uniform", "balanced", "array"])
@pytest.mark.parametrize("kind", ["pd", "psd"])
def test_partial_fit_equals_dense_normal_equations(fit_intercept, task_weights, kind):
    """The kernel-coupled normal equations (blockdiag(s_t X~_t'X~_t) + alpha K (x) I) vec W = vec C, solved densely."""
    rng = np.random.default_rng(7)
    X, y, tasks = long_problem(rng, n_tasks=5, n_features=4, shift=3.0)
    Xs = [X[tasks == t] for t in range(5)]
    ys = [y[tasks == t] for t in range(5)]
    K = random_coupling(rng, 5, kind)
    weights = rng.uniform(0.5, 2.0, size=5) if task_weights == "array" else task_weights
    model = mt.KernelCoupledRegressor(coupling=K, alpha=0.2, task_weights=weights, fit_intercept=fit_intercept)
    for rows in long_chunks(rng, tasks, "random", all_tasks_first=True):
        model.partial_fit(X[rows], y[rows], tasks[rows])
    coef, intercept = dense_solution(Xs, ys, K, 0.2, weights, fit_intercept)
    np.testing.assert_allclose(model.coef_, coef, rtol=1e-9, atol=1e-10 * np.abs(coef).max())
    np.testing.assert_allclose(model.intercept_, intercept, rtol=1e-9, atol=1e-10 * np.abs(intercept).max())
    np.testing.assert_allclose(model.objective_, objective(Xs, ys, coef, intercept, K, 0.2, weights), rtol=1e-10)


def test_shared_design_partial_fit_equals_dense_normal_equations():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(40, 3)) - 5.0
    Y = X @ rng.normal(size=(3, 4)) + rng.normal(size=(40, 4))
    K = random_coupling(rng, 4, "pd")
    model = mt.KernelCoupledRegressor(coupling=K, alpha=0.5)
    for rows in np.array_split(np.arange(40), 9):
        model.partial_fit(X[rows], Y[rows])
    coef, intercept = dense_solution([X] * 4, list(Y.T), K, 0.5)
    np.testing.assert_allclose(model.coef_, coef, rtol=1e-9, atol=1e-10 * np.abs(coef).max())
    np.testing.assert_allclose(model.intercept_, intercept, rtol=1e-9, atol=1e-10 * np.abs(intercept).max())


# --- GramStatistics --------------------------------------------------------------------------------------------------


def statistics(X, y, tasks):
    return GramStatistics.from_blocks(to_task_blocks(X, y, tasks))


def direct_statistics(X, y, tasks):
    """Counts, means and centred sums per sorted label, by a two-pass numpy computation (means first)."""
    labels = np.unique(tasks)
    out = {"labels": labels, "counts": [], "x_mean": [], "y_mean": [], "xx": [], "xy": [], "yy": []}
    for label in labels:
        Xt, yt = X[tasks == label], y[tasks == label]
        Xc, yc = Xt - Xt.mean(axis=0), yt - yt.mean()
        for key, value in (("counts", len(yt)), ("x_mean", Xt.mean(axis=0)), ("y_mean", yt.mean()),
                           ("xx", Xc.T @ Xc), ("xy", Xc.T @ yc), ("yy", yc @ yc)):
            out[key].append(value)
    return {key: np.asarray(value) for key, value in out.items()}


FIELDS = ("counts", "x_mean", "y_mean", "xx", "xy", "yy")


def assert_statistics_close(actual, expected, rtol):
    """Every field of ``actual`` (GramStatistics) against ``expected`` (GramStatistics or a dict), to ``rtol``."""
    get = (lambda key: getattr(expected, key)) if isinstance(expected, GramStatistics) else expected.__getitem__
    np.testing.assert_array_equal(actual.labels, get("labels"))
    for key in FIELDS:
        reference = np.asarray(get(key), dtype=float)
        np.testing.assert_allclose(getattr(actual, key), reference, rtol=rtol,
                                   atol=rtol * max(np.abs(reference).max(), 1.0), err_msg=key)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_merge_is_associative_commutative_and_equals_the_union(seed):
    rng = np.random.default_rng(seed)
    X, y, tasks = long_problem(rng, n_tasks=5)
    parts = [statistics(X[rows], y[rows], tasks[rows]) for rows in long_chunks(rng, tasks, "late", False)[:3]]
    while len(parts) < 3:  # at least three pieces for associativity
        parts.append(statistics(X[:1], y[:1], tasks[:1]))
    a, b, c = parts
    assert_statistics_close((a + b) + c, a + (b + c), 1e-12)
    assert_statistics_close(a + b, b + a, 1e-12)
    assert_statistics_close(GramStatistics.empty("long", X.shape[1]) + a, a, 0.0)
    chunks = long_chunks(rng, tasks, "random", False)
    merged = sum((statistics(X[rows], y[rows], tasks[rows]) for rows in chunks[1:]),
                 statistics(X[chunks[0]], y[chunks[0]], tasks[chunks[0]]))
    assert_statistics_close(merged, direct_statistics(X, y, tasks), 1e-12)


def test_shared_design_merge_equals_the_union():
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(30, 3)) + 2.0, rng.normal(size=(30, 2))
    merged = statistics(X[:7], Y[:7], None) + statistics(X[7:8], Y[7:8], None) + statistics(X[8:], Y[8:], None)
    Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
    np.testing.assert_array_equal(merged.counts, [30, 30])
    np.testing.assert_allclose(merged.x_mean[0], X.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(merged.xx[0], Xc.T @ Xc, rtol=1e-12)
    np.testing.assert_allclose(merged.xy, (Xc.T @ Yc).T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(merged.yy, np.sum(Yc**2, axis=0), rtol=1e-12)
    np.testing.assert_allclose(merged.y_mean, Y.mean(axis=0), rtol=1e-13)


def test_large_means_keep_precision():
    """x ~ 1e6 + N(0, 1): the merged centred Gram keeps the precision of a two-pass computation.

    Raw second moments minus n mean mean' lose about 1e12 * eps of it (checked
    too, so that the test can tell the two apart).
    """
    rng = np.random.default_rng(2)
    n = 4000
    X = 1e6 + rng.normal(size=(n, 3))
    y = 1e6 + X @ [0.5, -1.0, 2.0] - 1e6 * 1.5 + rng.normal(size=n)
    tasks = rng.integers(0, 2, size=n)
    cuts = random_cuts(rng, n, 60)
    pieces = [statistics(X[rows], y[rows], tasks[rows]) for rows in np.split(np.arange(n), cuts)]
    merged = pieces[0]
    for piece in pieces[1:]:
        merged = merged + piece
    expected = direct_statistics(X, y, tasks)
    assert_statistics_close(merged, expected, 1e-9)
    naive = X[tasks == 0].T @ X[tasks == 0] - expected["counts"][0] * np.outer(expected["x_mean"][0],
                                                                                expected["x_mean"][0])
    assert np.abs(naive - expected["xx"][0]).max() > 1e-6 * np.abs(expected["xx"][0]).max()


def quadratic_parts(blocks, t):
    R, z = blocks.X[t], blocks.y[t]
    return R.T @ R, R.T @ z, z @ z


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("case", ["tall", "wide", "duplicated_columns", "one_row", "constant_column"])
def test_square_root_blocks_reproduce_the_quadratic(fit_intercept, case):
    """R'R = S, R'z = c, z'z = q per task (raw sums without intercept), with at most d + 1 rows."""
    rng = np.random.default_rng(4)
    d = 5
    sizes = {"tall": (30, 12), "wide": (3, 2), "duplicated_columns": (20, 9), "one_row": (1, 6),
             "constant_column": (15, 8)}[case]
    Xs = [rng.normal(size=(n, d)) + 10.0 for n in sizes]
    if case == "duplicated_columns":
        Xs = [np.column_stack([X[:, :3], X[:, :1], 2.0 * X[:, 1:2]]) for X in Xs]
    if case == "constant_column":
        for X in Xs:
            X[:, 2] = 7.0
    ys = [X @ rng.normal(size=d) + rng.normal(size=X.shape[0]) for X in Xs]
    stats = statistics(Xs, ys, None)
    blocks = stats.square_root_blocks(fit_intercept)
    for t, (X, y) in enumerate(zip(Xs, ys)):
        if fit_intercept:
            X, y = X - X.mean(axis=0), y - y.mean()
        S, c, q = quadratic_parts(blocks, t)
        scale = np.abs(X.T @ X).max()
        np.testing.assert_allclose(S, X.T @ X, rtol=0, atol=1e-12 * max(scale, 1.0))
        np.testing.assert_allclose(c, X.T @ y, rtol=0, atol=1e-11 * max(np.sqrt(scale * (y @ y)), 1.0))
        np.testing.assert_allclose(q, y @ y, rtol=1e-10, atol=1e-12)
        assert blocks.X[t].shape[0] <= d + 1
        # the loss for any w, as the core sees it
        w = rng.normal(size=d)
        np.testing.assert_allclose(np.sum((blocks.y[t] - blocks.X[t] @ w) ** 2), np.sum((y - X @ w) ** 2),
                                   rtol=1e-9)


def test_square_root_of_a_shared_design():
    rng = np.random.default_rng(9)
    X, Y = rng.normal(size=(4, 6)) + 1.0, rng.normal(size=(4, 3))  # n < d: a rank-deficient Gram
    blocks = statistics(X, Y, None).square_root_blocks(True)
    Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
    for t in range(3):
        S, c, q = quadratic_parts(blocks, t)
        np.testing.assert_allclose(S, Xc.T @ Xc, atol=1e-12 * np.abs(Xc.T @ Xc).max())
        np.testing.assert_allclose(c, Xc.T @ Yc[:, t], atol=1e-12 * np.abs(Xc).max() * np.abs(Yc).max() * 4)
        np.testing.assert_allclose(q, Yc[:, t] @ Yc[:, t], rtol=1e-12)


def test_rank_deficient_tasks_fit_like_the_data():
    """Tasks with n_t < d and duplicated columns: partial_fit still equals fit (the square root drops no loss)."""
    rng = np.random.default_rng(12)
    base = rng.normal(size=(14, 3)) + 3.0
    X = np.column_stack([base, base[:, 0], base[:, 1] - base[:, 2]])
    tasks = np.repeat([0, 1, 2], [2, 3, 9])
    y = X @ rng.normal(size=5) + rng.normal(size=14)
    streamed, full = estimator_pair(coupling="identity")
    full.fit(X, y, tasks)
    for rows in np.array_split(rng.permutation(14), 4):
        streamed.partial_fit(X[rows], y[rows], tasks[rows])
    assert_same_model(streamed, full, rtol=1e-9)


# --- errors and state ------------------------------------------------------------------------------------------------


@pytest.fixture
def chunked():
    rng = np.random.default_rng(1)
    X, y, tasks = long_problem(rng)
    return X, y, tasks, np.array_split(np.arange(tasks.size), 3)


def state(model):
    """A snapshot of the fitted attributes, to compare after a failing call."""
    return {key: (value.copy() if isinstance(value, np.ndarray) else value) for key, value in vars(model).items()}


def assert_state_unchanged(model, before):
    assert set(vars(model)) == set(before)
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(getattr(model, key), value, err_msg=key)
        else:
            assert getattr(model, key) is value or getattr(model, key) == value, key


def test_huber_loss_is_refused(chunked):
    X, y, tasks, _ = chunked
    with pytest.raises(ValueError, match="huber"):
        mt.KernelCoupledRegressor(loss="huber").partial_fit(X, y, tasks)


@pytest.mark.parametrize("form", ["long", "lists", "shared"])
@pytest.mark.parametrize("later", [False, True])
def test_sparse_chunks_are_refused(chunked, later, form):
    X, y, tasks, (a, b, _) = chunked

    def chunk(rows, sparse):
        X_rows = sp.csr_array(X[rows]) if sparse else X[rows]
        if form == "long":
            return X_rows, y[rows], tasks[rows]
        if form == "lists":
            return [X_rows, X[rows]], [y[rows], y[rows]], None
        return X_rows, np.column_stack([y[rows], -y[rows]]), None

    model = mt.KernelCoupledRegressor()
    if later:
        model.partial_fit(*chunk(a, False))
    before = state(model)
    with pytest.raises(ValueError, match="dense"):
        model.partial_fit(*chunk(b, True))
    assert_state_unchanged(model, before)


def test_another_number_of_features_is_refused(chunked):
    X, y, tasks, (a, b, _) = chunked
    model = mt.KernelCoupledRegressor().partial_fit(X[a], y[a], tasks[a])
    before = state(model)
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(X[b][:, :2], y[b], tasks[b])
    with pytest.raises(ValueError, match="features"):
        model.partial_fit([X[b][:, :2]], [y[b]])
    assert_state_unchanged(model, before)


def test_dataframe_chunks_feature_names(chunked):
    X, y, tasks, (a, b, c) = chunked
    columns = ["height", "weight", "age"]
    model = mt.KernelCoupledRegressor()
    for rows in (a, b):
        model.partial_fit(pd.DataFrame(X[rows], columns=columns), y[rows], tasks[rows])
    np.testing.assert_array_equal(model.feature_names_in_, columns)
    before = state(model)
    with pytest.raises(ValueError, match="feature names"):
        model.partial_fit(pd.DataFrame(X[c], columns=["height", "age", "weight"]), y[c], tasks[c])
    with pytest.raises(ValueError, match="feature names"):
        model.partial_fit(pd.DataFrame(X[c], columns=["height", "weight", "income"]), y[c], tasks[c])
    assert_state_unchanged(model, before)
    model.partial_fit(pd.DataFrame(X[c], columns=columns), y[c], tasks[c])
    full = mt.KernelCoupledRegressor().fit(pd.DataFrame(X, columns=columns), y, tasks)
    assert_same_model(model, full, rtol=1e-9)


def test_partial_fit_after_an_in_memory_fit_is_refused(chunked):
    X, y, tasks, (a, b, _) = chunked
    model = mt.KernelCoupledRegressor().fit(X[a], y[a], tasks[a])
    before = state(model)
    with pytest.raises(ValueError, match="partial_fit"):
        model.partial_fit(X[b], y[b], tasks[b])
    assert_state_unchanged(model, before)
    assert not hasattr(model, "statistics_")


def test_shared_design_with_other_columns_is_refused():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 3))
    model = mt.KernelCoupledRegressor().partial_fit(X[:6], rng.normal(size=(6, 2)))
    before = state(model)
    with pytest.raises(ValueError, match="columns"):
        model.partial_fit(X[6:], rng.normal(size=(6, 3)))
    assert_state_unchanged(model, before)


def test_another_input_form_or_label_type_is_refused(chunked):
    X, y, tasks, (a, b, _) = chunked
    model = mt.KernelCoupledRegressor().partial_fit(X[a], y[a], tasks[a])
    before = state(model)
    with pytest.raises(ValueError, match="form"):
        model.partial_fit([X[b]], [y[b]])
    with pytest.raises(ValueError, match="form"):
        model.partial_fit(X[b], np.column_stack([y[b], y[b]]))
    with pytest.raises(ValueError, match="types"):
        model.partial_fit(X[b], y[b], tasks[b].astype(str))
    assert_state_unchanged(model, before)


@pytest.mark.parametrize("where", ["X", "y"])
def test_a_failing_chunk_leaves_the_model_as_it_was(chunked, where):
    X, y, tasks, (a, b, c) = chunked
    model = mt.KernelCoupledRegressor().partial_fit(X[a], y[a], tasks[a])
    before = state(model)
    statistics_before = model.statistics_
    X_bad, y_bad = X[b].copy(), y[b].copy()
    (X_bad if where == "X" else y_bad).flat[1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.partial_fit(X_bad, y_bad, tasks[b])
    assert_state_unchanged(model, before)
    assert model.statistics_ is statistics_before
    # the chunk was not half-added: the good chunks still give the fit on their rows
    model.partial_fit(X[c], y[c], tasks[c])
    rows = np.concatenate([a, c])
    assert_same_model(model, mt.KernelCoupledRegressor().fit(X[rows], y[rows], tasks[rows]), rtol=1e-9)


def test_fit_after_partial_fit_starts_over(chunked):
    X, y, tasks, (a, b, c) = chunked
    model = mt.KernelCoupledRegressor().partial_fit(X[a], y[a], tasks[a]).partial_fit(X[b], y[b], tasks[b])
    model.fit(X[c], y[c], tasks[c])
    assert not hasattr(model, "statistics_")
    assert_same_model(model, mt.KernelCoupledRegressor().fit(X[c], y[c], tasks[c]), rtol=1e-12)
    with pytest.raises(ValueError, match="partial_fit"):
        model.partial_fit(X[a], y[a], tasks[a])


def test_coupling_matrix_must_match_the_tasks_seen(chunked):
    """A (T, T) coupling needs all T tasks from the first chunk on (documented); the model is left as it was."""
    X, y, tasks, _ = chunked
    model = mt.KernelCoupledRegressor(coupling=random_coupling(np.random.default_rng(0), N_TASKS, "pd"))
    with pytest.raises(ValueError):
        model.partial_fit(X[tasks < 2], y[tasks < 2], tasks[tasks < 2])
    assert not hasattr(model, "coef_") and not hasattr(model, "statistics_")


@pytest.mark.parametrize("estimator", [mt.TaskRelationRegressor(), mt.KernelCoupledRegressorCV(alphas=3)])
def test_estimators_that_learn_the_coupling_or_alpha_have_no_partial_fit(estimator):
    """Their inherited partial_fit would fit the plain objective for the parameters as given (no relations
    learned, no search): they must not offer it."""
    assert not hasattr(estimator, "partial_fit")
    assert hasattr(mt.KernelCoupledRegressor(), "partial_fit")
