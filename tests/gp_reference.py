"""Dense reference for the multi-task Gaussian process (ICM / LCM), written from the maths.

Model. Samples are (x_i, t_i, y_i) in the long format: inputs X (N, d), task ids t_i in
{0, …, T−1}, targets y (N,). The latent functions have the LCM covariance

    Cov(f_t(x), f_s(x′)) = Σ_q B_q[t, s] k_q(x, x′),     B_q = L_q L_qᵀ + diag(κ_q),

(Q = 1 is the ICM), with L_q (T, r_q) free (r_q = 0 allowed: B_q diagonal) and κ_q > 0, the
input kernels k_q of :mod:`gp_reference_kernels` (unit variance: the scale is in B_q), and

    y_i = m_{t_i} + f_{t_i}(x_i) + ε_i,    ε_i ~ N(0, σ²_{t_i})   (one noise variance per task).

**Mean.** m (T,) holds per-task constant means and is a hyperparameter like the others (zero
gives the zero-mean GP on targets the caller centred). Keeping it in the likelihood, rather than
centring y per task beforehand, is what makes the GP's posterior mean equal to
``MultiTaskKernelRidge(fit_intercept=True)``: for fixed covariance parameters the LML is
maximised in m by the generalised least-squares means of :func:`gls_means`, which is exactly the
ridge's bordered intercept system (tested). The estimator can optimise m jointly (gradient below)
or profile it out by GLS.

**Hyperparameter vector** (what finite differences and optimisers see), in this order:
for each term q: L_q row by row (T r_q entries), log κ_q (T), θ_q the kernel's log length-scales;
then log σ² (T), then m (T). Positive quantities enter as logs (κ, σ², length-scales).

**Log marginal likelihood** with K = Σ_q (B_q)[t, t′] ∘ k_q(X, X) + diag(σ²_{t_i}) (N, N),
r = y − m_{t}, α = K⁻¹ r:

    log p(y) = −½ rᵀα − ½ log|K| − (N/2) log 2π,

    ∂ log p / ∂η = ½ tr((α αᵀ − K⁻¹) ∂K/∂η)          for every covariance parameter η,
    ∂ log p / ∂m_t = Σ_{i: t_i = t} α_i.

The covariance derivatives are built explicitly, one (N, N) matrix per parameter:
∂B/∂L[a, b] = e_a L[:, b]ᵀ + L[:, b] e_aᵀ; ∂B/∂ log κ_t = κ_t e_t e_tᵀ; ∂K/∂θ_j = B[t, t′] ∘ ∂k/∂θ_j;
∂K/∂ log σ²_t = σ²_t diag(1[t_i = t]).

**Prediction** at new points (x*_a, t*_a): with K_* = Cov(f(X*), f(X)) and K_** = Cov(f(X*), f(X*)),

    mean = m_{t*} + K_* α,     cov = K_** − K_* K⁻¹ K_*ᵀ    (+ diag(σ²_{t*}) for noisy targets y*).

**Relation to MultiTaskKernelRidge** (ICM, Q = 1). The ridge solves (M + α N Ω⁻¹) c = y with
M = B ∘ k(X, X) over task pairs and Ω the per-sample task weights ω_t (an array is used as given),
the GP K c = y − m. They coincide when α N / ω_t = σ²_t, i.e. for any α > 0 with
``task_weights = α N / σ²`` (uniform weights: α = σ²/N), ``task_kernel = B`` and the input kernel
k (``"rbf"`` with γ = 1/(2 l²), ARD by dividing the inputs by l); ``fit_intercept=False`` is m = 0,
``fit_intercept=True`` is m = :func:`gls_means`. Proven by tests/test_gp_reference.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from gp_reference_kernels import kernel_gradient, kernel_matrix


@dataclass(frozen=True)
class ICMTerm:
    """One ICM term B ⊗ k: input kernel name, L (T, r), log κ (T,), log length-scales θ."""

    kernel: str
    L: np.ndarray
    log_kappa: np.ndarray
    theta: np.ndarray

    @property
    def B(self) -> np.ndarray:
        """B = L Lᵀ + diag(κ), (T, T)."""
        return self.L @ self.L.T + np.diag(np.exp(self.log_kappa))

    @property
    def size(self) -> int:
        """Number of entries this term contributes to the hyperparameter vector."""
        return self.L.size + self.log_kappa.size + self.theta.size


@dataclass(frozen=True)
class GPHyper:
    """All hyperparameters: the ICM terms (Q of them: LCM), log σ² (T,) and the means m (T,)."""

    terms: tuple[ICMTerm, ...]
    log_noise: np.ndarray
    mean: np.ndarray

    @property
    def n_tasks(self) -> int:
        """T."""
        return self.log_noise.size

    def to_vector(self) -> np.ndarray:
        """Flatten in the documented order (module docstring)."""
        parts = [np.concatenate([q.L.ravel(), q.log_kappa, q.theta]) for q in self.terms]
        return np.concatenate(parts + [self.log_noise, self.mean])

    def from_vector(self, vector: np.ndarray) -> "GPHyper":
        """Hyperparameters of the same shapes (and kernels) as ``self``, filled from ``vector``."""
        vector = np.asarray(vector, dtype=float)
        T = self.n_tasks
        if vector.shape != (sum(q.size for q in self.terms) + 2 * T,):
            raise ValueError(f"vector has shape {vector.shape}, expected ({self.to_vector().size},)")
        terms, pos = [], 0
        for q in self.terms:
            L = vector[pos : pos + q.L.size].reshape(q.L.shape)
            pos += q.L.size
            log_kappa = vector[pos : pos + T]
            pos += T
            theta = vector[pos : pos + q.theta.size]
            pos += q.theta.size
            terms.append(ICMTerm(q.kernel, L, log_kappa, theta))
        return GPHyper(tuple(terms), vector[pos : pos + T], vector[pos + T :])


def random_hyper(rng: np.random.Generator, n_tasks: int, specs: list, *, mean_scale: float = 0.0) -> GPHyper:
    """Random hyperparameters for tests: ``specs`` is a list of (kernel, rank, n_theta) per term."""
    terms = tuple(
        ICMTerm(
            kernel,
            rng.normal(scale=0.7, size=(n_tasks, rank)),
            rng.uniform(-2.0, 0.0, size=n_tasks),
            rng.uniform(-0.5, 0.5, size=n_theta),
        )
        for kernel, rank, n_theta in specs
    )
    return GPHyper(terms, rng.uniform(-3.0, -1.0, size=n_tasks), mean_scale * rng.normal(size=n_tasks))


def _check_long(X: np.ndarray, tasks: np.ndarray, n_tasks: int) -> tuple[np.ndarray, np.ndarray]:
    """Float inputs (N, d) and integer task ids in [0, T), or a ValueError naming the argument."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    tasks = np.asarray(tasks)
    if tasks.shape != (X.shape[0],):
        raise ValueError(f"tasks must have shape ({X.shape[0]},), got {tasks.shape}")
    if tasks.dtype.kind not in "iu" or tasks.min() < 0 or tasks.max() >= n_tasks:
        raise ValueError(f"tasks must be integers in [0, {n_tasks})")
    return X, tasks


