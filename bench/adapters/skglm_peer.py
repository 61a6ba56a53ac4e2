"""skglm (optional): ``MultiTaskLasso`` and ``GroupLasso``. numba compiles them at the first call."""

from __future__ import annotations

import numpy as np

from ..problems.l21 import coef_from_groups
from .optional import quiet, require

MAX_ITER = 1000


def multitask_lasso(Xc, Yc, a: float, tol: float) -> tuple[np.ndarray, object]:
    """``MultiTaskLasso(alpha=a, fit_intercept=False)``: (coef (T, d), n_iter)."""
    skglm = require("skglm")
    with quiet():
        model = skglm.MultiTaskLasso(alpha=a, fit_intercept=False, tol=tol, max_iter=MAX_ITER).fit(Xc, Yc)
    return model.coef_, model.n_iter_


def group_lasso(Z, y, T: int, rho: float, tol: float) -> tuple[np.ndarray, str]:
    """``GroupLasso(groups=T, alpha=rho)`` on the block-diagonal design: (coef (T, d), iterations).

    Its ``n_iter_`` is the length of a preallocated array (always max_iter), so it is reported as such.
    """
    skglm = require("skglm")
    with quiet():
        model = skglm.GroupLasso(groups=T, alpha=rho, fit_intercept=False, tol=tol, max_iter=MAX_ITER).fit(Z, y)
    return coef_from_groups(model.coef_, T), f"n/a ({model.n_iter_} = max_iter)"
