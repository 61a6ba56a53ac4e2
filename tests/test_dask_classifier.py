"""KernelCoupledClassifier on Dask collections: Newton's method with per-partition sums on a real LocalCluster.

References: the in-memory fit of the same rows (itself checked against
scikit-learn and dense references elsewhere), scikit-learn's per-task
LogisticRegression for the identity coupling, and finite differences of the
per-partition loss sums.
"""

import numpy as np
import pytest

import multitask as mt

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")
pytest.importorskip("distributed")

from multitask._dask_newton import partition_newton_sums  # noqa: E402

N_FEATURES = 4


def _problem(seed, n_tasks=5, labels=("no", "yes")):
    rng = np.random.default_rng(seed)
    counts = rng.integers(25, 70, size=n_tasks)
    X = rng.normal(size=(counts.sum(), N_FEATURES))
    tasks = np.repeat(np.arange(n_tasks), counts)
    W = rng.normal(size=(n_tasks, N_FEATURES))
    score = np.einsum("ij,ij->i", X, W[tasks]) + 0.7 * rng.normal(size=X.shape[0]) + 0.3
    y = np.where(score > 0, labels[1], labels[0])
    order = rng.permutation(X.shape[0])
    return X[order], y[order], tasks[order]


def _random_chunks(n, rng, n_parts=5):
    """Row chunk sizes summing to n, with an empty one among them."""
    cuts = np.sort(rng.choice(np.arange(1, n), size=n_parts - 2, replace=False))
    sizes = np.diff(np.concatenate(([0], cuts, [n]))).tolist()
    sizes.insert(int(rng.integers(len(sizes) + 1)), 0)
    return tuple(sizes)


def _as_dask(X, y, tasks, chunks):
    return (da.from_array(X, chunks=(chunks, X.shape[1])), da.from_array(y, chunks=(chunks,)),
            da.from_array(tasks, chunks=(chunks,)))


def _assert_same_model(dask_model, memory_model, tol=1e-8):
    np.testing.assert_allclose(dask_model.coef_, memory_model.coef_, rtol=0, atol=tol)
    np.testing.assert_allclose(dask_model.intercept_, memory_model.intercept_, rtol=0, atol=tol)
    np.testing.assert_array_equal(dask_model.classes_, memory_model.classes_)
    np.testing.assert_array_equal(dask_model.tasks_, memory_model.tasks_)
    assert dask_model.objective_ == pytest.approx(memory_model.objective_, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("seed, params", list(enumerate([
    {},
    {"loss": "squared_hinge"},
    {"loss": "squared_hinge", "alpha": 1e-3},
    {"fit_intercept": False},
    {"coupling": "chain", "alpha": 0.05, "task_weights": "balanced"},
    {"coupling": "identity", "alpha": 0.01, "task_weights": [1.0, 2.0, 0.5, 1.0, 3.0]},
])))
def test_dask_fit_equals_in_memory_fit(dask_client, params, seed):
    X, y, tasks = _problem(seed)
    rng = np.random.default_rng(seed + 10)
    memory = mt.KernelCoupledClassifier(tol=1e-11, **params).fit(X, y, tasks=tasks)
    model = mt.KernelCoupledClassifier(tol=1e-11, **params).fit(*_as_dask(X, y, tasks, _random_chunks(len(y), rng)))
    _assert_same_model(model, memory)
    assert model.solver_ == "newton" and model.kkt_residual_ <= 1e-11
    assert np.all(np.diff(model.objective_history_) <= 1e-15)  # the line search only accepts decreases


def test_task_in_one_partition_only(dask_client):
    X, y, tasks = _problem(2)
    order = np.argsort(tasks == 3, kind="stable")  # task 3's rows last, all in the last partition
    X, y, tasks = X[order], y[order], tasks[order]
    n_last = int(np.sum(tasks == 3))
    chunks = (40, 0, len(y) - 40 - n_last, n_last)
    memory = mt.KernelCoupledClassifier(alpha=0.1, tol=1e-11).fit(X, y, tasks=tasks)
    model = mt.KernelCoupledClassifier(alpha=0.1, tol=1e-11).fit(*_as_dask(X, y, tasks, chunks))
    _assert_same_model(model, memory)


def test_identity_coupling_is_scikit_learn_logistic_regression_per_task(dask_client):
    from sklearn.linear_model import LogisticRegression

    X, y, tasks = _problem(3)
    alpha = 0.02
    model = mt.KernelCoupledClassifier("identity", alpha=alpha, tol=1e-12).fit(*_as_dask(X, y, tasks, (60, 90, len(y) - 150)))
    for t in range(5):
        rows = tasks == t
        reference = LogisticRegression(C=1.0 / (len(y) * alpha), tol=1e-12, max_iter=10_000).fit(X[rows], y[rows])
        np.testing.assert_allclose(model.coef_[t], reference.coef_[0], atol=1e-6)
        np.testing.assert_allclose(model.intercept_[t], reference.intercept_[0], atol=1e-6)


def test_data_frames_with_string_tasks_and_feature_names(dask_client):
    X, y, tasks = _problem(4)
    names = [f"f{j}" for j in range(N_FEATURES)]
    frame, labels = pd.DataFrame(X, columns=names), np.array([f"store {t}" for t in tasks])
    memory = mt.KernelCoupledClassifier(alpha=0.1, tol=1e-11).fit(frame, y, tasks=labels)
    parts = 4
    model = mt.KernelCoupledClassifier(alpha=0.1, tol=1e-11).fit(
        dd.from_pandas(frame, npartitions=parts), dd.from_pandas(pd.Series(y), npartitions=parts),
        dd.from_pandas(pd.Series(labels), npartitions=parts))
    _assert_same_model(model, memory)
    np.testing.assert_array_equal(model.feature_names_in_, names)
    frame_parts = dd.from_pandas(frame, npartitions=parts)
    task_parts = dd.from_pandas(pd.Series(labels), npartitions=parts)
    probabilities = model.predict_proba(frame_parts, tasks=task_parts)
    assert isinstance(probabilities, dd.DataFrame)
    np.testing.assert_allclose(probabilities.compute().to_numpy(), memory.predict_proba(frame, tasks=labels),
                               atol=1e-8)
    predicted = model.predict(frame_parts, tasks=task_parts)
    assert isinstance(predicted, dd.Series)
    np.testing.assert_array_equal(predicted.compute().to_numpy(), memory.predict(frame, tasks=labels))


def test_shared_design(dask_client):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(150, N_FEATURES))
    Y = np.where(X @ rng.normal(size=(N_FEATURES, 3)) + 0.5 * rng.normal(size=(150, 3)) > 0, 1, 0)
    memory = mt.KernelCoupledClassifier(alpha=0.1, tol=1e-11).fit(X, Y)
    chunks = (50, 0, 100)
    model = mt.KernelCoupledClassifier(alpha=0.1, tol=1e-11).fit(
        da.from_array(X, chunks=(chunks, N_FEATURES)), da.from_array(Y, chunks=(chunks, 3)))
    _assert_same_model(model, memory)
    scores = model.decision_function(da.from_array(X, chunks=(chunks, N_FEATURES)))
    assert isinstance(scores, da.Array) and scores.shape == (150, 3)
    np.testing.assert_allclose(scores.compute(), memory.decision_function(X), atol=1e-8)