def latent_covariance(X1, tasks1, X2, tasks2, hyper: GPHyper) -> np.ndarray:
    """Cov(f_{t1}(x1), f_{t2}(x2)) = Σ_q B_q[t1, t2] k_q(x1, x2), shape (n1, n2)."""
    X1, tasks1 = _check_long(X1, tasks1, hyper.n_tasks)
    X2, tasks2 = _check_long(X2, tasks2, hyper.n_tasks)
    return sum(q.B[np.ix_(tasks1, tasks2)] * kernel_matrix(q.kernel, X1, X2, q.theta) for q in hyper.terms)


def training_covariance(X, tasks, hyper: GPHyper) -> np.ndarray:
    """K = latent covariance + diag(σ²_{t_i}), (N, N)."""
    return latent_covariance(X, tasks, X, tasks, hyper) + np.diag(np.exp(hyper.log_noise)[tasks])


def covariance_derivatives(X, tasks, hyper: GPHyper) -> list[np.ndarray]:
    """∂K/∂η for every covariance hyperparameter η, in vector order (the means are excluded)."""
    X, tasks = _check_long(X, tasks, hyper.n_tasks)
    T = hyper.n_tasks
    on_task = [np.diag((tasks == t).astype(float)) for t in range(T)]
    derivatives = []
    for q in hyper.terms:
        Kx = kernel_matrix(q.kernel, X, X, q.theta)
        for a in range(T):
            for b in range(q.L.shape[1]):
                dB = np.zeros((T, T))
                dB[a, :] += q.L[:, b]
                dB[:, a] += q.L[:, b]
                derivatives.append(dB[np.ix_(tasks, tasks)] * Kx)
        kappa = np.exp(q.log_kappa)
        derivatives += [kappa[t] * on_task[t] @ Kx @ on_task[t] for t in range(T)]
        B_pairs = q.B[np.ix_(tasks, tasks)]
        derivatives += [B_pairs * dKx for dKx in kernel_gradient(q.kernel, X, X, q.theta)]
    noise = np.exp(hyper.log_noise)
    derivatives += [noise[t] * on_task[t] for t in range(T)]
    return derivatives


