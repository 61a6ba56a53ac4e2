"""SharedSubspaceRegressor: task models in a shared low-rank subspace, W = U A."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import RegressorMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import MAX_C_INT, KernelCoupledLinearModel
from ._cv_guard import refuse_split_task_list
from ._fit_result import SolverOutcome, atomic_fit, store_fit
from ._input import (
    as_task_list,
    check_design,
    common_float_dtype,
    is_list_form,
    reject_malformed_task_list,
    to_task_blocks,
)
from ._regressor import KernelCoupledRegressor
from ._subspace_solver import fit_subspace
from ._task_weights import per_sample_weights
from .coupling import BUILDER_NAMES, resolve_coupling

__all__ = ["SharedSubspaceRegressor"]

# A coupling whose smallest eigenvalue is at most this times its largest counts as singular (no minimiser).
SINGULAR_COUPLING_TOL = 1e-10


class SharedSubspaceRegressor(RegressorMixin, TransformerMixin, KernelCoupledLinearModel):
    r"""Multi-task linear regression in a shared low-rank representation, w_t = U a_t.

    Every task's model lies in the span of the r columns of a shared matrix
    U (d, r) (``r = n_components``): :math:`w_t = U a_t` with a head
    :math:`a_t \in \mathbb{R}^r` per task, and the heads
    :math:`A = [a_1 \dots a_T]` (r, T) are tied by the coupling K. The
    estimator minimises

    .. math::

        F(U, A, b) = \frac{1}{N} \sum_t \omega_t \sum_{i \in t}
                     \tfrac12 (y_{ti} - \langle U a_t, x_{ti}\rangle - b_t)^2
                     + \frac{\alpha}{2} \operatorname{tr}(A K A^\top)
                     + \frac{\alpha_U}{2} \|U\|_F^2

    with N the total number of samples, task weights :math:`\omega_t` and
    unpenalised intercepts :math:`b_t`. Without the last term the rescaling
    ``U c, A / c`` (c growing) would shrink the penalty on A for free and F
    would have no minimiser; with it, the factors are balanced at every
    stationary point, :math:`\alpha_U U^\top U = \alpha A K A^\top`. Since

    .. math::

        \min_{UA = W} \frac{\alpha}{2}\|A\|_F^2 + \frac{\alpha_U}{2}\|U\|_F^2
        = \sqrt{\alpha \alpha_U}\, \|W\|_*  \quad (r \ge \operatorname{rank} W),

    for ``coupling="identity"`` and ``n_components >= min(n_features, n_tasks)``
    the global minimum of F is that of the convex trace-norm problem
    (``KernelCoupledRegressor(coupling="identity", alpha=0,
    trace_norm=sqrt(alpha * alpha_u))``); a smaller ``n_components`` also
    bounds the rank, and for a positive definite K the penalty on W is
    :math:`\sqrt{\alpha\alpha_U}\|W K^{1/2}\|_*`.

    **Algorithm.** In the C++ core, on the Gram statistics: the data are read
    once, to form every task's :math:`G_t = s_t \tilde X_t^\top \tilde X_t`,
    :math:`c_t = s_t \tilde X_t^\top \tilde y_t` (:math:`s_t = \omega_t/N`,
    data centred per task when intercepts are fitted); every iteration after
    that costs :math:`O(T d^2 r)` whatever the number of samples. For a fixed U
    the heads are the solution of a linear system (per task r x r for a
    diagonal K, conjugate gradient otherwise), so the solver works on
    :math:`f(U) = \min_A F(U, A)`, whose gradient is
    :math:`\sum_t (G_t U a_t - c_t) a_t^\top + \alpha_U U`.

    1. If :math:`\|C K^{-1/2}\|_2 \le \sqrt{\alpha \alpha_U}` (C = [c_1 ... c_T])
       W = 0 is the global minimum (the penalties amount to the convex
       :math:`\sqrt{\alpha\alpha_U}\|W K^{1/2}\|_*`, whose subdifferential at 0
       then holds the data term's gradient) and is returned without iterating
       (``n_iter_ = 1``: the certificate).
    2. Otherwise U starts from the independent ridge solutions
       :math:`W_0 = P \Sigma Q^\top` (:math:`(G_t + \alpha I) w_t = c_t`) as the
       balanced factor :math:`U_0 = (\alpha/\alpha_U)^{1/4} P_r \Sigma_r^{1/2}`
       of its top r singular directions (or from ``components_`` with
       ``warm_start``).
    3. Five alternating sweeps: the exact minimiser over U with the heads
       fixed (the normal equations
       :math:`\sum_t G_t U a_t a_t^\top + \alpha_U U = C A^\top`, by Cholesky
       when d r <= 1500, by conjugate gradient otherwise), then the exact heads.
    4. Trust-region Newton iterations on f: steps from truncated conjugate
       gradient (Steihaug) on exact Hessian-vector products, accepted only when
       they decrease F. Alternation alone converges linearly, and on School at
       small ``alpha`` it needs hundreds to thousands of sweeps; the Newton
       iterations converge quadratically near a minimiser.

    No iteration increases F beyond its round-off (near the solution, where a
    decrease can no longer be resolved, a step is accepted when it lowers the
    gradient), so ``objective_history_`` is non-increasing. The
    iterations stop when the relative gradient
    :math:`\|\nabla_U F\|_F / (\alpha_U \|U\|_F)` is at most ``tol`` (the
    heads are exact at every iterate; at a stationary point the data part of
    the gradient balances the penalty part :math:`\alpha_U U`). F is not
    jointly convex: the result is a stationary point, reached from the
    deterministic start above.

    Parameters
    ----------
    n_components : int, default=2
        Dimension r of the shared representation, 1 <= r <= n_features (a
        ``ValueError`` at ``fit`` otherwise). The rank of W is at most
        min(n_features, n_tasks), so a larger r adds nothing: components
        beyond the rank of the ridge initialisation start at zero and, for a
        positive definite K, stay at zero (zero rows of ``components_``).
        A single-task fit (1-D y) therefore has one non-zero component.
    coupling : {"identity", "mean_regularized", "chain"} or array-like of shape (T, T), default="identity"
        The coupling K of the heads: a builder of :mod:`multitask.coupling`
        applied with its default parameters to the number of tasks, or a
        symmetric positive definite matrix (the builders' defaults are). A
        singular K (e.g. a bare graph Laplacian) is a ``ValueError``: the
        objective then has no minimiser, since ``U / c, c A`` with the rows
        of A in the null space of K lowers it without bound in c; add a
        ridge, K + mu I.
    alpha : float, default=1.0
        Strength :math:`\alpha > 0` of the penalty on the heads.
    alpha_u : float, default=None
        Strength :math:`\alpha_U > 0` of the penalty on U; None means
        ``alpha_u = alpha``.
    task_weights : {"uniform", "balanced"} or array-like of shape (T,), default="uniform"
        :math:`\omega_t`: "uniform" (1: every sample counts the same),
        "balanced" (N / (T n_t): every task counts the same) or positive values.
    fit_intercept : bool, default=True
        Fit an unpenalised intercept per task (by centring each task's data).
    tol : float, default=1e-6
        Stop when :math:`\|\nabla_U F\|_F \le` ``tol`` :math:`\alpha_U \|U\|_F`.
    max_iter : int, default=100
        Maximum number of iterations (alternating sweeps plus Newton
        iterations); a ``ConvergenceWarning`` is issued when they run out.
    warm_start : bool, default=False
        Start from the ``components_`` of the previous fit (same number of
        features and components) instead of the ridge start.
    verbose : int, default=0
        Print how the iterations ended when positive.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        :math:`U^\top`: row k is the k-th shared direction.
    heads_ : ndarray of shape (T, n_components)
        :math:`A^\top`: row t is the head :math:`a_t`.
    coef_ : ndarray of shape (T, n_features)
        :math:`(U A)^\top`: row t is :math:`w_t = U a_t`.
    intercept_ : ndarray of shape (T,)
        The intercepts :math:`b_t` (zeros when ``fit_intercept=False``).
    tasks_ : ndarray of shape (T,)
        Task labels (sorted labels in the long format; 0..T-1 otherwise).
    coupling_ : ndarray of shape (T, T)
        The coupling K used.
    alpha_u_ : float
        The :math:`\alpha_U` used.
    objective_history_ : ndarray of shape (n_iter_ + 1,)
        F at the initial point (U_0 with its optimal heads), then after every
        iteration (F at W = 0 twice when that is certified optimal).
    objective_ : float
        F at the returned parameters.
    n_iter_ : int
        Number of iterations run (1 when W = 0 is certified optimal; 0 for a
        warm start that already meets ``tol``).
    solver_ : str
        ``"alternating_newton"``: alternating sweeps, then trust-region Newton.
    n_features_in_ : int
        Number of features d seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen in ``fit``; set only when X has string
        column names: a pandas DataFrame (long format, shared design) or a
        list of DataFrames with the same columns.

    Examples
    --------
    >>> import numpy as np
    >>> from multitask import SharedSubspaceRegressor
    >>> rng = np.random.default_rng(0)
    >>> U = np.linalg.qr(rng.normal(size=(6, 2)))[0]
    >>> Xs = [rng.normal(size=(n, 6)) for n in (40, 50, 60)]
    >>> ys = [X @ U @ rng.normal(size=2) for X in Xs]
    >>> model = SharedSubspaceRegressor(n_components=2, alpha=1e-4).fit(Xs, ys)
    >>> model.components_.shape, model.transform(Xs)[0].shape
    ((2, 6), (40, 2))
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "coupling": [StrOptions(set(BUILDER_NAMES)), "array-like"],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "alpha_u": [Interval(Real, 0, None, closed="neither"), None],
        "task_weights": [StrOptions({"uniform", "balanced"}), "array-like"],
        "fit_intercept": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, MAX_C_INT, closed="both")],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_components: int = 2,
        *,
        coupling: Any = "identity",
        alpha: float = 1.0,
        alpha_u: float | None = None,
        task_weights: Any = "uniform",
        fit_intercept: bool = True,
        tol: float = 1e-6,
        max_iter: int = 100,
        warm_start: bool = False,
        verbose: int = 0,
    ) -> None:
        self.n_components = n_components
        self.coupling = coupling
        self.alpha = alpha
        self.alpha_u = alpha_u
        self.task_weights = task_weights
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.verbose = verbose

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None, tasks: Any = None) -> "SharedSubspaceRegressor":
        """Fit the shared representation and the task heads.

        Parameters
        ----------
        X : list of array-like (n_t, d), or array-like of shape (n_samples, d)
            Per-task matrices (lists form), stacked rows (with ``tasks``), or
            one design shared by every task (with a 2-D ``y``). Dense or scipy.sparse.
        y : list of array-like (n_t,), or array-like of shape (n_samples,) or (n_samples, T)
            Targets in the form matching ``X``.
        tasks : array-like of shape (n_samples,), default=None
            Task label of every row (long format).

        Returns
        -------
        self : SharedSubspaceRegressor
            The fitted estimator.

        Raises
        ------
        ValueError
            For invalid parameters or data, e.g. ``n_components`` larger than
            the number of features.
        """
        self._validate_feature_names(X, tasks)
        blocks = to_task_blocks(X, y, tasks, accept_sparse=True)
        n_features, n_tasks = blocks.X[0].shape[1], blocks.n_tasks
        if self.n_components > n_features:
            raise ValueError(
                f"n_components={self.n_components} must be at most n_features={n_features}, the number of "
                "features of X"
            )
        self.n_features_in_ = n_features
        coupling = resolve_coupling(self.coupling, n_tasks)
        if np.count_nonzero(coupling - np.diag(np.diag(coupling))) == 0:  # diagonal: its eigenvalues
            smallest, largest = np.min(np.diag(coupling)), np.max(np.diag(coupling))
        else:
            smallest, largest = np.linalg.eigvalsh(coupling)[[0, -1]]
        if smallest <= SINGULAR_COUPLING_TOL * largest:
            raise ValueError(
                f"coupling must be positive definite for {type(self).__name__}: its smallest eigenvalue is "
                f"{smallest:.3g} (largest {largest:.3g}); with a singular K the objective has no minimiser "
                "(U -> U / c, A -> c A with the rows of A in the null space of K lowers it for ever). Add a ridge, "
                "K + mu I"
            )
        sample_weight = per_sample_weights(self.task_weights, [block.shape[0] for block in blocks.X])
        alpha, alpha_u = float(self.alpha), float(self.alpha if self.alpha_u is None else self.alpha_u)
        previous = getattr(self, "components_", None) if self.warm_start else None
        if previous is not None and previous.shape != (self.n_components, n_features):
            previous = None  # another shape: the ridge start
        solution = fit_subspace(
            blocks, sample_weight, coupling, n_components=self.n_components, alpha=alpha, alpha_u=alpha_u,
            fit_intercept=self.fit_intercept, tol=float(self.tol), max_iter=int(self.max_iter),
            initial_components=None if previous is None else previous.T,
        )
        if self.verbose:
            print(
                f"[{type(self).__name__}] {solution.n_iter} iterations ({solution.alternating_sweeps} alternating "
                f"sweeps, {solution.hessian_products} Hessian products): objective {solution.history[-1]:.10e}, "
                f"relative gradient {solution.relative_gradient:.2e}"
                + (", W = 0 certified optimal" if solution.zero_solution else "")
            )
        U, A = solution.components, solution.heads
        outcome = SolverOutcome("alternating_newton", solution.n_iter, solution.converged,
                                "relative gradient ||grad_U F|| / (alpha_U ||U||)", solution.relative_gradient,
                                float(self.tol))
        attributes = {
            "components_": U.T.copy(),
            "heads_": A.T.copy(),
            "coef_": (U @ A).T.copy(),
            "intercept_": solution.intercept,
            "tasks_": blocks.labels,
            "coupling_": coupling,
            "alpha_u_": alpha_u,
            "objective_history_": solution.history,
            "objective_": float(solution.history[-1]),
            "_input_form": blocks.form,
        }
        store_fit(self, outcome, attributes, advice=f"increase max_iter={self.max_iter} or tol")
        return self

    def _check_design(self, X: Any, name: str) -> Any:
        return check_design(X, name, common_float_dtype([X]), accept_sparse=True)

    def predict(self, X: Any, tasks: Any = None) -> Any:
        """Predict with each task's model ``<U a_t, x> + b_t``.

        Parameters
        ----------
        X : list of array-like (n_t, d), or array-like of shape (n_samples, d)
            Per-task matrices (one per fitted task, in order), rows labelled by
            ``tasks``, or rows to predict for every task.
        tasks : array-like of shape (n_samples,), default=None
            Task label of every row; each must be one of ``tasks_``.

        Returns
        -------
        list of ndarray (n_t,), or ndarray of shape (n_samples,) or (n_samples, T)
            A list for list input; (n_samples,) with ``tasks`` or for a model
            fitted on a single 1-D target; otherwise every task's prediction.
        """
        return self._linear_predictions(X, tasks)

    def transform(self, X: Any) -> Any:
        """The shared representation ``z = U^T x`` of every row.

        Parameters
        ----------
        X : list of array-like (n_t, d), or array-like of shape (n_samples, d)
            Per-task matrices or stacked rows (the representation does not
            depend on the task).

        Returns
        -------
        list of ndarray (n_t, n_components), or ndarray of shape (n_samples, n_components)
            ``X U``, in the form of the input.
        """
        check_is_fitted(self)
        U = self.components_.T
        X = as_task_list(X)
        if is_list_form(X):
            refuse_split_task_list(self)
            representations = []
            for t, original in enumerate(X):
                block = self._check_design(original, f"X[{t}]")
                self._check_n_features(block.shape[1], f"X[{t}]")
                self._check_feature_names(original, f"X[{t}]")
                representations.append(np.asarray(block @ U))
            return representations
        reject_malformed_task_list(X)
        X_checked = self._check_design(X, "X")
        validate_data(self, X, skip_check_array=True, reset=False)  # feature count and names
        return np.asarray(X_checked @ U)

    # R^2 pooled over tasks (lists, long format) or averaged over tasks (shared design), as the regressor's.
    score = KernelCoupledRegressor.score

