"""Plain-numpy references for MALSAR's ``Least_CMTL`` problem (see ``bench.problems.cmtl``).

Two algorithms, both on the per-task statistics G_t = X_t^T X_t, c_t = X_t^T y_t, y_t^T y_t (formed inside
the timed call, from the raw lists: one pass over the data; every later loss value and gradient costs
O(T d^2), which is what a careful numpy user does on School, n_t ~ 110 >> d = 28):

* ``malsar_apg``: MALSAR's own algorithm, ported line by line from ``Least_CMTL.m`` (MALSAR 1.1):
  accelerated projected gradient on (W, M) jointly. From the search point (Ws, Ms) = (1 + a) Z - a Z_old
  it takes the step Wz = Ws - grad_W / gamma and Mz = projection of Ms - grad_M / gamma onto
  {tr M = k, 0 <= M <= I} (eigendecomposition, then the eigenvalues projected onto the capped simplex),
  with the Armijo-Goldstein backtracking of MALSAR: gamma starts at 1 and is doubled until
  F(z) <= F(s) + <dz, grad> + gamma/2 ||dz||^2 (never decreased). W0 = 0 and M0 = k/T I (MALSAR's
  default ``opts.init = 2``); it stops when |F_i - F_{i-1}| <= tol F_{i-1} (``opts.tFlag = 1``, from the
  third iteration) or when a step moves (W, M) by less than machine epsilon. One deliberate change:
  MALSAR's M gradient is written ``-c * (W'*W / IM / IM)``, i.e. -c W^T W (eta I + M)^{-2}, which is
  not symmetric (its ``eig`` then works on a non-symmetric matrix); here it is the true gradient
  -c (eta I + M)^{-1} W^T W (eta I + M)^{-1}, and the projection uses ``eigh``.
* ``alternating``: block coordinate descent, the algorithm of our estimator written in numpy: the
  W step minimises F(., M) for fixed M by the same accelerated gradient with backtracking (warm-started
  from the previous W, restarted momentum, gamma carried over), to a relative change of F of
  ``inner_tol`` or ``inner_max_iter`` steps; the M step is the closed form ``cluster_step``. It starts
  from W0 = 0, M0 = k/T I (the W step first) and stops when the relative change of F between outer
  iterations is <= tol.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..problems.cmtl import capped_levels, cluster_step, coupling_constants

EPS = np.finfo(np.float64).eps


@dataclass
class CMTLResult:
    """A reference solve: W (d, T), M (T, T), the objective after every (outer) iteration, counts, times."""

    W: np.ndarray
    M: np.ndarray
    objectives: list
    n_iter: int
    steps: int = 0  # gradient steps (function evaluations of the line search: ``evaluations``)
    evaluations: int = 0
    seconds: dict = field(default_factory=dict)  # where the time went (``alternating`` only)
    stop: str = ""


class _Statistics:
    """The per-task statistics of the squared loss, and its value and gradient from them."""

    def __init__(self, Xs: list, ys: list):
        self.G = np.stack([X.T @ X for X in Xs])  # (T, d, d)
        self.C = np.stack([X.T @ y for X, y in zip(Xs, ys)], axis=1)  # (d, T)
        self.yy = float(sum(y @ y for y in ys))
        self.T, self.d = len(Xs), Xs[0].shape[1]

    def products(self, W: np.ndarray) -> np.ndarray:
        """(d, T): column t = G_t w_t."""
        return np.matmul(self.G, W.T[:, :, None])[:, :, 0].T

    def loss(self, W: np.ndarray, GW: np.ndarray | None = None) -> float:
        """sum_t 1/2 ||X_t w_t - y_t||^2 = 1/2 sum_t (w_t^T G_t w_t - 2 w_t^T c_t + y_t^T y_t)."""
        GW = self.products(W) if GW is None else GW
        return 0.5 * float(np.sum(W * GW) - 2.0 * np.sum(W * self.C) + self.yy)


def _capped_simplex(a: np.ndarray, k: float) -> np.ndarray:
    """Euclidean projection of a onto {x : sum x = k, 0 <= x <= 1} (MALSAR's ``bsa_ihb`` with b = u = 1).

    x = clip(a - tau, 0, 1), sum x = k: h(tau) is piecewise linear and non-increasing with breaks at
    a_i and a_i - 1, evaluated at every break and interpolated (exact).
    """
    breaks = np.unique(np.concatenate([a, a - 1.0]))
    levels = np.clip(a[None, :] - breaks[:, None], 0.0, 1.0).sum(axis=1)  # non-increasing
    j = int(np.searchsorted(-levels, -k))  # levels[j - 1] > k >= levels[j]
    if j == 0:
        tau = breaks[0]
    else:
        lo, hi = breaks[j - 1], breaks[j]
        tau = lo + (levels[j - 1] - k) * (hi - lo) / (levels[j - 1] - levels[j])
    return np.clip(a - tau, 0.0, 1.0)


def _project(M: np.ndarray, k: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MALSAR's ``singular_projection``: M projected onto {tr M = k, 0 <= M <= I}; (M, P, sigma)."""
    values, P = np.linalg.eigh(0.5 * (M + M.T))
    sigma = _capped_simplex(values, k)
    return (P * sigma) @ P.T, P, sigma


def malsar_apg(Xs: list, ys: list, rho1: float, rho2: float, k: int, tol: float = 1e-4,
               max_iter: int = 1000) -> CMTLResult:
    """MALSAR's ``Least_CMTL`` (module docstring); ``tol``/``max_iter`` are its ``opts.tol``/``opts.maxIter``."""
    stats = _Statistics(Xs, ys)
    T, d = stats.T, stats.d
    eta, c = coupling_constants(rho1, rho2)
    eye = np.eye(T)
    Wz = Wz_old = np.zeros((d, T))
    Mz = Mz_old = eye * (k / T)
    t, t_old, gamma = 1.0, 0.0, 1.0
    objectives: list = []
    steps = evaluations = 0
    stop = "max_iter"
    for iteration in range(max_iter):
        a = (t_old - 1.0) / t
        Ws = (1.0 + a) * Wz - a * Wz_old
        Ms = (1.0 + a) * Mz - a * Mz_old
        # function value and gradients at the search point
        Z = np.linalg.solve(eta * eye + Ms, Ws.T)  # (eta I + M)^{-1} W^T, (T, d)
        GW = stats.products(Ws)
        grad_W = GW - stats.C + 2.0 * c * Z.T
        grad_M = -c * (Z @ Z.T)
        Fs = stats.loss(Ws, GW) + c * float(np.sum(Ws.T * Z))
        steps += 1
        while True:
            Wzp = Ws - grad_W / gamma
            Mzp, P, sigma = _project(Ms - grad_M / gamma, k)
            Zp = (P / (eta + sigma)) @ (P.T @ Wzp.T)  # funVal_eval: the inverse from the eigenvectors
            Fzp = stats.loss(Wzp) + c * float(np.sum(Wzp.T * Zp))
            evaluations += 1
            dW, dM = Wzp - Ws, Mzp - Ms
            norms = float(np.sum(dW * dW)) + float(np.sum(dM * dM))
            Fzp_gamma = Fs + float(np.sum(dW * grad_W)) + float(np.sum(dM * grad_M)) + 0.5 * gamma * norms
            if 0.5 * norms <= EPS:
                stop = "small step"
                break
            if Fzp <= Fzp_gamma:
                break
            gamma *= 2.0
        Wz_old, Wz, Mz_old, Mz = Wz, Wzp, Mz, Mzp
        objectives.append(Fzp)
        if stop == "small step":
            break
        if iteration >= 2 and abs(objectives[-1] - objectives[-2]) <= tol * objectives[-2]:
            stop = "tol"
            break
        t_old, t = t, 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
    return CMTLResult(Wz, Mz, objectives, len(objectives), steps, evaluations, stop=stop)


def _w_step(stats: _Statistics, W: np.ndarray, inverse: np.ndarray, c: float, gamma: float, inner_tol: float,
            inner_max_iter: int) -> tuple[np.ndarray, float, float, int, int]:
    """Accelerated gradient with MALSAR's backtracking on f(W) = loss(W) + c tr(W S^{-1} W^T), S^{-1} given.

    Returns (W, f(W), gamma, steps, function evaluations).
    """
    def value_and_products(V: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        GV, VS = stats.products(V), V @ inverse
        return stats.loss(V, GV) + c * float(np.sum(V * VS)), GV, VS

    Wz = Wz_old = W
    f_old, _, _ = value_and_products(W)
    t, t_old = 1.0, 0.0
    steps = evaluations = 0
    for iteration in range(inner_max_iter):
        a = (t_old - 1.0) / t
        Ws = (1.0 + a) * Wz - a * Wz_old
        Fs, GW, WS = value_and_products(Ws)
        grad = GW - stats.C + 2.0 * c * WS
        steps += 1
        while True:
            Wzp = Ws - grad / gamma
            Fzp, _, _ = value_and_products(Wzp)
            evaluations += 1
            dW = Wzp - Ws
            norm = float(np.sum(dW * dW))
            if 0.5 * norm <= EPS or Fzp <= Fs + float(np.sum(dW * grad)) + 0.5 * gamma * norm:
                break
            gamma *= 2.0
        Wz_old, Wz = Wz, Wzp
        if abs(Fzp - f_old) <= inner_tol * abs(f_old) or 0.5 * norm <= EPS:
            f_old = Fzp
            break
        f_old = Fzp
        t_old, t = t, 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
    return Wz, f_old, gamma, steps, evaluations


def alternating(Xs: list, ys: list, rho1: float, rho2: float, k: int, tol: float = 1e-8, max_iter: int = 1000,
                inner_tol: float | None = None, inner_max_iter: int = 10_000) -> CMTLResult:
    """Block coordinate descent on (W, M) (module docstring); ``inner_tol`` defaults to ``tol / 100``."""
    started = time.perf_counter()
    stats = _Statistics(Xs, ys)
    seconds = dict(statistics=time.perf_counter() - started, w_steps=0.0, m_steps=0.0)
    T, d = stats.T, stats.d
    eta, c = coupling_constants(rho1, rho2)
    inner_tol = tol / 100 if inner_tol is None else inner_tol
    W, M = np.zeros((d, T)), np.eye(T) * (k / T)
    inverse = np.eye(T) / (eta + k / T)
    gamma, objectives, steps, evaluations, stop = 1.0, [], 0, 0, "max_iter"
    for _ in range(max_iter):
        clock = time.perf_counter()
        W, _, gamma, n_steps, n_evaluations = _w_step(stats, W, inverse, c, gamma, inner_tol, inner_max_iter)
        steps, evaluations = steps + n_steps, evaluations + n_evaluations
        between = time.perf_counter()
        M, U, g = cluster_step(W, eta, k)
        inverse = (U / (eta + g)) @ U.T
        objectives.append(stats.loss(W) + c * float(np.sum(W * (W @ inverse))))
        done = time.perf_counter()
        seconds["w_steps"] += between - clock
        seconds["m_steps"] += done - between
        if len(objectives) >= 2 and abs(objectives[-1] - objectives[-2]) <= tol * abs(objectives[-2]):
            stop = "tol"
            break
    return CMTLResult(W, M, objectives, len(objectives), steps, evaluations, seconds, stop)


__all__ = ["CMTLResult", "alternating", "malsar_apg"]