def log_marginal_likelihood(X, tasks, y, hyper: GPHyper, eval_gradient: bool = False):
    """log p(y | X, tasks, η) and, with ``eval_gradient``, its gradient in vector order."""
    X, tasks = _check_long(X, tasks, hyper.n_tasks)
    y = np.asarray(y, dtype=float)
    if y.shape != tasks.shape:
        raise ValueError(f"y must have shape {tasks.shape}, got {y.shape}")
    K = training_covariance(X, tasks, hyper)
    factor = cho_factor(K, lower=True)
    residual = y - hyper.mean[tasks]
    alpha = cho_solve(factor, residual)
    log_det = 2.0 * np.log(np.diag(factor[0])).sum()
    value = -0.5 * residual @ alpha - 0.5 * log_det - 0.5 * y.size * np.log(2.0 * np.pi)
    if not eval_gradient:
        return value
    W = np.outer(alpha, alpha) - cho_solve(factor, np.eye(y.size))
    covariance_part = [0.5 * np.sum(W * dK) for dK in covariance_derivatives(X, tasks, hyper)]
    mean_part = np.bincount(tasks, weights=alpha, minlength=hyper.n_tasks)
    return value, np.concatenate([covariance_part, mean_part])


def gls_means(X, tasks, y, hyper: GPHyper) -> np.ndarray:
    """argmax_m log p(y): m = (Eᵀ K⁻¹ E)⁻¹ Eᵀ K⁻¹ y, E (N, T) the task indicators."""
    X, tasks = _check_long(X, tasks, hyper.n_tasks)
    E = (tasks[:, None] == np.arange(hyper.n_tasks)).astype(float)
    factor = cho_factor(training_covariance(X, tasks, hyper), lower=True)
    Kinv_E = cho_solve(factor, E)
    return np.linalg.solve(E.T @ Kinv_E, Kinv_E.T @ np.asarray(y, dtype=float))


def predict(X, tasks, y, hyper: GPHyper, X_new, tasks_new, *, include_noise: bool = False):
    """Posterior mean (m,) and covariance (m, m) at (X_new, tasks_new) (formulas: module docstring).

    ``include_noise`` adds diag(σ²_{t*}): the covariance of new noisy targets rather than of f.
    """
    X, tasks = _check_long(X, tasks, hyper.n_tasks)
    X_new, tasks_new = _check_long(X_new, tasks_new, hyper.n_tasks)
    factor = cho_factor(training_covariance(X, tasks, hyper), lower=True)
    alpha = cho_solve(factor, np.asarray(y, dtype=float) - hyper.mean[tasks])
    K_star = latent_covariance(X_new, tasks_new, X, tasks, hyper)
    mean = hyper.mean[tasks_new] + K_star @ alpha
    cov = latent_covariance(X_new, tasks_new, X_new, tasks_new, hyper) - K_star @ cho_solve(factor, K_star.T)
    if include_noise:
        cov = cov + np.diag(np.exp(hyper.log_noise)[tasks_new])
    return mean, cov


def shared_to_long(X, Y) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A shared design X (n, d), Y (n, T) in the long format, task-major (the order of B ⊗ K_x)."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    Y = np.asarray(Y, dtype=float)
    n, T = Y.shape
    return np.tile(X, (T, 1)), np.repeat(np.arange(T), n), Y.T.ravel()
