"""The numpy references of MALSAR's CMTL problem used by benchmark R2 (bench/adapters/malsar_cmtl.py).

Checked without cvxpy (not installed in CI): the closed-form M step and the capped-simplex projection
against scipy.optimize and against random feasible points, and both reference algorithms against a
scipy L-BFGS minimisation of the objective with M eliminated (F(W, M*(W)), convex in W). Skipped when
the source tree's bench/ folder is not beside tests/ (e.g. an installed wheel tested elsewhere).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import minimize

ROOT = Path(__file__).resolve().parents[1]
if not (ROOT / "bench" / "adapters" / "malsar_cmtl.py").is_file():
    pytest.skip("bench/ is not beside tests/", allow_module_level=True)
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.adapters import malsar_cmtl  # noqa: E402
from bench.problems import cmtl  # noqa: E402


def random_feasible(T: int, k: float, rng: np.random.Generator) -> np.ndarray:
    """A random M with tr M = k and 0 <= M <= I."""
    U, _ = np.linalg.qr(rng.normal(size=(T, T)))
    g = malsar_cmtl._capped_simplex(rng.uniform(-1, 2, size=T), k)
    return (U * g) @ U.T


@pytest.mark.parametrize("seed", range(4))
def test_capped_levels_solve_the_eigenvalue_problem(seed):
    rng = np.random.default_rng(seed)
    T, k, eta = 9, 1 + seed, 10.0 ** rng.uniform(-2, 1)
    s = rng.exponential(size=T) ** 2
    g = cmtl.capped_levels(np.sqrt(s), eta, k)
    assert g.sum() == pytest.approx(k, abs=1e-12)
    assert g.min() >= 0 and g.max() <= 1
    value = float(np.sum(s / (eta + g)))
    reference = minimize(lambda x: np.sum(s / (eta + x)), np.full(T, k / T), jac=lambda x: -s / (eta + x) ** 2,
                         bounds=[(0, 1)] * T, constraints=[dict(type="eq", fun=lambda x: x.sum() - k)],
                         method="SLSQP", options=dict(ftol=1e-14, maxiter=1000))
    assert value <= reference.fun + 1e-10 * abs(reference.fun)
    assert value == pytest.approx(reference.fun, rel=1e-8)


def test_cluster_step_beats_random_feasible_matrices():
    rng = np.random.default_rng(0)
    d, T, k, rho1, rho2 = 3, 7, 2, 2.0, 0.5
    W = rng.normal(size=(d, T))
    eta, _ = cmtl.coupling_constants(rho1, rho2)
    M, U, g = cmtl.cluster_step(W, eta, k)
    check = cmtl.feasibility(M, k)
    assert max(check.values()) < 1e-12
    best = cmtl.penalty(W, M, rho1, rho2)
    others = [cmtl.penalty(W, random_feasible(T, k, rng), rho1, rho2) for _ in range(300)]
    assert best <= min(others)
    # the same value as the profiled penalty on the eigenvalues
    assert best == pytest.approx(cmtl.profiled_objective([np.zeros((1, d))] * T, [np.zeros(1)] * T, W, rho1, rho2, k),
                                 rel=1e-12)


def test_cluster_step_when_rank_is_below_k():
    rng = np.random.default_rng(1)
    W = np.outer(rng.normal(size=2), rng.normal(size=6))  # rank 1 < k = 3
    M, _, g = cmtl.cluster_step(W, 0.5, 3)
    assert g.sum() == pytest.approx(3) and g.max() <= 1 + 1e-12 and g.min() >= 0
    assert max(cmtl.feasibility(M, 3).values()) < 1e-12


@pytest.mark.parametrize("k", [1, 2.5, 4])
def test_capped_simplex_projection(k):
    rng = np.random.default_rng(2)
    a = rng.normal(size=6)
    x = malsar_cmtl._capped_simplex(a, k)
    reference = minimize(lambda z: 0.5 * np.sum((z - a) ** 2), np.full(6, k / 6), jac=lambda z: z - a,
                         bounds=[(0, 1)] * 6, constraints=[dict(type="eq", fun=lambda z: z.sum() - k)],
                         method="SLSQP", options=dict(ftol=1e-15, maxiter=1000))
    np.testing.assert_allclose(x, reference.x, atol=1e-7)
    assert x.sum() == pytest.approx(k, abs=1e-12)


def profiled_minimum(Xs, ys, rho1, rho2, k) -> float:
    """min over W of F(W, M*(W)) by L-BFGS (gradient by Danskin: the loss gradient + 2 c W (eta I + M*)^{-1})."""
    d, T = Xs[0].shape[1], len(Xs)
    eta, c = cmtl.coupling_constants(rho1, rho2)

    def value_and_gradient(v):
        W = v.reshape(d, T)
        M, _, _ = cmtl.cluster_step(W, eta, k)
        residuals = [X @ W[:, t] - y for t, (X, y) in enumerate(zip(Xs, ys))]
        gradient = np.stack([X.T @ r for X, r in zip(Xs, residuals)], axis=1)
        gradient += 2 * c * np.linalg.solve(eta * np.eye(T) + M, W.T).T
        return cmtl.profiled_objective(Xs, ys, W, rho1, rho2, k), gradient.ravel()

    start = np.stack([np.linalg.lstsq(X, y, rcond=None)[0] for X, y in zip(Xs, ys)], axis=1).ravel()
    result = minimize(value_and_gradient, start, jac=True, method="L-BFGS-B",
                      options=dict(ftol=1e-16, gtol=1e-11, maxiter=20_000, maxcor=30))
    return float(result.fun)


def test_references_reach_the_minimum():
    Xs, ys, _ = cmtl.planted_clusters(T=6, n_t=15, d=4, n_clusters=2, seed=3)
    rho1, rho2, k = 5.0, 2.0, 2
    optimum = profiled_minimum(Xs, ys, rho1, rho2, k)
    joint = malsar_cmtl.malsar_apg(Xs, ys, rho1, rho2, k, tol=1e-12, max_iter=100_000)
    blocks = malsar_cmtl.alternating(Xs, ys, rho1, rho2, k, tol=1e-12)
    for result in (joint, blocks):
        assert max(cmtl.feasibility(result.M, k).values()) < 1e-10
        value = cmtl.objective(Xs, ys, result.W, result.M, rho1, rho2)
        assert value == pytest.approx(result.objectives[-1], rel=1e-12)  # Grams vs data: the same number
        assert abs(value - optimum) <= 1e-8 * optimum
    # block coordinate descent never increases F
    assert np.all(np.diff(blocks.objectives) <= 1e-13 * blocks.objectives[0])
    assert blocks.stop == "tol" and joint.stop in ("tol", "small step")
