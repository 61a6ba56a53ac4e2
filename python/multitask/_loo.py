r"""Exact leave-one-out predictions of the kernel-coupled least-squares model along a grid of alphas.

For the squared loss the fitted values are linear in the targets, and deleting
row i (its weight set to zero, every other weight unchanged) changes its
prediction to :math:`y_i - (y_i - \hat y_i) / (1 - H_{ii})` (Sherman-Morrison on
the normal equations), H the hat matrix. One eigendecomposition, independent
of alpha, gives :math:`H_{ii}` and :math:`\hat y` at every alpha:

* per-task designs (lists, long format; one row of one task left out): with
  G = blockdiag(s_t X̃_tᵀX̃_t) (dT, dT), X̃_t centred within its task, and
  :math:`M = (K^{-1/2} \otimes I) G (K^{-1/2} \otimes I) = V \Lambda V^\top`,
  the Hessian :math:`G + \alpha K \otimes I` has the inverse
  :math:`\tilde V (\Lambda + \alpha)^{-1} \tilde V^\top` with
  :math:`\tilde V = (K^{-1/2} \otimes I) V`. So with :math:`q_i = \tilde V_t^\top \tilde x_i`
  (the rows of :math:`\tilde V` of task t), :math:`H_{ii} = 1/n_t + s_t \sum_k q_{ik}^2 / (\lambda_k + \alpha)`
  (the 1/n_t is the unpenalised intercept's) and :math:`\hat y_i = \bar y_t + \sum_k q_{ik} g_k / (\lambda_k + \alpha)`,
  :math:`g = \tilde V^\top \operatorname{vec}(C)`. One symmetric eigendecomposition of
  size dT: worth it for moderate d T, and K must be positive definite. When K is
  c I plus a low-rank term (the mean-regularised coupling) the Woodbury identity
  gives the same numbers per alpha in O(T d³ + N d²) instead
  (:mod:`multitask._loo_low_rank`).
* a shared design (one row, i.e. one sample of every task, left out): in the
  eigenbasis U of :math:`S^{-1/2} K S^{-1/2}` (eigenvalues :math:`\kappa_k`) the
  problem separates into T ridge regressions of the rotated targets
  :math:`Y S^{1/2} U` on X with ridges :math:`\alpha\kappa_k`; each has the ridge
  leave-one-out shortcut with :math:`h_i(\lambda) = 1/n + \sum_j (\tilde x_i^\top p_j)^2 / (\sigma_j + \lambda)`
  from the eigendecomposition :math:`\tilde X^\top \tilde X = P \operatorname{diag}(\sigma) P^\top`,
  and the leave-one-out residuals rotate back by :math:`U^\top S^{-1/2}`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import linalg
from sklearn.metrics import mean_squared_error, r2_score

from ._cv_search import CVData, GridScores
from ._input import to_task_blocks
from ._loo_low_rank import low_rank_split, per_task_low_rank
from ._sparse_input import is_sparse
from ._task_weights import per_sample_weights
from .coupling import resolve_coupling

__all__ = ["leave_one_out_predictions", "leave_one_out_scores"]

# Largest d*T for which the per-task shortcut's (dT, dT) eigendecomposition is attempted.
MAX_DENSE_SIZE = 8000

_METRICS = {
    None: r2_score,
    "r2": r2_score,
    "neg_mean_squared_error": lambda y, prediction: -mean_squared_error(y, prediction),
}


def _check_supported(estimator: Any) -> None:
    if estimator.loss != "squared" or estimator._uses_sparsity_penalty():
        raise ValueError("cv='loo' (the exact leave-one-out shortcut) needs the squared loss and no l1, l21 or "
                         "trace-norm penalty: use k-fold cross-validation (cv=5) instead")


def leave_one_out_scores(estimator: Any, data: CVData, alphas: np.ndarray, scoring: Any) -> GridScores:
    """The leave-one-out score of every coupling strength in ``alphas`` (one "fold": all the rows)."""
    if not (scoring is None or (isinstance(scoring, str) and scoring in _METRICS)):
        raise ValueError(f"scoring with cv='loo' must be None, 'r2' or 'neg_mean_squared_error', got {scoring!r}")
    predictions = leave_one_out_predictions(estimator, data, alphas)
    y = np.asarray(data.y, dtype=np.float64)
    grid = GridScores.one_parameter("alpha", alphas, 1)
    metric = _METRICS[scoring]
    for j in range(alphas.size):
        grid.scores[0, j] = metric(y, predictions[j])
    return grid


def leave_one_out_predictions(estimator: Any, data: CVData, alphas: np.ndarray) -> np.ndarray:
    """Every row's prediction by the model fitted without it, at every alpha: (n_alphas,) + y.shape.

    Parameters
    ----------
    estimator : KernelCoupledRegressor
        Supplies the coupling, task weights and ``fit_intercept`` (squared loss, no structure penalty).
    data : CVData
        The long format or a shared design.
    alphas : ndarray of shape (n_alphas,)
        Coupling strengths, > 0.
    """
    _check_supported(estimator)
    blocks = to_task_blocks(data.X, data.y, data.tasks, accept_sparse=True)
    if any(is_sparse(block) for block in blocks.X):
        raise ValueError("cv='loo' needs dense X (the shortcut forms the Gram matrices): densify X or use cv=5")
    designs = [np.asarray(block, dtype=np.float64) for block in blocks.X]
    targets = [np.asarray(target, dtype=np.float64) for target in blocks.y]
    weights = per_sample_weights(estimator.task_weights, [block.shape[0] for block in designs])
    K = resolve_coupling(estimator.coupling, len(designs))
    if blocks.form in ("shared", "single"):
        Y = np.column_stack(targets)
        loo = _shared_design(designs[0], Y, weights, K, alphas, bool(estimator.fit_intercept))
        return loo[:, :, 0] if blocks.form == "single" else loo
    per_task = _per_task(designs, targets, weights, K, alphas, bool(estimator.fit_intercept))
    out = np.empty((alphas.size, sum(target.size for target in targets)))
    for rows, loo in zip(blocks.rows, per_task):
        out[:, rows] = loo
    return out


def _leave_one_out(y: np.ndarray, fitted: np.ndarray, leverage: np.ndarray) -> np.ndarray:
    """y - (y - fitted) / (1 - h); a leverage of 1 (a row that alone fixes its fit) has no finite answer."""
    slack = 1.0 - leverage
    if np.any(slack <= 1e-12):
        raise ValueError("cv='loo': a row has leverage 1 (e.g. a task with a single row, or fewer rows than "
                         "features and a tiny alpha), so leaving it out is undefined; use cv=5")
    return y - (y - fitted) / slack


def _shared_design(X: np.ndarray, Y: np.ndarray, weights: np.ndarray, K: np.ndarray, alphas: np.ndarray,
                   fit_intercept: bool) -> np.ndarray:
    n = X.shape[0]
    x_mean = X.mean(axis=0) if fit_intercept else np.zeros(X.shape[1])
    y_mean = Y.mean(axis=0) if fit_intercept else np.zeros(Y.shape[1])
    Xc, Yc = X - x_mean, Y - y_mean
    root = np.sqrt(weights)
    kappa, U = linalg.eigh(K / np.outer(root, root))
    sigma, P = linalg.eigh(Xc.T @ Xc)
    sigma = np.clip(sigma, 0.0, None)
    projections = Xc @ P  # (n, d): x~_i^T p_j
    rotated = Yc * root @ U  # (n, T) targets of the separated ridges
    coordinates = projections.T @ rotated  # (d, T): p_j^T X~^T y_k
    base = 1.0 / n if fit_intercept else 0.0
    out = np.empty((alphas.size,) + Y.shape)
    for a, alpha in enumerate(alphas):
        inverse = 1.0 / (sigma[:, None] + alpha * kappa[None, :])  # (d, T)
        if not np.all(np.isfinite(inverse)) or np.any(inverse <= 0):
            raise ValueError(f"cv='loo': the system at alpha={alpha:g} is singular (the coupling is singular)")
        fitted = projections @ (coordinates * inverse)  # (n, T) rotated fitted values (centred)
        leverage = base + (projections**2) @ inverse  # (n, T)
        loo_rotated = _leave_one_out(rotated, fitted, leverage)
        out[a] = (loo_rotated @ U.T) / root + y_mean
    return out


def _inverse_square_root(K: np.ndarray) -> np.ndarray:
    values, vectors = linalg.eigh(K)
    if not values.min() > 1e-12 * max(values.max(), 0.0):
        raise ValueError("cv='loo' on per-task designs needs a positive definite coupling (the shortcut uses "
                         "K^(-1/2)); add a ridge to it (e.g. graph_laplacian(adjacency, ridge=0.1)) or use cv=5")
    return (vectors / np.sqrt(values)) @ vectors.T


def _per_task(designs: list, targets: list, weights: np.ndarray, K: np.ndarray, alphas: np.ndarray,
              fit_intercept: bool) -> list[np.ndarray]:
    T, d = len(designs), designs[0].shape[1]
    centred, means, grams, rhs = [], [], np.empty((T, d, d)), np.empty((T, d))
    for t, (X, y) in enumerate(zip(designs, targets)):
        x_mean = X.mean(axis=0) if fit_intercept else np.zeros(d)
        y_mean = y.mean() if fit_intercept else 0.0
        Xc = X - x_mean
        centred.append(Xc)
        means.append(y_mean)
        grams[t] = weights[t] * (Xc.T @ Xc)
        rhs[t] = weights[t] * (Xc.T @ (y - y_mean))
    split = low_rank_split(K, d)
    fits = None if split is None else per_task_low_rank(split, centred, means, targets, grams, rhs, weights, alphas,
                                                        fit_intercept)
    if fits is None:
        fits = _per_task_general(centred, means, targets, grams, rhs, weights, K, alphas, fit_intercept)
    return [_leave_one_out(y[:, None], fitted, leverage).T for y, (fitted, leverage) in zip(targets, fits)]


def _per_task_general(centred: list, means: list, targets: list, grams: np.ndarray, rhs: np.ndarray,
                      weights: np.ndarray, K: np.ndarray, alphas: np.ndarray,
                      fit_intercept: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    """(fitted, leverage) per task, (n_t, n_alphas) each, from the (dT, dT) eigendecomposition of M."""
    T, d = rhs.shape
    if d * T > MAX_DENSE_SIZE:
        raise ValueError(f"cv='loo' on per-task designs eigendecomposes a (d*T, d*T) matrix unless the coupling is "
                         f"c I + low rank; d*T = {d * T} is more than {MAX_DENSE_SIZE}: use cv=5")
    root = _inverse_square_root(K)  # K^(-1/2), symmetric
    # M = (K^-1/2 (x) I) blockdiag(G_t) (K^-1/2 (x) I): block (u, v) is sum_t K^-1/2_ut K^-1/2_tv G_t.
    mixing = (root[:, None, :] * root[None, :, :]).reshape(T * T, T)
    M = (mixing @ grams.reshape(T, d * d)).reshape(T, T, d, d).transpose(0, 2, 1, 3).reshape(d * T, d * T)
    lam, V = linalg.eigh(M)
    lam = np.clip(lam, 0.0, None)
    # V~ = (K^-1/2 (x) I) V, as (T, d, dT): the rows of task t.
    V_tilde = (root @ V.reshape(T, d * d * T)).reshape(T, d, d * T)
    g = np.einsum("tjk,tj->k", V_tilde, rhs)
    inverse = 1.0 / (lam[:, None] + alphas[None, :])  # (dT, n_alphas)
    fits = []
    for t, (Xc, y) in enumerate(zip(centred, targets)):
        Q = Xc @ V_tilde[t]  # (n_t, dT)
        fitted = means[t] + Q @ (g[:, None] * inverse)  # (n_t, n_alphas)
        leverage = (1.0 / y.size if fit_intercept else 0.0) + weights[t] * ((Q**2) @ inverse)
        fits.append((fitted, leverage))
    return fits
