"""Estimators that learn the task relationships with the models: task covariance (MTRL) and clustered tasks (CMTL).

Both minimise a jointly convex objective over the models (W, b) and a T x T
relation matrix by alternating exact minimisations:

* the model step is the kernel-coupled objective with the coupling that the
  current relation induces (solved by the core, warm-started from the previous
  models);
* the relation step is closed form (:mod:`multitask._relation_steps`).

Every step minimises the same objective over its block, so the objective never
increases; ``objective_history_`` records it after every model step.
"""

from __future__ import annotations

import sys
import time
import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions

from . import _relation_steps as steps
from ._classifier import LOSSES as CLASSIFIER_LOSSES
from ._classifier import SOLVERS as CLASSIFIER_SOLVERS
from ._classifier import KernelCoupledClassifier, encode_labels
from ._fit_result import SolverOutcome, atomic_fit, caller_stacklevel, solver_tol, store_fit
from ._input import to_task_blocks
from ._regressor import LOSSES as REGRESSOR_LOSSES
from ._regressor import SOLVERS as REGRESSOR_SOLVERS
from ._regressor import KernelCoupledRegressor
from ._base import MAX_C_INT
from ._task_weights import per_sample_weights

__all__ = ["TaskRelationClassifier", "TaskRelationRegressor"]

RELATIONS = ("covariance", "clusters")
INNER_TOL_FACTOR = 1e-2
"""The model steps are solved to ``INNER_TOL_FACTOR * tol`` (relative KKT residual), so that the
inexactness of a step is far below the objective decrease the outer loop stops on."""

MAX_EXTRAPOLATION = 64.0
EXTRAPOLATION_GROWTH = 1.5
"""The factor gamma of the extrapolated step starts at 1, grows by this factor after every accepted step (up to
MAX_EXTRAPOLATION) and halves (not below 1) after a rejected one: chosen on School and synthetic problems, where it
cut the outer iterations to tol=1e-9 by 2-4 times against resetting gamma to 1."""

_RELATION_PARAMETERS = {
    "relation": [StrOptions(set(RELATIONS))],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "beta": [Interval(Real, 0, None, closed="left")],
    "eps": [Interval(Real, 0, None, closed="neither")],
    "n_clusters": [Interval(Integral, 1, None, closed="left")],
    "task_weights": [StrOptions({"uniform", "balanced"}), "array-like"],
    "fit_intercept": ["boolean"],
    "tol": [Interval(Real, 0, None, closed="neither")],
    "max_iter": [Interval(Integral, 1, MAX_C_INT, closed="both")],
    "solver_max_iter": [Interval(Integral, 1, MAX_C_INT, closed="both")],
    "n_jobs": [Integral, None],
    "warm_start": ["boolean"],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    "unseen_tasks": [StrOptions({"error", "mean"})],
}


