"""The core's per-task sums over labelled rows (the map steps of partial_fit and the Dask fits) against NumPy."""

import numpy as np
import pytest
from scipy.special import expit

from multitask._core import core


def _chunk(seed, n=400, d=5, n_tasks=4, dtype=np.float64, offset=0.0):
    rng = np.random.default_rng(seed)
    X = (rng.normal(size=(n, d)) + offset).astype(dtype)
    y = (rng.normal(size=n) + offset).astype(dtype)
    task = rng.integers(0, n_tasks - 1, size=n).astype(np.int64)  # the last task has no rows
    return X, y, task


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("offset", [0.0, 1e6])
def test_centred_statistics_are_the_two_pass_numpy_sums(dtype, offset):
    X, y, task = _chunk(0, dtype=dtype, offset=offset)
    sums = core.centred_task_statistics(X, y, task, n_tasks=4, n_threads=2)
    for t in range(4):
        rows = task == t
        Xt, yt = X[rows].astype(np.float64), y[rows].astype(np.float64)
        assert sums["counts"][t] == rows.sum()
        if not rows.any():
            assert not np.any(sums["xx"][t]) and not np.any(sums["xy"][t]) and sums["yy"][t] == 0
            continue
        Xc, yc = Xt - Xt.mean(axis=0), yt - yt.mean()
        scale = max(1.0, np.abs(Xc).max() ** 2 * rows.sum())
        np.testing.assert_allclose(sums["x_mean"][t], Xt.mean(axis=0), rtol=1e-14)
        np.testing.assert_allclose(sums["xx"][t], Xc.T @ Xc, rtol=0, atol=1e-12 * scale)
        np.testing.assert_allclose(sums["xy"][t], Xc.T @ yc, rtol=0, atol=1e-12 * scale)
        assert sums["yy"][t] == pytest.approx(yc @ yc, rel=1e-12)


def _reference_loss(name, margin):
    """l(m), dl/dm and d2l/dm2 of the classification losses and the squared loss (of y - f, y = 1 here: f)."""
    if name == "logistic":
        return np.logaddexp(0, -margin), -expit(-margin), expit(margin) * expit(-margin)
    gap = np.maximum(0, 1 - margin)
    return gap**2, -2 * gap, np.where(margin < 1, 2.0, 0.0)


@pytest.mark.parametrize("loss", ["logistic", "squared_hinge"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_newton_sums_are_the_numpy_sums(loss, fit_intercept):
    X, _, task = _chunk(1)
    rng = np.random.default_rng(2)
    signs = np.where(rng.random(X.shape[0]) < 0.5, -1.0, 1.0)
    coef, intercept = 0.5 * rng.normal(size=(4, 5)), rng.normal(size=4)
    sums = core.task_newton_sums(X, signs, task, coef=coef, intercept=intercept, loss=loss,
                                 fit_intercept=fit_intercept)
    for t in range(4):
        rows = task == t
        augmented = np.hstack((X[rows], np.ones((rows.sum(), 1)) if fit_intercept else np.zeros((rows.sum(), 1))))
        f = X[rows] @ coef[t] + (intercept[t] if fit_intercept else 0.0)
        value, first, second = _reference_loss(loss, signs[rows] * f)
        assert sums["loss"][t] == pytest.approx(value.sum(), rel=1e-13, abs=1e-13)
        np.testing.assert_allclose(sums["gradient"][t], augmented.T @ (first * signs[rows]), atol=1e-12)
        np.testing.assert_allclose(sums["hessian"][t], augmented.T @ (second[:, None] * augmented), atol=1e-12)


def test_bad_arguments_are_value_errors():
    X, y, task = _chunk(3)
    with pytest.raises(ValueError, match="task index out of range"):
        core.centred_task_statistics(X, y, task, n_tasks=2)
    with pytest.raises(ValueError, match="same number of rows"):
        core.centred_task_statistics(X, y[:-1], task, n_tasks=4)
    with pytest.raises(ValueError, match="int64"):
        core.centred_task_statistics(X, y, task.astype(np.int32), n_tasks=4)
    with pytest.raises(ValueError, match="loss must be one of"):
        core.task_newton_sums(X, y, task, coef=np.zeros((4, 5)), intercept=np.zeros(4), loss="hinge",
                              fit_intercept=True)
