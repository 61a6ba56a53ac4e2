"""KernelCoupledClassifier: binary classifiers per task, coupled by K."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ._base import KernelCoupledLinearModel
from ._dask_newton import dask_newton_fit, label_summary
from ._dask_support import partitionwise, uses_dask
from ._fit_result import atomic_fit, core_function, solver_tol
from ._gram_fit import set_dask_feature_names
from ._input import TaskBlocks, check_design, common_float_dtype, paired_targets, to_task_blocks
from ._solver_names import BLOCK_NEWTON, DEPRECATED_BCD
from ._sparse_input import core_blocks
from ._task_weights import per_sample_weights
from ._threads import effective_n_threads
from .coupling import resolve_coupling

__all__ = ["KernelCoupledClassifier"]

SOLVERS = ("auto", BLOCK_NEWTON, "newton", "gradient")
LOSSES = ("logistic", "squared_hinge")
NEWTON_SYSTEM_TOL = 1e-12
"""Relative residual to which an iterative solver of the core solves each Newton system of the Dask fit."""


def _task_name(blocks: TaskBlocks, t: int) -> str:
    return f"task {blocks.labels[t]!r}" if blocks.form == "long" else f"task {t}"


def encode_labels(blocks: TaskBlocks, dtype: type) -> tuple[np.ndarray, list[np.ndarray]]:
    """The two classes shared by every task, and each task's labels as -1/+1.

    ValueError when the labels are continuous, when the tasks hold other than
    two classes in all, or when a task holds only one of them.
    """
    try:
        pooled = np.concatenate([np.asarray(y) for y in blocks.y])
        classes = np.unique(pooled)
    except TypeError as error:  # e.g. strings mixed with numbers
        raise ValueError(f"y mixes label types that cannot be ordered: {error}") from None
    check_classification_targets(pooled)  # "Unknown label type: continuous ..."
    if classes.size > 2:
        raise ValueError(
            f"Only binary classification is supported: every task is a binary problem over the same two "
            f"classes, but y holds {classes.size} classes {classes[:10].tolist()}. For one-vs-rest or "
            f"multi-label problems make each class a task (a 2-D indicator y with a shared X)."
        )
    if classes.size < 2:
        raise ValueError(
            f"y holds one class {classes.tolist()}: every task needs examples of both of two classes"
        )
    signed = []
    for t, y in enumerate(blocks.y):
        positive = np.asarray(y) == classes[1]
        if positive.all() or not positive.any():
            raise ValueError(
                f"{_task_name(blocks, t)} holds a single class ({np.asarray(y)[0].item()!r}): every task needs "
                f"examples of both classes {classes.tolist()}"
            )
        signed.append(np.where(positive, 1.0, -1.0).astype(dtype))
    return classes, signed


class KernelCoupledClassifier(ClassifierMixin, KernelCoupledLinearModel):
    r"""Binary classification per task, with the task models coupled by a T x T matrix K.

    Minimises the kernel-coupled objective

    .. math::

        F(W, b) = \frac{1}{N} \sum_t \omega_t \sum_{i \in t} \ell(y_{ti}, \langle w_t, x_{ti}\rangle + b_t)
                  + \frac{\alpha}{2} \sum_{s,t} K_{st} \langle w_s, w_t \rangle
                  + \rho_1 \sum_{j,t} |W_{jt}| + \rho_{21} \sum_j \|W_{j\cdot}\|_2 + \rho_* \|W\|_*

    with labels :math:`y_{ti} \in \{-1, +1\}` (``classes_[1]`` is +1), the
    logistic loss :math:`\log(1 + e^{-yf})` or the squared hinge
    :math:`\max(0, 1 - yf)^2`, task weights :math:`\omega_t`, the optional
    structure penalties of :class:`KernelCoupledRegressor` and unpenalised
    intercepts :math:`b_t`. Dense or ``scipy.sparse`` input (CSR is used as
    it is; CSC is converted to CSR, never densified).

    Parameters
    ----------
    coupling : {"mean_regularized", "identity", "chain"} or array-like of shape (T, T), default="mean_regularized"
        The coupling K (see :mod:`multitask.coupling`).
    alpha : float, default=1.0
        Strength of the coupling penalty, >= 0. With ``coupling="identity"``
        each task is an L2-penalised model on its own: scikit-learn
        ``LogisticRegression(C=omega_t / (N * alpha))`` for the logistic loss
        (``C=1/(N*alpha)`` with uniform weights), and for the squared hinge
        ``LinearSVC(loss="squared_hinge", C=omega_t / (N * alpha),
        fit_intercept=False)`` when ``fit_intercept=False``.
    l1 : float, default=0.0
        Weight :math:`\rho_1 \ge 0` of the lasso penalty
        :math:`\rho_1 \sum_{j,t} |W_{jt}|`, as for :class:`KernelCoupledRegressor`.
    l21 : float, default=0.0
        Weight :math:`\rho_{21} \ge 0` of the joint feature selection penalty
        :math:`\rho_{21} \sum_j \|(W_{j1}, \dots, W_{jT})\|_2`.
    trace_norm : float, default=0.0
        Weight :math:`\rho_* \ge 0` of the trace norm of W (sum of its singular
        values); not combined with ``l1`` or ``l21``.
    loss : {"logistic", "squared_hinge"}, default="logistic"
        The loss :math:`\ell(y, f)`: :math:`\log(1 + e^{-yf})` or
        :math:`\max(0, 1 - yf)^2`.
    task_weights : {"uniform", "balanced"} or array-like of shape (T,), default="uniform"
        :math:`\omega_t`, as for :class:`KernelCoupledRegressor`.
    fit_intercept : bool, default=True
        Fit an unpenalised intercept per task.
    solver : {"auto", "block_newton", "newton", "gradient"}, default="auto"
        "block_newton": block Newton over tasks, one truncated Newton step per
        task block with the other tasks fixed (tasks that K does not couple
        are updated in parallel); "newton": truncated Newton on all parameters
        at once, the coupling exact in every Hessian product; "gradient":
        accelerated gradient on all parameters; "auto": "block_newton" when K
        is diagonal (independent tasks), otherwise "newton". A structure
        penalty needs "gradient" (proximal; the "auto" choice then). "bcd" is a
        deprecated alias of "block_newton" (FutureWarning).
    tol : float, default=1e-8
        Stop when the relative KKT residual ``||grad F|| / ||grad F(0)||`` is
        at most ``tol``.
    max_iter : int, default=1000
        Maximum number of sweeps ("block_newton"), Newton steps ("newton") or
        gradient steps ("gradient").
    n_jobs : int, default=None
        Threads of the C++ core: None means 1 unless a ``joblib.parallel_config(n_jobs=...)``
        context says otherwise, -1 every core; always capped by OpenMP's limit (``OMP_NUM_THREADS``,
        ``threadpoolctl.threadpool_limits``). Results do not depend on it beyond round-off.
    warm_start : bool, default=False
        Start from the previous ``coef_`` and ``intercept_`` when shapes agree.
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
    classes_ : ndarray of shape (2,)
        The two labels, shared by every task; ``classes_[1]`` is the positive class.
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
        Iterations run: sweeps ("block_newton"), Newton steps ("newton") or
        gradient steps ("gradient").
    solver_ : str
        The solver that ran (what "auto" chose).
    objective_ : float
        F at the returned model, penalties included.
    objective_history_ : ndarray of shape (n_entries,)
        F after every iteration of the solver; the last entry is ``objective_``.
    kkt_residual_ : float
        Relative KKT residual :math:`\|\nabla F(W, b)\| / \|\nabla F(0, 0)\|`
        at the returned model (with a penalty: of the composite optimality
        condition).
    dual_gap_ : float
        Always NaN here: the duality gap is computed by the regressor's
        "feature_bcd" solver only. Kept for the same interface.
    n_features_in_ : int
        Number of features d seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen in ``fit``; set only when X has string
        column names: a pandas DataFrame (long format, shared design) or a
        list of DataFrames with the same columns.

    Examples
    --------
    >>> import numpy as np, multitask as mt
    >>> rng = np.random.default_rng(0)
    >>> Xs = [rng.normal(size=(n, 3)) for n in (40, 60)]
    >>> ys = [np.where(X[:, 0] > 0, "spam", "ham") for X in Xs]
    >>> model = mt.KernelCoupledClassifier(alpha=1e-2).fit(Xs, ys)
    >>> model.classes_.tolist()
    ['ham', 'spam']
    """

    _parameter_constraints: dict = {
        **KernelCoupledLinearModel._parameter_constraints,
        "loss": [StrOptions(set(LOSSES))],
        "solver": [StrOptions({*SOLVERS, DEPRECATED_BCD}, deprecated={DEPRECATED_BCD})],
    }

    def __init__(
        self,
        coupling: Any = "mean_regularized",
        *,
        alpha: float = 1.0,
        l1: float = 0.0,
        l21: float = 0.0,
        trace_norm: float = 0.0,
        loss: str = "logistic",
        task_weights: Any = "uniform",
        fit_intercept: bool = True,
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
        self.loss = loss
        self.task_weights = task_weights
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.warm_start = warm_start
        self.unseen_tasks = unseen_tasks

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None, tasks: Any = None) -> "KernelCoupledClassifier":
        """Fit the coupled task classifiers.

        Parameters
        ----------
        X : list of array-like or sparse (n_t, d), or array-like or sparse of shape (n_samples, d)
            Per-task matrices, stacked rows (with ``tasks``), or one design
            shared by every task (with a 2-D ``y``). A Dask array or DataFrame
            (with ``y`` and ``tasks`` Dask collections partitioned alike) is
            fitted without collecting its rows by Newton's method: one pass
            over the partitions finds the tasks and classes, then every
            iteration is one pass returning per-task loss, gradient and
            Hessian sums, and the Newton system is solved here (no structure
            penalty; ``solver_`` is "newton").
        y : list of array-like (n_t,), or array-like of shape (n_samples,) or (n_samples, T)
            Labels: the same two classes in every task (any dtype).
        tasks : array-like of shape (n_samples,), default=None
            Task label of every row (long format); routed as metadata.

        Returns
        -------
        self : KernelCoupledClassifier
            The fitted estimator.
        """
        if uses_dask(X, y, tasks):
            return self._fit_dask(X, y, tasks)
        self._validate_feature_names(X, tasks)
        blocks = to_task_blocks(X, y, tasks, accept_sparse=True, labels=True)
        self.n_features_in_ = blocks.X[0].shape[1]
        dtype = blocks.X[0].dtype
        classes, signed = encode_labels(blocks, dtype)
        coupling = resolve_coupling(self.coupling, blocks.n_tasks)
        sample_weight = per_sample_weights(self.task_weights, [block.shape[0] for block in blocks.X])
        warm_coef = self._warm_start_coef(blocks, dtype)
        warm_intercept = None if warm_coef is None else np.ascontiguousarray(self.intercept_, dtype=dtype)
        tol = solver_tol(self.tol, dtype)
        solver = self._resolved_solver(on_data=True)
        result = self._solve(blocks, signed, coupling, sample_weight, alpha=float(self.alpha), solver=solver,
                             tol=tol, max_iter=int(self.max_iter), warm_coef=warm_coef,
                             warm_intercept=warm_intercept)
        self._store_result(result, blocks, coupling, tol, classes_=classes)
        return self

    def _fit_dask(self, X: Any, y: Any, tasks: Any) -> "KernelCoupledClassifier":
        """Newton's method on Dask collections, one pass over the data per iteration (see
        :mod:`multitask._dask_newton`); a first pass finds the tasks and classes."""
        if self._uses_sparsity_penalty():
            raise ValueError(
                "fit on Dask collections runs Newton's method, which takes no structure penalty (l1, l21, "
                "trace_norm); fit such a model in memory"
            )
        if self.solver not in ("auto", "newton"):
            raise ValueError(
                f"fit on Dask collections runs Newton's method with one pass over the data per iteration: use "
                f"solver='auto' or 'newton', not {self.solver!r}"
            )
        set_dask_feature_names(self, X, reset=True)
        form, labels, counts, classes = label_summary(X, y, tasks)
        coupling = resolve_coupling(self.coupling, labels.size)
        alpha, tol = float(self.alpha), solver_tol(self.tol, np.float64)
        # The Newton system, a kernel-coupled least-squares problem on square-root data, solved by the regressor's core call.
        from ._regressor import KernelCoupledRegressor

        system = KernelCoupledRegressor(coupling, alpha=alpha, fit_intercept=False, n_jobs=self.n_jobs)
        unit_weights = np.ones(labels.size)

        def solve(blocks: TaskBlocks) -> np.ndarray:
            return system._solve(blocks, blocks.y, coupling, unit_weights, alpha=alpha, solver="auto",
                                 tol=NEWTON_SYSTEM_TOL, max_iter=100_000, warm_coef=None, warm_intercept=None,
                                 fit_intercept=False)["coef"]

        result = dask_newton_fit(X, y, tasks, labels=labels, classes=classes, loss=self.loss,
                                 weight=per_sample_weights(self.task_weights, counts), coupling=coupling, alpha=alpha,
                                 fit_intercept=bool(self.fit_intercept), tol=tol, max_iter=int(self.max_iter),
                                 solve=solve)
        self.n_features_in_ = int(X.shape[1])
        self._store_result(result, TaskBlocks([], form=form, labels=labels), coupling, tol, classes_=classes)
        return self

    def _solve(self, blocks: Any, targets: list, coupling: np.ndarray, sample_weight: np.ndarray, *,
               alpha: float, solver: str, tol: float, max_iter: int, warm_coef: Any, warm_intercept: Any) -> dict:
        """One call of the core: the kernel-coupled fit of the signed labels ``targets`` with coupling
        ``alpha * coupling`` (the estimators that learn the coupling call it once per outer iteration)."""
        self._check_data_solver(solver)
        return core_function("fit_linear_model", blocks.X[0].dtype)(
            X=core_blocks(blocks.X),
            y=targets,
            sample_weight=sample_weight,
            coupling=coupling,
            alpha=alpha,
            fit_intercept=bool(self.fit_intercept),
            loss=self.loss,
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

    def _check_design(self, X: Any, name: str) -> Any:
        return check_design(X, name, common_float_dtype([X]), accept_sparse=True)

    @partitionwise
    def decision_function(self, X: Any, tasks: Any = None) -> Any:
        """Decision values <w_t, x> + b_t; positive means ``classes_[1]``.

        Parameters
        ----------
        X : list of array-like or sparse (n_t, d), or array-like or sparse of shape (n_samples, d)
            Per-task matrices (one per fitted task, in order), rows labelled by
            ``tasks``, or rows to classify for every task.
        tasks : array-like of shape (n_samples,), default=None
            Task label of every row: one of ``tasks_``, or any label with
            ``unseen_tasks="mean"``.

        Returns
        -------
        list of ndarray (n_t,), or ndarray of shape (n_samples,) or (n_samples, T)
            The decision values in the form of the input: a list for list
            input, (n_samples,) with ``tasks`` or for a model fitted on a 1-D
            ``y``, otherwise one column per task.
        """
        return self._linear_predictions(X, tasks)

    @partitionwise
    def predict(self, X: Any, tasks: Any = None) -> Any:
        """Predict class labels with each task's model.

        Parameters
        ----------
        X : list of array-like or sparse (n_t, d), or array-like or sparse of shape (n_samples, d)
            Per-task matrices (one per fitted task, in order), rows labelled by
            ``tasks``, or rows to classify for every task.
        tasks : array-like of shape (n_samples,), default=None
            Task label of every row: one of ``tasks_``, or any label with
            ``unseen_tasks="mean"``.

        Returns
        -------
        list of ndarray (n_t,), or ndarray of shape (n_samples,) or (n_samples, T)
            Labels from ``classes_``, in the form of the input (for Dask
            input a lazy Dask collection, computed partition by partition).
        """
        scores = self.decision_function(X, tasks)
        if isinstance(scores, list):
            return [self.classes_[(s > 0).astype(int)] for s in scores]
        return self.classes_[(scores > 0).astype(int)]

    def _has_probabilities(self) -> bool:
        if self.loss != "logistic":
            raise AttributeError(
                f"predict_proba is only available for loss='logistic', not loss={self.loss!r}: "
                "the squared hinge gives no probabilities"
            )
        return True

    @available_if(_has_probabilities)
    @partitionwise
    def predict_proba(self, X: Any, tasks: Any = None) -> Any:
        """Class probabilities sigma(f) of the logistic model.

        Parameters
        ----------
        X : list of array-like or sparse (n_t, d), or array-like or sparse of shape (n_samples, d)
            Per-task matrices (one per fitted task, in order), rows labelled by
            ``tasks``, or rows to classify for every task.
        tasks : array-like of shape (n_samples,), default=None
            Task label of every row: one of ``tasks_``, or any label with
            ``unseen_tasks="mean"``.

        Returns
        -------
        list of ndarray (n_t, 2), or ndarray of shape (n_samples, 2) or (n_samples, T)
            For list, long and single-task input the probabilities of both
            classes, columns following ``classes_``. For a shared design with a
            2-D ``y`` (one-vs-rest, multi-label) the probability of
            ``classes_[1]`` for every task, as scikit-learn's multi-label
            classifiers (e.g. ``MLPClassifier``) return it.
        """
        return self._probabilities(self.decision_function(X, tasks), log=False)

    @available_if(_has_probabilities)
    @partitionwise
    def predict_log_proba(self, X: Any, tasks: Any = None) -> Any:
        """Logarithm of :meth:`predict_proba`, computed stably.

        Parameters
        ----------
        X : list of array-like or sparse (n_t, d), or array-like or sparse of shape (n_samples, d)
            Per-task matrices (one per fitted task, in order), rows labelled by
            ``tasks``, or rows to classify for every task.
        tasks : array-like of shape (n_samples,), default=None
            Task label of every row: one of ``tasks_``, or any label with
            ``unseen_tasks="mean"``.

        Returns
        -------
        list of ndarray (n_t, 2), or ndarray of shape (n_samples, 2) or (n_samples, T)
            The logarithms of the probabilities, in the shapes of
            :meth:`predict_proba`.
        """
        return self._probabilities(self.decision_function(X, tasks), log=True)

    @staticmethod
    def _probabilities(scores: Any, log: bool) -> Any:
        """P(y = +1 | f) = sigma(f) (or its log) in the output form of :meth:`predict_proba`."""
        positive = (lambda f: -np.logaddexp(0, -f)) if log else expit  # noqa: E731
        both = lambda f: np.column_stack((positive(-f), positive(f)))  # noqa: E731
        if isinstance(scores, list):
            return [both(f) for f in scores]
        return positive(scores) if scores.ndim == 2 else both(scores)

    def score(self, X: Any, y: Any, tasks: Any = None, sample_weight: Any = None) -> float:
        """Accuracy: the fraction of correctly classified (sample, task) pairs.

        For list input every task's samples are pooled; for a 2-D ``y`` every
        entry counts (not scikit-learn's exact-match subset accuracy).

        Parameters
        ----------
        X : list of array-like (n_t, d), or array-like of shape (n_samples, d)
            Test data in one of the three input forms, as for :meth:`predict`.
        y : list of array-like (n_t,), or array-like of shape (n_samples,) or (n_samples, T)
            True labels in the form matching ``X``.
        tasks : array-like of shape (n_samples,), default=None
            Task label of every row (long format).
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of every sample (for lists: of the tasks' samples
            concatenated in order; for a 2-D ``y``: of every row, whose
            accuracy is the mean over its tasks); None weighs them equally.

        Returns
        -------
        score : float
            The weighted fraction of correct (sample, task) predictions.
        """
        check_is_fitted(self)
        y, predictions = paired_targets(y, self.predict(X, tasks=tasks))
        y = np.asarray(y)
        if y.shape != predictions.shape:
            raise ValueError(f"y has shape {y.shape} but the predictions have shape {predictions.shape}")
        correct = (predictions == y).astype(np.float64)
        if correct.ndim == 2:
            correct = correct.mean(axis=1)
        return float(np.average(correct, weights=sample_weight))

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags
