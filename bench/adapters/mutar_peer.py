"""mutar (optional): ``GroupLasso`` on per-task designs (X of shape (T, n_t, d)).

mutar stops on the relative change of the coefficients (no gap check); its GroupLasso is its
DirtyModel with beta = 10 alpha, whose optimum is the group-lasso one."""

from __future__ import annotations

import numpy as np

from .optional import quiet, require

MAX_ITER = 100_000


def group_lasso(X3: np.ndarray, Y2: np.ndarray, a: float, tol: float) -> tuple[np.ndarray, object]:
    """``GroupLasso(alpha=a, fit_intercept=False)``: (coef (T, d), n_iter)."""
    mutar = require("mutar")
    with quiet():
        model = mutar.GroupLasso(alpha=a, fit_intercept=False, tol=tol, max_iter=MAX_ITER).fit(X3, Y2)
    return model.coef_.T, model.n_iter_  # coef_ (d, T)
