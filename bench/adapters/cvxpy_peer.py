"""cvxpy (optional): the least-squares objective written as a convex program."""

from __future__ import annotations

import numpy as np

from ..problems.least_squares import Problem
from .optional import quiet, require


def solve(problem: Problem) -> tuple[np.ndarray, np.ndarray, str]:
    """The objective solved by cvxpy's default solver: coef (T, d), intercept (T,), the solver's name.

    Raises
    ------
    PeerMissing
        Without cvxpy.
    """
    cp = require("cvxpy")
    T, d = problem.shape
    W = cp.Variable((T, d))
    b = cp.Variable(T)
    loss = sum(cp.sum_squares(y - X @ W[t] - b[t]) for t, (X, y) in enumerate(zip(problem.Xs, problem.ys)))
    L = np.linalg.cholesky(problem.K)  # tr(W^T K W) with W (T, d) here = ||L^T W||_F^2
    objective = 0.5 * loss / problem.n_total + 0.5 * problem.alpha * cp.sum_squares(L.T @ W)
    program = cp.Problem(cp.Minimize(objective))
    with quiet():
        program.solve()
    return W.value, b.value, program.solver_stats.solver_name
