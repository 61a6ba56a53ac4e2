"""The README's pictures of model selection on School: ``python bench/figures/school_cv_curve.py``.

On all of School in the long format (139 schools; column 27, the constant, dropped, the
other 27 columns standardised), with the default coupling (mean-regularised):

* ``school_cv_curve.png``: 5-fold cross-validated R^2 (``TaskKFold(5)``: every school split
  in 5, shuffled, seed 0) of ``KernelCoupledRegressor`` against alpha, by
  ``multitask.KernelCoupledRegressorCV``, drawn by ``plot_cv_curve``;
* ``school_path.png``: the l21 regularisation path with a weak ridge, alpha = 1e-4, so that
  the l21 penalty does the regularising (``multitask.regularization_path``, 30 values from
  penalty_max down to 1e-3 times it): the norm of every feature's row of W across the schools,
  with the l21 value chosen by ``KernelCoupledRegressorCV(penalty="l21")`` over the path's values marked; drawn
  by ``plot_regularization_path``. (At the alpha chosen above the same search picks the
  smallest l21 of its path: the ridge alone regularises enough there.)

1 thread; the timings printed are of this run.
"""

from __future__ import annotations

import os
import pathlib
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import multitask as mt  # noqa: E402
import multitask.plotting as mtplot  # noqa: E402
from multitask.model_selection import TaskKFold  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
ALPHAS = np.logspace(-6, 1, 15)
PATH_ALPHA = 1e-4
DPI = 100


def school() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """School in the long format, the constant column dropped and the rest standardised."""
    X, y, tasks = mt.datasets.load_school(form="long")
    X = X[:, :27]
    return (X - X.mean(axis=0)) / X.std(axis=0), y, tasks


def main() -> None:
    X, y, tasks = school()
    cv = TaskKFold(5, shuffle=True, random_state=0)

    started = time.perf_counter()
    search = mt.KernelCoupledRegressorCV(alphas=ALPHAS, scoring="r2", cv=cv).fit(X, y, tasks=tasks)
    alpha = search.alpha_
    print(f"alpha search: {len(ALPHAS)} values x 5 folds in {time.perf_counter() - started:.1f} s; "
          f"chosen alpha = {alpha:.3g}, CV R^2 = {search.best_score_:.4f}")

    figure, axis = plt.subplots(figsize=(6, 4))
    mtplot.plot_cv_curve(search, ax=axis)
    axis.set_title("School: KernelCoupledRegressor, TaskKFold(5)")
    figure.tight_layout()
    figure.savefig(HERE / "school_cv_curve.png", dpi=DPI)

    started = time.perf_counter()
    estimator = mt.KernelCoupledRegressor(alpha=PATH_ALPHA)
    path = mt.regularization_path(estimator, X, y, tasks=tasks, penalty="l21", n_values=30, min_ratio=1e-3)
    print(f"l21 path: {path.penalty_values.size} values in {time.perf_counter() - started:.1f} s, "
          f"penalty_max = {path.value_max:.4g}")
    started = time.perf_counter()
    l21_search = mt.KernelCoupledRegressorCV(penalty="l21", alpha=PATH_ALPHA, alphas=path.penalty_values,
                                             scoring="r2", cv=cv).fit(X, y, tasks=tasks)
    chosen = l21_search.alpha_
    n_selected = int(np.sum(np.linalg.norm(path.coef[list(path.penalty_values).index(chosen)], axis=0) > 0))
    print(f"l21 search in {time.perf_counter() - started:.1f} s: chosen l21 = {chosen:.3g} "
          f"({n_selected} of {X.shape[1]} features), CV R^2 = {l21_search.best_score_:.4f}")

    figure, axis = plt.subplots(figsize=(6, 4))
    mtplot.plot_regularization_path(path, mark=chosen, ax=axis)
    axis.set_title(f"School: l21 path at alpha = {PATH_ALPHA:.0e}, 27 standardised features")
    figure.tight_layout()
    figure.savefig(HERE / "school_path.png", dpi=DPI)
    print(f"wrote school_cv_curve.png and school_path.png to {HERE}")


if __name__ == "__main__":
    main()
