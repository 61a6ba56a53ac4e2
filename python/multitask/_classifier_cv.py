"""KernelCoupledClassifierCV: the kernel-coupled classifier with its regularisation chosen by cross-validation."""

from __future__ import annotations

from typing import Any

from sklearn.base import _fit_context

from ._classifier import KernelCoupledClassifier
from ._fit_result import atomic_fit
from ._linear_cv import LinearModelSearch, search_constraints

__all__ = ["KernelCoupledClassifierCV"]


class KernelCoupledClassifierCV(LinearModelSearch, KernelCoupledClassifier):
    r"""Kernel-coupled binary classification with one regularisation weight chosen by cross-validation.

    For every fold of ``cv`` the estimator fits the whole grid ``alphas`` of
    the weight named by ``penalty`` on the training rows, from the most
    regularised value down, every fit warm-started at the previous one (as
    :func:`multitask.regularization_path`); scores every fit on the test rows;
    chooses the value with the best mean score and refits it on all the data.
    The folds, scores and choice are those of
    ``GridSearchCV(KernelCoupledClassifier(...), {name: alphas}, cv=cv)``
    (to the solver's tolerance: a warm start ends at another point within it).

    Parameters
    ----------
    coupling : {"mean_regularized", "identity", "chain"} or array-like of shape (T, T), default="mean_regularized"
        The coupling K, as for :class:`KernelCoupledClassifier`.
    alphas : int or array-like of shape (n_alphas,), default=30
        The grid of the weight named by ``penalty``: values (> 0), or their
        number for the default grid (as for :class:`KernelCoupledRegressorCV`:
        from :func:`multitask.penalty_max` down to ``min_ratio`` times it for
        a structure penalty; 10 down to 1e-6 times the data's scale for the
        coupling).
    penalty : {"coupling", "l1", "l21", "trace_norm"}, default="coupling"
        Which weight the grid varies: "coupling" the coupling strength
        ``alpha``, or the weight ``l1``, ``l21`` or ``trace_norm``.
    alpha : float, default=1.0
        The coupling strength when the grid varies a structure penalty.
    l1 : float, default=0.0
        Weight of the lasso penalty (ignored when ``penalty="l1"``).
    l21 : float, default=0.0
        Weight of the group penalty (ignored when ``penalty="l21"``).
    trace_norm : float, default=0.0
        Weight of the trace-norm penalty (ignored when ``penalty="trace_norm"``).
    min_ratio : float, default=1e-3
        The smallest value of a structure penalty's default grid relative to
        the largest, in (0, 1).
    cv : int, cross-validation generator or iterable, default=5
        An int: that many folds, :class:`multitask.model_selection.TaskKFold`
        (within every task) for lists and the long format, scikit-learn's
        ``KFold`` over rows for a shared design; a splitter (its ``split``
        receives ``groups=tasks``) or an iterable of (train, test) row indices.
    scoring : str or callable, default=None
        The score to maximise: None, the estimator's ``score`` (accuracy), or
        a scikit-learn scorer name or callable (e.g. "roc_auc", "neg_log_loss"),
        given the task labels of the test rows.
    loss : {"logistic", "squared_hinge"}, default="logistic"
        Pointwise loss, as for :class:`KernelCoupledClassifier`.
    task_weights : {"uniform", "balanced"} or array-like of shape (T,), default="uniform"
        Task weights, as for :class:`KernelCoupledClassifier`.
    fit_intercept : bool, default=True
        Fit an unpenalised intercept per task.
    solver : str, default="auto"
        The solver of every fit, as for :class:`KernelCoupledClassifier`.
    tol : float, default=1e-8
        Stopping tolerance of every fit, as for :class:`KernelCoupledClassifier`.
    max_iter : int, default=1000
        Maximum number of iterations of every fit.
    n_jobs : int, default=None
        Threads of the C++ core, as for :class:`KernelCoupledClassifier`.
    unseen_tasks : {"error", "mean"}, default="error"
        Predictions for task labels not seen in ``fit`` (long format), as for
        :class:`KernelCoupledClassifier`.
    verbose : bool, default=False
        Print a line per fold.

    Attributes
    ----------
    alpha_ : float
        The chosen value of the weight named by ``penalty``.
    alphas_ : ndarray of shape (n_alphas,)
        The grid.
    best_params_ : dict
        ``{name: alpha_}`` with the estimator's parameter name.
    best_index_ : int
        Index of the chosen value in ``alphas_``.
    best_score_ : float
        Mean test score of the chosen value.
    cv_results_ : dict of ndarray
        In ``GridSearchCV``'s format ("params", "param_<name>",
        "split<k>_test_score", "mean_test_score", "std_test_score", "rank_test_score").
    n_splits_ : int
        Number of folds.
    classes_ : ndarray of shape (2,)
        The two class labels.
    coef_ : ndarray of shape (T, n_features)
        The refitted models, as ``KernelCoupledClassifier.coef_``.
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

    Examples
    --------
    >>> import numpy as np, multitask as mt
    >>> rng = np.random.default_rng(0)
    >>> Xs = [rng.normal(size=(60, 3)) for _ in range(2)]
    >>> ys = [(X @ [1.0, -1.0, 0.5] + rng.normal(size=60) > 0).astype(int) for X in Xs]
    >>> model = mt.KernelCoupledClassifierCV(alphas=[1e-3, 1e-2, 1e-1]).fit(Xs, ys)
    >>> model.alpha_ in model.alphas_
    True
    """

    _parameter_constraints: dict = search_constraints(KernelCoupledClassifier)
    _plain_class = KernelCoupledClassifier

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
        loss: str = "logistic",
        task_weights: Any = "uniform",
        fit_intercept: bool = True,
        solver: str = "auto",
        tol: float = 1e-8,
        max_iter: int = 1000,
        n_jobs: int | None = None,
        unseen_tasks: str = "error",
        verbose: bool = False,
    ) -> None:
        self.coupling = coupling
        self.alphas = alphas
        self.penalty = penalty
        self.alpha = alpha
        self.l1 = l1
        self.l21 = l21
        self.trace_norm = trace_norm
        self.min_ratio = min_ratio
        self.cv = cv
        self.scoring = scoring
        self.loss = loss
        self.task_weights = task_weights
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.unseen_tasks = unseen_tasks

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None, tasks: Any = None) -> "KernelCoupledClassifierCV":
        """Cross-validate the grid, then refit the chosen value on all the data.

        Parameters
        ----------
        X : list of array-like or sparse (n_t, d), or array-like or sparse of shape (n_samples, d)
            Per-task matrices, stacked rows (with ``tasks``), or one design
            shared by every task (with a 2-D ``y``).
        y : list of array-like (n_t,), or array-like of shape (n_samples,) or (n_samples, T)
            Labels: the same two classes in every task.
        tasks : array-like of shape (n_samples,), default=None
            Task label of every row (long format).

        Returns
        -------
        self : KernelCoupledClassifierCV
            The fitted estimator.
        """
        self._search(X, y, tasks)
        return self