class _RelationLearning:
    """The alternating minimisation shared by :class:`TaskRelationRegressor` and :class:`TaskRelationClassifier`.

    The subclasses are kernel-coupled estimators whose coupling is learned: they
    reuse their parent's core call (``_solve``), predictions and scores.
    """

    # Read by the inherited solver checks: the learned-relation models have no structure penalty.
    l1 = 0.0
    l21 = 0.0
    trace_norm = 0.0

    def _check_relation_parameters(self, n_tasks: int) -> None:
        if self.relation == "clusters":
            if self.alpha <= 0 or self.beta <= 0:
                raise ValueError(
                    f"relation='clusters' needs alpha > 0 and beta > 0 (eta = beta / alpha weighs the within-cluster "
                    f"variance against the task variance), got alpha={self.alpha!r}, beta={self.beta!r}"
                )
            if self.n_clusters > n_tasks:
                raise ValueError(f"n_clusters={self.n_clusters} exceeds the number of tasks, {n_tasks}")
        elif self.alpha == 0 and self.beta == 0:
            raise ValueError("relation='covariance' needs alpha > 0 or beta > 0: with neither the models are "
                             "unregularised")

    def _start(self, n_tasks: int, n_features: int, dtype: Any) -> tuple[Any, Any, steps.Relation]:
        """The warm-start models and relation (the previous fit's when ``warm_start`` and the shapes agree)."""
        parameters = dict(alpha=float(self.alpha), beta=float(self.beta), eps=float(self.eps))
        if self.warm_start and hasattr(self, "coef_") and self.coef_.shape == (n_tasks, n_features) \
                and getattr(self, "_relation_kind", None) == self.relation:
            coef = np.ascontiguousarray(self.coef_, dtype=dtype)
            intercept = np.ascontiguousarray(self.intercept_, dtype=dtype)
            return coef, intercept, steps.relation_from_matrix(self.relation, self._relation_matrix, **parameters)
        return None, None, steps.initial_relation(self.relation, n_tasks, n_clusters=int(self.n_clusters),
                                                  **parameters)

    def _relation_step(self, coef: np.ndarray) -> steps.Relation:
        if self.relation == "covariance":
            return steps.covariance_step(coef, alpha=float(self.alpha), beta=float(self.beta), eps=float(self.eps))
        return steps.cluster_step(coef, alpha=float(self.alpha), beta=float(self.beta),
                                  n_clusters=int(self.n_clusters))

    def _learn_relations(self, blocks: Any, targets: list, extra: dict) -> None:
        """Alternate model steps and relation steps until the objective stops decreasing; store the fit."""
        n_tasks, dtype = blocks.n_tasks, blocks.X[0].dtype
        self._check_relation_parameters(n_tasks)
        sample_weight = per_sample_weights(self.task_weights, [block.shape[0] for block in blocks.X])
        coef, intercept, relation = self._start(n_tasks, blocks.X[0].shape[1], dtype)
        solver = self.solver
        inner_tol = solver_tol(INNER_TOL_FACTOR * self.tol, dtype)
        history: list[float] = []
        inner_iterations, converged, started = 0, False, time.perf_counter()
        previous_coef, extrapolation = None, 1.0

        def model_step(step_relation: steps.Relation, warm_coef: Any, warm_intercept: Any) -> tuple[dict, float]:
            nonlocal inner_iterations
            result = self._solve(blocks, targets, step_relation.coupling, sample_weight, alpha=1.0, solver=solver,
                                 tol=inner_tol, max_iter=int(self.solver_max_iter), warm_coef=warm_coef,
                                 warm_intercept=warm_intercept)
            inner_iterations += int(result["n_iter"])
            # The core's objective is the data term + 1/2 tr(W K W^T); the relation adds its constant part.
            return result, float(result["objective_history"][-1]) + step_relation.penalty_constant

        result, objective = model_step(relation, coef, intercept)
        for iteration in range(1, int(self.max_iter) + 1):
            history.append(objective)
            decrease = (history[-2] - history[-1]) / max(abs(history[-1]), np.finfo(float).tiny) \
                if len(history) > 1 else np.inf
            self._report(iteration, history[-1], decrease, started)
            if decrease <= self.tol:
                converged = True
                break
            if iteration == self.max_iter:
                break
            coef, intercept = result["coef"], result["intercept"]
            next_relation = self._relation_step(coef)
            # F(W_k, R_{k+1}) = F(W_k, R_k) - penalty(W_k, R_k) + penalty(W_k, R_{k+1}): the data term is unchanged.
            bound = objective - steps.penalty(coef, relation) + steps.penalty(coef, next_relation)
            accepted = False
            if previous_coef is not None:
                # Extrapolated step (safeguarded): the relation of W_k + gamma (W_k - W_{k-1}). Kept only when the
                # model step with it ends below F(W_k, R_{k+1}), so the objective still never increases.
                trial_coef = coef + extrapolation * (coef - previous_coef)
                trial_relation = self._relation_step(trial_coef)
                trial, trial_objective = model_step(trial_relation, coef, intercept)
                accepted = trial_objective <= bound
                if accepted:
                    result, objective, relation = trial, trial_objective, trial_relation
                    extrapolation = min(EXTRAPOLATION_GROWTH * extrapolation, MAX_EXTRAPOLATION)
                else:
                    extrapolation = max(1.0, 0.5 * extrapolation)
            if not accepted:
                result, objective = model_step(next_relation, coef, intercept)
                relation = next_relation
            previous_coef = coef
        self._store_relations(result, blocks, relation, history, decrease, converged, inner_iterations, extra)
        if not bool(result["converged"]):
            warnings.warn(
                f"{type(self).__name__}: the last model step (solver '{result['solver']}') stopped after "
                f"{int(result['n_iter'])} iterations short of its tolerance {inner_tol:.1e}; increase "
                "solver_max_iter",
                ConvergenceWarning,
                stacklevel=caller_stacklevel(),
            )

    def _report(self, iteration: int, objective: float, decrease: float, started: float) -> None:
        if self.verbose:
            print(f"[{type(self).__name__}] outer iteration {iteration}: objective {objective:.10g}, relative "
                  f"decrease {decrease:.2e}, {time.perf_counter() - started:.2f} s", file=sys.stderr, flush=True)

    def _store_relations(self, result: dict, blocks: Any, relation: steps.Relation, history: list,
                         decrease: float, converged: bool, inner_iterations: int, extra: dict) -> None:
        outcome = SolverOutcome("alternating minimisation", len(history), converged,
                                "relative objective decrease", float(decrease), float(self.tol))
        matrix = relation.matrix
        if self.relation == "covariance":
            relation_attributes = {"task_covariance_": matrix, "task_correlation_": steps.correlation(matrix)}
        else:
            eta = self.beta / self.alpha
            relation_attributes = {
                "cluster_matrix_": matrix,
                # The prior covariance of the tasks is proportional to eta I + M.
                "task_correlation_": steps.correlation(eta * np.eye(matrix.shape[0]) + matrix),
                "clusters_": steps.spectral_clusters(relation, int(self.n_clusters), self.random_state),
            }
        history_array = np.asarray(history)
        attributes = {
            "coef_": result["coef"],
            "intercept_": result["intercept"],
            "tasks_": blocks.labels,
            "coupling_": relation.coupling,
            "objective_history_": history_array,
            "objective_": float(history_array[-1]),
            "kkt_residual_": float(result["residual"]),
            "dual_gap_": float("nan"),
            "n_solver_iter_": inner_iterations,
            "_input_form": blocks.form,
            "_relation_kind": self.relation,
            "_relation_matrix": matrix,
            **relation_attributes,
            **extra,
        }
        store_fit(self, outcome, attributes, advice="increase max_iter or tol")
        self.solver_ = str(result["solver"])


