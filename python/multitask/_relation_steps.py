"""The closed-form relation steps of the estimators that learn the task relationships.

With the models W = [w_1 ... w_T] (d, T) fixed, both learned-relation
objectives are minimised over the T x T relation matrix in closed form, from the
eigendecomposition of the T x T matrix W^T W (``coef @ coef.T`` with scikit-learn's
``coef_`` of shape (T, d)):

* task covariance (MTRL, Zhang & Yeung 2010):
  ``min tr(Omega^{-1} (W^T W + eps I))`` over ``Omega > 0, tr Omega = 1`` is
  ``Omega = S / tr S`` with ``S = (W^T W + eps I)^{1/2}``, value ``(tr S)^2``;
* clustered tasks (CMTL, the convex relaxation of Jacob, Bach & Vert 2008):
  ``min tr(W (eta I + M)^{-1} W^T)`` over ``tr M = k, 0 <= M <= I`` is
  ``M = U diag(g) U^T`` in the eigenbasis ``W^T W = U diag(s) U^T``, where g
  minimises ``sum_i s_i / (eta + g_i)`` over ``0 <= g_i <= 1, sum_i g_i = k``.
  Its KKT conditions give ``g_i = clip(theta sqrt(s_i) - eta, 0, 1)``, with the
  one theta >= 0 at which the g sum to k (the sum is continuous, piecewise
  linear and non-decreasing in theta: found exactly from its breakpoints).

Each step returns the relation in its eigenbasis, from which the coupling of the
next model step (``K = U diag(kappa) U^T``) and the penalty's value follow exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Relation", "covariance_step", "cluster_step", "initial_relation", "spectral_clusters"]


@dataclass(frozen=True)
class Relation:
    """A T x T relation matrix R = U diag(values) U^T and the coupling it induces.

    Attributes
    ----------
    vectors : ndarray of shape (T, T)
        Orthonormal eigenvectors U (columns).
    values : ndarray of shape (T,)
        Eigenvalues of the relation matrix (Omega's or M's).
    coupling_values : ndarray of shape (T,)
        Eigenvalues kappa of the model step's coupling K = U diag(kappa) U^T
        (with alpha = 1 in the kernel-coupled objective).
    penalty_constant : float
        The part of the penalty that does not depend on W (MTRL's
        ``beta/2 * eps * tr Omega^{-1}``; 0 for CMTL).
    """

    vectors: NDArray[np.float64]
    values: NDArray[np.float64]
    coupling_values: NDArray[np.float64]
    penalty_constant: float

    @property
    def matrix(self) -> NDArray[np.float64]:
        """The relation matrix U diag(values) U^T, exactly symmetric."""
        return _symmetric(self.vectors, self.values)

    @property
    def coupling(self) -> NDArray[np.float64]:
        """The coupling K of the model step, exactly symmetric."""
        return _symmetric(self.vectors, self.coupling_values)


def _symmetric(vectors: NDArray[np.float64], values: NDArray[np.float64]) -> NDArray[np.float64]:
    matrix = (vectors * values) @ vectors.T
    return (matrix + matrix.T) / 2


def _task_gram(coef: NDArray) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Eigenvalues (clipped at 0) and eigenvectors of W^T W = coef coef^T (T, T)."""
    coef = np.asarray(coef, dtype=np.float64)
    gram = coef @ coef.T
    values, vectors = np.linalg.eigh((gram + gram.T) / 2)
    return np.maximum(values, 0.0), vectors


def covariance_step(coef: NDArray, *, alpha: float, beta: float, eps: float) -> Relation:
    """MTRL's task-covariance step: Omega = (W^T W + eps I)^{1/2} / tr(.).

    The coupling of the next model step is ``K = alpha I + beta Omega^{-1}``
    (kernel-coupled objective with alpha = 1: ``1/2 tr(W K W^T)`` is
    ``alpha/2 ||W||^2 + beta/2 tr(W Omega^{-1} W^T)``).
    """
    values, vectors = _task_gram(coef)
    return covariance_relation(vectors, np.sqrt(values + eps), alpha=alpha, beta=beta, eps=eps)


