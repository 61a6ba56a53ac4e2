"""SharedSubspaceRegressor: task models in a shared low-rank subspace, W = U A."""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
from scipy.sparse.linalg import LinearOperator, cg
from sklearn.base import RegressorMixin, TransformerMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import MAX_C_INT, KernelCoupledLinearModel
from ._cv_guard import refuse_split_task_list
from ._fit_result import SolverOutcome, atomic_fit, caller_stacklevel, store_fit
from ._input import (
    TaskBlocks,
    as_task_list,
    check_design,
    common_float_dtype,
    is_list_form,
    reject_malformed_task_list,
    to_task_blocks,
)
from ._regressor import KernelCoupledRegressor
from ._sparse_input import is_sparse
from ._task_weights import per_sample_weights
from .coupling import BUILDER_NAMES, resolve_coupling

__all__ = ["SharedSubspaceRegressor"]

# Relative residual ||rhs - H vec(U)|| / ||rhs|| at which the CG of the U step stops. CG from the current U
# never increases the (quadratic) objective of the U step, so this only sets how exact each U step is.
CG_RTOL = 1e-10
# The heads step's iterative solver (used by 'auto' only when r * T is large) stops at this relative KKT residual.
HEADS_TOL = 1e-10
# A coupling whose smallest eigenvalue is at most this times its largest counts as singular (no minimiser).
SINGULAR_COUPLING_TOL = 1e-10
# Per-task Gram matrices (T, d, d) replace passes over the data in the U step's products when they are no larger
# than the data (T d <= N) and take at most this many float64 entries.
MAX_GRAM_ENTRIES = 2**25


def _as_float64(block: Any) -> Any:
    """The block in float64 (the U step's conjugate gradient works in float64)."""
    return block if block.dtype == np.float64 else block.astype(np.float64)


def _column_means(X: Any) -> np.ndarray:
    return np.asarray(X.mean(axis=0)).ravel()


def _centred_gram(X: Any, mean: np.ndarray) -> np.ndarray:
    """X~^T X~ with X~ = X - 1 mean^T, without densifying a sparse X."""
    if is_sparse(X):
        return np.asarray((X.T @ X).toarray()) - X.shape[0] * np.outer(mean, mean)
    centred = X - mean
    return centred.T @ centred


def _centred_squared_norms(X: Any, mean: np.ndarray) -> np.ndarray:
    """||X~[:, j]||^2 for every column j (the diagonal of X~^T X~)."""
    if is_sparse(X):
        squares = np.asarray(X.multiply(X).sum(axis=0)).ravel() - X.shape[0] * mean**2
        return np.maximum(squares, 0.0)
    return np.einsum("ij,ij->j", X - mean, X - mean)


