r"""Per-task sufficient statistics of the squared loss, mergeable chunk by chunk.

The squared-loss kernel-coupled objective depends on the data only through,
per task t with :math:`n_t` rows, the means :math:`\bar x_t`, :math:`\bar y_t`
and the centred sums

.. math::

    S_t = \sum_i (x_i - \bar x_t)(x_i - \bar x_t)^\top, \quad
    c_t = \sum_i (x_i - \bar x_t)(y_i - \bar y_t), \quad
    q_t = \sum_i (y_i - \bar y_t)^2,

O(T d^2) numbers however many rows there are. Two chunks a, b of one task
merge exactly (Chan, Golub and LeVeque's pairwise update, which never forms the
raw second moments and so keeps the precision of centred sums):

.. math::

    n = n_a + n_b, \quad \delta = \bar x_b - \bar x_a, \quad
    S = S_a + S_b + \tfrac{n_a n_b}{n} \delta \delta^\top

(and likewise c, q with the y means). This is what ``partial_fit`` accumulates
and what the Dask map step returns for each partition; the reduction merges them.

To solve, the core is handed square-root data with the same quadratic: per
task, with the eigendecomposition :math:`S_t = V \Lambda V^\top` restricted to
its positive eigenvalues, the rows :math:`R_t = \Lambda^{1/2} V^\top` and targets
:math:`z_t = \Lambda^{-1/2} V^\top c_t`, plus one row x = 0 with target
:math:`\sqrt{q_t - \|z_t\|^2}`. Then :math:`R_t^\top R_t = S_t`,
:math:`R_t^\top z_t = c_t` and the sum of squared targets is :math:`q_t`, so the
loss :math:`\tfrac12 \|z_t - R_t w\|^2` equals the centred data's for every w:
every solver and penalty of the core sees the same objective, the same
stopping quantities and the same optimum, with at most d + 1 rows per task.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._input import TaskBlocks, check_design, check_labels, check_target, check_tasks, common_float_dtype, label_kinds
from ._sparse_input import is_sparse

__all__ = ["GramStatistics", "dense_long_chunk", "scatter_rows", "square_root"]

SPARSE_REFUSAL = (
    "X must be dense here: the statistics hold dense (d, d) Gram matrices; convert sparse chunks with "
    ".toarray(), or fit in memory"
)


def dense_long_chunk(X: Any, y: Any, tasks: Any, *, labels: bool = False) -> tuple[np.ndarray, np.ndarray,
                                                                                   np.ndarray]:
    """A long-format chunk validated as ``fit`` validates it: dense finite X, y (floats, or class labels
    with ``labels``) and task labels, one per row (ValueError naming the argument otherwise)."""
    X = check_design(X, "X", common_float_dtype([X]), accept_sparse=True)
    if is_sparse(X):
        raise ValueError(SPARSE_REFUSAL)
    y = check_labels(y, "y") if labels else check_target(y, "y", X.dtype)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} values")
    return X, y, check_tasks(tasks, X.shape[0])


@dataclass(frozen=True)
class GramStatistics:
    """Per-task counts, means and centred Gram statistics of a squared-loss problem.

    Built from data by :meth:`from_blocks` (one chunk), merged with ``+``; an
    estimator fits from them exactly as from the rows they summarise. Sums are
    kept in float64 whatever the data's dtype.

    Attributes
    ----------
    form : {"long", "lists", "shared", "single"}
        The input form the rows came in: tasks labelled per row, a list of
        per-task blocks, one design shared by every task (a 2-D y), or one task.
    labels : ndarray of shape (T,)
        The task labels, sorted (0..T-1 for lists and a shared design).
    counts : ndarray of shape (T,)
        Rows of every task.
    x_mean : ndarray of shape (T, d), or (1, d) for a shared design
        Feature means.
    y_mean : ndarray of shape (T,)
        Target means.
    xx : ndarray of shape (T, d, d), or (1, d, d) for a shared design
        Centred Gram matrices :math:`S_t`.
    xy : ndarray of shape (T, d)
        Centred cross products :math:`c_t`.
    yy : ndarray of shape (T,)
        Centred sums of squared targets :math:`q_t`.
    """

    form: str
    labels: np.ndarray
    counts: np.ndarray
    x_mean: np.ndarray
    y_mean: np.ndarray
    xx: np.ndarray
    xy: np.ndarray
    yy: np.ndarray

    @property
    def n_tasks(self) -> int:
        return int(self.labels.size)

    @property
    def n_features(self) -> int:
        return int(self.x_mean.shape[1])

    @property
    def n_samples(self) -> int:
        return int(self.counts.sum()) if self.form not in ("shared", "single") else int(self.counts[:1].sum())

    @property
    def shared(self) -> bool:
        return self.form in ("shared", "single")

    @classmethod
    def empty(cls, form: str, n_features: int, labels: np.ndarray | None = None) -> "GramStatistics":
        """No rows yet: the identity of ``+`` (for a shared design, ``labels`` names its T tasks)."""
        labels = np.empty(0) if labels is None else np.asarray(labels)
        k, d = labels.size, n_features
        n_x = 1 if form in ("shared", "single") else k
        return cls(form, labels, np.zeros(k, dtype=np.int64), np.zeros((n_x, d)), np.zeros(k),
                   np.zeros((n_x, d, d)), np.zeros((k, d)), np.zeros(k))

    @classmethod
    def from_rows(cls, X: Any, y: Any, tasks: Any, n_threads: int = 1) -> "GramStatistics":
        """The statistics of a long-format chunk (rows labelled by ``tasks``), summed by the core per task
        without copying the rows into per-task blocks."""
        from ._core import core

        X, y, tasks = dense_long_chunk(X, y, tasks)
        labels, index = np.unique(tasks, return_inverse=True)
        sums = core.centred_task_statistics(X, y, index.astype(np.int64).reshape(-1), n_tasks=labels.size,
                                            n_threads=n_threads)
        return cls("long", labels, sums["counts"].astype(np.int64), sums["x_mean"], sums["y_mean"], sums["xx"],
                   sums["xy"], sums["yy"])

    @classmethod
    def from_blocks(cls, blocks: TaskBlocks) -> "GramStatistics":
        """The statistics of validated per-task blocks (see :func:`multitask._input.to_task_blocks`)."""
        if any(not isinstance(block, np.ndarray) for block in blocks.X):
            raise ValueError(SPARSE_REFUSAL)
        shared = blocks.form in ("shared", "single")
        designs = blocks.X[:1] if shared else blocks.X
        x_mean = np.stack([block.mean(axis=0, dtype=np.float64) for block in designs])
        centred = [block - mean for block, mean in zip(designs, x_mean)]
        xx = np.stack([block.T @ block for block in centred])
        y_mean = np.array([y.mean(dtype=np.float64) for y in blocks.y])
        xy = np.empty((len(blocks.y), x_mean.shape[1]))
        yy = np.empty(len(blocks.y))
        for t, y in enumerate(blocks.y):
            y_centred = y.astype(np.float64) - y_mean[t]
            xy[t] = centred[0 if shared else t].T @ y_centred
            yy[t] = y_centred @ y_centred
        counts = np.array([y.shape[0] for y in blocks.y], dtype=np.int64)
        return cls(blocks.form, np.asarray(blocks.labels), counts, x_mean, y_mean, xx, xy, yy)

    def __add__(self, other: "GramStatistics") -> "GramStatistics":
        """The statistics of both chunks' rows together (exact, in any order of merging)."""
        if not isinstance(other, GramStatistics):
            return NotImplemented
        if self.form != other.form:
            raise ValueError(f"cannot merge statistics of the {self.form!r} form with those of the {other.form!r} form")
        if self.n_features != other.n_features:
            raise ValueError(f"cannot merge statistics of {self.n_features} features with those of {other.n_features}")
        if self.shared:
            if self.n_tasks != other.n_tasks:
                raise ValueError(
                    f"a shared design's chunks must have the same tasks: y has {other.n_tasks} columns here "
                    f"but {self.n_tasks} before"
                )
            return _merge_aligned(self, other, self.labels)
        if self.n_tasks == 0:
            return other
        if other.n_tasks == 0:
            return self
        # numpy would merge 0 and "0" as the same task (union1d casts numbers to strings): refuse instead.
        before, here = label_kinds(self.labels), label_kinds(other.labels)
        if before != here:
            raise ValueError(
                f"task labels of different types cannot be merged: this chunk's tasks are {', '.join(sorted(here))}, "
                f"those before {', '.join(sorted(before))}; use one type for every label"
            )
        labels = np.union1d(self.labels, other.labels)
        return _merge_aligned(self._aligned(labels), other._aligned(labels), labels)

    def _aligned(self, labels: np.ndarray) -> "GramStatistics":
        """The same statistics over ``labels`` (a sorted superset of ``self.labels``), zeros for absent tasks."""
        if np.array_equal(labels, self.labels):
            return self
        position, k = np.searchsorted(labels, self.labels), labels.size
        return GramStatistics(self.form, labels, *(scatter_rows(values, position, k) for values in (
            self.counts, self.x_mean, self.y_mean, self.xx, self.xy, self.yy)))

    def square_root_blocks(self, fit_intercept: bool) -> TaskBlocks:
        """Square-root data with the same quadratic loss per task (see the module docstring).

        With ``fit_intercept`` the centred statistics; without, the raw ones
        (:math:`S + n \\bar x \\bar x^\\top` etc.), so that the core fits
        without intercepts either way.
        """
        xx, xy, yy = self.xx, self.xy, self.yy
        if not fit_intercept:
            n = self.counts.astype(np.float64)
            n_x = n[:1] if self.shared else n
            xx = xx + n_x[:, None, None] * self.x_mean[:, :, None] * self.x_mean[:, None, :]
            xy = xy + (n * self.y_mean)[:, None] * self.x_mean
            yy = yy + n * self.y_mean**2
        if self.shared:
            root, Z, extra = square_root(xx[0], xy.T, yy)
            X = np.vstack((root, np.zeros((1, root.shape[1]))))
            Y = np.vstack((Z, extra[None, :]))
            return TaskBlocks([X] * self.n_tasks, [np.ascontiguousarray(Y[:, t]) for t in range(self.n_tasks)],
                              self.form, self.labels)
        X_blocks, y_blocks = [], []
        for t in range(self.n_tasks):
            root, z, extra = square_root(xx[t], xy[t][:, None], yy[t : t + 1])
            X_blocks.append(np.vstack((root, np.zeros((1, root.shape[1])))))
            y_blocks.append(np.append(z[:, 0], extra))
        return TaskBlocks(X_blocks, y_blocks, self.form, self.labels)

    def intercepts(self, coef: np.ndarray, fit_intercept: bool) -> np.ndarray:
        r"""The intercepts :math:`b_t = \bar y_t - \bar x_t^\top w_t` of the models ``coef`` (T, d)."""
        if not fit_intercept:
            return np.zeros(self.n_tasks, dtype=coef.dtype)
        return (self.y_mean - np.einsum("td,td->t", np.broadcast_to(self.x_mean, coef.shape), coef)).astype(
            coef.dtype, copy=False)