_PARAMETERS_DOC = r"""relation : {"covariance", "clusters"}, default="covariance"
        What is learned: "covariance", a task covariance Omega (MTRL);
        "clusters", a relaxed cluster structure M (CMTL).
    alpha : float, default=1.0
        "covariance": :math:`\lambda_1 \ge 0`, the ridge weight. "clusters":
        :math:`\rho_1 > 0`, the weight of the clustering penalty.
    beta : float, default=1.0
        "covariance": :math:`\lambda_2 \ge 0`, the weight of the relation
        penalty. "clusters": :math:`\rho_2 > 0`; :math:`\eta = \rho_2 / \rho_1`
        weighs the tasks' own variance against the between-cluster variance.
    eps : float, default=1e-4
        "covariance": :math:`\epsilon > 0` of the covariance step, in the units
        of the squared coefficients: it keeps Omega invertible when W^T W is
        singular (more tasks than features). Ignored by "clusters".
    n_clusters : int, default=2
        "clusters": k, the trace of M, between 1 and T. Ignored by "covariance".
    task_weights : {"uniform", "balanced"} or array-like of shape (T,), default="uniform"
        :math:`\omega_t`, as for the kernel-coupled estimators.
    fit_intercept : bool, default=True
        Fit an unpenalised intercept per task."""