@pytest.mark.parametrize("loss", ["logistic", "squared_hinge"])
def test_partition_sums_are_the_loss_derivatives(loss):
    """The map step's gradient and Hessian are the derivatives of its loss sum (central differences)."""
    X, y, tasks = _problem(6, n_tasks=3)
    labels, rng = np.arange(3), np.random.default_rng(7)
    coef, intercept = 0.3 * rng.normal(size=(3, N_FEATURES)), 0.1 * rng.normal(size=3)

    def sums(c, b):
        return partition_newton_sums(X, y, tasks, labels, "yes", c, b, loss, True)

    base, h = sums(coef, intercept), 1e-6
    for t in range(3):
        for j in range(N_FEATURES + 1):
            shift_c, shift_b = np.zeros_like(coef), np.zeros_like(intercept)
            if j < N_FEATURES:
                shift_c[t, j] = h
            else:
                shift_b[t] = h
            up, down = sums(coef + shift_c, intercept + shift_b), sums(coef - shift_c, intercept - shift_b)
            assert (up.loss[t] - down.loss[t]) / (2 * h) == pytest.approx(base.gradient[t, j], rel=1e-6, abs=1e-6)
            np.testing.assert_allclose((up.gradient[t] - down.gradient[t]) / (2 * h), base.hessian[t, j],
                                       rtol=1e-5, atol=1e-5)


def test_errors_are_clear_and_leave_the_previous_fit(dask_client):
    X, y, tasks = _problem(8)
    chunks = (100, len(y) - 100)
    Xd, yd, td = _as_dask(X, y, tasks, chunks)
    with pytest.raises(ValueError, match="structure penalty"):
        mt.KernelCoupledClassifier(l1=0.1).fit(Xd, yd, td)
    with pytest.raises(ValueError, match="solver='auto' or 'newton'"):
        mt.KernelCoupledClassifier(solver="gradient").fit(Xd, yd, td)
    three = np.where(tasks == 0, "maybe", y)
    with pytest.raises(ValueError, match="binary"):
        mt.KernelCoupledClassifier().fit(Xd, da.from_array(three, chunks=(chunks,)), td)
    one_class = np.where(tasks == 2, "yes", y)
    model = mt.KernelCoupledClassifier(alpha=0.1).fit(Xd, yd, td)
    before = model.coef_.copy()
    with pytest.raises(ValueError, match="task 2 holds a single class"):
        model.fit(Xd, da.from_array(one_class, chunks=(chunks,)), td)
    np.testing.assert_array_equal(model.coef_, before)
    with pytest.raises(ValueError, match="same partitions"):
        model.fit(Xd, da.from_array(y, chunks=((50, 50, len(y) - 100),)).to_dask_dataframe(), td)
    np.testing.assert_array_equal(model.coef_, before)
    with pytest.raises(ValueError, match="must be one too"):
        mt.KernelCoupledClassifier().fit(Xd, y, td)
    with pytest.raises(ValueError, match="tasks"):
        model.predict(Xd)  # a long-format model needs the task labels, refused before any computation
