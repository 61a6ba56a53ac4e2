r"""MultiTaskKernelRidge: kernel ridge regression with a multi-task kernel B_st k(x, x')."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any, Callable

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import MAX_C_INT
from ._fit_result import SolverOutcome, atomic_fit, core_function, solver_tol, store_fit
from ._input import paired_targets
from ._kernel_expansion import DualProblem, KernelExpansionMixin
from ._kernel_ridge_primal import APPROXIMATE_SOLVERS, fit_primal
from ._threads import effective_n_threads
from .coupling import BUILDER_NAMES

__all__ = ["MultiTaskKernelRidge"]

SOLVERS = ("auto", "cholesky", "kronecker", "cg", *APPROXIMATE_SOLVERS)
KERNELS = ("linear", "rbf", "poly", "polynomial", "laplacian", "precomputed")

# cg on per-task inputs keeps the (N, N) multi-task Gram in memory up to this
# size and recomputes it block by block beyond (N = 11,585 in float64).
CG_CACHE_BYTES = 2**30


class MultiTaskKernelRidge(KernelExpansionMixin, RegressorMixin, BaseEstimator):
    r"""Kernel ridge regression with the multi-task kernel :math:`B_{st}\,k(x, x')`.

    Task t predicts :math:`f_t(x) = \sum_{(s,j)} c_{sj} B_{ts} k(x_{sj}, x) + b_t`,
    where the dual coefficients c solve (README, "Multi-task kernel machines")

    .. math::

        (M + \alpha N \Omega^{-1})\, c = y, \qquad
        M_{(s,i),(t,j)} = B_{st}\, k(x_{si}, x_{tj}),

    with N the total number of samples and :math:`\Omega` the diagonal of
    per-sample task weights :math:`\omega_t`. This is the minimiser of
    :math:`\frac1N \sum_t \omega_t \sum_{i\in t} \frac12 (y_{ti} - f_t(x_{ti}))^2
    + \frac\alpha2 \|f\|^2_{\mathcal H}` in the RKHS of the multi-task kernel: for
    the linear kernel and :math:`B = K^{-1}` it is ``KernelCoupledRegressor``
    with coupling K. The intercepts :math:`b_t` are not penalised; they solve the
    bordered system with :math:`\sum_{i \in t} c_{ti} = 0` for every task.

    Parameters
    ----------
    kernel : {"rbf", "linear", "poly", "polynomial", "laplacian", "precomputed"} or callable, default="rbf"
        Input kernel k: ``exp(-gamma ||x - y||^2)``, ``<x, y>``,
        ``(gamma <x, y> + coef0)^degree``, ``exp(-gamma ||x - y||_1)``; a callable
        ``k(X1, X2) -> (n1, n2)`` array; or "precomputed": X holds kernel values
        (see Notes).
    gamma : float, default=None
        Positive scale of the rbf, polynomial and laplacian kernels; 1 / n_features when None.
    degree : int, default=3
        Degree of the polynomial kernel, >= 1.
    coef0 : float, default=1.0
        Constant of the polynomial kernel.
    task_kernel : array-like of shape (T, T), default=None
        The task kernel B, symmetric positive semidefinite. With neither
        ``task_kernel`` nor ``coupling``, B = I (independent tasks).
    coupling : {"mean_regularized", "identity", "chain"} or array-like of shape (T, T), default=None
        A positive definite coupling K of :class:`KernelCoupledRegressor`; then
        B = K^{-1}. Giving both ``task_kernel`` and ``coupling`` is a ValueError.
    alpha : float, default=1.0
        Regularisation strength, > 0. With B = I and uniform weights each task
        is scikit-learn ``KernelRidge(alpha=alpha * N)`` on that task.
    task_weights : {"uniform", "balanced"} or array-like of shape (T,), default="uniform"
        :math:`\omega_t`, as in :class:`KernelCoupledRegressor`.
    fit_intercept : bool, default=True
        Fit an unpenalised intercept per task.
    solver : {"auto", "cholesky", "kronecker", "cg", "nystroem", "random_features"}, default="auto"
        "cholesky": dense in-place factorisation of the (N, N) system, O(N^3/3);
        "kronecker": shared design only (``fit(X, Y)``), O(n^3 + T^3 + n^2 T);
        "cg": matrix-free preconditioned conjugate gradient; "auto": kronecker
        for a shared design, cholesky up to N = 12,000, cg beyond.
        Approximations (never chosen by "auto"), an explicit feature map z of
        ``n_components`` columns and then the primal kernel-coupled solver of
        :class:`KernelCoupledRegressor` on it, O(N m^2): "nystroem" (landmarks
        drawn from the training inputs, any kernel but precomputed) and
        "random_features" (random Fourier features, "rbf" and "laplacian").
    tol : float, default=1e-8
        The "cg" solver stops when the relative residual of the (bordered)
        system is at most tol. float32 data cannot get much below 1e-6: use a larger tol there.
        For the approximations: tol of the core's solver on the features.
    max_iter : int, default=1000
        Maximum number of cg iterations.
    n_jobs : int, default=None
        Threads of the C++ core, as in :class:`KernelCoupledRegressor`.
    n_components : int, default=100
        Number m of Nyström landmarks (at most the number of training inputs)
        or of random features, >= 1.
    random_state : int, RandomState instance or None, default=None
        Draws the Nyström landmarks or the random frequencies.

    Attributes
    ----------
    dual_coef_ : ndarray of shape (N,) or (n_samples, T), or None
        c, shaped like y at fit: (N,) for lists (tasks concatenated) and the long
        format (in the order of the rows), (n_samples, T) for a shared design.
        None for the approximate solvers.
    coef_ : ndarray of shape (T, r) or None
        Approximate solvers: row t is task t's weights on the r features
        (None for the exact solvers).
    feature_map_ : object or None
        Approximate solvers: the feature map (Nyström landmarks and projection,
        or random Fourier frequencies and phases); None for the exact solvers.
    intercept_ : ndarray of shape (T,)
        The intercepts :math:`b_t` (zeros when ``fit_intercept=False``).
    task_kernel_ : ndarray of shape (T, T)
        The task kernel B used.
    tasks_ : ndarray of shape (T,)
        Task labels: the sorted labels of the long format, 0..T-1 for lists
        and a shared design.
    X_fit_ : ndarray of shape (n_inputs, n_features) or None
        The training inputs the predictions expand over (None when precomputed);
        the landmarks for "nystroem", None for "random_features".
    solver_ : str
        The solver that ran (what "auto" chose).
    n_iter_ : int
        cg iterations (1 for the direct solvers; the core's for the approximations).
    kkt_residual_ : float
        Final relative residual of cg, the KKT system of the dual problem
        (NaN for the direct solvers; the core's relative KKT residual for the
        approximations). Formerly ``residual_``, a deprecated alias.
    n_features_in_ : int
        Number of input features d seen in ``fit`` (for precomputed kernels:
        the number of training inputs).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen in ``fit``; set only when X has string
        column names: a pandas DataFrame (long format, shared design) or a
        list of DataFrames with the same columns.

    Notes
    -----
    **Precomputed kernels.** X holds input-kernel values k against the
    training inputs, one column per training input in training order, in the
    same form as the data: ``fit(K, Y)`` with K (n, n) for a shared design;
    ``fit(K, y, tasks=ids)`` with K (N, N) over all rows in their given order;
    ``fit([K_1, ..., K_T], ys)`` with K_t (n_t, N), the rows of task t against
    all N training samples (tasks concatenated). ``predict`` takes the same
    forms with test rows: (m, n), (m, N) with ``tasks``, or a list of (m_t, N).
    """

    _parameter_constraints: dict = {
        "kernel": [StrOptions(set(KERNELS)), callable],
        "gamma": [Interval(Real, 0, None, closed="neither"), None],
        "degree": [Interval(Integral, 1, None, closed="left")],
        "coef0": [Interval(Real, None, None, closed="neither")],
        "task_kernel": ["array-like", None],
        "coupling": [StrOptions(set(BUILDER_NAMES)), "array-like", None],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "task_weights": [StrOptions({"uniform", "balanced"}), "array-like"],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions(set(SOLVERS))],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, MAX_C_INT, closed="both")],
        "n_jobs": [Integral, None],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        kernel: str | Callable = "rbf",
        *,
        gamma: float | None = None,
        degree: int = 3,
        coef0: float = 1.0,
        task_kernel: Any = None,
        coupling: Any = None,
        alpha: float = 1.0,
        task_weights: Any = "uniform",
        fit_intercept: bool = True,
        solver: str = "auto",
        tol: float = 1e-8,
        max_iter: int = 1000,
        n_jobs: int | None = None,
        n_components: int = 100,
        random_state: Any = None,
    ) -> None:
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.task_kernel = task_kernel
        self.coupling = coupling
        self.alpha = alpha
        self.task_weights = task_weights
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.n_components = n_components
        self.random_state = random_state

    # ------------------------------------------------------------------ fit

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None, tasks: Any = None) -> "MultiTaskKernelRidge":
        """Solve the dual system for the dual coefficients and intercepts.

        Parameters
        ----------
        X : list of array-like (n_t, d), or array-like of shape (n_samples, d)
            Per-task inputs, stacked rows (with ``tasks``) or inputs shared by
            every task (with a 2-D ``y``); kernel values for ``kernel="precomputed"``.
        y : list of array-like (n_t,), or array-like of shape (n_samples,) or (n_samples, T)
            Targets in the form matching ``X``.
        tasks : array-like of shape (n_samples,), default=None
            Task label of every row (long format).

        Returns
        -------
        self : MultiTaskKernelRidge
            The fitted estimator.
        """
        problem = self._dual_problem(X, y, tasks)
        if self.solver in APPROXIMATE_SOLVERS:
            fitted = fit_primal(self, problem.blocks, problem.B, 1.0 / problem.unit_ridge, problem.inputs)
            advice = "increase max_iter or alpha, or reduce n_components"
            store_fit(self, fitted.outcome, fitted.attributes, advice=advice)
            return self
        dtype = problem.inputs.dtype
        tol = solver_tol(self.tol, dtype)
        result = core_function("fit_kernel_ridge", dtype)(
            **self._core_arguments(problem, dtype),
            ridge=float(self.alpha) * problem.unit_ridge,
            y=np.ascontiguousarray(np.concatenate(problem.blocks.y), dtype=dtype),
            fit_intercept=bool(self.fit_intercept),
            solver=self.solver,
            tol=tol,
            max_iter=int(self.max_iter),
            n_threads=effective_n_threads(self.n_jobs),
            max_cache_bytes=float(CG_CACHE_BYTES),
        )
        self._store_result(result, problem, tol)
        return self

    def _needs_training_gram(self) -> bool:
        # The approximate solvers never form the Gram (they reject precomputed kernels).
        return self.solver not in APPROXIMATE_SOLVERS

    def _store_result(self, result: dict, problem: DualProblem, tol: float) -> None:
        """Fitted attributes from the core's dual solution (see :func:`~multitask._fit_result.store_fit`)."""
        residual = float(result["residual"])
        outcome = SolverOutcome(str(result["solver"]), int(result["n_iter"]), bool(result["converged"]),
                                "relative residual", residual, tol)
        attributes = {
            **self._expansion_attributes(result["dual_coef"], result["intercept"], problem),
            "coef_": None,
            "feature_map_": None,
            "kkt_residual_": residual,
        }
        store_fit(self, outcome, attributes, advice="increase max_iter or alpha, or use solver='cholesky'")

    # -------------------------------------------------------------- predict

    def predict(self, X: Any, tasks: Any = None) -> Any:
        """Predict with every task's kernel expansion.

        Parameters
        ----------
        X : list of array-like (m_t, d), or array-like of shape (m, d)
            Test inputs per task (lists), labelled by ``tasks``, or for every
            task; kernel values against the training inputs when precomputed.
        tasks : array-like of shape (m,), default=None
            Task label of every row; each must be one of ``tasks_``.

        Returns
        -------
        list of ndarray (m_t,), or ndarray of shape (m,) or (m, T)
            In the form of the input, as ``KernelCoupledRegressor.predict``.
        """
        return self._expansion_values(X, tasks)

    def score(self, X: Any, y: Any, tasks: Any = None, sample_weight: Any = None) -> float:
        """R^2 of the predictions, pooled over tasks (lists, long format) or averaged over the columns of Y.

        Parameters
        ----------
        X : list of array-like (m_t, d), or array-like of shape (m, d)
            Test inputs in one of the three input forms, as for :meth:`predict`.
        y : list of array-like (m_t,), or array-like of shape (m,) or (m, T)
            True targets in the form matching ``X``.
        tasks : array-like of shape (m,), default=None
            Task label of every row (long format).
        sample_weight : array-like of shape (m,), default=None
            Weight of every sample (for lists: of the tasks' samples
            concatenated in order); None weighs them equally.

        Returns
        -------
        score : float
            R^2 pooled over all samples (lists, long format) or the mean over
            the columns of a 2-D ``y``.
        """
        return _r2(y, self.predict(X, tasks=tasks), sample_weight)

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.input_tags.pairwise = self.kernel == "precomputed"
        tags.input_tags.sparse = self._accepts_sparse()
        return tags


def _r2(y: Any, predictions: Any, sample_weight: Any = None) -> float:
    """R^2 as ``MultiTaskKernelRidge.score`` defines it, from the predictions in the form of the input."""
    y, predictions = paired_targets(y, predictions)
    return float(r2_score(y, predictions, sample_weight=sample_weight))


def path_scores(models: list[MultiTaskKernelRidge], X: Any, y: Any, tasks: Any = None) -> list[float]:
    """``[model.score(X, y, tasks=tasks) for model in models]`` for models fitted on the same
    training inputs (the models of one ``kernel_ridge_path``), evaluating the kernel between
    the test and the training inputs once instead of once per model."""
    predictions = models[0]._expansion_values_of(X, tasks, [(m._expansion_weights, m.intercept_) for m in models])
    return [_r2(y, values) for values in predictions]