def _merge_aligned(a: GramStatistics, b: GramStatistics, labels: np.ndarray) -> GramStatistics:
    """Chan et al.'s pairwise merge of statistics over the same tasks (absent tasks: count 0)."""
    n_a, n_b = a.counts.astype(np.float64), b.counts.astype(np.float64)
    n = n_a + n_b
    # n_a n_b / n, and the weights of the means; 0 for a task absent from both.
    with np.errstate(invalid="ignore", divide="ignore"):
        cross = np.where(n > 0, n_a * n_b / n, 0.0)
        share_b = np.where(n > 0, n_b / n, 0.0)
    dy = b.y_mean - a.y_mean
    if a.shared:  # one design: its x statistics count every row once
        cross_x, share_x = cross[:1], share_b[:1]
    else:
        cross_x, share_x = cross, share_b
    dx = b.x_mean - a.x_mean
    x_mean = a.x_mean + share_x[:, None] * dx
    xx = a.xx + b.xx + cross_x[:, None, None] * dx[:, :, None] * dx[:, None, :]
    dx_task = np.broadcast_to(dx, a.xy.shape)
    xy = a.xy + b.xy + (cross * dy)[:, None] * dx_task
    yy = a.yy + b.yy + cross * dy**2
    y_mean = a.y_mean + share_b * dy
    return GramStatistics(a.form, labels, a.counts + b.counts, x_mean, y_mean, xx, xy, yy)