class _SeparateDesigns:
    r"""Statistics of the U step for per-task designs X_t (lists and long format).

    With A fixed, F restricted to (U, b) is minimised by the intercepts
    :math:`b_t = \bar y_t - \langle U a_t, \bar x_t \rangle` and by the U solving the normal equations

    .. math::

        \sum_t s_t \tilde X_t^\top \tilde X_t U a_t a_t^\top + \alpha_U U
        = \sum_t s_t \tilde X_t^\top \tilde y_t a_t^\top

    (X~, y~ centred per task when intercepts are fitted, s_t = omega_t / N). The left side is applied through
    per-task Gram matrices G_t = s_t X~_t^T X~_t when they are smaller than the data, otherwise through the data.
    """

    def __init__(self, X: list, y: list, sample_weight: np.ndarray, fit_intercept: bool) -> None:
        self.X = [_as_float64(block) for block in X]
        self.y = [np.asarray(target, dtype=np.float64) for target in y]
        self.s = sample_weight
        n_features, n_total = self.X[0].shape[1], sum(block.shape[0] for block in self.X)
        self.x_mean = np.array([_column_means(block) if fit_intercept else np.zeros(n_features) for block in self.X])
        self.y_mean = np.array([target.mean() if fit_intercept else 0.0 for target in self.y])
        n_tasks = len(self.X)
        # C[:, t] = s_t X~_t^T y~_t  (d, T); X^T y~ = X~^T y~ because y~ sums to zero.
        self.cross = np.column_stack(
            [
                s * np.asarray(block.T @ (target - mean)).ravel()
                for s, block, target, mean in zip(self.s, self.X, self.y, self.y_mean)
            ]
        )
        self.grams = None
        if n_tasks * n_features <= n_total and n_tasks * n_features**2 <= MAX_GRAM_ENTRIES:
            self.grams = np.stack(
                [s * _centred_gram(block, mean) for s, block, mean in zip(self.s, self.X, self.x_mean)]
            )
            self.diagonal_stats = np.einsum("tjj->jt", self.grams)
        else:
            self.diagonal_stats = np.column_stack(
                [s * _centred_squared_norms(block, mean) for s, block, mean in zip(self.s, self.X, self.x_mean)]
            )

    def apply(self, U: np.ndarray, A: np.ndarray) -> np.ndarray:
        """sum_t s_t X~_t^T X~_t U a_t a_t^T, shape (d, r), for U (d, r) and A (r, T)."""
        V = U @ A  # (d, T): column t is w_t = U a_t
        if self.grams is not None:
            products = np.matmul(self.grams, V.T[:, :, None])[:, :, 0].T  # (d, T): G_t w_t
        else:
            products = np.empty_like(V)
            for t, (block, mean) in enumerate(zip(self.X, self.x_mean)):
                # X~ v = X v - (mean . v) 1, and X~^T p = X^T p for p = X~ v (it sums to zero).
                centred = np.asarray(block @ V[:, t]).ravel() - mean @ V[:, t]
                products[:, t] = self.s[t] * np.asarray(block.T @ centred).ravel()
        return products @ A.T

    def project(self, U: np.ndarray) -> list[np.ndarray]:
        """The shared representation Z_t = X_t U of every task."""
        return [np.ascontiguousarray(block @ U) for block in self.X]

    def data_fit(self, Z: list, A: np.ndarray, intercept: np.ndarray) -> float:
        """(1/N) sum_t omega_t sum_i (1/2) (y_ti - <z_ti, a_t> - b_t)^2."""
        return float(
            sum(
                s * 0.5 * np.sum((y - Z_t @ a - b) ** 2)
                for s, y, Z_t, a, b in zip(self.s, self.y, Z, A.T, intercept)
            )
        )

    def fit_heads(self, heads: KernelCoupledRegressor, Z: list) -> KernelCoupledRegressor:
        return heads.fit(Z, self.y)