_COMMON_TAIL_DOC = r"""tol : float, default=1e-6
        The alternation stops when one outer iteration decreases the objective
        by at most ``tol`` relative to its value. Each model step is solved to
        a relative KKT residual of ``tol / 100``.
    max_iter : int, default=500
        Maximum number of outer iterations (model steps).
    solver_max_iter : int, default=1000
        Maximum number of iterations of each model step.
    n_jobs : int, default=None
        Threads of the C++ core (None: 1 unless a joblib context says otherwise, -1: every core).
    warm_start : bool, default=False
        Start from the previous fit's models and relation matrix when the shapes and ``relation`` agree.
    random_state : int, RandomState instance or None, default=None
        Seeds the k-means that reads ``clusters_`` off M ("clusters").
    verbose : int, default=0
        Print the objective after every outer iteration (to stderr).
    unseen_tasks : {"error", "mean"}, default="error"
        Predictions for long-format rows of tasks not seen in ``fit``: "error"
        raises ValueError, "mean" uses the mean of the learned models (a new
        task's relation to the others is unknown without descriptors, and the
        task covariance's prior mean is zero)."""

_ATTRIBUTES_DOC = r"""coef_ : ndarray of shape (T, n_features)
        Row t is the model :math:`w_t` of task t.
    intercept_ : ndarray of shape (T,)
        The intercepts :math:`b_t`.
    tasks_ : ndarray of shape (T,)
        Task labels.
    coupling_ : ndarray of shape (T, T)
        The coupling K of the last model step, with alpha = 1:
        :math:`\lambda_1 I + \lambda_2 \Omega^{-1}` or
        :math:`2 \rho_1 \eta (1 + \eta) (\eta I + M)^{-1}`. The kernel-coupled
        estimator with ``coupling=coupling_, alpha=1`` refits ``coef_``.
    task_covariance_ : ndarray of shape (T, T)
        "covariance": the learned Omega (trace 1).
    cluster_matrix_ : ndarray of shape (T, T)
        "clusters": the learned M (trace k, eigenvalues in [0, 1]).
    clusters_ : ndarray of shape (T,)
        "clusters": the cluster of every task, 0..k-1 numbered in order of
        first appearance: k-means on the rows of M's k leading eigenvectors.
    task_correlation_ : ndarray of shape (T, T)
        The learned task correlation: Omega's ("covariance"), or that of the
        tasks' prior covariance :math:`\eta I + M` ("clusters").
    objective_history_ : ndarray of shape (n_iter_,)
        The objective after every model step; it never increases.
    objective_ : float
        The last entry of ``objective_history_``.
    n_iter_ : int
        Outer iterations run (model steps).
    n_solver_iter_ : int
        Iterations of the model steps, summed.
    solver_ : str
        The solver of the last model step.
    kkt_residual_ : float
        Relative KKT residual of the last model step.
    dual_gap_ : float
        NaN (kept for the kernel-coupled estimators' interface).
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen in ``fit`` (string column names only)."""

_OBJECTIVE_DOC = r"""With the data term :math:`D(W, b) = \frac{1}{N} \sum_t \omega_t \sum_{i \in t} \ell(y_{ti}, \langle w_t,
    x_{ti}\rangle + b_t)` of the kernel-coupled estimators and :math:`W = [w_1 \dots w_T]` (d, T):

    * ``relation="covariance"`` (multi-task relationship learning, MTRL, Zhang &
      Yeung 2010) minimises over W, b and the task covariance
      :math:`\Omega \succeq 0, \operatorname{tr}\Omega = 1`

      .. math::

          D(W, b) + \frac{\lambda_1}{2} \operatorname{tr}(W W^\top)
          + \frac{\lambda_2}{2} \operatorname{tr}(\Omega^{-1} (W^\top W + \epsilon I));

    * ``relation="clusters"`` (clustered multi-task learning, CMTL, the convex
      relaxation of Jacob, Bach & Vert 2008) minimises over W, b and
      :math:`M` with :math:`\operatorname{tr} M = k, 0 \preceq M \preceq I`

      .. math::

          D(W, b) + \rho_1 \eta (1 + \eta) \operatorname{tr}(W (\eta I + M)^{-1} W^\top),
          \quad \eta = \rho_2 / \rho_1.

    Both are jointly convex. They are minimised by alternating the model step (the
    kernel-coupled objective with K from the relation, warm-started) and the
    closed-form relation step: :math:`\Omega = (W^\top W + \epsilon I)^{1/2} /
    \operatorname{tr}(\cdot)`; :math:`M = U \operatorname{diag}(g) U^\top` with
    :math:`W^\top W = U \operatorname{diag}(s) U^\top` and
    :math:`g_i = \min(1, \max(0, \theta \sqrt{s_i} - \eta))`, θ computed exactly so
    that :math:`\sum_i g_i = k`. The first model step uses :math:`\Omega = I / T`
    or :math:`M = (k / T) I`."""


