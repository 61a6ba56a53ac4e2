"""Workload 3: shared design n=5000, d=300, T=100, mean coupling (mu=0.1), alpha=1.

Ours (fit(X, Y), exact Sylvester solver, 1 thread) against the best numpy/scipy
route (1 BLAS thread), each including the Gram and right-hand sides:
  * eigh-based: G = Xc^T Xc, eigh(G), eigh(K), solve in the eigenbases;
  * scipy.linalg.solve_sylvester(G s, alpha K, C) (Bartels-Stewart).
Target: ours <= 1.0x the faster; same solution.
"""

from __future__ import annotations


import numpy as np
import scipy.linalg

import multitask as mt
from common import command_line, limit_blas, markdown_table, median_time


def make_data(n=5000, d=300, T=100, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    Y = X @ rng.normal(size=(d, T)) + rng.normal(size=(n, T))
    return X, Y, mt.coupling.mean_regularized(T, mu=0.1), 1.0


def statistics(X, Y):
    """G = Xc^T Xc and C = Xc^T Yc / N with N = n T (uniform task weights)."""
    Xc = X - X.mean(axis=0)
    Yc = Y - Y.mean(axis=0)
    scale = 1.0 / (X.shape[0] * Y.shape[1])
    return Xc.T @ Xc * scale, Xc.T @ Yc * scale


def numpy_eigh_route(X, Y, K, alpha):
    """Solve G W + alpha W K = C (W: d x T) in the eigenbases of G and K."""
    G, C = statistics(X, Y)
    lam, Q = np.linalg.eigh(G)
    kappa, U = np.linalg.eigh(K)
    Z = (Q.T @ C @ U) / (lam[:, None] + alpha * kappa[None, :])
    return (Q @ Z @ U.T).T


def scipy_sylvester_route(X, Y, K, alpha):
    G, C = statistics(X, Y)
    return scipy.linalg.solve_sylvester(G, alpha * K, C).T


def run(repeats: int = 5, quick: bool = False) -> dict:
    X, Y, K, alpha = make_data(500, 30, 10) if quick else make_data()
    model = mt.KernelCoupledRegressor(coupling=K, alpha=alpha, solver="exact", n_jobs=1)
    with limit_blas(1):
        times = {
            "numpy eigh route": median_time(lambda: numpy_eigh_route(X, Y, K, alpha), repeats),
            "scipy.linalg.solve_sylvester": median_time(lambda: scipy_sylvester_route(X, Y, K, alpha), repeats),
        }
        ours = median_time(lambda: model.fit(X, Y), repeats)
        reference = numpy_eigh_route(X, Y, K, alpha)
        difference = np.abs(model.fit(X, Y).coef_ - reference).max() / np.abs(reference).max()
        sylvester_difference = np.abs(scipy_sylvester_route(X, Y, K, alpha) - reference).max() / np.abs(reference).max()
    fastest = min(times.values())
    rows = [[name, f"{t * 1e3:.1f}", f"{t / fastest:.2f}", "", ""] for name, t in times.items()]
    rows[1][4] = f"max rel. difference to eigh route {sylvester_difference:.1e}"
    rows.append([f"multitask fit(X, Y) (`exact`, 1 thread)", f"{ours * 1e3:.1f}", f"{ours / fastest:.2f}",
                 "PASS" if ours / fastest <= 1.0 else "MISS", f"max rel. difference to eigh route {difference:.1e}"])
    table = markdown_table(["method", "time (ms)", "× fastest peer", "target ≤ 1.0", "solution"], rows)
    return {"table": table, "ratio": ours / fastest}


if __name__ == "__main__":
    command_line(run, __doc__)
