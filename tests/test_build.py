"""The build's run-time plumbing: the CPU's instruction-set levels, SciPy's BLAS
behind Eigen's products, its thread limit during core calls, and float32 data
through the float64 linear-model core."""

from __future__ import annotations

import platform
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import multitask as mt
import multitask._blas_threads as blas_threads
from multitask._core import available_isa_levels, core

# The CPUID features each level needs (the ones the core checks), as Linux names them.
_V3_FLAGS = {"avx", "avx2", "fma", "bmi1", "bmi2", "popcnt", "sse4_2", "ssse3"}
_V4_FLAGS = {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}


def _blas_threads() -> list[int]:
    return [library["num_threads"] for library in threadpool_info() if library["user_api"] == "blas"]


def _problem(rng, sizes=(40, 55, 30), d=6):
    Xs = [rng.normal(size=(n, d)) for n in sizes]
    w = rng.normal(size=d)
    ys = [X @ (w + 0.3 * rng.normal(size=d)) + rng.normal(size=len(X)) for X in Xs]
    return Xs, ys


@pytest.mark.skipif(not Path("/proc/cpuinfo").exists() or platform.machine() != "x86_64",
                    reason="the independent reference, /proc/cpuinfo, is Linux x86-64's")
def test_cpu_levels_agree_with_proc_cpuinfo():
    flags: set[str] = set()
    for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            break
    expected = ["baseline"]
    if _V3_FLAGS <= flags:
        expected.append("x86-64-v3")
        if _V4_FLAGS <= flags:
            expected.append("x86-64-v4")
    assert core.cpu_isa_levels() == expected
    assert available_isa_levels()[-1] == "baseline"


def test_blas_is_single_threaded_during_a_core_call_and_restored_after(monkeypatch):
    if not _blas_threads():
        pytest.skip("threadpoolctl finds no BLAS library to limit here")
    seen: list[list[int]] = []
    limit = blas_threads.limit

    def spy() -> None:
        limit()
        seen.append(_blas_threads())

    monkeypatch.setattr(blas_threads, "limit", spy)
    Xs, ys = _problem(np.random.default_rng(0))
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        mt.KernelCoupledRegressor(alpha=0.1, solver="exact").fit(Xs, ys)
        mt.MultiTaskKernelRidge(alpha=0.1, kernel="rbf").fit(Xs, ys)
        after = _blas_threads()
    assert len(seen) >= 2, "the core did not limit the BLAS threads"
    assert all(threads == 1 for call in seen for threads in call)
    assert after == before
    assert blas_threads._active_calls == 0


def test_blas_limit_is_released_when_the_core_raises():
    Xs, ys = _problem(np.random.default_rng(1))
    with pytest.raises(ValueError):
        core.fit_least_squares_f64(X=Xs, y=ys, sample_weight=np.ones(3) / 125, coupling=np.eye(3), alpha=0.1,
                                   fit_intercept=True, shared_design=False, solver="no-such-solver", tol=1e-8,
                                   max_iter=10, n_threads=1, warm_start=None)
    assert blas_threads._active_calls == 0
    assert not blas_threads._saved


@pytest.mark.parametrize("n", [300, 700])
def test_large_products_through_scipy_blas_match_numpy(n):
    """Sizes where Eigen hands the Gram, Cholesky panels and solves to the BLAS."""
    rng = np.random.default_rng(n)
    X = rng.normal(size=(n, n // 2))
    y = rng.normal(size=n)
    model = mt.KernelCoupledRegressor(coupling="identity", alpha=0.5, solver="exact", fit_intercept=False).fit([X], [y])
    # One task, K = I: F = (1/n) sum (1/2)(y - Xw)^2 + (alpha/2)||w||^2, i.e. (X^T X / n + alpha I) w = X^T y / n.
    w = np.linalg.solve(X.T @ X / n + 0.5 * np.eye(X.shape[1]), X.T @ y / n)
    np.testing.assert_allclose(model.coef_[0], w, rtol=1e-9, atol=1e-12)
    kr = mt.MultiTaskKernelRidge(alpha=0.5, kernel="linear", fit_intercept=False).fit([X], [y])
    np.testing.assert_allclose(kr.predict([X])[0], X @ w, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("estimator", ["regressor", "classifier"])
def test_float32_linear_models_return_float32_close_to_float64(estimator):
    rng = np.random.default_rng(2)
    Xs, ys = _problem(rng)
    if estimator == "classifier":
        ys = [np.where(y > np.median(y), 1, 0) for y in ys]
        make = lambda: mt.KernelCoupledClassifier(alpha=0.1, tol=1e-10)  # noqa: E731
    else:
        make = lambda: mt.KernelCoupledRegressor(alpha=0.1, tol=1e-10)  # noqa: E731
    model64 = make().fit(Xs, ys)
    model32 = make().fit([X.astype(np.float32) for X in Xs], ys)
    assert model32.coef_.dtype == np.float32 and model32.intercept_.dtype == np.float32
    np.testing.assert_allclose(model32.coef_, model64.coef_, rtol=2e-4, atol=2e-5)
    prediction = model32.predict([X.astype(np.float32) for X in Xs])
    assert all(p.dtype == (np.float32 if estimator == "regressor" else p.dtype) for p in prediction)
