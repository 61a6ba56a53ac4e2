r"""The classifier's fit on Dask collections: Newton's method with the data summed per partition.

For the logistic and squared-hinge losses the objective

.. math::

    F(W, b) = \sum_t s_t \sum_{i \in t} \ell(y_i, \langle w_t, x_i\rangle + b_t)
              + \tfrac\alpha2 \operatorname{tr}(W K W^\top), \qquad s_t = \omega_t / N,

needs, at a point (W, b), per task only sums over its rows: the loss, the
gradient :math:`g = \sum_i \ell'_i (x_i, 1)` and the (generalised, for the
squared hinge) Hessian :math:`H = \sum_i \ell''_i (x_i, 1)(x_i, 1)^\top`, a
(d + 1)² matrix per task. Each Newton iteration is one pass: the map step sums
them over a partition's rows, a tree reduction adds the partitions, and the
client takes the Newton step.

The step eliminates each task's intercept from its block (a Schur complement:
:math:`A_t = s_t (H_{ww} - h h^\top / h_{bb})`, :math:`\tilde g_t = s_t (g_w - h g_b / h_{bb})`)
and solves for the new models directly,

.. math::

    (\operatorname{blockdiag}(A_t) + \alpha K \otimes I)\, W^+ = [A_t w_t - \tilde g_t]_t,

a kernel-coupled least-squares problem that the core solves from square-root
data (the right-hand side lies in the range of :math:`A_t`, as the square-root
form needs: both are sums over the rows with positive curvature). Then
:math:`\Delta b_t = -(g_b + h^\top \Delta w_t) / h_{bb}`. Armijo backtracking
on F accepts the step; the trial point's pass also yields the next
iteration's sums, so an accepted full step costs one pass.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from sklearn.utils.multiclass import check_classification_targets

from ._dask_support import map_step, partition_pieces, tree_reduce
from ._gram_statistics import dense_long_chunk, scatter_rows, square_root
from ._input import TaskBlocks, is_list_form, to_task_blocks

__all__ = ["LabelSummary", "NewtonSums", "dask_newton_fit", "label_summary"]

LOGGER = logging.getLogger("multitask")
ARMIJO = 1e-4
"""Sufficient decrease of the backtracking line search: F(x + t p) <= F(x) + ARMIJO t <grad F, p>."""
MIN_STEP = 2.0**-30


@dataclass(frozen=True)
class LabelSummary:
    """Task labels, their row counts and the classes each task holds, mergeable with ``+``."""

    form: str
    counts: dict
    classes: dict

    def __add__(self, other: "LabelSummary") -> "LabelSummary":
        counts, classes = dict(self.counts), {task: set(found) for task, found in self.classes.items()}
        for task, count in other.counts.items():
            counts[task] = counts.get(task, 0) + count
            classes.setdefault(task, set()).update(other.classes[task])
        return LabelSummary(self.form or other.form, counts, classes)


def _partition_blocks(X: Any, y: Any, tasks: Any) -> TaskBlocks | None:
    """A partition's validated per-task blocks with their class labels; None when it has no rows."""
    X, y, tasks = partition_pieces(X, y, tasks)
    if X.shape[0] == 0:
        return None
    return to_task_blocks(X, y, tasks, labels=True)