class _SharedDesign:
    """Statistics of the U step for one design X shared by every task (multi-output form).

    X~ is the same for every task, so the left side of the normal equations is X~^T X~ U (A S A^T), S = diag(s).
    """

    def __init__(self, X: Any, Y: np.ndarray, sample_weight: np.ndarray, fit_intercept: bool, single: bool) -> None:
        self.X = _as_float64(X)
        self.Y = np.asarray(Y, dtype=np.float64)  # (n, T)
        self.s = sample_weight
        self.single = single
        n_samples, n_features = self.X.shape
        self.x_mean = _column_means(self.X) if fit_intercept else np.zeros(n_features)
        self.y_mean = self.Y.mean(axis=0) if fit_intercept else np.zeros(self.Y.shape[1])
        self.cross = np.asarray(self.X.T @ (self.Y - self.y_mean)) * self.s  # (d, T)
        self.gram = _centred_gram(self.X, self.x_mean) if n_features <= n_samples else None
        self.diagonal_stats = np.outer(_centred_squared_norms(self.X, self.x_mean), self.s)  # (d, T)

    def apply(self, U: np.ndarray, A: np.ndarray) -> np.ndarray:
        UM = U @ ((A * self.s) @ A.T)  # U (A S A^T), (d, r)
        if self.gram is not None:
            return self.gram @ UM
        centred = np.asarray(self.X @ UM) - self.x_mean @ UM
        return np.asarray(self.X.T @ centred)

    def project(self, U: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(self.X @ U)

    def data_fit(self, Z: np.ndarray, A: np.ndarray, intercept: np.ndarray) -> float:
        residuals = self.Y - Z @ A - intercept
        return float(0.5 * np.sum(self.s * np.sum(residuals**2, axis=0)))

    def fit_heads(self, heads: KernelCoupledRegressor, Z: np.ndarray) -> KernelCoupledRegressor:
        return heads.fit(Z, self.Y[:, 0] if self.single else self.Y)


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

    **Algorithm.** Alternating minimisation. U is initialised from the
    independent ridge solutions :math:`W_0 = P \Sigma Q^\top`
    (:class:`KernelCoupledRegressor` with ``coupling="identity"`` and the same
    ``alpha``) as the balanced factor
    :math:`U_0 = (\alpha/\alpha_U)^{1/4} P_r \Sigma_r^{1/2}` of its top r
    singular directions. Then every outer iteration

    1. minimises F over U (and b) with A fixed: the normal equations
       :math:`\sum_t s_t \tilde X_t^\top \tilde X_t U a_t a_t^\top + \alpha_U U
       = \sum_t s_t \tilde X_t^\top \tilde y_t a_t^\top` (:math:`s_t = \omega_t/N`,
       data centred per task when intercepts are fitted) are solved by
       Jacobi-preconditioned conjugate gradient on vec(U), warm-started at the
       current U, with products through the data (or through per-task Gram
       matrices when those are smaller than the data), to a relative residual
       of 1e-10;
    2. minimises F over (A, b) with U fixed: the kernel-coupled least-squares
       problem on the features :math:`z = U^\top x`, solved by
       :class:`KernelCoupledRegressor` (``solver="auto"``: exact for a shared
       design or small r T).

    Neither step can increase F (CG from the current point only decreases a
    convex quadratic), so ``objective_history_`` is non-increasing up to
    round-off. The iterations stop when the relative decrease
    :math:`(F_{k-1} - F_k) / F_{k-1}` is at most ``tol``. F is not jointly
    convex: the result is a stationary point, reached from the deterministic
    initialisation above.

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
        Stop when the relative decrease of F over an outer iteration is at most ``tol``.
    max_iter : int, default=100
        Maximum number of outer iterations; a ``ConvergenceWarning`` is issued
        when they run out.
    verbose : int, default=0
        Print one progress line per outer iteration when positive.

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
        outer iteration.
    objective_ : float
        F at the returned parameters.
    n_iter_ : int
        Number of outer iterations run.
    solver_ : str
        ``"alternating"``: the alternating minimisation over the heads and U.
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
        problem = self._problem(blocks, sample_weight)

        U = self._initial_components(blocks, alpha, alpha_u)
        heads = KernelCoupledRegressor(
            coupling=coupling, alpha=alpha, task_weights=self.task_weights, fit_intercept=self.fit_intercept,
            solver="auto", tol=HEADS_TOL, max_iter=1000, warm_start=True,
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            A, intercept, objective = self._heads_step(problem, heads, U, coupling, alpha, alpha_u)
            history = [objective]
            converged = False
            for iteration in range(1, self.max_iter + 1):
                U, cg_iterations = self._components_step(problem, U, A, alpha_u)
                A, intercept, objective = self._heads_step(problem, heads, U, coupling, alpha, alpha_u)
                history.append(objective)
                decrease = (history[-2] - objective) / history[-2] if history[-2] > 0 else 0.0
                if self.verbose:
                    print(
                        f"[{type(self).__name__}] iteration {iteration}: objective {objective:.10e}, "
                        f"relative decrease {decrease:.2e}, CG iterations {cg_iterations}"
                    )
                if decrease <= self.tol:
                    converged = True
                    break
        inexact_heads = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
        for other in caught:  # anything else the inner fits warned about goes on to the caller
            if not issubclass(other.category, ConvergenceWarning):
                warnings.warn_explicit(other.message, other.category, other.filename, other.lineno)

        outcome = SolverOutcome("alternating", len(history) - 1, converged, "relative decrease of the objective",
                                decrease, float(self.tol))
        attributes = {
            "components_": U.T.copy(),
            "heads_": A.T.copy(),
            "coef_": (U @ A).T.copy(),
            "intercept_": intercept,
            "tasks_": blocks.labels,
            "coupling_": coupling,
            "alpha_u_": alpha_u,
            "objective_history_": np.asarray(history),
            "objective_": float(history[-1]),
            "_input_form": blocks.form,
        }
        store_fit(self, outcome, attributes, advice=f"increase max_iter={self.max_iter} or tol")
        if inexact_heads:
            warnings.warn(
                f"the heads step's iterative solver stopped before tol={HEADS_TOL:.0e} in {inexact_heads} of "
                f"{len(history)} fits; the objective still decreased, but the heads may be inexact",
                ConvergenceWarning,
                stacklevel=caller_stacklevel(),
            )
        return self

    def _problem(self, blocks: TaskBlocks, sample_weight: np.ndarray) -> _SeparateDesigns | _SharedDesign:
        if blocks.form in ("shared", "single"):
            Y = np.column_stack(blocks.y)
            return _SharedDesign(blocks.X[0], Y, sample_weight, self.fit_intercept, blocks.form == "single")
        return _SeparateDesigns(blocks.X, blocks.y, sample_weight, self.fit_intercept)

    def _initial_components(self, blocks: TaskBlocks, alpha: float, alpha_u: float) -> np.ndarray:
        """U_0 = (alpha / alpha_U)^(1/4) P_r Sigma_r^(1/2) from the SVD of the independent ridge solutions."""
        ridge = KernelCoupledRegressor(
            coupling="identity", alpha=alpha, task_weights=self.task_weights, fit_intercept=self.fit_intercept
        )
        with warnings.catch_warnings():
            # Only a starting point: an inexact ridge solution does no harm.
            warnings.simplefilter("ignore", ConvergenceWarning)
            if blocks.form in ("shared", "single"):
                ridge.fit(blocks.X[0], blocks.y[0] if blocks.form == "single" else np.column_stack(blocks.y))
            else:
                ridge.fit(blocks.X, blocks.y)
        left, singular_values, _ = np.linalg.svd(ridge.coef_.T, full_matrices=True)  # W_0 = ridge.coef_^T (d, T)
        r = self.n_components
        scales = np.zeros(r)
        rank = min(r, singular_values.size)
        scales[:rank] = np.sqrt(singular_values[:rank])
        return (alpha / alpha_u) ** 0.25 * left[:, :r] * scales

    @staticmethod
    def _heads_step(
        problem: _SeparateDesigns | _SharedDesign,
        heads: KernelCoupledRegressor,
        U: np.ndarray,
        coupling: np.ndarray,
        alpha: float,
        alpha_u: float,
    ) -> tuple[np.ndarray, np.ndarray, float]:
        """argmin_(A, b) F(U, A, b): the kernel-coupled regressor on z = U^T x; returns (A, b, F)."""
        Z = problem.project(U)
        problem.fit_heads(heads, Z)
        A, intercept = heads.coef_.T.copy(), heads.intercept_.copy()
        objective = (
            problem.data_fit(Z, A, intercept)
            + 0.5 * alpha * float(np.sum((A @ coupling) * A))
            + 0.5 * alpha_u * float(np.sum(U**2))
        )
        return A, intercept, objective

    @staticmethod
    def _components_step(
        problem: _SeparateDesigns | _SharedDesign, U: np.ndarray, A: np.ndarray, alpha_u: float
    ) -> tuple[np.ndarray, int]:
        """argmin_U F(U, A, .) by preconditioned CG on vec(U), from the current U; returns (U, CG iterations)."""
        n_features, r = U.shape
        size = n_features * r

        def matvec(u: np.ndarray) -> np.ndarray:
            U_vec = u.reshape(n_features, r)
            return (problem.apply(U_vec, A) + alpha_u * U_vec).ravel()

        # Jacobi preconditioner: diag of sum_t s_t X~_t^T X~_t (x) a_t a_t^T + alpha_U I.
        inverse_diagonal = 1.0 / (problem.diagonal_stats @ (A**2).T + alpha_u).ravel()
        operator = LinearOperator((size, size), matvec=matvec, dtype=np.float64)
        preconditioner = LinearOperator((size, size), matvec=lambda v: inverse_diagonal * v.ravel(), dtype=np.float64)
        rhs = (problem.cross @ A.T).ravel()
        count = [0]

        def callback(_: np.ndarray) -> None:
            count[0] += 1

        solution, _ = cg(
            operator, rhs, x0=U.ravel(), rtol=CG_RTOL, atol=0.0, maxiter=10 * size, M=preconditioner,
            callback=callback,
        )
        return solution.reshape(n_features, r), count[0]

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