def scatter_rows(values: np.ndarray, position: np.ndarray, size: int) -> np.ndarray:
    """``values`` placed at rows ``position`` of a zero array with ``size`` rows."""
    out = np.zeros((size, *values.shape[1:]), dtype=values.dtype)
    out[position] = values
    return out


def square_root(S: np.ndarray, C: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""R (r, d), Z (r, m) and extra (m,) with RᵀR = S, RᵀZ = C and ‖Z_j‖² + extra_j² = q_j.

    Only the eigenvalues of S above d ε λ_max count (the others are round-off
    of a rank-deficient Gram; C has no component along them).
    """
    eigenvalues, vectors = np.linalg.eigh(S)
    largest = eigenvalues[-1] if eigenvalues.size else 0.0
    keep = eigenvalues > max(largest, 0.0) * S.shape[0] * np.finfo(np.float64).eps
    if not keep.any():  # no spread in x (e.g. one row, centred): the loss is the constant q
        return np.zeros((0, S.shape[0])), np.zeros((0, C.shape[1])), np.sqrt(np.maximum(q, 0.0))
    roots = np.sqrt(eigenvalues[keep])
    basis = vectors[:, keep]
    R = roots[:, None] * basis.T
    Z = (basis.T @ C) / roots[:, None]
    extra = np.sqrt(np.maximum(q - np.einsum("rm,rm->m", Z, Z), 0.0))
    return np.ascontiguousarray(R), Z, extra
