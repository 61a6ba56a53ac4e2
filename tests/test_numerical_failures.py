"""Floating-point overflow inside the C++ solvers is an error, not a model.

Every iterative solver checks its objective, gradient or residual (and the
SVM its kernel values) for inf/NaN at iteration boundaries and raises
NumericalError naming the quantity and the likely causes; the estimator keeps
its state from before the fit.
"""

import numpy as np
import pytest

import multitask as mt


def _regression(T=3, n=50, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = [rng.standard_normal((n, d)) for _ in range(T)]
    w = rng.standard_normal(d)
    y = [x @ (w + 0.3 * rng.standard_normal(d)) + 0.1 * rng.standard_normal(n) for x in X]
    return X, y


def _stacked_classification(T=3, n=50, d=5, seed=0):
    X, y = _regression(T, n, d, seed)
    return np.vstack(X), (np.concatenate(y) > 0).astype(int), np.repeat(np.arange(T), n)


def _fitted_attributes(estimator):
    return sorted(k for k in vars(estimator) if k.endswith("_") and not k.startswith("_"))


# The gradient solvers used to return NaN coefficients with only a ConvergenceWarning.
GRADIENT_OVERFLOWS = {
    "alpha": (dict(alpha=1e300), 1.0),
    "task_weights": (dict(task_weights=[1e300, 1.0, 1.0]), 1.0),
    "trace_norm_on_huge_X": (dict(trace_norm=1.0), 1e150),
}


@pytest.mark.parametrize("case", list(GRADIENT_OVERFLOWS))
def test_gradient_solver_overflow_raises(case):
    params, scale = GRADIENT_OVERFLOWS[case]
    X, y = _regression()
    model = mt.KernelCoupledRegressor(solver="gradient", **params)
    with pytest.raises(mt.NumericalError, match=r"solver 'gradient'.*inf or NaN.*(alpha|weights)") as error:
        model.fit([x * scale for x in X], y)
    assert isinstance(error.value, np.linalg.LinAlgError)
    assert _fitted_attributes(model) == []


def test_gradient_overflow_keeps_the_previous_fit():
    X, y = _regression()
    model = mt.KernelCoupledRegressor(solver="gradient").fit(X, y)
    coef, intercept = model.coef_.copy(), model.intercept_.copy()
    with pytest.raises(mt.NumericalError):
        model.set_params(alpha=1e300).fit(X, y)
    np.testing.assert_array_equal(model.coef_, coef)
    np.testing.assert_array_equal(model.intercept_, intercept)


@pytest.mark.parametrize("solver", ["newton", "block_newton", "gradient"])
def test_classifier_overflow_raises(solver):
    X, y = _regression()
    labels = [(v > 0).astype(int) for v in y]
    model = mt.KernelCoupledClassifier(solver=solver, task_weights=[1e300, 1.0, 1.0])
    with pytest.raises(mt.NumericalError, match="inf or NaN"):
        model.fit(X, labels)
    assert _fitted_attributes(model) == []


# MultiTaskSVC used to return all-NaN decision values with residual_ = 0 and no warning.
SVC_OVERFLOWS = {
    "linear_kernel_on_huge_X": (dict(kernel="linear"), 1e160),
    "polynomial_of_degree_1000": (dict(kernel="poly", degree=1000), 1.0),
    "huge_task_kernel": (dict(task_kernel=1e300 * np.eye(3)), 1.0),
}


@pytest.mark.parametrize("case", list(SVC_OVERFLOWS))
def test_svc_kernel_overflow_raises(case):
    params, scale = SVC_OVERFLOWS[case]
    X, y, tasks = _stacked_classification()
    model = mt.MultiTaskSVC(**params)
    with pytest.raises(mt.NumericalError, match=r"MultiTaskSVC.*kernel.*inf or NaN") as error:
        model.fit(X * scale, y, tasks=tasks)
    assert isinstance(error.value, np.linalg.LinAlgError)
    assert not hasattr(model, "dual_coef_")
    assert _fitted_attributes(model) == []


def test_svc_overflow_keeps_the_previous_fit():
    X, y, tasks = _stacked_classification()
    model = mt.MultiTaskSVC(kernel="linear").fit(X, y, tasks=tasks)
    dual_coef, intercept = model.dual_coef_.copy(), model.intercept_.copy()
    with pytest.raises(mt.NumericalError):
        model.fit(X * 1e160, y, tasks=tasks)
    np.testing.assert_array_equal(model.dual_coef_, dual_coef)
    np.testing.assert_array_equal(model.intercept_, intercept)
    assert np.all(np.isfinite(model.decision_function(X, tasks=tasks)))


@pytest.mark.parametrize("solver", ["cholesky", "cg"])
def test_kernel_ridge_kernel_overflow_raises(solver):
    X, y = _regression()
    model = mt.MultiTaskKernelRidge(kernel="linear", solver=solver)
    with pytest.raises(mt.NumericalError, match="inf or NaN"):
        model.fit([x * 1e160 for x in X], y)
    assert _fitted_attributes(model) == []


# MultiTaskSVC must not depend on where its buffers happen to lie in memory:
# with AVX-512's 64-byte packets, Eigen's vectorised loops compute the entries
# before the first aligned address with scalar code (e.g. std::exp instead of
# the vectorised exp, which differ in the last bit), and identical fits in one
# process gave different n_iter_ and decision values. Many free support
# vectors (small alpha, overlapping classes) make the fit sensitive to the
# last bit of every kernel value.
_REPRODUCIBILITY_SCRIPT = """
import hashlib, sys
import numpy as np
import multitask as mt

def fit_digest(shift):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((450, 5))
    y = (X[:, 0] + 0.5 * X[:, 1] + 0.3 * rng.standard_normal(450) > 0).astype(int)
    tasks = np.repeat(np.arange(3), 150)
    # X at an offset of `shift` doubles from the start of its buffer.
    buffer = np.empty(X.size + shift)
    X_shifted = buffer[shift:].reshape(X.shape)
    X_shifted[...] = X
    model = mt.MultiTaskSVC(gamma=2.0, alpha=1e-4, tol=1e-6, cache_size=0.1, n_jobs=1)
    model.fit(X_shifted, y, tasks=tasks)
    digest = hashlib.sha256(model.dual_coef_.tobytes() + model.intercept_.tobytes()).hexdigest()
    return model.n_iter_, digest

if __name__ == "__main__":
    print(*fit_digest(int(sys.argv[1])))
"""


def test_svc_is_reproducible_bit_for_bit(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "svc_fit.py"
    script.write_text(_REPRODUCIBILITY_SCRIPT)
    namespace = {}
    exec(compile(_REPRODUCIBILITY_SCRIPT, str(script), "exec"), namespace)
    fit_digest = namespace["fit_digest"]
    results, garbage = [], []
    for k in range(5):
        results.append(fit_digest(k))
        # Keep odd-sized allocations alive, so that the next fit's buffers start elsewhere.
        garbage += [np.empty(17 * k + 3), bytearray(40 * k + 24), np.ones(1000 + 13 * k, dtype=np.float32)]
    assert len(set(results)) == 1, results
    child = subprocess.run([sys.executable, str(script), "3"], capture_output=True, text=True, check=True)
    n_iter, digest = child.stdout.split()
    assert (int(n_iter), digest) == results[0]
