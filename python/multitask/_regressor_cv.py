"""KernelCoupledRegressorCV: the kernel-coupled regressor with its regularisation chosen by cross-validation."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from sklearn.base import _fit_context, clone

from ._cv_search import CVData, GridScores
from ._fit_result import atomic_fit, solver_tol
from ._input import to_task_blocks
from ._linear_cv import LinearModelSearch, search_constraints
from ._loo import leave_one_out_scores
from ._regressor import GRAM_SOLVERS, KernelCoupledRegressor
from ._task_weights import per_sample_weights
from ._threads import effective_n_threads
from .coupling import resolve_coupling

__all__ = ["KernelCoupledRegressorCV"]


class KernelCoupledRegressorCV(LinearModelSearch, KernelCoupledRegressor):
    r"""Kernel-coupled regression with one regularisation weight chosen by cross-validation.

    For every fold of ``cv`` the estimator fits the whole grid ``alphas`` of
    the weight named by ``penalty`` on the training rows (every value the
    model :class:`KernelCoupledRegressor` would fit with that value), scores
    every fit on the test rows, chooses the value with the best mean score
    and refits it on all the data. The folds, scores and choice are those of
    ``GridSearchCV(KernelCoupledRegressor(...), {name: alphas}, cv=cv)``;
    the work is not:

    * ``penalty="coupling"`` with the squared loss and dense X: the Gram
      statistics of a fold are formed once for the whole grid and every alpha
      is solved on them: for a shared design, the eigenbasis of the Sylvester
      solver is computed once and every alpha costs O(dT); for a coupling
      c I + low rank (the default mean-regularised one), every task's Gram is
      diagonalised once and every alpha solved exactly by the Woodbury
      identity; otherwise the conjugate-gradient and block solvers start from
      the previous alpha's solution.
      ``cv="loo"`` gives the exact leave-one-out predictions at every alpha
      from one eigendecomposition (see Notes).
    * otherwise (a structure penalty, the Huber loss, sparse X): the grid is
      fitted from its largest value down, every fit warm-started at the
      previous one, as :func:`multitask.regularization_path`.

    Parameters
    ----------
    coupling : {"mean_regularized", "identity", "chain"} or array-like of shape (T, T), default="mean_regularized"
        The coupling K, as for :class:`KernelCoupledRegressor`.
    alphas : int or array-like of shape (n_alphas,), default=30
        The grid of the weight named by ``penalty``: values (> 0), or their
        number for the default grid: for a structure penalty, log-spaced from
        :func:`multitask.penalty_max` on all the data down to ``min_ratio``
        times it (as scikit-learn's ``MultiTaskLassoCV``); for the coupling,
        log-spaced from 10 down to 1e-6 times the data's scale (the mean over
        features of the task-weighted, centred sum of squares per sample,
        divided by the mean of diag(K)), where the coupling ranges from
        dominating the loss to negligible.
    penalty : {"coupling", "l1", "l21", "trace_norm"}, default="coupling"
        Which weight the grid varies: "coupling" the coupling strength
        ``alpha``, or the weight ``l1``, ``l21`` or ``trace_norm``; the other
        weights keep their values.
    alpha : float, default=1.0
        The coupling strength when the grid varies a structure penalty.
    l1 : float, default=0.0
        Weight of the lasso penalty (ignored when ``penalty="l1"``).
    l21 : float, default=0.0
        Weight of the group penalty (ignored when ``penalty="l21"``).
    trace_norm : float, default=0.0
        Weight of the trace-norm penalty (ignored when ``penalty="trace_norm"``);
        the three as for :class:`KernelCoupledRegressor`.
    min_ratio : float, default=1e-3
        The smallest value of a structure penalty's default grid relative to
        the largest, in (0, 1).
    cv : int, "loo", cross-validation generator or iterable, default=5
        An int: that many folds, :class:`multitask.model_selection.TaskKFold`
        (within every task) for lists and the long format, scikit-learn's
        ``KFold`` over rows for a shared design; "loo": exact leave-one-out
        by the hat-matrix shortcut (``penalty="coupling"``, squared loss,
        dense X; see Notes); a splitter (its ``split`` receives
        ``groups=tasks``) or an iterable of (train, test) row indices of the
        long format (lists are stacked by
        :func:`multitask.model_selection.to_long_format`) or of the shared design.
    scoring : str or callable, default=None
        The score to maximise: None, the estimator's ``score`` (R²), or a
        scikit-learn scorer name or callable (given the task labels of the
        test rows, as by :func:`multitask.metrics.make_task_scorer`).
        With ``cv="loo"`` only None (R² of the leave-one-out predictions)
        or "neg_mean_squared_error".
    task_weights : {"uniform", "balanced"} or array-like of shape (T,), default="uniform"
        Task weights, as for :class:`KernelCoupledRegressor`.
    fit_intercept : bool, default=True
        Fit an unpenalised intercept per task.
    loss : {"squared", "huber"}, default="squared"
        Pointwise loss, as for :class:`KernelCoupledRegressor`.
    epsilon : float, default=1.35
        Huber's threshold (``loss="huber"`` only).
    solver : str, default="auto"
        The solver of every fit, as for :class:`KernelCoupledRegressor`.
    tol : float, default=1e-8
        Stopping tolerance of every fit, as for :class:`KernelCoupledRegressor`.
    max_iter : int, default=1000
        Maximum number of iterations of every fit.
    n_jobs : int, default=None
        Threads of the C++ core, as for :class:`KernelCoupledRegressor`.
    unseen_tasks : {"error", "mean"}, default="error"
        Predictions for task labels not seen in ``fit`` (long format), as for
        :class:`KernelCoupledRegressor`.
    verbose : bool, default=False
        Print a line per fold.

    Attributes
    ----------
    alpha_ : float
        The chosen value of the weight named by ``penalty`` (like scikit-learn's
        ``MultiTaskLassoCV.alpha_``, the chosen penalty weight whatever its name).
    alphas_ : ndarray of shape (n_alphas,)
        The grid, in the order fitted and reported.
    best_params_ : dict
        ``{name: alpha_}`` with the estimator's parameter name ("alpha", "l1",
        "l21" or "trace_norm").
    best_index_ : int
        Index of the chosen value in ``alphas_``.
    best_score_ : float
        Mean test score of the chosen value.
    cv_results_ : dict of ndarray
        In ``GridSearchCV``'s format: "params", "param_<name>",
        "split<k>_test_score", "mean_test_score", "std_test_score",
        "rank_test_score" (with ``cv="loo"`` one "split" per row would be too
        many: "split0_test_score" holds the score of all leave-one-out
        predictions and std is 0).
    n_splits_ : int
        Number of folds (the number of rows for ``cv="loo"``).
    coef_ : ndarray of shape (T, n_features)
        The refitted models, as ``KernelCoupledRegressor.coef_``.
    intercept_ : ndarray of shape (T,)
        The refitted intercepts.
    tasks_ : ndarray of shape (T,)
        Task labels.
    coupling_ : ndarray of shape (T, T)
        The coupling K used.
    n_iter_ : int
        Iterations of the refit's solver.
    solver_ : str
        The solver of the refit.
    objective_ : float
        The objective at the refitted coefficients.
    objective_history_ : ndarray of shape (n_entries,)
        The refit's objective after every iteration.
    kkt_residual_ : float
        Relative KKT residual of the refit.
    dual_gap_ : float
        Duality gap of the refit ("feature_bcd"; NaN otherwise).
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen in ``fit`` (DataFrame input only).

    Notes
    -----
    Leave-one-out. For the squared loss the fitted values are linear in the
    targets, :math:`\hat y = H y`, and leaving row i out of the objective
    (its weight set to zero, every other weight unchanged, so that the
    other rows keep their 1/N) changes its prediction to
    :math:`y_i - (y_i - \hat y_i) / (1 - H_{ii})` (Sherman-Morrison). With
    an intercept per task, :math:`H_{ii} = 1/n_t + s_t \tilde x_i^\top
    [H_W^{-1}]_{tt} \tilde x_i`, :math:`\tilde x_i` centred within its
    task and :math:`H_W` the (dT, dT) Hessian of the coupled system: from
    the Woodbury identity when K is c I plus a low-rank term (the default
    coupling; O(T d^3 + N d^2) per alpha), otherwise from one (dT, dT)
    eigendecomposition (positive definite K, d T up to 8000).

    Examples
    --------
    >>> import numpy as np, multitask as mt
    >>> rng = np.random.default_rng(0)
    >>> Xs = [rng.normal(size=(n, 3)) for n in (40, 60)]
    >>> ys = [X @ [1.0, 2.0, 0.5] + rng.normal(size=len(X)) for X in Xs]
    >>> model = mt.KernelCoupledRegressorCV(alphas=10).fit(Xs, ys)
    >>> model.alphas_.shape, model.coef_.shape
    ((10,), (2, 3))
    """

    _parameter_constraints: dict = search_constraints(KernelCoupledRegressor, cv_options={"loo"})

    def __init__(
        self,
        coupling: Any = "mean_regularized",
        *,
        alphas: Any = 30,
        penalty: str = "coupling",
        alpha: float = 1.0,
        l1: float = 0.0,
        l21: float = 0.0,
        trace_norm: float = 0.0,
        min_ratio: float = 1e-3,
        cv: Any = 5,
        scoring: Any = None,
        task_weights: Any = "uniform",
        fit_intercept: bool = True,
        loss: str = "squared",
        epsilon: float = 1.35,
        solver: str = "auto",
        tol: float = 1e-8,
        max_iter: int = 1000,
        n_jobs: int | None = None,
        unseen_tasks: str = "error",
        verbose: bool = False,
    ) -> None:
        self.coupling = coupling
        self.alpha = alpha
        self.l1 = l1
        self.l21 = l21
        self.trace_norm = trace_norm
        self.task_weights = task_weights
        self.fit_intercept = fit_intercept
        self.loss = loss
        self.epsilon = epsilon
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.unseen_tasks = unseen_tasks
        self.alphas = alphas
        self.penalty = penalty
        self.min_ratio = min_ratio
        self.cv = cv
        self.scoring = scoring
        self.verbose = verbose

    _plain_class = KernelCoupledRegressor

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None, tasks: Any = None) -> "KernelCoupledRegressorCV":
        """Cross-validate the grid, then refit the chosen value on all the data.

        Parameters
        ----------
        X : list of array-like (n_t, d), or array-like of shape (n_samples, d)
            Per-task matrices, stacked rows (with ``tasks``), or one design
            shared by every task (with a 2-D ``y``).
        y : list of array-like (n_t,), or array-like of shape (n_samples,) or (n_samples, T)
            Targets in the form matching ``X``.
        tasks : array-like of shape (n_samples,), default=None
            Task label of every row (long format).

        Returns
        -------
        self : KernelCoupledRegressorCV
            The fitted estimator.
        """
        self._search(X, y, tasks)
        return self

    def _scores(self, estimator: KernelCoupledRegressor, data: CVData, name: str,
                values: np.ndarray) -> tuple[GridScores, int]:
        if not isinstance(self.cv, str):
            return super()._scores(estimator, data, name, values)
        if name != "alpha":  # cv="loo"
            raise ValueError(f"cv='loo' needs penalty='coupling' (the shortcut exists for the squared loss with a "
                             f"quadratic penalty), got penalty={self.penalty!r}")
        return leave_one_out_scores(estimator, data, values, self.scoring), len(data.y)

    def _fit_grid(self, estimator: KernelCoupledRegressor, train: CVData, name: str,
                  values: np.ndarray) -> list[KernelCoupledRegressor]:
        """Every value of the grid fitted on ``train``: one path of the core when the maths allows."""
        if name == "alpha":
            blocks = to_task_blocks(train.X, train.y, train.tasks, accept_sparse=True)
            # The Gram route (squared loss, dense X, no structure penalty) with "auto" or a Gram solver;
            # "gradient" works on the data and goes the warm-started way.
            solver = estimator._resolved_solver(on_data=False)
            if not estimator._fits_on_data(blocks) and solver in ("auto", *GRAM_SOLVERS):
                return _coupling_path(estimator, blocks, train, values, solver)
        return super()._fit_grid(estimator, train, name, values)


def _coupling_path(estimator: KernelCoupledRegressor, blocks: Any, train: CVData, values: np.ndarray,
                   solver: str) -> list[KernelCoupledRegressor]:
    """The fits of every coupling strength in ``values`` from one call of the core (statistics formed once)."""
    from ._fit_result import core_function

    dtype = blocks.X[0].dtype
    coupling = resolve_coupling(estimator.coupling, blocks.n_tasks)
    sample_weight = per_sample_weights(estimator.task_weights, [block.shape[0] for block in blocks.X])
    tol = solver_tol(estimator.tol, dtype)
    path = core_function("fit_least_squares_path", dtype)(
        X=blocks.X,
        y=blocks.y,
        sample_weight=sample_weight,
        coupling=coupling,
        alphas=[float(value) for value in values],
        fit_intercept=bool(estimator.fit_intercept),
        shared_design=blocks.form in ("shared", "single"),
        solver=solver,
        tol=tol,
        max_iter=int(estimator.max_iter),
        n_threads=effective_n_threads(estimator.n_jobs),
    )
    template = clone(estimator)
    template._validate_feature_names(train.X, train.tasks)
    template.n_features_in_ = blocks.X[0].shape[1]
    models = []
    for value, result in zip(values, path):
        model = copy.copy(template)  # the parameters and feature names shared; clone() per value costs more
        model.alpha = float(value)
        model._store_result(result, blocks, coupling, tol)
        models.append(model)
    return models
