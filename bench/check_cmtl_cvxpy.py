"""One-off check of R2's optimum: MALSAR's CMTL problem on the first schools, solved by cvxpy (Clarabel).

    python bench/check_cmtl_cvxpy.py [--tasks 20] [--clusters 3] [--rho 10]

F(W, M) = sum_t 1/2 ||X_t w_t - y_t||^2 + c tr(W (eta I + M)^{-1} W^T) with tr M = k, 0 <= M <= I
(``bench.problems.cmtl``), the loss written from a thin QR of every X_t (1/2 ||R_t w_t - Q_t^T y_t||^2 plus a
constant) so that the conic problem stays small, the penalty as ``cvxpy.matrix_frac(W^T, eta I + M)``.
Prints cvxpy's value and the value recomputed from its (W, M), then ours (tol 1e-12) and the numpy
block coordinate descent (tol 1e-12) against it. Memory and time grow fast with the number of tasks
(60 schools: 158 s, 1.7 GB on the 2-core machine); the full 139 is out of reach here.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make ``bench`` importable as a package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import multitask as mt  # noqa: E402

from bench.adapters import malsar_cmtl  # noqa: E402
from bench.adapters.optional import require  # noqa: E402
from bench.adapters.ours_relations import fit, relation_regressor  # noqa: E402
from bench.problems import cmtl  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=20, help="the first TASKS schools")
    parser.add_argument("--clusters", type=int, default=3, help="k")
    parser.add_argument("--rho", type=float, default=10.0, help="rho1 = rho2")
    args = parser.parse_args(argv)
    cp = require("cvxpy")
    Xs, ys = mt.datasets.load_school()
    Xs = [np.asarray(X, dtype=np.float64) for X in Xs][: args.tasks]
    ys = [np.asarray(y, dtype=np.float64) for y in ys][: args.tasks]
    rho1 = rho2 = args.rho
    k, T, d, N = args.clusters, len(Xs), Xs[0].shape[1], sum(len(y) for y in ys)
    eta, c = cmtl.coupling_constants(rho1, rho2)
    W, M = cp.Variable((d, T)), cp.Variable((T, T), symmetric=True)
    terms, constant = [], 0.0
    for t, (X, y) in enumerate(zip(Xs, ys)):
        Q, R = np.linalg.qr(X)
        z = Q.T @ y
        terms.append(0.5 * cp.sum_squares(R @ W[:, t] - z))
        constant += 0.5 * float(y @ y - z @ z)
    problem = cp.Problem(cp.Minimize(sum(terms) + constant + c * cp.matrix_frac(W.T, eta * np.eye(T) + M)),
                         [cp.trace(M) == k, M >> 0, np.eye(T) - M >> 0])
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        problem.solve(solver="CLARABEL", tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10, max_iter=500)
    seconds = time.perf_counter() - started
    value = cmtl.objective(Xs, ys, W.value, M.value, rho1, rho2)
    print(f"{T} schools, k={k}, rho1=rho2={rho1:g}: cvxpy {problem.status} in {seconds:.1f} s, "
          f"value {problem.value!r}, F(W, M) recomputed {value!r}, M infeasibility {max(cmtl.feasibility(M.value, k).values()):.1e}")
    ours = fit(relation_regressor("clusters", 1, fit_intercept=False, alpha=rho1 / N, beta=rho2 / N, n_clusters=k,
                                  tol=1e-12), Xs, ys)
    ours_value = cmtl.objective(Xs, ys, ours.coef_.T, ours.cluster_matrix_, rho1, rho2)
    bcd = malsar_cmtl.alternating(Xs, ys, rho1, rho2, k, tol=1e-12)
    print(f"ours (tol 1e-12): F = {ours_value!r}, (F - cvxpy) / cvxpy = {(ours_value - value) / value:.2e}")
    print(f"numpy block coordinate descent (tol 1e-12): F = {bcd.objectives[-1]!r}, "
          f"(F - cvxpy) / cvxpy = {(bcd.objectives[-1] - value) / value:.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
