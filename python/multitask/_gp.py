r"""MultiTaskGaussianProcessRegressor: the multi-task GP with ML-II hyperparameters and predictive variances."""

from __future__ import annotations

import time
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from ._base import MultiTaskInputMixin
from ._fit_result import atomic_fit, finite_predictions
from ._gp_data import GPData, gp_data
from ._gp_init import checked_init, free_mask, term_specs
from ._gp_likelihood import Likelihood
from ._gp_optimize import maximise_likelihood
from ._gp_params import GPParams, GPSpec
from ._gp_posterior import DensePosterior, KroneckerPosterior, Prediction, SparsePosterior
from ._gp_start import log_bounds, random_params, start_params, task_variances
from ._input import check_design, check_tasks, common_float_dtype, to_task_blocks
from ._kernel_ridge import _r2
from ._threads import effective_n_threads
from ._validation import NON_NEGATIVE_REAL, POSITIVE_INT

__all__ = ["MultiTaskGaussianProcessRegressor"]

GP_KERNELS = ("rbf", "matern32", "matern52", "linear")
METHODS = ("auto", "dense", "kronecker", "sparse")


class MultiTaskGaussianProcessRegressor(MultiTaskInputMixin, RegressorMixin, BaseEstimator):
    r"""Multi-task Gaussian process regression with hyperparameters learned by marginal likelihood.

    The tasks' latent functions are jointly Gaussian with the covariance of the
    linear model of coregionalisation (one term: the intrinsic model, ICM)

    .. math::

        \operatorname{Cov}(f_t(x), f_s(x')) = \sum_{q=1}^{Q} B_q[t, s]\, k_q(x, x'),
        \qquad B_q = L_q L_q^\top + \operatorname{diag}(\kappa_q),

    and each task's targets are :math:`y = m_t + f_t(x) + \varepsilon`,
    :math:`\varepsilon \sim N(0, \sigma^2_t)`: a noise variance and a constant
    mean per task. The input kernels :math:`k_q` have unit variance (the scale
    lives in :math:`B_q`) and log length-scales. Every hyperparameter (the
    :math:`L_q`, :math:`\kappa_q`, length-scales, :math:`\sigma^2_t`, and
    :math:`m_t` unless ``mean="zero"``) maximises the log marginal likelihood
    (type-II maximum likelihood) by L-BFGS-B with its analytic gradient.

    The posterior mean equals :class:`MultiTaskKernelRidge` with
    ``task_kernel = B``, the same input kernel, ``fit_intercept=True`` (or
    ``False`` for ``mean="zero"``) and ``task_weights = alpha * N / noise_variance_``
    for any ``alpha > 0`` (README, "Multi-task Gaussian processes").

    Parameters
    ----------
    kernel : {"rbf", "matern32", "matern52", "linear"} or list of them, default="rbf"
        The input kernel, or one per term of an LCM (a list of Q names).
    rank : int or list of int, default=1
        Rank r of :math:`L_q` (T × r) in each term's task kernel; 0 makes
        :math:`B_q` diagonal (independent tasks in that term).
    ard : bool, default=True
        One length-scale per input dimension (automatic relevance
        determination); False: one shared length-scale. A linear kernel with
        ``ard=False`` has no hyperparameter (the plain dot product; its scale is B's).
    mean : {"constant", "zero"}, default="constant"
        "constant": a constant mean per task, learned with the other
        hyperparameters; "zero": the zero-mean GP (centre the targets yourself).
    method : {"auto", "dense", "kronecker", "sparse"}, default="auto"
        "dense": the N × N covariance, one Cholesky factorisation per likelihood
        evaluation. "kronecker": a shared design (X with a 2-D y) and one term,
        O(n³ + T³) per evaluation. "sparse": the variational approximation
        with ``n_inducing`` inducing inputs shared by the tasks (Titsias' bound),
        O(N M² + M³) with M = n_inducing × T; an approximation, see the README
        for its error. "auto": "kronecker" where it applies (T > 1), else "dense".
    n_inducing : int, default=200
        Inducing inputs of the sparse method (chosen among the training inputs
        by k-means++ seeding with ``random_state``), shared by the tasks: T ×
        n_inducing inducing variables, which must not outnumber the samples
        (ValueError); ignored by the exact methods.
    inducing_points : array-like of shape (n_inducing, n_features), default=None
        The sparse method's inducing inputs, overriding ``n_inducing``.
    optimizer : {"L-BFGS-B"} or None, default="L-BFGS-B"
        None keeps the starting hyperparameters (``init`` or the data-scaled
        defaults) and only conditions on the data.
    max_iter : int, default=1000
        L-BFGS-B iterations per start.
    n_restarts : int, default=0
        Random restarts after the deterministic start; the best maximum wins.
    init : dict, default=None
        Starting values, each optional: ``"length_scale"`` (float or (d,); a list
        for several terms), ``"L"`` ((T, r) or a list), ``"kappa"`` ((T,) or a
        list), ``"noise_variance"`` (float or (T,)), ``"mean"`` ((T,)).
    length_scale_bounds : pair of float, default=(1e-5, 1e5)
        Bounds of every length-scale.
    kappa_bounds, noise_variance_bounds : "auto" or pair of float, default="auto"
        Bounds of κ and of σ²; "auto" scales them with each task's target
        variance v_t: κ in [1e-8, 1e3] v_t, σ² in [1e-8, 10] v_t.
    random_state : int, RandomState instance or None, default=None
        Seeds the restarts, the subsample behind the starting length-scales,
        the inducing inputs and ``sample_y``'s default.
    n_jobs : int or None, default=None
        Threads of the core (None: all cores, at most OMP_NUM_THREADS).
    verbose : int, default=0
        1 prints each start's result, 2 every likelihood evaluation.

    Attributes
    ----------
    log_marginal_likelihood_value_ : float
        log p(y) at the fitted hyperparameters (the variational bound for "sparse").
    theta_ : ndarray
        The fitted free hyperparameters in the documented vector order (README).
    kernel_ : GPParams
        Every fitted hyperparameter: ``L``, ``log_kappa``, ``theta``, ``log_noise``,
        ``mean`` and ``task_kernels``.
    task_kernel_ : ndarray of shape (T, T), or (Q, T, T) for an LCM
        The fitted task kernels :math:`B_q`.
    length_scale_ : ndarray of shape (d,) or (1,), or a list of them for an LCM
        The fitted length-scales (empty for a linear kernel without one).
    noise_variance_ : ndarray of shape (T,)
        The fitted noise variance of every task.
    mean_ : ndarray of shape (T,)
        The fitted constant mean of every task (zeros for ``mean="zero"``).
    method_ : str
        The route used ("dense", "kronecker" or "sparse").
    n_iter_ : int
        L-BFGS-B iterations of the best start (0 without optimizer).
    n_evaluations_ : int
        Likelihood evaluations over all starts.
    tasks_ : ndarray of shape (T,)
        Task labels.
    n_features_in_ : int
        Number of input features.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names of a DataFrame X.

    Examples
    --------
    >>> import numpy as np
    >>> import multitask as mt
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-3, 3, size=(60, 1))
    >>> Y = np.column_stack([np.sin(X[:, 0]), np.sin(X[:, 0]) + 0.5]) + 0.05 * rng.normal(size=(60, 2))
    >>> gp = mt.MultiTaskGaussianProcessRegressor(rank=1).fit(X, Y)
    >>> mean, std = gp.predict(X[:3], return_std=True)
    >>> mean.shape, std.shape
    ((3, 2), (3, 2))
    """

    _parameter_constraints: dict = {
        "kernel": [StrOptions(set(GP_KERNELS)), list],
        "rank": [Integral, list],
        "ard": ["boolean"],
        "mean": [StrOptions({"constant", "zero"})],
        "method": [StrOptions(set(METHODS))],
        "n_inducing": [POSITIVE_INT],
        "inducing_points": ["array-like", None],
        "optimizer": [StrOptions({"L-BFGS-B"}), None],
        "max_iter": [POSITIVE_INT],
        "n_restarts": [Integral],
        "init": [dict, None],
        "length_scale_bounds": [tuple, list],
        "kappa_bounds": [StrOptions({"auto"}), tuple, list],
        "noise_variance_bounds": [StrOptions({"auto"}), tuple, list],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
        "verbose": [NON_NEGATIVE_REAL],
    }

    def __init__(
        self,
        kernel: str | list[str] = "rbf",
        *,
        rank: int | list[int] = 1,
        ard: bool = True,
        mean: str = "constant",
        method: str = "auto",
        n_inducing: int = 200,
        inducing_points: Any = None,
        optimizer: str | None = "L-BFGS-B",
        max_iter: int = 1000,
        n_restarts: int = 0,
        init: dict | None = None,
        length_scale_bounds: tuple[float, float] = (1e-5, 1e5),
        kappa_bounds: str | tuple[float, float] = "auto",
        noise_variance_bounds: str | tuple[float, float] = "auto",
        random_state: Any = None,
        n_jobs: int | None = None,
        verbose: int = 0,
    ) -> None:
        self.kernel = kernel
        self.rank = rank
        self.ard = ard
        self.mean = mean
        self.method = method
        self.n_inducing = n_inducing
        self.inducing_points = inducing_points
        self.optimizer = optimizer
        self.max_iter = max_iter
        self.n_restarts = n_restarts
        self.init = init
        self.length_scale_bounds = length_scale_bounds
        self.kappa_bounds = kappa_bounds
        self.noise_variance_bounds = noise_variance_bounds
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    # ------------------------------------------------------------------ fit

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None, tasks: Any = None) -> "MultiTaskGaussianProcessRegressor":
        """Maximise the log marginal likelihood and condition on the data.

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
        self : MultiTaskGaussianProcessRegressor
            The fitted estimator.
        """
        with self._blas_threads():
            return self._fit(X, y, tasks)

    def _blas_threads(self) -> Any:
        """numpy/SciPy's BLAS at the estimator's thread count while it computes (the sparse route's
        and the predictions' linear algebra run there, between core calls): ``n_jobs`` governs all."""
        return threadpool_limits(limits=effective_n_threads(self.n_jobs), user_api="blas")

    def _fit(self, X: Any, y: Any, tasks: Any) -> "MultiTaskGaussianProcessRegressor":
        began = time.perf_counter()
        self._validate_feature_names(X, tasks)
        blocks = to_task_blocks(X, y, tasks)
        data = gp_data(blocks)
        self.n_features_in_ = data.X.shape[1]
        spec = GPSpec(term_specs(self.kernel, self.rank, self.ard, data.X.shape[1]), data.n_tasks)
        method = self._resolved_method(spec, data)
        inducing = self._inducing_inputs(data) if method == "sparse" else None
        learn_mean = self.mean == "constant"
        profile_mean = learn_mean  # the GLS means of the covariance at hand (of the bound's, for "sparse")
        likelihood = Likelihood(spec, data, method, effective_n_threads(self.n_jobs), profile_mean=profile_mean,
                                sparse_inputs=inducing)
        start = checked_init(self.init, start_params(spec, data, learn_mean=learn_mean,
                                                     random_state=_seed(self.random_state)))
        free = free_mask(spec, optimise_mean=False)
        variances = task_variances(data)
        bounds = log_bounds(spec, self.length_scale_bounds, self.kappa_bounds, self.noise_variance_bounds, variances)
        if self.optimizer is None:
            vector, n_iter = start.pack(), 0
        else:
            rng = check_random_state(self.random_state)
            starts = [start.pack()] + [random_params(start, data, np.random.default_rng(rng.randint(2**31)))
                                       .pack() for _ in range(self.n_restarts)]
            result = maximise_likelihood(likelihood, starts, free, bounds, self.max_iter, self.verbose)
            vector, n_iter = result.vector, result.n_iter
        final = likelihood(vector, eval_gradient=False, keep_factors=True)
        if not np.isfinite(final.value):
            raise ValueError("the covariance is not positive definite at the starting hyperparameters: give init "
                             "values, or let the optimizer run")
        vector[spec.mean_slice()] = final.mean  # the GLS means where they are profiled
        params = spec.unpack(vector)
        self._store(params, data, blocks, method, final, free, n_iter, likelihood.n_evaluations, inducing)
        self._profile_mean = profile_mean
        if self.verbose:
            print(f"[MultiTaskGaussianProcessRegressor] log p(y) = {final.value:.8g}, method {method}, "
                  f"{likelihood.n_evaluations} evaluations, {time.perf_counter() - began:.2f} s")
        return self

    def _resolved_method(self, spec: GPSpec, data: GPData) -> str:
        if self.method == "kronecker":
            if not data.shared:
                raise ValueError("method='kronecker' needs a shared design: X (n, d) with a 2-D y (n, T)")
            if len(spec.terms) != 1:
                raise ValueError(f"method='kronecker' needs one kernel term, got {len(spec.terms)}: use 'dense'")
            return "kronecker"
        if self.method == "auto":
            return "kronecker" if data.shared and len(spec.terms) == 1 and data.n_tasks > 1 else "dense"
        return self.method

    def _inducing_inputs(self, data: GPData) -> np.ndarray:
        """The sparse route's inducing inputs Z (m, d); a ValueError when the T m inducing variables
        outnumber the N samples (the approximation would cost more than the exact model)."""
        from ._gp_sparse import choose_inducing_inputs

        if self.inducing_points is None:
            Z = choose_inducing_inputs(data.X, self.n_inducing, _seed(self.random_state))
        else:
            Z = check_design(self.inducing_points, "inducing_points", np.float64)
            if Z.shape[1] != data.X.shape[1]:
                raise ValueError(f"inducing_points has {Z.shape[1]} features but X has {data.X.shape[1]}")
        n_variables = Z.shape[0] * data.n_tasks
        if n_variables > data.y.size:
            raise ValueError(
                f"method='sparse' with {Z.shape[0]} inducing inputs shared by {data.n_tasks} tasks has "
                f"{n_variables} inducing variables, more than the {data.y.size} samples: it would cost more than "
                "the exact model; lower n_inducing (or give fewer inducing_points), or use method='dense'")
        return np.ascontiguousarray(Z, dtype=np.float64)

    def _store(self, params: GPParams, data: GPData, blocks: Any, method: str, final: Any, free: np.ndarray,
               n_iter: int, n_evaluations: int, inducing: np.ndarray | None) -> None:
        n_threads = effective_n_threads(self.n_jobs)
        if method == "kronecker":
            f = final.factors
            self._posterior = KroneckerPosterior(params, data, f["V"], f["delta"], f["U"], f["lambda"], f["alpha"],
                                                 n_threads)
        elif method == "sparse":
            self._posterior = _sparse_posterior(params, data, inducing, n_threads)
        else:
            self._posterior = DensePosterior(params, data, final.factors["factor"], final.factors["alpha"], n_threads)
        self._inducing = inducing
        self._free = free
        self._spec_vector = params.pack()
        self.kernel_ = params
        self.theta_ = params.pack()[free]
        self.log_marginal_likelihood_value_ = float(final.value)
        kernels = params.task_kernels
        self.task_kernel_ = kernels[0] if kernels.shape[0] == 1 else kernels
        lengths = [np.exp(theta) for theta in params.theta]
        self.length_scale_ = lengths[0] if len(lengths) == 1 else lengths
        self.noise_variance_ = np.exp(params.log_noise)
        self.mean_ = params.mean.copy()
        self.method_ = method
        self.n_iter_ = n_iter
        self.n_evaluations_ = n_evaluations
        self.tasks_ = blocks.labels
        self._input_form = blocks.form
        self._data = data

    # ------------------------------------------------------- likelihood

    def log_marginal_likelihood(self, theta: Any = None, eval_gradient: bool = False) -> Any:
        """The log marginal likelihood log p(y) of the training data at ``theta`` (default: the fitted value).

        Parameters
        ----------
        theta : array-like of shape (len(theta_),), default=None
            Free hyperparameters in the order of ``theta_`` (README); None: the
            fitted ``log_marginal_likelihood_value_``.
        eval_gradient : bool, default=False
            Also return the gradient with respect to ``theta``.

        Returns
        -------
        value : float
            The log marginal likelihood (-inf where the covariance is not positive definite).
        gradient : ndarray of shape (len(theta_),)
            Only with ``eval_gradient``.
        """
        check_is_fitted(self)
        if theta is None:
            if eval_gradient:
                theta = self.theta_
            else:
                return self.log_marginal_likelihood_value_
        theta = np.asarray(theta, dtype=np.float64)
        if theta.shape != self.theta_.shape:
            raise ValueError(f"theta must have shape {self.theta_.shape}, got {theta.shape}")
        vector = self._spec_vector.copy()
        vector[self._free] = theta
        likelihood = Likelihood(self.kernel_.spec, self._data, self.method_, effective_n_threads(self.n_jobs),
                                profile_mean=self._profile_mean, sparse_inputs=self._inducing)
        with self._blas_threads():
            outcome = likelihood(vector, eval_gradient=eval_gradient)
        return (outcome.value, outcome.gradient[self._free]) if eval_gradient else outcome.value

    # -------------------------------------------------------------- predict

    def predict(self, X: Any, tasks: Any = None, return_std: bool = False, return_cov: bool = False,
                include_noise: bool = False) -> Any:
        """Posterior mean, and its standard deviation or covariance, of every task's function.

        Parameters
        ----------
        X : list of array-like (m_t, d), or array-like of shape (m, d)
            Test inputs per task (lists), labelled by ``tasks``, or for every task.
        tasks : array-like of shape (m,), default=None
            Task label of every row; each must be one of ``tasks_``.
        return_std : bool, default=False
            Also return the posterior standard deviation at every point.
        return_cov : bool, default=False
            Also return the joint posterior covariance (not with ``return_std``).
        include_noise : bool, default=False
            Describe new noisy targets (add each task's noise variance) rather
            than the latent functions.

        Returns
        -------
        mean : list of ndarray (m_t,), or ndarray of shape (m,) or (m, T)
            In the form of the input, as ``MultiTaskKernelRidge.predict``.
        std : same form as ``mean``
            Only with ``return_std``.
        cov : ndarray
            Only with ``return_cov``: (m, m) for rows with ``tasks`` or a
            single-task model, (M, M) over the lists' rows concatenated in
            task order, and (m, T, m, T) for every task at shared rows
            (``cov[a, t, b, s]`` = Cov(f_t(x_a), f_s(x_b))).
        """
        if return_std and return_cov:
            raise ValueError("at most one of return_std and return_cov can be requested")
        form, X = self._prediction_form(X, tasks)
        query, reshape = self._query(form, X, tasks)
        with self._blas_threads():
            prediction = self._predict_query(query, return_std, return_cov, include_noise)
        mean = reshape(finite_predictions(prediction.mean))
        if return_std:
            return mean, reshape(np.sqrt(prediction.variance))
        if return_cov:
            return mean, prediction.covariance
        return mean

    def _query(self, form: str, X: Any, tasks: Any) -> tuple[Any, Any]:
        """The query in the long layout (or all tasks at shared rows) and the function giving results their form."""
        if form == "long":
            X = self._checked_rows(X, "X")
            return ("long", X, self._task_positions(check_tasks(tasks, X.shape[0]))), lambda values: values
        if form == "lists":
            blocks = [self._checked_rows(block, f"X[{t}]") for t, block in enumerate(X)]
            sizes = [block.shape[0] for block in blocks]
            task_ids = np.repeat(np.arange(len(blocks), dtype=np.int64), sizes)
            stacked = np.vstack(blocks) if blocks else np.zeros((0, self.n_features_in_))
            split_at = np.cumsum(sizes)[:-1]
            return ("long", stacked, task_ids), lambda values: list(np.split(values, split_at))
        rows = self._checked_rows(X, "X")
        if self._input_form == "single":
            return ("long", rows, np.zeros(rows.shape[0], dtype=np.int64)), lambda values: values
        return ("all_tasks", rows, None), lambda values: values

    def _checked_rows(self, X: Any, name: str) -> np.ndarray:
        original = X
        X = check_design(X, name, common_float_dtype([X]))
        self._check_n_features(X.shape[1], name)
        self._check_feature_names(original, name)
        return np.ascontiguousarray(X, dtype=np.float64)

    def _predict_query(self, query: tuple, variance: bool, covariance: bool, include_noise: bool) -> Prediction:
        kind, X, task_ids = query
        posterior = self._posterior
        if kind == "long":
            return posterior.predict(X, task_ids, variance=variance, covariance=covariance,
                                     include_noise=include_noise)
        if isinstance(posterior, KroneckerPosterior):
            return posterior.predict_all_tasks(X, variance=variance, covariance=covariance,
                                               include_noise=include_noise)
        # Every task at every row through the long layout (task-major), back to (m, T) and (m, T, m, T).
        m, T = X.shape[0], self.tasks_.size
        long = posterior.predict(np.tile(X, (T, 1)), np.repeat(np.arange(T, dtype=np.int64), m), variance=variance,
                                 covariance=covariance, include_noise=include_noise)
        out = Prediction(long.mean.reshape(T, m).T)
        if variance:
            out.variance = long.variance.reshape(T, m).T
        if covariance:
            out.covariance = long.covariance.reshape(T, m, T, m).transpose(1, 0, 3, 2)
        return out

    def sample_y(self, X: Any, tasks: Any = None, n_samples: int = 1, random_state: Any = 0,
                 include_noise: bool = False) -> Any:
        """Draw functions from the posterior at the test inputs (jointly over points and tasks).

        Parameters
        ----------
        X : list of array-like (m_t, d), or array-like of shape (m, d)
            Test inputs, as for :meth:`predict`.
        tasks : array-like of shape (m,), default=None
            Task label of every row, as for :meth:`predict`.
        n_samples : int, default=1
            Number of draws.
        random_state : int, RandomState instance or None, default=0
            Seeds the draws.
        include_noise : bool, default=False
            Draw new noisy targets rather than the latent functions.

        Returns
        -------
        samples : list of ndarray (m_t, n_samples), or ndarray of shape (m, n_samples) or (m, T, n_samples)
            In the form of the input, one draw per last index.
        """
        if not isinstance(n_samples, Integral) or isinstance(n_samples, bool) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
        form, X = self._prediction_form(X, tasks)
        query, reshape = self._query(form, X, tasks)
        with self._blas_threads():
            prediction = self._predict_query(query, False, True, include_noise)
        mean, cov = prediction.mean, prediction.covariance
        shape = mean.shape
        flat_mean = mean.reshape(-1)
        flat_cov = cov.reshape(flat_mean.size, flat_mean.size)
        rng = check_random_state(random_state)
        draws = rng.multivariate_normal(flat_mean, flat_cov, int(n_samples)).T  # (points, n_samples)
        draws = draws.reshape(*shape, int(n_samples))
        if form == "lists":
            return reshape(draws)
        return draws

    def score(self, X: Any, y: Any, tasks: Any = None, sample_weight: Any = None) -> float:
        """R^2 of the posterior mean, pooled over tasks (lists, long format) or averaged over the columns of Y.

        Parameters
        ----------
        X : list of array-like (m_t, d), or array-like of shape (m, d)
            Test inputs in one of the three input forms, as for :meth:`predict`.
        y : list of array-like (m_t,), or array-like of shape (m,) or (m, T)
            True targets in the form matching ``X``.
        tasks : array-like of shape (m,), default=None
            Task label of every row (long format).
        sample_weight : array-like of shape (m,), default=None
            Weight of every sample; None weighs them equally.

        Returns
        -------
        score : float
            R^2 as ``MultiTaskKernelRidge.score`` defines it.
        """
        return _r2(y, self.predict(X, tasks=tasks), sample_weight)

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.requires_fit = True
        return tags


def _seed(random_state: Any) -> int:
    """An integer seed for the deterministic parts of start 0 (the length-scale subsample)."""
    if isinstance(random_state, Integral):
        return int(random_state)
    return 0


def _sparse_posterior(params: GPParams, data: GPData, inducing: np.ndarray, n_threads: int) -> SparsePosterior:
    from ._gp_likelihood import CoreCovariance
    from ._gp_sparse import VFEPosterior

    functions = CoreCovariance(params, n_threads)
    return SparsePosterior(params, VFEPosterior.from_data(functions, data.X, data.tasks, data.y, inducing,
                                                         params.log_noise, params.mean))