class TaskRelationRegressor(_RelationLearning, KernelCoupledRegressor):
    __doc__ = rf"""Multi-task regression that learns how the tasks are related: a task covariance or clusters.

    {_OBJECTIVE_DOC}

    Parameters
    ----------
    {_PARAMETERS_DOC}
    loss : {{"squared", "huber"}}, default="squared"
        Pointwise loss of the residual, as for :class:`KernelCoupledRegressor`.
    epsilon : float, default=1.35
        Huber's threshold (``loss="huber"``).
    solver : {{"auto", "exact", "cg", "task_bcd", "block_newton", "feature_bcd", "newton", "gradient"}}, default="auto"
        The solver of the model steps, as for :class:`KernelCoupledRegressor`;
        ``solver_`` reports the one that ran last.
    {_COMMON_TAIL_DOC}

    Attributes
    ----------
    {_ATTRIBUTES_DOC}

    See Also
    --------
    KernelCoupledRegressor : The same models with a given coupling.

    Notes
    -----
    MALSAR's ``Least_CMTL`` minimises :math:`\sum_t \tfrac12 \|X_t w_t - y_t\|^2
    + \rho_1 \eta (1 + \eta) \operatorname{{tr}}(W (\eta I + M)^{{-1}} W^\top)`
    without intercepts: N times this objective with ``relation="clusters"``,
    ``alpha=rho1 / N``, ``beta=rho2 / N``, ``n_clusters=k``,
    ``fit_intercept=False`` and uniform task weights.

    Examples
    --------
    >>> import numpy as np, multitask as mt
    >>> rng = np.random.default_rng(0)
    >>> centres = rng.normal(size=(2, 4))
    >>> Xs = [rng.normal(size=(40, 4)) for _ in range(6)]
    >>> ys = [X @ centres[t % 2] + 0.1 * rng.normal(size=40) for t, X in enumerate(Xs)]
    >>> model = mt.TaskRelationRegressor("clusters", alpha=1e-3, beta=1e-3, random_state=0).fit(Xs, ys)
    >>> model.clusters_
    array([0, 1, 0, 1, 0, 1])
    """

    _parameter_constraints: dict = {
        **_RELATION_PARAMETERS,
        "loss": [StrOptions(set(REGRESSOR_LOSSES))],
        "solver": [StrOptions(set(REGRESSOR_SOLVERS))],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        relation: str = "covariance",
        *,
        alpha: float = 1.0,
        beta: float = 1.0,
        eps: float = 1e-4,
        n_clusters: int = 2,
        task_weights: Any = "uniform",
        fit_intercept: bool = True,
        loss: str = "squared",
        epsilon: float = 1.35,
        solver: str = "auto",
        tol: float = 1e-6,
        max_iter: int = 500,
        solver_max_iter: int = 1000,
        n_jobs: int | None = None,
        warm_start: bool = False,
        random_state: Any = None,
        verbose: int = 0,
        unseen_tasks: str = "error",
    ) -> None:
        self.relation = relation
        self.alpha = alpha
        self.beta = beta
        self.eps = eps
        self.n_clusters = n_clusters
        self.task_weights = task_weights
        self.fit_intercept = fit_intercept
        self.loss = loss
        self.epsilon = epsilon
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.solver_max_iter = solver_max_iter
        self.n_jobs = n_jobs
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.unseen_tasks = unseen_tasks

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None, tasks: Any = None) -> "TaskRelationRegressor":
        """Fit the task models and their relation.

        Parameters
        ----------
        X : list of array-like or sparse (n_t, d), or array-like or sparse of shape (n_samples, d)
            Per-task matrices, stacked rows (with ``tasks``), or one design
            shared by every task (with a 2-D ``y``).
        y : list of array-like (n_t,), or array-like of shape (n_samples,) or (n_samples, T)
            Targets in the form matching ``X``.
        tasks : array-like of shape (n_samples,), default=None
            Task label of every row (long format); routed as metadata.

        Returns
        -------
        self : TaskRelationRegressor
            The fitted estimator.
        """
        self._validate_feature_names(X, tasks)
        blocks = to_task_blocks(X, y, tasks, accept_sparse=True)
        self.n_features_in_ = blocks.X[0].shape[1]
        self._learn_relations(blocks, blocks.y, {})
        return self


