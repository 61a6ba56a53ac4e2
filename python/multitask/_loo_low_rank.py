r"""Leave-one-out of per-task designs when the coupling is c I plus a low-rank term (Woodbury).

With :math:`K = cI + U \operatorname{diag}(\sigma) U^\top` (U (T, r) orthonormal; the
mean-regularised coupling has r = 1) the Hessian of the coupled system is
:math:`H = D + \alpha \tilde U (\operatorname{diag}(\sigma) \otimes I) \tilde U^\top` with
:math:`D = \operatorname{blockdiag}(A_t + \alpha c I)`, :math:`A_t = s_t \tilde X_t^\top \tilde X_t`,
:math:`\tilde U = U \otimes I_d`. By the Woodbury identity

.. math:: H^{-1} = D^{-1} - D^{-1} \tilde U S^{-1} \tilde U^\top D^{-1}, \quad
          S = \operatorname{diag}(1/(\alpha\sigma)) \otimes I_d + \tilde U^\top D^{-1} \tilde U,

so the diagonal block of task t is :math:`[H^{-1}]_{tt} = D_t^{-1} - D_t^{-1} B_t D_t^{-1}` with
:math:`B_t = (u_t^\top \otimes I) S^{-1} (u_t \otimes I)`, u_t the row t of U. Each
:math:`A_t = Q_t \operatorname{diag}(\lambda_t) Q_t^\top` is diagonalised once; an alpha then costs
O(T d³ + N d² + (rd)³) for the coefficients and every leverage
:math:`h_i = 1/n_t + s_t \tilde x_i^\top [H^{-1}]_{tt} \tilde x_i`, against the (dT)² eigendecomposition
of the general route (:mod:`multitask._loo`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import linalg

__all__ = ["LowRankSplit", "low_rank_split", "per_task_low_rank"]

# The capacitance S is (r d, r d); beyond this the general route is the better one.
MAX_CAPACITANCE = 1024
# A capacitance this ill-conditioned (K nearly singular: c + sigma_k near 0) would lose the
# leave-one-out predictions to cancellation: the general route is taken instead.
MAX_CAPACITANCE_CONDITION = 1e8


class LowRankSplit(NamedTuple):
    """K = c I + U diag(sigma) U^T."""

    c: float
    U: np.ndarray  # (T, r) orthonormal
    sigma: np.ndarray  # (r,)


def low_rank_split(K: np.ndarray, n_features: int) -> LowRankSplit | None:
    """The split of K when its most repeated eigenvalue c is positive and r (the rest) is small.

    Eigenvalues within 64 T eps max|kappa| of each other count as equal (the C++
    exact solver's rule, ``solve_low_rank_coupling.hpp``); None unless c > 0,
    2 r < T and r d <= MAX_CAPACITANCE.
    """
    T = K.shape[0]
    if T < 2:
        return None
    kappa, vectors = linalg.eigh(K)  # ascending
    tolerance = 64.0 * T * np.finfo(np.float64).eps * np.abs(kappa).max()
    best_first, best_count = 0, 1
    last = 0
    for first in range(T):
        last = max(last, first)
        while last + 1 < T and kappa[last + 1] - kappa[first] <= tolerance:
            last += 1
        if last - first + 1 > best_count:
            best_first, best_count = first, last - first + 1
    r = T - best_count
    c = float(kappa[best_first:best_first + best_count].mean())
    if not c > 0 or 2 * r >= T or r * n_features > MAX_CAPACITANCE:
        return None
    others = np.r_[0:best_first, best_first + best_count:T]
    return LowRankSplit(c, vectors[:, others], kappa[others] - c)


def per_task_low_rank(split: LowRankSplit, centred: list, means: list, targets: list, grams: np.ndarray,
                      rhs: np.ndarray, weights: np.ndarray, alphas: np.ndarray,
                      fit_intercept: bool) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """(fitted (n_t, n_alphas), leverage (n_t, n_alphas)) per task, or None if a capacitance is ill-conditioned.

    ``grams`` (T, d, d) holds A_t = s_t X~_t^T X~_t and ``rhs`` (T, d) c_t = s_t X~_t^T y~_t.
    """
    T, d = rhs.shape
    r = split.sigma.size
    lam, Q = np.linalg.eigh(grams)  # (T, d), (T, d, d)
    lam = np.clip(lam, 0.0, None)
    # Per row of every task: its coordinates in the task's eigenbasis, once.
    projected = [Xc @ Q[t] for t, Xc in enumerate(centred)]
    rhs_projected = np.einsum("tji,tj->ti", Q, rhs)  # Q_t^T c_t
    pairs = np.einsum("tk,tl->tkl", split.U, split.U)  # u_t u_t^T (T, r, r)
    fitted = [np.empty((Xc.shape[0], alphas.size)) for Xc in centred]
    leverage = [np.empty((Xc.shape[0], alphas.size)) for Xc in centred]
    for a, alpha in enumerate(alphas):
        inverse = 1.0 / (lam + alpha * split.c)  # (T, d): D_t^{-1} in the eigenbasis
        D_inverse = (Q * inverse[:, None, :]) @ Q.transpose(0, 2, 1)  # (T, d, d)
        if r:
            S = np.einsum("tkl,tij->kilj", pairs, D_inverse).reshape(r * d, r * d)
            S[np.diag_indices(r * d)] += np.repeat(1.0 / (alpha * split.sigma), d)
            if np.linalg.cond(S) > MAX_CAPACITANCE_CONDITION:
                return None
            S_inverse = np.linalg.inv(S).reshape(r, d, r, d)
            B = np.einsum("tkl,kilj->tij", pairs, S_inverse)  # (T, d, d)
        # Coefficients: w = D^{-1} c - D^{-1} U~ S^{-1} U~^T D^{-1} c.
        first = np.einsum("tij,tj->ti", Q, inverse * rhs_projected)  # D^{-1} c  (T, d)
        W = first
        if r:
            Z = split.U.T @ first  # U~^T vec(D^{-1} c) as (r, d)
            Y = (S_inverse.reshape(r * d, r * d) @ Z.reshape(-1)).reshape(r, d)
            W = first - np.einsum("tij,tj->ti", D_inverse, split.U @ Y)
        for t, (Xc, Z_t) in enumerate(zip(centred, projected)):
            fitted[t][:, a] = means[t] + Xc @ W[t]
            quadratic = (Z_t**2) @ inverse[t]  # x~^T D_t^{-1} x~
            if r:
                V = Xc @ D_inverse[t]  # rows D_t^{-1} x~_i
                quadratic = quadratic - ((V @ B[t]) * V).sum(axis=1)
            leverage[t][:, a] = (1.0 / targets[t].size if fit_intercept else 0.0) + weights[t] * quadratic
    return list(zip(fitted, leverage))
