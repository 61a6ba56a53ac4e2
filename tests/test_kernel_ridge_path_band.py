"""kernel_ridge_path with method="band" (the reduction of the per-task kernel matrix
to band form, bandwidth 64) against a numpy solve of the bordered dual system at
every alpha, on sizes around the bandwidth: fewer samples than the bandwidth, one
sample, exactly one panel, a partial last panel."""

import numpy as np
import pytest

import multitask as mt
from reference import random_coupling
from test_kernel_ridge import dual_reference, per_task_data, rbf

ALPHAS = np.array([1e-5, 3e-2, 1e-3, 1.0, 1e-5])
BANDWIDTH = 64  # band_reduction_width in cpp/include/multitask/linalg/band_reduction.hpp


def check_against_numpy(path, Xs, ys, B, fit_intercept, weights=None):
    """Every alpha's dual coefficients and intercepts equal to a dense numpy solve."""
    for alpha, c, b in zip(path.alphas, path.dual_coef, path.intercept):
        _, c_ref, b_ref = dual_reference(Xs, ys, B, alpha, rbf, omega=weights, fit_intercept=fit_intercept)
        # atol: c's scale, or round-off of the targets' where c is exactly zero (one sample, intercept)
        atol = 1e-8 * np.max(np.abs(c_ref)) + 1e-14 * np.max(np.abs(np.concatenate(ys)))
        np.testing.assert_allclose(c, c_ref, rtol=1e-8, atol=atol)
        np.testing.assert_allclose(b, b_ref, rtol=1e-8, atol=1e-8 * max(1.0, np.max(np.abs(b_ref))))


@pytest.mark.parametrize(
    "sizes",
    [
        [5, 7, 3],  # N = 15 < bandwidth: no panel, B is the whole matrix
        [30, 34],  # N = bandwidth: no panel either
        [30, 35],  # N = bandwidth + 1: the panel would have one row, nothing to reduce
        [30, 36],  # N = bandwidth + 2: one panel of two rows
        [60, 40, 31],  # N = 2 bandwidth + 3: a full panel, then a partial one (3 rows)
        [70, 80, 50, 40],  # N = 240: three full panels and a partial one
    ],
)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_band_equals_numpy_around_the_bandwidth(sizes, fit_intercept):
    rng = np.random.default_rng(sum(sizes))
    Xs, ys = per_task_data(rng, sizes)
    B = np.linalg.inv(random_coupling(rng, len(sizes), "pd"))
    weights = rng.uniform(0.5, 2.0, size=len(sizes))
    estimator = mt.MultiTaskKernelRidge(kernel="rbf", gamma=0.4, task_kernel=B, task_weights=weights,
                                        fit_intercept=fit_intercept)
    path = mt.kernel_ridge_path(estimator, Xs, ys, alphas=ALPHAS, method="band")
    assert path.method == "band"
    assert path.estimators[0].solver_ == "path-band"
    check_against_numpy(path, Xs, ys, B, fit_intercept, weights)


def test_band_one_sample():
    rng = np.random.default_rng(7)
    Xs, ys = per_task_data(rng, [1])
    B = np.ones((1, 1))
    for fit_intercept in (True, False):
        estimator = mt.MultiTaskKernelRidge(kernel="rbf", gamma=0.4, fit_intercept=fit_intercept)
        path = mt.kernel_ridge_path(estimator, Xs, ys, alphas=ALPHAS, method="band")
        check_against_numpy(path, Xs, ys, B, fit_intercept)


def test_band_float32_inputs_as_their_float64_values():
    """The path computes in float64: float32 data give the model of its float64 conversion."""
    rng = np.random.default_rng(8)
    Xs, ys = per_task_data(rng, [80, 70])
    Xs32 = [X.astype(np.float32) for X in Xs]
    ys32 = [y.astype(np.float32) for y in ys]
    B = np.linalg.inv(random_coupling(rng, 2, "pd"))
    estimator = mt.MultiTaskKernelRidge(kernel="rbf", gamma=0.4, task_kernel=B)
    path = mt.kernel_ridge_path(estimator, Xs32, ys32, alphas=ALPHAS, method="band")
    check_against_numpy(path, [X.astype(np.float64) for X in Xs32], [y.astype(np.float64) for y in ys32], B, True)


def test_band_equals_tridiagonal_and_per_alpha_with_long_format():
    rng = np.random.default_rng(9)
    Xs, ys = per_task_data(rng, [90, 60, 50])
    X, y = np.vstack(Xs), np.concatenate(ys)
    tasks = np.repeat([0, 1, 2], [90, 60, 50])
    shuffle = rng.permutation(y.size)
    estimator = mt.MultiTaskKernelRidge(kernel="rbf", gamma=0.4, task_kernel=random_coupling(rng, 3, "pd"))
    paths = {method: mt.kernel_ridge_path(estimator, X[shuffle], y[shuffle], tasks=tasks[shuffle], alphas=ALPHAS,
                                          method=method) for method in ("band", "tridiagonal", "per_alpha")}
    for method in ("tridiagonal", "per_alpha"):
        scale = np.max(np.abs(paths[method].dual_coef))
        np.testing.assert_allclose(paths["band"].dual_coef, paths[method].dual_coef, rtol=1e-8, atol=1e-8 * scale)
        np.testing.assert_allclose(paths["band"].intercept, paths[method].intercept, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("n", [40, 2 * BANDWIDTH + 3])
def test_band_not_positive_definite_raises_as_tridiagonal(n):
    """A precomputed kernel with negative eigenvalues far above the ridge: the same error for both reductions."""
    rng = np.random.default_rng(10)
    X = rng.normal(size=(n, 2))
    K = rbf(X, X) - 0.5 * np.eye(n)  # indefinite
    tasks = np.arange(n) % 2
    y = rng.normal(size=n)
    estimator = mt.MultiTaskKernelRidge(kernel="precomputed")
    messages = []
    for method in ("band", "tridiagonal"):
        with pytest.raises(np.linalg.LinAlgError, match="not positive definite") as error:
            mt.kernel_ridge_path(estimator, K, y, tasks=tasks, alphas=[1.0, 1e-6], method=method)
        messages.append(str(error.value))
    assert messages[0] == messages[1]


def test_band_needs_per_task_inputs():
    rng = np.random.default_rng(11)
    X, Y = rng.normal(size=(30, 2)), rng.normal(size=(30, 3))
    with pytest.raises(ValueError, match="method 'band'"):
        mt.kernel_ridge_path(mt.MultiTaskKernelRidge(), X, Y, alphas=[1.0], method="band")
