"""Multi-task data sets: the School benchmark and synthetic coupled tasks."""

from __future__ import annotations

from importlib import resources
from typing import Any, Sequence

import numpy as np
from sklearn.utils import check_random_state

from .coupling import validate_coupling

__all__ = ["load_school", "make_multitask_regression"]


def load_school(*, form: str = "lists") -> tuple:
    """Load the School data: exam scores of 15,362 pupils in 139 secondary schools.

    Each school is a regression task (22 to 251 pupils). The data come from the
    Inner London Education Authority (exam years 1985-1987), as distributed with
    MALSAR (``data/school.mat``) and used by Bakker & Heskes (JMLR 2003) and
    Argyriou, Evgeniou & Pontil (MLJ 2008). Target: exam score (1 to 70).

    The 28 columns of X (one-hot groups encoded as 0/1):

    * 0-2: exam year (1985, 1986, 1987);
    * 3: % of pupils eligible for free school meals; 4: % in VR band 1;
    * 5-6: pupil gender; 7-9: pupil VR band (a few rows all zero: missing);
    * 10-20: pupil ethnic group (11 groups);
    * 21-23: school gender (mixed, boys, girls); 24-26: school denomination
      (maintained, Church of England, Roman Catholic);
    * 27: constant 1 (bias).

    Columns 21-27 are constant within every school, and the one-hot groups sum
    to the bias column, so the stacked design has rank 23 of 28: a ridge or
    coupling term is needed for a unique model.

    Parameters
    ----------
    form : {"lists", "long"}, default="lists"
        "lists": ``(Xs, ys)``, 139 arrays of shape (n_t, 28) and (n_t,);
        "long": ``(X, y, tasks)`` with X (15362, 28), y (15362,) and the school
        index 0..138 of every row.

    Returns
    -------
    tuple
        As described under ``form``; float64 arrays.
    """
    if form not in ("lists", "long"):
        raise ValueError(f"form must be 'lists' or 'long', got {form!r}")
    with resources.files("multitask").joinpath("data/school.npz").open("rb") as handle:
        archive = np.load(handle)
        X = np.ascontiguousarray(archive["X"], dtype=np.float64)  # stored column-major, as in MATLAB
        y = archive["y"].astype(np.float64)
        tasks = archive["task"].astype(np.int64)
    if form == "long":
        return X, y, tasks
    bounds = np.flatnonzero(np.diff(tasks)) + 1  # rows are stored grouped by school
    return list(np.split(X, bounds)), list(np.split(y, bounds))


def _check_positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def make_multitask_regression(
    n_tasks: int = 10,
    n_samples: int | Sequence[int] = 100,
    n_features: int = 20,
    *,
    coupling: Any = None,
    noise: float = 0.1,
    random_state: Any = None,
    form: str = "lists",
) -> tuple:
    """Synthetic regression tasks whose models are related.

    With a coupling K (positive definite), the task models are drawn from the
    matrix-normal prior that the kernel-coupled penalty encodes: W (d, T) with
    i.i.d. rows ~ N(0, B), B = K^{-1}, so tasks with a large B_st are similar.
    Without one, every task is a shared model plus a smaller task-specific
    deviation: w_t = w_0 + 0.5 v_t with w_0, v_t ~ N(0, I). Features are
    standard normal; y_t = X_t w_t + noise * N(0, 1).

    Parameters
    ----------
    n_tasks : int, default=10
    n_samples : int or sequence of int, default=100
        Samples per task: one number for all, or one per task (unequal sizes).
    n_features : int, default=20
    coupling : array-like of shape (T, T), default=None
        Positive definite coupling K of the prior.
    noise : float, default=0.1
        Standard deviation of the Gaussian noise, >= 0.
    random_state : int, RandomState instance or None, default=None
    form : {"lists", "long"}, default="lists"

    Returns
    -------
    tuple
        ``(Xs, ys, coef)`` for "lists", ``(X, y, tasks, coef)`` for "long";
        coef has shape (T, n_features).
    """
    n_tasks = _check_positive_int(n_tasks, "n_tasks")
    n_features = _check_positive_int(n_features, "n_features")
    sizes = [n_samples] * n_tasks if np.ndim(n_samples) == 0 else list(n_samples)
    if len(sizes) != n_tasks:
        raise ValueError(f"n_samples has {len(sizes)} entries but n_tasks is {n_tasks}")
    sizes = [_check_positive_int(size, "n_samples") for size in sizes]
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be finite and non-negative, got {noise!r}")
    if form not in ("lists", "long"):
        raise ValueError(f"form must be 'lists' or 'long', got {form!r}")
    rng = check_random_state(random_state)

    if coupling is None:
        coef = rng.standard_normal(n_features)[None, :] + 0.5 * rng.standard_normal((n_tasks, n_features))
    else:
        K = validate_coupling(coupling, n_tasks)
        try:
            factor = np.linalg.cholesky(K)
        except np.linalg.LinAlgError:
            raise ValueError("coupling must be positive definite to define the prior B = K^-1") from None
        # Rows of W ~ N(0, K^-1): solve L^T w = z for z ~ N(0, I), since K = L L^T.
        coef = np.linalg.solve(factor.T, rng.standard_normal((n_tasks, n_features)))
    Xs = [rng.standard_normal((size, n_features)) for size in sizes]
    ys = [X @ w + noise * rng.standard_normal(X.shape[0]) for X, w in zip(Xs, coef)]
    if form == "lists":
        return Xs, ys, coef
    tasks = np.repeat(np.arange(n_tasks), sizes)
    return np.vstack(Xs), np.concatenate(ys), tasks, coef
