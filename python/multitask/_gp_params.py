r"""Hyperparameters of the multi-task Gaussian process and their vector form.

The latent covariance is the linear model of coregionalisation (LCM; one term is
the intrinsic model, ICM)

.. math::

    \operatorname{Cov}(f_t(x), f_s(x')) = \sum_q B_q[t, s]\, k_q(x, x'),
    \qquad B_q = L_q L_q^\top + \operatorname{diag}(\kappa_q),

with unit-variance input kernels :math:`k_q` (the scale lives in :math:`B_q`), a
noise variance :math:`\sigma^2_t` and a constant mean :math:`m_t` per task.

The **full vector**, in the order the core's gradients use: for each term q,
:math:`L_q` row by row (T r_q), :math:`\log\kappa_q` (T), the log length-scales
:math:`\theta_q` (d with ARD, 1 isotropic, 0 for a plain linear kernel); then
:math:`\log\sigma^2` (T); then m (T). Positive quantities enter as logs, so the
optimiser works on an unconstrained scale (bounds aside).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TermSpec", "GPSpec", "GPParams"]


@dataclass(frozen=True)
class TermSpec:
    """Shape of one ICM term: input kernel name, rank of L and number of log length-scales."""

    kernel: str
    rank: int
    n_theta: int

    def size(self, n_tasks: int) -> int:
        """Entries of the full vector for this term."""
        return n_tasks * self.rank + n_tasks + self.n_theta


@dataclass(frozen=True)
class GPSpec:
    """Shapes of every hyperparameter: the terms and the number of tasks."""

    terms: tuple[TermSpec, ...]
    n_tasks: int

    @property
    def n_covariance(self) -> int:
        """Entries of the covariance part (every term), before log σ² and m."""
        return sum(term.size(self.n_tasks) for term in self.terms)

    @property
    def size(self) -> int:
        """Length of the full vector."""
        return self.n_covariance + 2 * self.n_tasks

    def mean_slice(self) -> slice:
        return slice(self.size - self.n_tasks, self.size)

    def noise_slice(self) -> slice:
        return slice(self.n_covariance, self.n_covariance + self.n_tasks)

    def unpack(self, vector: np.ndarray) -> "GPParams":
        """The hyperparameters held by a full vector."""
        vector = np.asarray(vector, dtype=np.float64)
        if vector.shape != (self.size,):
            raise ValueError(f"theta has shape {vector.shape}, expected ({self.size},)")
        T, position = self.n_tasks, 0
        L, log_kappa, theta = [], [], []
        for term in self.terms:
            L.append(vector[position:position + T * term.rank].reshape(T, term.rank))
            position += T * term.rank
            log_kappa.append(vector[position:position + T])
            position += T
            theta.append(vector[position:position + term.n_theta])
            position += term.n_theta
        return GPParams(self, tuple(L), tuple(log_kappa), tuple(theta), vector[self.noise_slice()],
                        vector[self.mean_slice()])


@dataclass(frozen=True)
class GPParams:
    """One value of every hyperparameter (see the module docstring)."""

    spec: GPSpec
    L: tuple[np.ndarray, ...]
    log_kappa: tuple[np.ndarray, ...]
    theta: tuple[np.ndarray, ...]
    log_noise: np.ndarray
    mean: np.ndarray

    def pack(self) -> np.ndarray:
        """The full vector."""
        parts = [np.concatenate([L.ravel(), log_kappa, theta])
                 for L, log_kappa, theta in zip(self.L, self.log_kappa, self.theta)]
        return np.concatenate(parts + [self.log_noise, self.mean])

    @property
    def task_kernels(self) -> np.ndarray:
        """B_q = L_q L_qᵀ + diag(κ_q) for every term, shape (Q, T, T)."""
        return np.stack([L @ L.T + np.diag(np.exp(log_kappa)) for L, log_kappa in zip(self.L, self.log_kappa)])

    def core_terms(self) -> dict:
        """The covariance as the core's keyword arguments (kernels, L, log_kappa, theta)."""
        return {
            "kernels": [term.kernel for term in self.spec.terms],
            "L": [np.ascontiguousarray(L) for L in self.L],
            "log_kappa": list(self.log_kappa),
            "theta": list(self.theta),
        }
