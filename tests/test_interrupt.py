"""Ctrl-C during a fit: the C++ core polls for pending signals while it runs
with the GIL released, so KeyboardInterrupt arrives within a fraction of a
second instead of when the fit ends, and the estimator keeps its state from
before the fit (unfitted, or its previous fit).

Each long fit below would run for several seconds (calibrated on one baseline
core: max_iter or the problem size bounds it); SIGINT is sent after 0.3 s.
"""

import _thread
import copy
import signal
import threading
import time

import numpy as np
import pytest

import multitask as mt

SIGNAL_AFTER = 0.3  # seconds into the fit
MAX_LATENCY = 0.5  # seconds from the signal to KeyboardInterrupt in the caller


def _regression(T, n, d, seed=0):
    rng = np.random.default_rng(seed)
    X = [rng.standard_normal((n, d)) for _ in range(T)]
    w = rng.standard_normal(d)
    y = [x @ (w + 0.3 * rng.standard_normal(d)) + rng.standard_normal(n) for x in X]
    return X, y


def _shared(n, d, T=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, X @ rng.standard_normal((d, T)) + rng.standard_normal((n, T))


def _classification(T, n, d, seed=0):
    X, y = _regression(T, n, d, seed)
    return X, [(v > 0).astype(int) for v in y]


def _send_sigint():
    signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)


def _interrupted(call, send=_send_sigint):
    """Runs call() with SIGINT sent after SIGNAL_AFTER seconds; asserts it raised
    KeyboardInterrupt within MAX_LATENCY of the signal."""
    sent = {}

    def fire():
        sent["at"] = time.monotonic()
        send()

    # Python's own SIGINT handler, whatever this process inherited: a process started
    # in the background by a non-interactive shell (as CI may be) has SIGINT ignored,
    # and Python then leaves it ignored.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(SIGNAL_AFTER, fire)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            call()
        caught = time.monotonic()
    finally:
        timer.cancel()  # the call ended early (a failure): no stray signal later
        timer.join()
        signal.signal(signal.SIGINT, previous)
    assert "at" in sent, "KeyboardInterrupt before the signal was sent"
    latency = caught - sent["at"]
    assert latency < MAX_LATENCY, f"KeyboardInterrupt {latency:.2f} s after SIGINT"