class TaskRelationClassifier(_RelationLearning, KernelCoupledClassifier):
    __doc__ = rf"""Multi-task binary classification that learns how the tasks are related: a task covariance or clusters.

    {_OBJECTIVE_DOC}

    Parameters
    ----------
    {_PARAMETERS_DOC}
    loss : {{"logistic", "squared_hinge"}}, default="logistic"
        Pointwise loss of the margin, as for :class:`KernelCoupledClassifier`.
    solver : {{"auto", "block_newton", "newton", "gradient"}}, default="auto"
        The solver of the model steps, as for :class:`KernelCoupledClassifier`;
        ``solver_`` reports the one that ran last.
    {_COMMON_TAIL_DOC}

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The two classes; ``classes_[1]`` is the positive one.
    {_ATTRIBUTES_DOC}

    See Also
    --------
    KernelCoupledClassifier : The same models with a given coupling.

    Examples
    --------
    >>> import numpy as np, multitask as mt
    >>> rng = np.random.default_rng(0)
    >>> Xs = [rng.normal(size=(60, 3)) for _ in range(4)]
    >>> ys = [np.where(X @ [1.0, -1.0, 0.5] > 0, "yes", "no") for X in Xs]
    >>> model = mt.TaskRelationClassifier(alpha=1e-2, beta=1e-2).fit(Xs, ys)
    >>> model.task_correlation_.shape
    (4, 4)
    """

    _parameter_constraints: dict = {
        **_RELATION_PARAMETERS,
        "loss": [StrOptions(set(CLASSIFIER_LOSSES))],
        "solver": [StrOptions(set(CLASSIFIER_SOLVERS))],
    }

    def __init__(
        self,
        relation: str = "covariance",
        *,
        alpha: float = 1.0,
        beta: float = 1.0,
        eps: float = 1e-4,
        n_clusters: int = 2,
        task_weights: Any = "uniform",
        fit_intercept: bool = True,
        loss: str = "logistic",
        solver: str = "auto",
        tol: float = 1e-6,
        max_iter: int = 500,
        solver_max_iter: int = 1000,
        n_jobs: int | None = None,
        warm_start: bool = False,
        random_state: Any = None,
        verbose: int = 0,
        unseen_tasks: str = "error",
    ) -> None:
        self.relation = relation
        self.alpha = alpha
        self.beta = beta
        self.eps = eps
        self.n_clusters = n_clusters
        self.task_weights = task_weights
        self.fit_intercept = fit_intercept
        self.loss = loss
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.solver_max_iter = solver_max_iter
        self.n_jobs = n_jobs
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.unseen_tasks = unseen_tasks

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None, tasks: Any = None) -> "TaskRelationClassifier":
        """Fit the task classifiers and their relation.

        Parameters
        ----------
        X : list of array-like or sparse (n_t, d), or array-like or sparse of shape (n_samples, d)
            Per-task matrices, stacked rows (with ``tasks``), or one design
            shared by every task (with a 2-D ``y``).
        y : list of array-like (n_t,), or array-like of shape (n_samples,) or (n_samples, T)
            Labels: the same two classes in every task.
        tasks : array-like of shape (n_samples,), default=None
            Task label of every row (long format); routed as metadata.

        Returns
        -------
        self : TaskRelationClassifier
            The fitted estimator.
        """
        self._validate_feature_names(X, tasks)
        blocks = to_task_blocks(X, y, tasks, accept_sparse=True, labels=True)
        self.n_features_in_ = blocks.X[0].shape[1]
        classes, signed = encode_labels(blocks, blocks.X[0].dtype)
        self._learn_relations(blocks, signed, {"classes_": classes})
        return self
