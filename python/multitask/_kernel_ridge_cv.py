"""MultiTaskKernelRidgeCV: multi-task kernel ridge with alpha (and the kernel's gamma) chosen by cross-validation."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any, Callable

import numpy as np
from sklearn.base import _fit_context, clone
from sklearn.utils._param_validation import Interval

from ._cv_search import GridScores, checked_grid, cv_data, cv_folds, fold_scorer, store_search
from ._fit_result import atomic_fit
from ._kernel_ridge import MultiTaskKernelRidge, path_scores
from ._kernel_ridge_path import kernel_ridge_path

__all__ = ["MultiTaskKernelRidgeCV"]

CV_PARAMETERS = ("alphas", "gammas", "cv", "scoring", "verbose")
# The default alpha grid: 10 down to 1e-6 (kernel values of order one).
DEFAULT_ALPHA_DECADES = (1.0, -6.0)


class MultiTaskKernelRidgeCV(MultiTaskKernelRidge):
    r"""Multi-task kernel ridge regression with ``alpha`` (and ``gamma``) chosen by cross-validation.

    For every fold of ``cv`` and every value of ``gammas``, one
    :func:`multitask.kernel_ridge_path` on the training rows fits every alpha
    of ``alphas`` exactly from one reduction of the kernel matrix (O(N³)
    once, then O(N²) per alpha; for a shared design the reduction is of the
    (n, n) input kernel). Every fit is scored on the test rows; the best mean
    score is refitted on all the data. The folds, scores and choice are those
    of ``GridSearchCV(MultiTaskKernelRidge(...), {"alpha": alphas, "gamma":
    gammas}, cv=cv)`` with an exact solver.

    Parameters
    ----------
    kernel : {"rbf", "laplacian", "linear", "poly", "polynomial", "precomputed"} or callable, default="rbf"
        The input kernel, as for :class:`MultiTaskKernelRidge`.
    alphas : int or array-like of shape (n_alphas,), default=15
        Regularisation strengths (> 0), or their number: log-spaced from 10
        down to 1e-6 (the scale of kernel values of order one: the rbf and
        Laplacian kernels, or standardised inputs).
    gammas : array-like of shape (n_gammas,), default=None
        Values of the kernel's ``gamma`` to search as well (a grid of
        ``alphas`` × ``gammas``); None keeps ``gamma``.
    gamma : float, default=None
        The kernel's gamma when ``gammas`` is None, as for :class:`MultiTaskKernelRidge`.
    degree : int, default=3
        Degree of the polynomial kernel.
    coef0 : float, default=1.0
        Constant of the polynomial kernel.
    task_kernel : array-like of shape (T, T), default=None
        The task kernel B, as for :class:`MultiTaskKernelRidge`.
    coupling : {"mean_regularized", "identity", "chain"} or array-like of shape (T, T), default=None
        The coupling K (B = K⁻¹), as for :class:`MultiTaskKernelRidge`.
    task_weights : {"uniform", "balanced"} or array-like of shape (T,), default="uniform"
        Task weights, as for :class:`MultiTaskKernelRidge`.
    fit_intercept : bool, default=True
        Fit an unpenalised intercept per task.
    solver : str, default="auto"
        The solver of the refit on all the data (the search is exact).
    tol : float, default=1e-8
        Tolerance of an iterative refit.
    max_iter : int, default=1000
        Maximum number of iterations of an iterative refit.
    n_jobs : int, default=None
        Threads of the C++ core (the path's reduction and the refit).
    n_components : int, default=100
        Rank of an approximate refit (``solver="nystroem"`` or ``"random_features"``).
    random_state : int, RandomState instance or None, default=None
        Seeds an approximate refit.
    cv : int, cross-validation generator or iterable, default=5
        An int: that many folds, :class:`multitask.model_selection.TaskKFold`
        for lists and the long format, ``KFold`` over rows for a shared design;
        a splitter (its ``split`` receives ``groups=tasks``) or an iterable of
        (train, test) row indices.
    scoring : str or callable, default=None
        The score to maximise: None, the estimator's ``score`` (R²), or a
        scikit-learn scorer name or callable, given the task labels of the
        test rows.
    verbose : bool, default=False
        Print a line per fold.

    Attributes
    ----------
    alpha_ : float
        The chosen alpha.
    gamma_ : float or None
        The chosen gamma (``gamma`` when ``gammas`` is None).
    alphas_ : ndarray of shape (n_alphas,)
        The alpha grid.
    best_params_ : dict
        ``{"alpha": alpha_}``, with "gamma" when ``gammas`` is given.
    best_index_ : int
        Index of the chosen candidate in ``cv_results_["params"]``.
    best_score_ : float
        Mean test score of the chosen candidate.
    cv_results_ : dict of ndarray
        In ``GridSearchCV``'s format and candidate order ("params",
        "param_alpha", "param_gamma", "split<k>_test_score", "mean_test_score",
        "std_test_score", "rank_test_score").
    n_splits_ : int
        Number of folds.
    dual_coef_ : ndarray of shape (N,) or (n_samples, T), or None
        The refit's dual coefficients, as for :class:`MultiTaskKernelRidge`.
    coef_ : ndarray of shape (T, r) or None
        The refit's primal coefficients (approximate solvers only).
    feature_map_ : object or None
        The refit's feature map (approximate solvers only).
    intercept_ : ndarray of shape (T,)
        The refit's intercepts.
    task_kernel_ : ndarray of shape (T, T)
        The task kernel B used.
    tasks_ : ndarray of shape (T,)
        Task labels.
    X_fit_ : ndarray of shape (n_inputs, n_features) or None
        The training inputs the predictions expand over.
    solver_ : str
        The solver of the refit.
    n_iter_ : int
        Iterations of the refit's solver.
    kkt_residual_ : float
        Relative residual of the refit's solver.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen in ``fit`` (DataFrame input only).

    Examples
    --------
    >>> import numpy as np, multitask as mt
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 2))
    >>> Y = np.column_stack([np.sin(X[:, 0]), np.sin(X[:, 0]) + 0.1 * X[:, 1]]) + 0.1 * rng.normal(size=(60, 2))
    >>> model = mt.MultiTaskKernelRidgeCV(alphas=8, gammas=[0.1, 1.0]).fit(X, Y)
    >>> sorted(model.best_params_)
    ['alpha', 'gamma']
    """

    _parameter_constraints: dict = {
        **MultiTaskKernelRidge._parameter_constraints,
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "gammas": ["array-like", None],
        "cv": [Interval(Integral, 2, None, closed="left"), "cv_object", "array-like"],
        "scoring": [str, callable, None],
        "verbose": ["verbose"],
    }
    del _parameter_constraints["alpha"]

    def __init__(
        self,
        kernel: str | Callable = "rbf",
        *,
        alphas: Any = 15,
        gammas: Any = None,
        gamma: float | None = None,
        degree: int = 3,
        coef0: float = 1.0,
        task_kernel: Any = None,
        coupling: Any = None,
        task_weights: Any = "uniform",
        fit_intercept: bool = True,
        solver: str = "auto",
        tol: float = 1e-8,
        max_iter: int = 1000,
        n_jobs: int | None = None,
        n_components: int = 100,
        random_state: Any = None,
        cv: Any = 5,
        scoring: Any = None,
        verbose: bool = False,
    ) -> None:
        self.kernel = kernel
        self.alphas = alphas
        self.gammas = gammas
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.task_kernel = task_kernel
        self.coupling = coupling
        self.task_weights = task_weights
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.n_components = n_components
        self.random_state = random_state
        self.cv = cv
        self.scoring = scoring
        self.verbose = verbose

    alpha = 1.0  # read by the inherited methods before the refit sets the chosen value

    def _gamma_value(self) -> float:
        # After fit, the kernel of the refitted model (gamma_ when gammas were searched).
        gamma = getattr(self, "gamma_", self.gamma)
        return 1.0 / self.n_features_in_ if gamma is None else float(gamma)

    def _plain_estimator(self) -> MultiTaskKernelRidge:
        params = {key: value for key, value in self.get_params(deep=False).items() if key not in CV_PARAMETERS}
        return MultiTaskKernelRidge(**params)

    def _grids(self) -> tuple[np.ndarray, list]:
        if isinstance(self.alphas, Integral):
            alphas = np.logspace(*DEFAULT_ALPHA_DECADES, int(self.alphas))
        else:
            alphas = checked_grid(self.alphas, "alphas")
        if self.gammas is None:
            return alphas, [None]
        return alphas, [float(gamma) for gamma in checked_grid(self.gammas, "gammas", count_allowed=False)]

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None, tasks: Any = None) -> "MultiTaskKernelRidgeCV":
        """Cross-validate the grid, then refit the chosen values on all the data.

        Parameters
        ----------
        X : list of array-like (n_t, d), or array-like of shape (n_samples, d)
            Per-task inputs, stacked rows (with ``tasks``) or inputs shared by
            every task (with a 2-D ``y``).
        y : list of array-like (n_t,), or array-like of shape (n_samples,) or (n_samples, T)
            Targets in the form matching ``X``.
        tasks : array-like of shape (n_samples,), default=None
            Task label of every row (long format).

        Returns
        -------
        self : MultiTaskKernelRidgeCV
            The fitted estimator.
        """
        plain = self._plain_estimator()
        alphas, gammas = self._grids()
        data = cv_data(X, y, tasks)
        folds = cv_folds(self.cv, data)
        # GridSearchCV's candidate order: names sorted ("alpha" < "gamma"), the last varying fastest.
        candidates = [{"alpha": float(a)} if g is None else {"alpha": float(a), "gamma": g}
                      for a in alphas for g in gammas]
        grid = GridScores(candidates, len(folds))
        score = fold_scorer(self.scoring)
        for k, (train, test) in enumerate(folds):
            train_data, test_data = data.subset(train), data.subset(test)
            for g, gamma in enumerate(gammas):
                estimator = plain if gamma is None else clone(plain).set_params(gamma=gamma)
                path = kernel_ridge_path(estimator, train_data.X, train_data.y, tasks=train_data.tasks,
                                         alphas=alphas)
                if self.scoring is None:  # R^2: one kernel evaluation for the whole path
                    scores = path_scores(path.estimators, test_data.X, test_data.y, **test_data.fit_params())
                else:
                    scores = [score(model, test_data) for model in path.estimators]
                for a, value in enumerate(scores):
                    grid.scores[k, a * len(gammas) + g] = value
            if self.verbose:
                best = int(np.nanargmax(grid.scores[k]))
                print(f"[fold {k + 1}/{len(folds)}] best {candidates[best]} (score {grid.scores[k, best]:.4f})")
        store_search(self, grid, len(folds), plain, X, y, tasks)
        self.alpha_ = self.best_params_["alpha"]
        self.gamma_ = self.best_params_.get("gamma", self.gamma)
        self.alphas_ = alphas
        return self