def _same(a, b):
    """Recursive equality of estimator attributes (arrays bit for bit)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, (float, np.floating)) and isinstance(b, (float, np.floating)):
        return a == b or (np.isnan(a) and np.isnan(b))
    try:
        return bool(a == b)
    except Exception:  # objects without a usable ==: compare their state
        return type(a) is type(b) and _same(vars(a), vars(b))


def _fitted_attributes(estimator):
    return sorted(k for k in vars(estimator) if k.endswith("_") and not k.startswith("_"))


# name: (estimator, parameters of the long fit, its data, small data for the fits before and after)
CASES = {
    "least_squares_cg": (
        mt.KernelCoupledRegressor(solver="cg", n_jobs=1),
        dict(alpha=1e-6, tol=1e-300, max_iter=20000),
        lambda: _regression(4, 400, 300),
        lambda: _regression(3, 30, 4, seed=1),
    ),
    "least_squares_task_bcd": (
        mt.KernelCoupledRegressor(solver="task_bcd", n_jobs=1),
        dict(alpha=1e-6, tol=1e-300, max_iter=20000),
        lambda: _regression(4, 400, 300),
        lambda: _regression(3, 30, 4, seed=1),
    ),
    "least_squares_gradient": (
        mt.KernelCoupledRegressor(solver="gradient", n_jobs=1),
        dict(alpha=1e-6, tol=1e-300, max_iter=10000),
        lambda: _regression(4, 400, 300),
        lambda: _regression(3, 30, 4, seed=1),
    ),
    "least_squares_exact_cholesky": (  # a (4000, 4000) dense Cholesky: interrupted between panels
        mt.KernelCoupledRegressor(solver="exact", n_jobs=1),
        dict(),
        lambda: _regression(4, 200, 1000),
        lambda: _regression(3, 30, 4, seed=1),
    ),
    "least_squares_exact_sylvester": (  # shared design: the (2000, 2000) Gram reduced to tridiagonal form
        mt.KernelCoupledRegressor(solver="exact", n_jobs=1),
        dict(),
        lambda: _shared(20, 2000),
        lambda: _shared(30, 4, seed=1),
    ),
    "trace_norm_gram_gradient": (  # steps on Gram statistics: tens of microseconds each, polled every step
        mt.KernelCoupledRegressor(solver="gram_gradient", trace_norm=1e-2, n_jobs=1),
        dict(alpha=1e-6, trace_norm=1e-6, tol=1e-300, max_iter=1000000),
        lambda: _regression(4, 400, 300),
        lambda: _regression(3, 30, 4, seed=1),
    ),
    "feature_bcd_l21": (
        mt.KernelCoupledRegressor(solver="feature_bcd", l21=1e-2, n_jobs=1),  # the solver needs a penalty
        dict(l21=1e-4, tol=1e-300, max_iter=100000),
        lambda: _regression(4, 300, 400),
        lambda: _regression(3, 30, 4, seed=1),
    ),
    "shared_subspace": (  # d r = 2400: the U steps by conjugate gradient, then Newton on Hessian products (~40 s)
        mt.SharedSubspaceRegressor(n_components=8),
        dict(alpha=1e-3, tol=0.0, max_iter=100000),
        lambda: _regression(40, 300, 300),
        lambda: _regression(3, 30, 10, seed=1),
    ),
    "classifier_newton": (
        mt.KernelCoupledClassifier(solver="newton", n_jobs=1),
        dict(alpha=1e-8, tol=1e-300, max_iter=30),
        lambda: _classification(4, 2000, 200),
        lambda: _classification(3, 40, 4, seed=1),
    ),
    "classifier_block_newton": (
        mt.KernelCoupledClassifier(solver="block_newton", n_jobs=1),
        dict(alpha=1e-8, tol=1e-300, max_iter=40),
        lambda: _classification(4, 2000, 200),
        lambda: _classification(3, 40, 4, seed=1),
    ),
    "classifier_proximal_gradient": (
        mt.KernelCoupledClassifier(solver="gradient", n_jobs=1),
        dict(l1=1e-4, tol=1e-300, max_iter=2000),
        lambda: _classification(4, 2000, 200),
        lambda: _classification(3, 40, 4, seed=1),
    ),
    "svc_dual_cd": (
        mt.MultiTaskSVC(n_jobs=1),
        dict(alpha=1e-7, tol=1e-12, max_iter=10**8, cache_size=1),
        lambda: _classification(2, 4000, 10),
        lambda: _classification(2, 40, 3, seed=1),
    ),
    "kernel_ridge_cholesky_parallel": (  # parallel panels; the poll runs between them
        mt.MultiTaskKernelRidge(solver="cholesky", n_jobs=2),
        dict(),
        lambda: _regression(2, 2500, 10),
        lambda: _regression(2, 40, 3, seed=1),
    ),
    "gaussian_process_ml2": (  # the core's Cholesky polls; the Python optimiser between evaluations
        mt.MultiTaskGaussianProcessRegressor(n_jobs=1),
        dict(max_iter=10**5),
        lambda: _regression(2, 1500, 10),
        lambda: _regression(2, 40, 3, seed=1),
    ),
    "kernel_ridge_cg": (
        mt.MultiTaskKernelRidge(solver="cg", n_jobs=1),
        dict(alpha=1e-8, tol=1e-300, max_iter=1500),
        lambda: _regression(2, 1500, 10),
        lambda: _regression(2, 40, 3, seed=1),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_interrupt_keeps_the_previous_fit(name):
    estimator, long_params, long_data, small_data = CASES[name]
    estimator = copy.deepcopy(estimator)
    X_small, y_small = small_data()
    X_long, y_long = long_data()
    estimator.fit(X_small, y_small)
    assert _fitted_attributes(estimator)
    defaults = {key: estimator.get_params()[key] for key in long_params}
    estimator.set_params(**long_params)
    before = copy.deepcopy(vars(estimator))

    _interrupted(lambda: estimator.fit(X_long, y_long))

    after = vars(estimator)
    assert after.keys() == before.keys()
    changed = [key for key in before if not _same(before[key], after[key])]
    assert not changed, f"attributes changed by the interrupted fit: {changed}"
    # The next fit works.
    estimator.set_params(**defaults).fit(X_small, y_small)
    assert _fitted_attributes(estimator) == sorted(k for k in before if k.endswith("_") and not k.startswith("_"))


@pytest.mark.parametrize("name", ["least_squares_cg", "svc_dual_cd"])
def test_interrupt_leaves_a_new_estimator_unfitted(name):
    estimator, long_params, long_data, small_data = CASES[name]
    estimator = copy.deepcopy(estimator).set_params(**long_params)
    X_long, y_long = long_data()

    _interrupted(lambda: estimator.fit(X_long, y_long))

    assert _fitted_attributes(estimator) == []
    X_small, y_small = small_data()
    estimator.set_params(**{key: copy.deepcopy(CASES[name][0]).get_params()[key] for key in long_params})
    estimator.fit(X_small, y_small)
    assert _fitted_attributes(estimator)


def test_interrupt_main_also_stops_the_core():
    # _thread.interrupt_main() simulates the signal without a real one being delivered.
    estimator = mt.MultiTaskSVC(n_jobs=1, alpha=1e-7, tol=1e-12, max_iter=10**8, cache_size=1)
    X, y = _classification(2, 4000, 10)
    _interrupted(lambda: estimator.fit(X, y), send=_thread.interrupt_main)
    assert _fitted_attributes(estimator) == []


@pytest.mark.parametrize("method", ["band", "tridiagonal"])
def test_interrupt_kernel_ridge_path(method):
    # The path's reduction of a (3000, 3000) kernel matrix: polled per column (tridiagonal),
    # per panel and per block of the panel's update (band).
    X, y = _regression(2, 1500, 10)
    estimator = mt.MultiTaskKernelRidge(n_jobs=1)
    _interrupted(lambda: mt.kernel_ridge_path(estimator, X, y, alphas=np.logspace(-3, 0, 4), method=method))
    X_small, y_small = _regression(2, 40, 3, seed=1)
    path = mt.kernel_ridge_path(estimator, X_small, y_small, alphas=np.logspace(-3, 0, 4), method=method)
    assert path is not None
