r"""MultiTaskSVC: support vector classification with a multi-task kernel B_st k(x, x')."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any, Callable

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from ._classifier import KernelCoupledClassifier, encode_labels
from ._base import MAX_C_INT
from ._core import core
from ._fit_result import SolverOutcome, atomic_fit, store_fit
from ._kernel_expansion import KernelExpansionMixin
from ._kernel_ridge import MultiTaskKernelRidge
from ._threads import effective_n_threads

__all__ = ["MultiTaskSVC"]

INTERCEPTS = ("per_task", "shared")


def _default_max_iter(n_samples: int) -> int:
    """LIBSVM's cap on the number of pair updates: max(10^7, 100 N)."""
    return max(10_000_000, 100 * n_samples)


class MultiTaskSVC(ClassifierMixin, KernelExpansionMixin, BaseEstimator):
    r"""Support vector classification, binary per task, with the multi-task kernel :math:`B_{st}\,k(x, x')`.

    Task t predicts the sign of :math:`f_t(x) = \sum_j y_j a_j B_{t\,t(j)} k(x_j, x) + b_t`,
    the minimiser of the hinge loss with an RKHS penalty

    .. math::

        \frac1N \sum_t \omega_t \sum_{i \in t} \max(0, 1 - y_i f_t(x_i))
        + \frac\alpha2 \|f\|^2_{\mathcal H}

    over the multi-task kernel's function space plus unpenalised intercepts,
    with labels :math:`y_i \in \{-1, +1\}` (``classes_[1]`` is +1). It is
    solved in the dual

    .. math::

        \max_a \sum_i a_i - \frac12 a^\top Q a, \qquad
        Q_{ij} = y_i y_j B_{t(i)t(j)} k(x_i, x_j), \qquad
        0 \le a_i \le C_i = \frac{\omega_{t(i)}}{\alpha N},

    with :math:`\sum_{i \in t} y_i a_i = 0` for every task t (per-task
    intercepts), :math:`\sum_i y_i a_i = 0` (one shared intercept) or no
    equality constraint (no intercept). With ``fit_intercept="shared"`` and
    uniform weights this is scikit-learn's ``SVC(kernel="precomputed",
    C=1 / (alpha * N))`` on the multi-task Gram matrix; with B = I and per-task
    intercepts every task is its own ``SVC(C=omega_t / (alpha * N))``.

    Parameters
    ----------
    kernel : {"rbf", "linear", "poly", "polynomial", "laplacian", "precomputed"} or callable, default="rbf"
        Input kernel k, as for :class:`MultiTaskKernelRidge` (same forms of
        precomputed kernel values).
    gamma : float, default=None
        Positive scale of the rbf, polynomial and laplacian kernels; 1 / n_features when None.
    degree : int, default=3
        Degree of the polynomial kernel, >= 1.
    coef0 : float, default=1.0
        Constant of the polynomial kernel.
    task_kernel : array-like of shape (T, T), default=None
        The task kernel B, symmetric positive semidefinite; B = I when neither
        this nor ``coupling`` is given.
    coupling : {"mean_regularized", "identity", "chain"} or array-like of shape (T, T), default=None
        A positive definite coupling K; then B = K^{-1}. Not both.
    alpha : float, default=1.0
        Regularisation strength, > 0: the box bound is C_i = omega_t / (alpha N).
    task_weights : {"uniform", "balanced"} or array-like of shape (T,), default="uniform"
        :math:`\omega_t`, as in :class:`KernelCoupledRegressor`.
    fit_intercept : {"per_task", "shared"} or bool, default="per_task"
        "per_task" (or True): an intercept b_t per task; "shared": one
        intercept for every task; False: none (f_t has no constant term).
    tol : float, default=1e-3
        Stop when the largest violation of the KKT conditions is at most tol:
        max over the equality groups of m_g - M_g (see Notes), or without
        intercept the largest projected gradient of the dual. scikit-learn's
        ``SVC(tol=...)`` has the same meaning.
    max_iter : int, default=None
        Maximum number of working-set updates; None means max(10^7, 100 N)
        (LIBSVM's cap). A ``ConvergenceWarning`` is issued when it is reached.
    cache_size : float, default=200
        Size in MB of the cache of rows of Q (kept as float32).
    shrinking : bool, default=True
        Leave variables that sit at a bound and cannot take part in a
        violating pair out of the iterations (checked again at the end).
    n_jobs : int, default=None
        Threads for recomputing gradients after shrinking and for predictions;
        the coordinate-descent steps themselves are sequential.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The two labels, shared by every task; ``classes_[1]`` is the positive class.
    dual_coef_ : ndarray of shape (N,) or (n_samples, T)
        The signed dual coefficients :math:`y_i a_i`, shaped like y at fit (as
        for :class:`MultiTaskKernelRidge`): (N,) for lists (tasks concatenated)
        and the long format (row order), (n_samples, T) for a shared design.
    support_ : ndarray of shape (n_SV,)
        Indices of the samples with :math:`a_i > 0`: into the rows (long
        format), into the tasks concatenated (lists), or into the columns of
        y stacked (shared design: sample (i, t) is ``t * n_samples + i``).
    intercept_ : ndarray of shape (T,)
        The intercepts :math:`b_t` (zeros when ``fit_intercept=False``; all
        equal for "shared").
    task_kernel_ : ndarray of shape (T, T)
        The task kernel B used.
    tasks_ : ndarray of shape (T,)
        Task labels: the sorted labels of the long format, 0..T-1 for lists
        and a shared design.
    X_fit_ : ndarray of shape (n_inputs, n_features) or None
        Training inputs the decision function expands over (None when precomputed).
    n_iter_ : int
        Working-set updates done.
    kkt_residual_ : float
        Final KKT violation :math:`\max_g (m_g - M_g)` (compare with ``tol``;
        see Notes). Formerly ``residual_``, a deprecated alias.
    solver_ : str
        "dual_cd", the dual coordinate (pair) descent that ran.
    n_features_in_ : int
        Number of input features d seen in ``fit`` (for precomputed kernels:
        the number of training inputs).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen in ``fit``; set only when X has string
        column names: a pandas DataFrame (long format, shared design) or a
        list of DataFrames with the same columns.

    Notes
    -----
    With :math:`G = Qa - 1` and :math:`v_i = -y_i G_i`, the dual optimum has
    :math:`m_g = \max_{I_{up}} v \le M_g = \min_{I_{low}} v` in every equality
    group g (a task, or all samples), :math:`I_{up} = \{a_i < C_i, y_i = 1\}
    \cup \{a_i > 0, y_i = -1\}` and :math:`I_{low}` the reverse. Each step
    changes a pair of one group: i the maximal violator, j by the second-order
    rule of Fan, Chen & Lin (2005). Rows of Q are computed on demand over the
    active (unshrunk) variables and kept in an LRU cache of ``cache_size`` MB.
    The intercept of a group is the mean of :math:`v_i` over its free
    variables (:math:`0 < a_i < C_i`), else :math:`(m_g + M_g) / 2`.
    """

    _parameter_constraints: dict = {
        **{
            name: MultiTaskKernelRidge._parameter_constraints[name]
            for name in ("kernel", "gamma", "degree", "coef0", "task_kernel", "coupling", "alpha", "task_weights",
                         "n_jobs")
        },
        "fit_intercept": [StrOptions(set(INTERCEPTS)), "boolean"],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, MAX_C_INT, closed="both"), None],
        "cache_size": [Interval(Real, 0, None, closed="neither")],
        "shrinking": ["boolean"],
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
        fit_intercept: str | bool = "per_task",
        tol: float = 1e-3,
        max_iter: int | None = None,
        cache_size: float = 200.0,
        shrinking: bool = True,
        n_jobs: int | None = None,
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
        self.tol = tol
        self.max_iter = max_iter
        self.cache_size = cache_size
        self.shrinking = shrinking
        self.n_jobs = n_jobs

    # The model is a kernel expansion like MultiTaskKernelRidge's with dual
    # coefficients c_i = y_i a_i (KernelExpansionMixin); the dual is solved in float64.
    _solves_in_float64 = True
    score = KernelCoupledClassifier.score

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None, tasks: Any = None) -> "MultiTaskSVC":
        """Solve the dual problem for the dual coefficients and intercepts.

        Parameters
        ----------
        X : list of array-like (n_t, d), or array-like of shape (n_samples, d)
            Per-task inputs, stacked rows (with ``tasks``) or inputs shared by
            every task (with a 2-D ``y``); kernel values for ``kernel="precomputed"``.
        y : list of array-like (n_t,), or array-like of shape (n_samples,) or (n_samples, T)
            Labels: the same two classes in every task (any dtype), both present in each.
        tasks : array-like of shape (n_samples,), default=None
            Task label of every row (long format).

        Returns
        -------
        self : MultiTaskSVC
            The fitted estimator.
        """
        problem = self._dual_problem(X, y, tasks, labels=True)
        classes, signed = encode_labels(problem.blocks, np.float64)
        y_signed = np.concatenate(signed)
        n_samples = int(problem.offsets[-1])
        result = core.fit_svc(
            **self._core_arguments(problem, np.float64),
            y=y_signed,
            upper=1.0 / (float(self.alpha) * problem.unit_ridge),  # C_t = omega_t / (alpha N)
            intercept=self._intercept_mode(),
            tol=float(self.tol),
            max_iter=_default_max_iter(n_samples) if self.max_iter is None else int(self.max_iter),
            cache_bytes=float(self.cache_size) * 2**20,
            shrinking=bool(self.shrinking),
            n_threads=effective_n_threads(self.n_jobs),
        )
        blocks, order = problem.blocks, problem.order
        dual = result["dual"]  # the dual variables a_i (not the regularisation strength alpha)
        support_sorted = np.flatnonzero(dual > 0)
        violation = float(result["residual"])
        outcome = SolverOutcome(str(result["solver"]), int(result["n_iter"]), bool(result["converged"]),
                                "KKT violation", violation, float(self.tol))
        attributes = {
            **self._expansion_attributes(y_signed * dual, result["intercept"], problem),  # c_i = y_i a_i
            "classes_": classes,
            "kkt_residual_": violation,
            "support_": support_sorted if blocks.form != "long" else np.sort(order[support_sorted]),
        }
        store_fit(self, outcome, attributes, advice="increase max_iter or tol")
        return self

    def _intercept_mode(self) -> str:
        if self.fit_intercept is False:
            return "none"
        return "per_task" if self.fit_intercept is True else str(self.fit_intercept)

    def decision_function(self, X: Any, tasks: Any = None) -> Any:
        """Decision values f_t(x); positive means ``classes_[1]``.

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
            In the form of the input.
        """
        return self._expansion_values(X, tasks)

    def predict(self, X: Any, tasks: Any = None) -> Any:
        """Predict class labels with each task's decision function.

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
            Labels from ``classes_``, in the form of the input.
        """
        scores = self.decision_function(X, tasks)
        if isinstance(scores, list):
            return [self.classes_[(s > 0).astype(int)] for s in scores]
        return self.classes_[(scores > 0).astype(int)]

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.classifier_tags.multi_class = False
        tags.input_tags.pairwise = self.kernel == "precomputed"
        tags.input_tags.sparse = self._accepts_sparse()
        return tags