def partition_labels(X: Any, y: Any, tasks: Any) -> LabelSummary:
    """The map step of the first pass: which tasks, how many rows, which classes (X validated, not copied)."""
    X, y, tasks = partition_pieces(X, y, tasks)
    if X.shape[0] == 0:
        return LabelSummary("", {}, {})
    if tasks is not None and not is_list_form(X):
        X, y, tasks = dense_long_chunk(X, y, tasks, labels=True)
        check_classification_targets(y)
        task_labels, task_index = np.unique(tasks, return_inverse=True)
        classes, class_index = np.unique(y, return_inverse=True)
        pairs = np.unique(task_index.reshape(-1) * classes.size + class_index.reshape(-1))
        counts = np.bincount(task_index.reshape(-1), minlength=task_labels.size)
        found: dict = {_plain(label): set() for label in task_labels}
        for pair in pairs.tolist():
            found[_plain(task_labels[pair // classes.size])].add(_plain(classes[pair % classes.size]))
        return LabelSummary("long", {_plain(label): int(count) for label, count in zip(task_labels, counts)}, found)
    blocks = _partition_blocks(X, y, tasks)
    check_classification_targets(np.concatenate([np.asarray(labels) for labels in blocks.y]))
    counts = {_plain(label): int(block.shape[0]) for label, block in zip(blocks.labels, blocks.X)}
    classes = {task: set(np.unique(labels).tolist()) for task, labels in zip(counts, blocks.y)}
    return LabelSummary(blocks.form, counts, classes)


def _plain(label: Any) -> Any:
    """A NumPy scalar label as the Python value (hashable, comparable with the others)."""
    return label.item() if isinstance(label, np.generic) else label


def label_summary(X: Any, y: Any, tasks: Any) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    """The form, sorted task labels, row counts and the two classes; ValueError as the in-memory fit gives."""
    summary: LabelSummary = tree_reduce(map_step(partition_labels, X, y, tasks))
    if not summary.counts:
        raise ValueError("the data hold no rows: every partition of X is empty")
    try:
        labels = np.array(sorted(summary.counts))
        classes = np.array(sorted(set().union(*summary.classes.values())))
    except TypeError as error:
        raise ValueError(f"task or class labels of different types cannot be ordered: {error}") from None
    if classes.size != 2:
        raise ValueError(
            f"Only binary classification is supported: every task is a binary problem over the same two classes, "
            f"but y holds {classes.size} classes {classes[:10].tolist()}"
        )
    for task in labels.tolist():
        if len(summary.classes[task]) < 2:
            raise ValueError(
                f"task {task!r} holds a single class ({next(iter(summary.classes[task]))!r}): every task needs "
                f"examples of both classes {classes.tolist()}"
            )
    counts = np.array([summary.counts[task] for task in labels.tolist()], dtype=np.int64)
    return summary.form, labels, counts, classes


@dataclass(frozen=True)
class NewtonSums:
    """Per-task loss, gradient and Hessian sums over rows (tasks ``index`` into the sorted labels)."""

    index: np.ndarray     # (k,) sorted task positions
    loss: np.ndarray      # (k,)
    gradient: np.ndarray  # (k, d + 1): w then b
    hessian: np.ndarray   # (k, d + 1, d + 1)

    def __add__(self, other: "NewtonSums") -> "NewtonSums":
        if self.index.size == 0:
            return other
        if other.index.size == 0:
            return self
        index = np.union1d(self.index, other.index)
        a, b = self.over(index), other.over(index)
        return NewtonSums(index, a.loss + b.loss, a.gradient + b.gradient, a.hessian + b.hessian)

    def over(self, index: np.ndarray) -> "NewtonSums":
        """The same sums over ``index`` (a sorted superset of ``self.index``), zeros for absent tasks."""
        if np.array_equal(index, self.index):
            return self
        position = np.searchsorted(index, self.index)
        return NewtonSums(index, scatter_rows(self.loss, position, index.size),
                          scatter_rows(self.gradient, position, index.size),
                          scatter_rows(self.hessian, position, index.size))


def partition_newton_sums(X: Any, y: Any, tasks: Any, labels: np.ndarray, positive: Any, coef: np.ndarray,
                          intercept: np.ndarray, loss: str, fit_intercept: bool) -> NewtonSums:
    """The map step of a Newton iteration: the sums of one partition at the models (coef, intercept).

    Summed by the core (the losses of the in-memory solvers), per task over
    the rows the partition holds of it.
    """
    from ._core import core

    X, y, tasks = partition_pieces(X, y, tasks)
    d = coef.shape[1]
    if X.shape[0] == 0:
        return NewtonSums(np.empty(0, dtype=np.int64), np.empty(0), np.empty((0, d + 1)), np.empty((0, d + 1, d + 1)))

    def sums(design: np.ndarray, classes: np.ndarray, task: np.ndarray, rows: np.ndarray) -> dict:
        signs = np.where(np.asarray(classes) == positive, 1.0, -1.0).astype(design.dtype)
        return core.task_newton_sums(design, signs, task, coef=np.ascontiguousarray(coef[rows]),
                                     intercept=np.ascontiguousarray(intercept[rows]), loss=loss,
                                     fit_intercept=fit_intercept)

    if tasks is not None and not is_list_form(X):  # long format: every task of the partition in one call
        X, y, tasks = dense_long_chunk(X, y, tasks, labels=True)
        index = np.searchsorted(labels, tasks)
        present, local = np.unique(index, return_inverse=True)
        result = sums(X, y, local.astype(np.int64).reshape(-1), present)
        return NewtonSums(present, result["loss"], result["gradient"], result["hessian"])
    blocks = _partition_blocks(X, y, tasks)  # a shared design: one call per task (its own weights per row)
    index = np.searchsorted(labels, blocks.labels)
    parts = [sums(block, classes, np.zeros(block.shape[0], dtype=np.int64), index[j : j + 1])
             for j, (block, classes) in enumerate(zip(blocks.X, blocks.y))]
    return NewtonSums(index, *(np.concatenate([part[key] for part in parts]) for key in ("loss", "gradient",
                                                                                         "hessian")))


@dataclass
class NewtonState:
    """F, its gradient and the sums at one point (W, b)."""

    coef: np.ndarray
    intercept: np.ndarray
    sums: NewtonSums
    objective: float
    gradient: np.ndarray  # (T, d + 1) of F, coupling included


def _state(sums: NewtonSums, coef: np.ndarray, intercept: np.ndarray, weight: np.ndarray, coupling: np.ndarray,
           alpha: float) -> NewtonState:
    sums = sums.over(np.arange(coef.shape[0]))
    coupled = alpha * (coupling @ coef)  # row t: alpha (W K)_t
    objective = float(weight @ sums.loss + 0.5 * np.sum(coef * coupled))
    gradient = weight[:, None] * sums.gradient
    gradient[:, :-1] += coupled
    return NewtonState(coef, intercept, sums, objective, gradient)


def _newton_point(state: NewtonState, weight: np.ndarray, solve: Callable[[TaskBlocks], np.ndarray],
                  fit_intercept: bool) -> tuple[np.ndarray, np.ndarray]:
    """The Newton step's models (coef, intercept): the intercepts eliminated, the coupled system solved."""
    d = state.coef.shape[1]
    H, g = state.sums.hessian, state.sums.gradient
    H_ww, h, h_bb = H[:, :d, :d], H[:, :d, d], H[:, d, d]
    g_w, g_b = g[:, :d], g[:, d]
    eliminate = fit_intercept & (h_bb > 0)  # a task without curvature in b (no active rows) keeps b
    safe_bb = np.where(eliminate, h_bb, 1.0)
    A = weight[:, None, None] * (H_ww - np.where(eliminate, 1.0, 0.0)[:, None, None] * h[:, :, None] * h[:, None, :]
                                 / safe_bb[:, None, None])
    g_reduced = weight[:, None] * (g_w - np.where(eliminate, g_b / safe_bb, 0.0)[:, None] * h)
    rhs = np.einsum("tij,tj->ti", A, state.coef) - g_reduced
    X_blocks, y_blocks = [], []
    for t in range(state.coef.shape[0]):
        root, z, _ = square_root(A[t], rhs[t][:, None], np.zeros(1))
        X_blocks.append(np.vstack((root, np.zeros((1, d)))))
        y_blocks.append(np.append(z[:, 0], 0.0))
    coef = solve(TaskBlocks(X_blocks, y_blocks, "lists", np.arange(len(X_blocks))))
    step_w = coef - state.coef
    step_b = np.where(eliminate, -(g_b + np.einsum("ti,ti->t", h, step_w)) / safe_bb, 0.0)
    return coef, state.intercept + step_b


def dask_newton_fit(X: Any, y: Any, tasks: Any, *, labels: np.ndarray, classes: np.ndarray, loss: str,
                    weight: np.ndarray, coupling: np.ndarray, alpha: float, fit_intercept: bool, tol: float,
                    max_iter: int, solve: Callable[[TaskBlocks], np.ndarray]) -> dict:
    """Newton's method from zero models, one pass over the Dask collections per evaluation.

    ``solve`` fits the kernel-coupled least-squares problem of square-root
    blocks (no intercept, unit weights, the coupling ``alpha * coupling``) and
    returns its coef (T, d). Returns the core's result keys for
    :meth:`KernelCoupledLinearModel._store_result`.
    """
    n_tasks, n_features = labels.size, int(X.shape[1])

    def evaluate(coef: np.ndarray, intercept: np.ndarray) -> NewtonState:
        sums = tree_reduce(map_step(partition_newton_sums, X, y, tasks, labels, classes[1], coef, intercept, loss,
                                    fit_intercept))
        return _state(sums, coef, intercept, weight, coupling, alpha)

    state = evaluate(np.zeros((n_tasks, n_features)), np.zeros(n_tasks))
    scale = float(np.linalg.norm(state.gradient)) or 1.0
    history, residual, n_iter = [state.objective], float(np.linalg.norm(state.gradient)) / scale, 0
    while residual > tol and n_iter < max_iter:
        coef, intercept = _newton_point(state, weight, solve, fit_intercept)
        step_w, step_b = coef - state.coef, intercept - state.intercept
        slope = float(np.sum(state.gradient[:, :-1] * step_w) + state.gradient[:, -1] @ step_b)
        step = 1.0
        while True:
            trial = evaluate(state.coef + step * step_w, state.intercept + step * step_b)
            if trial.objective <= state.objective + ARMIJO * step * slope or step < MIN_STEP:
                break
            step /= 2
        if step < MIN_STEP and trial.objective > state.objective:
            break  # no decrease along the Newton direction: round-off level, stop where we are
        state, n_iter = trial, n_iter + 1
        history.append(state.objective)
        residual = float(np.linalg.norm(state.gradient)) / scale
        LOGGER.info("Dask Newton iteration %d: objective %.12g, relative KKT residual %.3g, step %g", n_iter,
                    state.objective, residual, step)
    return {
        "coef": state.coef,
        "intercept": state.intercept,
        "objective_history": np.array(history),
        "residual": residual,
        "converged": residual <= tol,
        "n_iter": n_iter,
        "solver": "newton",
        "dual_gap": float("nan"),
        "dual_gap_scale": 1.0,
    }
