"""celer (optional): ``mtl_path`` (multi-task lasso) and ``celer_path`` (group lasso).

celer's estimators do not run on recent scikit-learn, so its path functions are called directly;
they return no iteration count."""

from __future__ import annotations

import numpy as np

from ..problems.l21 import coef_from_groups
from .optional import quiet, require

MAX_ITER = 1000


def mtl_path(Xc, Yc, alphas: np.ndarray, tol: float) -> tuple[np.ndarray, None]:
    """``mtl_path(X~, Y~, alphas)``: (coef (K, T, d), None)."""
    homotopy = require("celer.homotopy", "celer")
    with quiet():
        _, coefs, _ = homotopy.mtl_path(Xc, Yc, alphas=alphas, tol=tol, max_iter=MAX_ITER)
    return np.moveaxis(coefs, -1, 0), None


def multitask_lasso(Xc, Yc, a: float, tol: float) -> tuple[np.ndarray, str]:
    """One value of ``mtl_path``: (coef (T, d), "")."""
    coefs, _ = mtl_path(Xc, Yc, np.array([a]), tol)
    return coefs[0], ""


def group_lasso(Z, y, T: int, rho: float, tol: float) -> tuple[np.ndarray, str]:
    """``celer_path(Z, y, "grouplasso", alphas=[rho], groups=T)`` on the block-diagonal design: (coef (T, d), "")."""
    homotopy = require("celer.homotopy", "celer")
    with quiet():
        _, coefs, _ = homotopy.celer_path(Z, y, "grouplasso", alphas=np.array([rho]), groups=T, tol=tol,
                                          max_iter=MAX_ITER)
    return coef_from_groups(coefs[:, 0], T), ""