def covariance_relation(vectors: NDArray, roots: NDArray, *, alpha: float, beta: float, eps: float) -> Relation:
    """The Relation of Omega = U diag(roots / sum(roots)) U^T (roots > 0)."""
    omega = roots / roots.sum()
    inverse = 1.0 / omega
    return Relation(vectors, omega, alpha + beta * inverse, 0.5 * beta * eps * float(inverse.sum()))


def cluster_weights(singular_values: NDArray, eta: float, n_clusters: float) -> NDArray[np.float64]:
    """g minimising sum_i s_i / (eta + g_i) over 0 <= g <= 1, sum g = k (``singular_values`` = sqrt(s)).

    ``g_i = clip(theta r_i - eta, 0, 1)`` with theta chosen (exactly, see
    :func:`_exact_theta`) so that the g sum to k. When fewer than k of the r_i are positive, those get
    g_i = 1 and the rest of the budget is spread evenly over the others (their
    terms are 0 whatever their g).
    """
    r = np.asarray(singular_values, dtype=np.float64)
    positive = r > 0
    n_positive = int(positive.sum())
    if n_positive <= n_clusters:
        g = np.where(positive, 1.0, 0.0)
        if n_positive < r.size:
            g[~positive] = (n_clusters - n_positive) / (r.size - n_positive)
        return g
    theta = _exact_theta(r[positive], eta, n_clusters)
    g = np.clip(theta * r - eta, 0.0, 1.0)
    # theta is exact up to round-off; put the remainder of the sum on the free entries.
    free = (g > 0) & (g < 1)
    if free.any():
        g[free] += (n_clusters - g.sum()) / free.sum()
    return np.clip(g, 0.0, 1.0)


def _exact_theta(r: NDArray[np.float64], eta: float, n_clusters: float) -> float:
    """The theta with sum_i clip(theta r_i - eta, 0, 1) = k, for r_i > 0 and k < len(r).

    The sum S(theta) is continuous, piecewise linear and non-decreasing: entry i
    starts rising at theta = eta / r_i and saturates at (1 + eta) / r_i. Between
    consecutive breakpoints S = theta A - eta B + C (A: sum of the rising r_i,
    B: their count, C: the saturated count), so sorting the 2T breakpoints and
    accumulating A, B, C gives S at every breakpoint, and theta on the crossing
    segment in closed form: O(T log T), exact.
    """
    points = np.concatenate((eta / r, (1.0 + eta) / r))
    rising = np.concatenate((r, -r))  # change of A at each breakpoint
    counting = np.concatenate((np.ones_like(r), -np.ones_like(r)))  # change of B
    saturating = np.concatenate((np.zeros_like(r), np.ones_like(r)))  # change of C
    order = np.argsort(points, kind="stable")
    points = points[order]
    # A, B, C just before each breakpoint (after the ones before it).
    A = np.concatenate(([0.0], np.cumsum(rising[order])[:-1]))
    B = np.concatenate(([0.0], np.cumsum(counting[order])[:-1]))
    C = np.concatenate(([0.0], np.cumsum(saturating[order])[:-1]))
    sums = points * A - eta * B + C  # S at every breakpoint (S is continuous)
    j = int(np.searchsorted(sums, n_clusters, side="left"))  # first breakpoint with S >= k (exists: S(end) = T > k)
    if A[j] <= 0:  # S reaches k exactly at this breakpoint (round-off can leave no rising entry before it)
        return float(points[j])
    return float((n_clusters - C[j] + eta * B[j]) / A[j])


def cluster_step(coef: NDArray, *, alpha: float, beta: float, n_clusters: int) -> Relation:
    """CMTL's cluster step: M = U diag(g) U^T (see :func:`cluster_weights`).

    With eta = beta / alpha and c = alpha eta (1 + eta), the coupling of the next
    model step is ``K = 2 c (eta I + M)^{-1}`` (kernel-coupled objective with
    alpha = 1: ``1/2 tr(W K W^T) = c tr(W (eta I + M)^{-1} W^T)``).
    """
    values, vectors = _task_gram(coef)
    eta = beta / alpha
    g = cluster_weights(np.sqrt(values), eta, n_clusters)
    return cluster_relation(vectors, g, alpha=alpha, beta=beta)


