"""KernelCoupledRegressor: the kernel-coupled least-squares estimator."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from numbers import Real

from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if

from ._base import KernelCoupledLinearModel
from ._dask_support import partitionwise, uses_dask
from ._fit_result import atomic_fit, core_function, solver_tol
from ._gram_fit import check_partial_fit_input, chunk_statistics, set_dask_feature_names
from ._gram_statistics import GramStatistics
from ._input import check_design, common_float_dtype, paired_targets, to_task_blocks
from ._solver_names import BLOCK_NEWTON, DEPRECATED_BCD, DESCRIPTIONS, FEATURE_BCD, GRAM_GRADIENT, TASK_BCD
from ._sparse_input import core_blocks, is_sparse
from ._task_weights import per_sample_weights
from ._threads import effective_n_threads
from .coupling import resolve_coupling

__all__ = ["KernelCoupledRegressor"]

SOLVERS = ("auto", "exact", "cg", TASK_BCD, BLOCK_NEWTON, FEATURE_BCD, GRAM_GRADIENT, "newton", "gradient")
# The solvers that work on Gram statistics: dense X, the squared loss, no structure penalty.
GRAM_SOLVERS = ("exact", "cg", TASK_BCD)
# The solvers of the core's fit_linear_model (on the data; GRAM_GRADIENT forms
# Gram statistics there itself, for the trace norm).
DATA_SOLVERS = (BLOCK_NEWTON, FEATURE_BCD, GRAM_GRADIENT, "newton")
LOSSES = ("squared", "huber")


class KernelCoupledRegressor(RegressorMixin, KernelCoupledLinearModel):
    r"""Multi-task linear regression with tasks coupled by a T x T matrix K.

    Minimises the kernel-coupled objective

    .. math::

        F(W, b) = \frac{1}{N} \sum_t \omega_t \sum_{i \in t} \tfrac12 (y_{ti} - \langle w_t, x_{ti}\rangle - b_t)^2
                  + \frac{\alpha}{2} \sum_{s,t} K_{st} \langle w_s, w_t \rangle
                  + \rho_1 \sum_{j,t} |W_{jt}| + \rho_{21} \sum_j \|W_{j\cdot}\|_2 + \rho_* \|W\|_*

    (``loss="huber"`` replaces the squared residual :math:`\tfrac12 r^2` by
    Huber's loss, :math:`\tfrac12 r^2` for :math:`|r| \le \epsilon` and
    :math:`\epsilon (|r| - \epsilon / 2)` beyond, robust to outlying targets)
    over :math:`W = [w_1 \dots w_T]` (d, T) and the intercepts :math:`b_t`, with
    N the total number of samples, task weights :math:`\omega_t`, the coupling
    penalty :math:`\tfrac\alpha2 \operatorname{tr}(W K W^\top)` and the optional
    structure penalties ``l1`` (:math:`\rho_1`), ``l21`` (:math:`\rho_{21}`,
    rows :math:`W_{j\cdot}` are features) and ``trace_norm`` (:math:`\rho_*`).
    The intercepts are never penalised. The README's sections "Solvers and the
    stopping rule" and "Structured sharing" describe the solvers and their
    stopping rules in full.

    Parameters
    ----------
    coupling : {"mean_regularized", "identity", "chain"} or array-like of shape (T, T), default="mean_regularized"
        The coupling K: a builder of :mod:`multitask.coupling` applied with its
        default parameters to the number of tasks, or a symmetric positive
        semidefinite matrix (e.g. from ``multitask.coupling.graph_laplacian``).
    alpha : float, default=1.0
        Strength of the coupling penalty, >= 0. With ``coupling="identity"`` and
        uniform weights each task is ridge regression, scikit-learn
        ``Ridge(alpha=alpha * N)`` on that task (see Notes).
    l1 : float, default=0.0
        Weight :math:`\rho_1 \ge 0` of the lasso penalty
        :math:`\rho_1 \sum_{j,t} |W_{jt}|`: every task selects its own features.
    l21 : float, default=0.0
        Weight :math:`\rho_{21} \ge 0` of the group penalty
        :math:`\rho_{21} \sum_j \|(W_{j1}, \dots, W_{jT})\|_2` over the features
        j: joint feature selection, a feature is used by every task or by none.
    trace_norm : float, default=0.0
        Weight :math:`\rho_* \ge 0` of the trace (nuclear) norm of W, the sum
        of its singular values: a shared low-rank representation of the tasks.
        Not combined with ``l1`` or ``l21``.
    task_weights : {"uniform", "balanced"} or array-like of shape (T,), default="uniform"
        :math:`\omega_t`: "uniform" (1: every sample counts the same),
        "balanced" (N / (T n_t): every task counts the same) or positive values.
    fit_intercept : bool, default=True
        Fit an unpenalised intercept per task (by centring each task's data).
    loss : {"squared", "huber"}, default="squared"
        Pointwise loss of a residual r = y - f: "squared" (:math:`\tfrac12 r^2`)
        or "huber" (quadratic up to ``epsilon``, linear beyond). The Huber loss
        runs on the data-based solvers ("block_newton", "newton", "gradient";
        with a penalty "gradient").
    epsilon : float, default=1.35
        Huber's threshold, in the units of y (unlike scikit-learn's
        ``HuberRegressor``, no scale is estimated: standardise y, or give
        about 1.35 times the noise's standard deviation, the value with 95 %
        efficiency under Gaussian noise). Ignored by the squared loss.
    solver : {"auto", "exact", "cg", "task_bcd", "block_newton", "feature_bcd", "gram_gradient", "newton", "gradient"}, default="auto"
        On Gram statistics (dense X, squared loss, no structure penalty):
        "exact": Sylvester equation in eigenbases for a shared design; for
        per-task designs with a coupling c I + low rank (e.g. the
        mean-regularised one) the Woodbury identity on the diagonalised
        per-task Grams; dense Cholesky of the (dT, dT) system otherwise; "cg": block-Jacobi
        preconditioned conjugate gradient on the per-task Gram matrices;
        "task_bcd": block coordinate descent over tasks (block Gauss-Seidel,
        each task's block solved exactly); "gradient": accelerated gradient on
        the data itself; "auto": exact for a shared design, small d*T, or a
        coupling c I + low rank (alpha > 0, T <= 300, d <= 256), else cg.
        On the data (the Huber loss, sparse X, a structure penalty):
        "block_newton": block Newton over tasks (one truncated Newton step per
        task, the others fixed; the "auto" choice for a diagonal K), "newton":
        truncated Newton-CG on all parameters at once (the "auto" choice
        otherwise), "feature_bcd": coordinate descent over features with
        working sets for an l1 or l21 penalty with the squared loss (the "auto"
        choice there), "gram_gradient": the proximal accelerated gradient
        on Gram statistics for the trace norm with the squared loss on dense
        X (the "auto" choice there; its steps do not touch the data),
        "gradient": the proximal accelerated gradient on the data (the "auto"
        choice for the trace norm with the Huber loss or sparse X). "exact",
        "cg" and "task_bcd" accept
        neither a penalty nor sparse X nor the Huber loss; an explicit
        "block_newton", "newton" or "feature_bcd" runs on the data. ``solver_``
        reports the choice. "bcd" is a deprecated alias (FutureWarning) of
        "task_bcd", "block_newton" or "feature_bcd", whichever it ran before.
    tol : float, default=1e-8
        Iterative solvers stop when the relative KKT residual
        ``||grad F(W)||_F / ||grad F(0)||_F`` is at most ``tol`` (for the
        gradient solver: at the extrapolated point of the last step).
        "feature_bcd" stops when the duality gap relative to F(0) is at most
        ``tol``, "gradient" with a penalty on the relative norm of its
        proximal gradient step, "gram_gradient" when the norm of a
        subgradient of F at the returned W (one its last step provides, an
        upper bound of the KKT residual there), relative to
        ``||grad F(0)||_F``, is at most ``tol``.
    max_iter : int, default=1000
        Maximum number of iterations (CG iterations, sweeps over the tasks or
        features, Newton or gradient steps).
    n_jobs : int, default=None
        Threads of the C++ core: None means 1 unless a ``joblib.parallel_config(n_jobs=...)``
        context says otherwise, -1 every core; always capped by OpenMP's limit (``OMP_NUM_THREADS``,
        ``threadpoolctl.threadpool_limits``). Results do not depend on it beyond round-off.
    warm_start : bool, default=False
        Start the iterative solvers from the previous ``coef_`` when shapes agree.
    unseen_tasks : {"error", "mean"}, default="error"
        Predictions for rows of the long format whose task label is not in
        ``tasks_`` (only the long format can name such tasks; lists and a
        shared design are unaffected): "error" raises ValueError, "mean"
        predicts them with the mean model, coef ``coef_.mean(axis=0)`` and
        intercept ``intercept_.mean()`` (every task weighing the same). Under
        the mean-regularised coupling the mean model is the shrinkage target
        every task is pulled towards: with no data, a new task's best guess is
        the average task. For new tasks described by a task kernel see
        :meth:`unseen_task_models`.

    Attributes
    ----------
    coef_ : ndarray of shape (T, n_features)
        Row t is the model :math:`w_t` of task t.
    intercept_ : ndarray of shape (T,)
        The intercepts :math:`b_t` (zeros when ``fit_intercept=False``).
    tasks_ : ndarray of shape (T,)
        Task labels: the sorted labels of the long format, 0..T-1 for lists
        and a shared design.
    coupling_ : ndarray of shape (T, T)
        The coupling K used (the builder's matrix when ``coupling`` is a name).
    n_iter_ : int
        Iterations run: CG iterations, sweeps, Newton or gradient steps (1 for
        "exact").
    solver_ : str
        The solver that ran (what "auto" chose).
    objective_ : float
        F at the returned coefficients, penalties included.
    objective_history_ : ndarray of shape (n_entries,)
        F after every iteration of the solver (a single entry for "exact");
        the last entry is ``objective_``.
    kkt_residual_ : float
        Relative KKT residual at the returned coefficients,
        :math:`\|\nabla F(W)\|_F / \|\nabla F(0)\|_F`; with a penalty, the
        distance from minus the gradient of the smooth part to the penalty's
        subdifferential, on the same scale.
    dual_gap_ : float
        Duality gap F(W) - D(θ) at the returned model, absolute (in the units
        of F), for the "feature_bcd" solver; NaN for the other solvers. The
        dual point is given in the README ("Structured sharing").
    n_features_in_ : int
        Number of features d seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen in ``fit``; set only when X has string
        column names: a pandas DataFrame (long format, shared design) or a
        list of DataFrames with the same columns.
    statistics_ : GramStatistics
        Set by :meth:`partial_fit` and by ``fit`` on Dask collections (not by
        ``fit`` in memory): the per-task counts, means and centred Gram
        statistics of every row seen, in float64, which the model was solved
        from and to which the next ``partial_fit`` chunk is added.

    Notes
    -----
    Mappings to other packages, each checked by a test that fits both sides
    (N: total number of samples, T: number of tasks, n_t: samples of task t):

    * ``coupling="identity"``, uniform weights: task t is scikit-learn's
      ``Ridge(alpha=alpha * N)`` on task t alone (``task_weights="balanced"``:
      ``Ridge(alpha=alpha * T * n_t)``).
    * Shared design, ``alpha=0``, uniform weights: ``l21=a / T`` is
      scikit-learn's ``MultiTaskLasso(alpha=a)``; with ``coupling="identity"``
      and ``l1=rho_1``, each task is ``ElasticNet(alpha=T * (alpha + rho_1),
      l1_ratio=rho_1 / (alpha + rho_1))``.
    * MALSAR's least-squares models minimise
      :math:`\sum_t \tfrac12 \|X_t w_t - y_t\|^2 + \dots`, N times this F
      without intercepts: ``Least_Lasso``, ``Least_L21`` and ``Least_Trace``
      with ``rho1`` and ``opts.rho_L2`` are ``coupling="identity"``,
      ``alpha=2 * rho_L2 / N``, ``fit_intercept=False`` and ``l1``, ``l21`` or
      ``trace_norm`` = ``rho1 / N``. ``Least_SRMTL`` is
      :func:`multitask.coupling.graph_laplacian` (see there).

    Examples
    --------
    >>> import numpy as np, multitask as mt
    >>> rng = np.random.default_rng(0)
    >>> Xs = [rng.normal(size=(n, 3)) for n in (20, 30)]
    >>> ys = [X @ [1.0, 2.0, 0.5] for X in Xs]
    >>> model = mt.KernelCoupledRegressor(alpha=1e-3).fit(Xs, ys)
    >>> model.coef_.shape
    (2, 3)
    """

    _parameter_constraints: dict = {
        **KernelCoupledLinearModel._parameter_constraints,
        "solver": [StrOptions({*SOLVERS, DEPRECATED_BCD}, deprecated={DEPRECATED_BCD})],
        "loss": [StrOptions(set(LOSSES))],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        coupling: Any = "mean_regularized",
        *,
        alpha: float = 1.0,
        l1: float = 0.0,
        l21: float = 0.0,
        trace_norm: float = 0.0,
        task_weights: Any = "uniform",
        fit_intercept: bool = True,
        loss: str = "squared",
        epsilon: float = 1.35,
        solver: str = "auto",
        tol: float = 1e-8,
        max_iter: int = 1000,
        n_jobs: int | None = None,
        warm_start: bool = False,
        unseen_tasks: str = "error",
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
        self.warm_start = warm_start
        self.unseen_tasks = unseen_tasks

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None, tasks: Any = None) -> "KernelCoupledRegressor":
        """Fit the coupled task models.

        Parameters
        ----------
        X : list of array-like (n_t, d), or array-like of shape (n_samples, d)
            Per-task matrices (lists form), stacked rows (with ``tasks``), or
            one design shared by every task (with a 2-D ``y``). A Dask array
            or DataFrame (with ``y`` and ``tasks`` Dask collections partitioned
            alike) is fitted without collecting its rows: each partition's
            per-task Gram statistics are computed where it lives, merged by a
            tree reduction, and the model is solved from them here (squared
            loss; every penalty and solver; see ``statistics_``).
        y : list of array-like (n_t,), or array-like of shape (n_samples,) or (n_samples, T)
            Targets in the form matching ``X``.
        tasks : array-like of shape (n_samples,), default=None
            Task label of every row (long format). Routed as metadata by
            scikit-learn's ``GridSearchCV``/``cross_validate`` once requested
            with ``set_fit_request(tasks=True)``.

        Returns
        -------
        self : KernelCoupledRegressor
            The fitted estimator.
        """
        if uses_dask(X, y, tasks):
            self._check_statistics_fit("fit on Dask collections")
            set_dask_feature_names(self, X, reset=True)
            return self._fit_statistics(chunk_statistics(X, y, tasks))
        self.__dict__.pop("statistics_", None)
        self._validate_feature_names(X, tasks)
        blocks = to_task_blocks(X, y, tasks, accept_sparse=True)
        self.n_features_in_ = blocks.X[0].shape[1]
        coupling = resolve_coupling(self.coupling, blocks.n_tasks)
        sample_weight = per_sample_weights(self.task_weights, [block.shape[0] for block in blocks.X])
        dtype = blocks.X[0].dtype
        warm_coef = self._warm_start_coef(blocks, dtype)
        warm_intercept = None if warm_coef is None else np.ascontiguousarray(self.intercept_, dtype=dtype)
        solver = self._resolved_solver(self._fits_on_data(blocks))
        tol = solver_tol(self.tol, dtype)
        result = self._solve(blocks, blocks.y, coupling, sample_weight, alpha=float(self.alpha), solver=solver,
                             tol=tol, max_iter=int(self.max_iter), warm_coef=warm_coef,
                             warm_intercept=warm_intercept)
        self._store_result(result, blocks, coupling, tol)
        return self

    def _solve(self, blocks: Any, targets: list, coupling: np.ndarray, sample_weight: np.ndarray, *,
               alpha: float, solver: str, tol: float, max_iter: int, warm_coef: Any, warm_intercept: Any,
               fit_intercept: bool | None = None) -> dict:
        """One call of the core: the kernel-coupled fit of ``targets`` with coupling ``alpha * coupling``.

        On Gram statistics or on the data, by :meth:`_fits_on_data`; the
        estimators that learn the coupling call it once per outer iteration.
        ``fit_intercept`` overrides the parameter (the square-root data of
        :class:`GramStatistics` are centred already).
        """
        fit_intercept = bool(self.fit_intercept) if fit_intercept is None else fit_intercept
        if self._fits_on_data(blocks):
            return self._fit_on_data(blocks, targets, coupling, sample_weight, alpha=alpha, solver=solver, tol=tol,
                                     max_iter=max_iter, warm_coef=warm_coef, warm_intercept=warm_intercept,
                                     fit_intercept=fit_intercept)
        return core_function("fit_least_squares", blocks.X[0].dtype)(
            X=blocks.X,
            y=targets,
            sample_weight=sample_weight,
            coupling=coupling,
            alpha=alpha,
            fit_intercept=fit_intercept,
            shared_design=blocks.form in ("shared", "single"),
            solver=solver,
            tol=tol,
            max_iter=max_iter,
            n_threads=effective_n_threads(self.n_jobs),
            warm_start=warm_coef,
        )

    def _fits_on_data(self, blocks: Any) -> bool:
        """Whether the fit runs on the data (not on Gram statistics): Huber, a penalty, sparse X or a data solver."""
        return (
            self.loss != "squared"
            or self.solver in DATA_SOLVERS
            or self._uses_sparsity_penalty()
            or any(is_sparse(block) for block in blocks.X)
        )

    def _fit_on_data(self, blocks: Any, targets: list, coupling: np.ndarray, sample_weight: np.ndarray, *,
                     alpha: float, solver: str, tol: float, max_iter: int, warm_coef: Any,
                     warm_intercept: Any, fit_intercept: bool) -> dict:
        """The solvers that work on the data: the Huber loss, sparse X, a structure penalty, or a data solver."""
        if solver in GRAM_SOLVERS:
            if self.loss != "squared":
                reason, alternatives = f"loss={self.loss!r}", f"solver='{BLOCK_NEWTON}', 'newton', 'gradient' or 'auto'"
            elif self.trace_norm > 0:
                reason, alternatives = "a trace-norm penalty", f"solver='{GRAM_GRADIENT}', 'gradient' or 'auto'"
            elif self._uses_sparsity_penalty():
                reason, alternatives = "an l1/l21 penalty", f"solver='{FEATURE_BCD}', 'gradient' or 'auto'"
            else:
                reason, alternatives = "sparse X", f"solver='{BLOCK_NEWTON}', 'newton', 'gradient' or 'auto'"
            raise ValueError(
                f"solver={solver!r} works on Gram statistics of dense X with the squared loss and no structure "
                f"penalty; with "
                f"{reason} use {alternatives}"
            )
        self._check_data_solver(solver)
        if solver == GRAM_GRADIENT and not (
                self.loss == "squared" and self.trace_norm > 0 and not any(is_sparse(block) for block in blocks.X)):
            raise ValueError(
                f"solver='{GRAM_GRADIENT}' ({DESCRIPTIONS[GRAM_GRADIENT]}) solves the squared loss with a trace-norm "
                f"penalty on dense X; here use another solver, e.g. 'gradient' or 'auto'"
            )
        return core_function("fit_linear_model", blocks.X[0].dtype)(
            X=core_blocks(blocks.X),
            y=targets,
            sample_weight=sample_weight,
            coupling=coupling,
            alpha=alpha,
            fit_intercept=fit_intercept,
            loss=self.loss,
            loss_parameter=float(self.epsilon),
            l1=float(self.l1),
            l21=float(self.l21),
            trace_norm=float(self.trace_norm),
            solver=solver,
            tol=tol,
            max_iter=max_iter,
            n_threads=effective_n_threads(self.n_jobs),
            warm_coef=warm_coef,
            warm_intercept=warm_intercept,
        )

    def _fits_from_statistics(self) -> bool:
        """Whether this estimator's fit is a function of Gram statistics: this class, not the subclasses that
        learn the coupling or search alpha (they do not offer ``partial_fit``)."""
        return type(self) is KernelCoupledRegressor

    @available_if(_fits_from_statistics)
    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: Any, y: Any = None, tasks: Any = None) -> "KernelCoupledRegressor":
        """Add a chunk of rows to the fit: exact, out of core, in any chunking.

        Each call adds the chunk's per-task Gram statistics (counts, means,
        centred :math:`X_t^\top X_t`, :math:`X_t^\top y_t`, :math:`y_t^\top y_t`:
        O(T d²) numbers, however many rows) to ``statistics_`` and solves
        from them, so after any sequence of chunks the model is the one
        ``fit`` gives on all their rows together (to round-off). Needs the
        squared loss and dense chunks; every penalty and solver is available.
        A task may first appear in any chunk; a coupling given as a matrix
        must then match the number of tasks seen so far (a named coupling is
        rebuilt for it).

        Parameters
        ----------
        X : list of array-like (n_t, d), or array-like of shape (n_samples, d)
            A chunk in one of the three input forms (the same form at every
            call), or Dask collections.
        y : list of array-like (n_t,), or array-like of shape (n_samples,) or (n_samples, T)
            The chunk's targets in the form matching ``X``.
        tasks : array-like of shape (n_samples,), default=None
            Task label of every row of the chunk (long format).

        Returns
        -------
        self : KernelCoupledRegressor
            The estimator fitted on every chunk so far.
        """
        self._check_statistics_fit("partial_fit")
        first = not hasattr(self, "coef_")
        if not first and not hasattr(self, "statistics_"):
            raise ValueError(
                "this model was fitted by fit on in-memory data, which keeps no statistics to add a chunk to: "
                "fit it with partial_fit from its first chunk (or with fit on Dask collections)"
            )
        if first and uses_dask(X, tasks):
            set_dask_feature_names(self, X, reset=True)
        elif first:
            self._validate_feature_names(X, tasks)
        else:
            check_partial_fit_input(self, X, tasks)
        chunk = chunk_statistics(X, y, tasks)
        return self._fit_statistics(chunk if first else self.statistics_ + chunk)

    def _check_statistics_fit(self, what: str) -> None:
        """ValueError unless the objective is a function of Gram statistics (the squared loss)."""
        if self.loss != "squared":
            raise ValueError(
                f"{what} works on Gram statistics, which determine the squared loss only; loss={self.loss!r} "
                "needs the data: fit it in memory, or use loss='squared'"
            )

    def _fit_statistics(self, statistics: GramStatistics) -> "KernelCoupledRegressor":
        """Fit from per-task Gram statistics (see :mod:`multitask._gram_statistics`); sets ``statistics_``."""
        if statistics.n_tasks == 0 or statistics.n_samples == 0:
            raise ValueError("the data hold no rows: every partition of X is empty")
        self.n_features_in_ = statistics.n_features
        coupling = resolve_coupling(self.coupling, statistics.n_tasks)
        sample_weight = per_sample_weights(self.task_weights, statistics.counts)
        blocks = statistics.square_root_blocks(bool(self.fit_intercept))
        warm_coef = self._warm_start_coef(blocks, np.float64)
        solver = self._resolved_solver(self._fits_on_data(blocks))
        tol = solver_tol(self.tol, np.float64)
        result = self._solve(blocks, blocks.y, coupling, sample_weight, alpha=float(self.alpha), solver=solver,
                             tol=tol, max_iter=int(self.max_iter), warm_coef=warm_coef, warm_intercept=None,
                             fit_intercept=False)
        result["intercept"] = statistics.intercepts(result["coef"], bool(self.fit_intercept))
        self._store_result(result, blocks, coupling, tol)
        self.statistics_ = statistics
        return self

    @partitionwise
    def predict(self, X: Any, tasks: Any = None) -> Any:
        """Predict with each task's model.

        Parameters
        ----------
        X : list of array-like (n_t, d), or array-like of shape (n_samples, d)
            Per-task matrices (one per fitted task, in order), rows labelled by
            ``tasks``, or rows to predict for every task.
        tasks : array-like of shape (n_samples,), default=None
            Task label of every row: one of ``tasks_``, or any label with
            ``unseen_tasks="mean"``.

        Returns
        -------
        list of ndarray (n_t,), or ndarray of shape (n_samples,) or (n_samples, T)
            A list for list input; (n_samples,) with ``tasks`` or for a model
            fitted on a single 1-D target; otherwise every task's prediction.
            For a Dask X (and ``tasks``), the same computed lazily partition by
            partition: a Dask array, or a Dask Series/DataFrame with X's index.
        """
        return self._linear_predictions(X, tasks)

    def _check_design(self, X: Any, name: str) -> Any:
        return check_design(X, name, common_float_dtype([X]), accept_sparse=True)

    def score(self, X: Any, y: Any, tasks: Any = None, sample_weight: Any = None) -> float:
        """Coefficient of determination R^2 of the predictions, pooled over tasks.

        For list input, every task's samples are pooled; for a 2-D ``y`` the
        R^2 of each task is averaged (scikit-learn's multi-output convention).

        Parameters
        ----------
        X : list of array-like (n_t, d), or array-like of shape (n_samples, d)
            Test data in one of the three input forms, as for :meth:`predict`.
        y : list of array-like (n_t,), or array-like of shape (n_samples,) or (n_samples, T)
            True targets in the form matching ``X``.
        tasks : array-like of shape (n_samples,), default=None
            Task label of every row (long format).
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of every sample (for lists: of the tasks' samples
            concatenated in order); None weighs them equally.

        Returns
        -------
        score : float
            R^2 of the predictions: pooled over all samples for lists and the
            long format, the mean over the columns of ``y`` for a 2-D ``y``.
        """
        y, predictions = paired_targets(y, self.predict(X, tasks=tasks))
        return float(r2_score(y, predictions, sample_weight=sample_weight))