def cluster_relation(vectors: NDArray, g: NDArray, *, alpha: float, beta: float) -> Relation:
    """The Relation of M = U diag(g) U^T."""
    eta = beta / alpha
    scale = 2.0 * alpha * eta * (1.0 + eta)
    return Relation(vectors, np.asarray(g, dtype=np.float64), scale / (eta + g), 0.0)


def initial_relation(relation: str, n_tasks: int, *, alpha: float, beta: float, eps: float,
                     n_clusters: int) -> Relation:
    """The relation before the first model step: Omega = I / T, or M = (k / T) I (feasible, no task preferred)."""
    identity = np.eye(n_tasks)
    if relation == "covariance":
        return covariance_relation(identity, np.ones(n_tasks), alpha=alpha, beta=beta, eps=eps)
    return cluster_relation(identity, np.full(n_tasks, n_clusters / n_tasks), alpha=alpha, beta=beta)


def relation_from_matrix(relation: str, matrix: NDArray, *, alpha: float, beta: float, eps: float) -> Relation:
    """The Relation of a previous fit's Omega or M (for warm starts)."""
    values, vectors = np.linalg.eigh(np.asarray(matrix, dtype=np.float64))
    if relation == "covariance":
        return covariance_relation(vectors, np.maximum(values, np.finfo(float).tiny), alpha=alpha, beta=beta,
                                   eps=eps)
    return cluster_relation(vectors, np.clip(values, 0.0, 1.0), alpha=alpha, beta=beta)


def penalty(coef: NDArray, relation: Relation) -> float:
    """The relation penalty at the models: 1/2 tr(W K W^T) + the constant part, K = U diag(kappa) U^T.

    ``1/2 sum_i kappa_i ||W u_i||^2`` with ``W u_i = coef^T u_i``.
    """
    projected = np.asarray(coef, dtype=np.float64).T @ relation.vectors  # (d, T): column i is W u_i
    return 0.5 * float(np.sum(relation.coupling_values * np.sum(projected * projected, axis=0))) \
        + relation.penalty_constant


def correlation(covariance: NDArray) -> NDArray[np.float64]:
    """The correlation matrix of a positive semidefinite matrix (unit diagonal; 0 where a variance is 0)."""
    scale = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    safe = np.where(scale > 0, scale, 1.0)
    result = covariance / np.outer(safe, safe)
    result[scale == 0, :] = 0.0
    result[:, scale == 0] = 0.0
    np.fill_diagonal(result, 1.0)
    return (result + result.T) / 2


def spectral_clusters(relation: Relation, n_clusters: int, random_state: int | None) -> NDArray[np.intp]:
    """Cluster labels 0..k-1 from M: k-means on the rows of its k leading eigenvectors.

    For the ideal M = E (E^T E)^{-1} E^T of a cluster indicator E (T, k), those
    rows are equal within a cluster and orthogonal between clusters.
    """
    import warnings

    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning

    leading = relation.vectors[:, np.argsort(relation.values)[::-1][:n_clusters]]
    if n_clusters == 1:
        return np.zeros(leading.shape[0], dtype=np.intp)
    with warnings.catch_warnings():
        # Fewer distinct rows than k (tasks with identical models): k-means says so; the labels are still right.
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = KMeans(n_clusters=n_clusters, n_init=10, random_state=random_state).fit(leading).labels_
    # Number the clusters in order of their first task, so the labels do not depend on k-means' numbering.
    _, first = np.unique(labels, return_index=True)
    renumber = np.empty(n_clusters, dtype=np.intp)
    renumber[labels[np.sort(first)]] = np.arange(first.size)
    return renumber[labels]
