"""Independent dense references for the kernel-coupled least-squares objective.

Everything here is plain numpy on the data, written from the definitions in
the README ("The objective"), without any of the package's code paths:

    F(W, b) = sum_t s_t/2 ||y_t - X_t w_t - b_t||^2 + alpha/2 tr(W K W^T),
    s_t = omega_t / N,  N = sum_t n_t,

with coef (T, d) holding w_t in row t (so tr(W K W^T) with W = coef^T (d, T)).
"""

from __future__ import annotations

import numpy as np


def random_coupling(rng, n_tasks, kind="pd"):
    """A random symmetric coupling K (T, T).

    kind="pd": positive definite (smallest eigenvalue >= 0.2);
    kind="psd": positive semidefinite of rank T - 1 (the all-ones vector, and so
    the average of the task models, is left unpenalised, like a graph Laplacian).
    """
    A = rng.normal(size=(n_tasks, n_tasks))
    if kind == "pd":
        return A @ A.T / n_tasks + 0.2 * np.eye(n_tasks)
    if kind == "psd":
        centring = np.eye(n_tasks) - np.ones((n_tasks, n_tasks)) / n_tasks
        K = centring @ (A @ A.T / n_tasks + 0.2 * np.eye(n_tasks)) @ centring
        return (K + K.T) / 2
    raise ValueError(kind)


def random_problem(rng, n_per_task, n_features, *, coupling="random", shift=0.0):
    """Per-task data with the given (unequal) sizes and a coupling.

    coupling: "random" (positive definite), "psd" (singular, rank T - 1) or a matrix.
    ``shift`` moves the features away from zero so that centring matters.
    """
    Xs = [rng.normal(size=(n, n_features)) + shift for n in n_per_task]
    ys = [X @ rng.normal(size=n_features) + rng.normal(size=X.shape[0]) + 2.0 for X in Xs]
    T = len(n_per_task)
    if isinstance(coupling, str):
        K = random_coupling(rng, T, "pd" if coupling == "random" else coupling)
    else:
        K = np.asarray(coupling, dtype=float)
    return Xs, ys, K


def omega(task_weights, n_per_task):
    """omega_t for "uniform" (1), "balanced" (N / (T n_t)) or an array (as given)."""
    n = np.asarray(n_per_task, dtype=float)
    if isinstance(task_weights, str):
        if task_weights == "uniform":
            return np.ones_like(n)
        if task_weights == "balanced":
            return n.sum() / (n.size * n)
        raise ValueError(task_weights)
    return np.asarray(task_weights, dtype=float)


def objective(Xs, ys, coef, intercept, K, alpha, task_weights="uniform"):
    """F(W, b) = (1/N) sum_t omega_t sum_i 1/2 (y - X w_t - b_t)^2 + alpha/2 tr(W K W^T)."""
    n = [X.shape[0] for X in Xs]
    w = omega(task_weights, n)
    loss = sum(w[t] * 0.5 * np.sum((ys[t] - Xs[t] @ coef[t] - intercept[t]) ** 2) for t in range(len(Xs)))
    return loss / sum(n) + 0.5 * alpha * np.trace(coef.T @ K @ coef)


def objective_gradient(Xs, ys, coef, intercept, K, alpha, task_weights="uniform"):
    """(dF/dcoef (T, d), dF/dintercept (T,)) from the definition of F on the data."""
    n = [X.shape[0] for X in Xs]
    s = omega(task_weights, n) / sum(n)
    grad_coef = alpha * K @ coef
    grad_intercept = np.zeros(len(Xs))
    for t, (X, y) in enumerate(zip(Xs, ys)):
        residual = X @ coef[t] + intercept[t] - y
        grad_coef[t] += s[t] * X.T @ residual
        grad_intercept[t] = s[t] * residual.sum()
    return grad_coef, grad_intercept


def kronecker_system(Xs, ys, K, alpha, task_weights="uniform", fit_intercept=True):
    """H = blockdiag(A_t) + alpha K (x) I_d and c = vec(C), tasks stacked.

    A_t = s_t X~_t^T X~_t, c_t = s_t X~_t^T y~_t with X~, y~ centred per task
    when intercepts are fitted (they are unpenalised, so they are profiled out).
    """
    T, d = len(Xs), Xs[0].shape[1]
    n = [X.shape[0] for X in Xs]
    s = omega(task_weights, n) / sum(n)
    H = alpha * np.kron(K, np.eye(d))
    c = np.zeros(T * d)
    for t, (X, y) in enumerate(zip(Xs, ys)):
        if fit_intercept:
            X, y = X - X.mean(axis=0), y - y.mean()
        H[t * d : (t + 1) * d, t * d : (t + 1) * d] += s[t] * X.T @ X
        c[t * d : (t + 1) * d] = s[t] * X.T @ y
    return H, c


def dense_solution(Xs, ys, K, alpha, task_weights="uniform", fit_intercept=True):
    """Coefficients (T, d) and intercepts (T,) from a dense solve of the Kronecker system."""
    H, c = kronecker_system(Xs, ys, K, alpha, task_weights, fit_intercept)
    coef = np.linalg.solve(H, c).reshape(len(Xs), -1)
    if fit_intercept:
        intercept = np.array([y.mean() - X.mean(axis=0) @ w for X, y, w in zip(Xs, ys, coef)])
    else:
        intercept = np.zeros(len(Xs))
    return coef, intercept


def relative_kkt_residual(Xs, ys, coef, K, alpha, task_weights="uniform", fit_intercept=True):
    """||H vec(W) - c|| / ||c||: the documented stopping rule, at coef (T, d)."""
    H, c = kronecker_system(Xs, ys, K, alpha, task_weights, fit_intercept)
    return np.linalg.norm(H @ coef.ravel() - c) / np.linalg.norm(c)


def dual_kernel_predictions(Xs, ys, K, alpha, task_weights, X_test):
    """Predictions of every task on X_test from kernel ridge regression in the dual.

    Multi-task kernel k((x, s), (x', t)) = B_st <x, x'> with B = K^{-1}; the dual
    system is (M + N alpha Omega^{-1}) c = y with M[(s,i),(t,j)] = B_st <x_si, x_tj>
    and Omega the diagonal of per-sample task weights; f_t(x) = sum_(s,j) c_sj B_ts <x_sj, x>.
    """
    n = [X.shape[0] for X in Xs]
    N, T = sum(n), len(Xs)
    w = omega(task_weights, n)
    B = np.linalg.inv(K)
    X_all = np.vstack(Xs)
    task_of = np.repeat(np.arange(T), n)
    M = B[np.ix_(task_of, task_of)] * (X_all @ X_all.T)
    dual = np.linalg.solve(M + N * alpha * np.diag(1.0 / w[task_of]), np.concatenate(ys))
    return [(B[t, task_of] * (X_test @ X_all.T)) @ dual for t in range(T)]


def numerical_gradient(f, x, step=1e-6):
    """Central finite differences of a scalar function of an array."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[index] = step
        grad[index] = (f(x + e) - f(x - e)) / (2 * step)
    return grad


# --- Kernel-coupled binary classification (labels -1/+1) ---------------------
#
#   F(W, b) = sum_t s_t sum_i l(y_ti, <w_t, x_ti> + b_t) + alpha/2 tr(W K W^T),
#
# l logistic log(1 + exp(-y f)), squared hinge max(0, 1 - y f)^2, squared
# (f - y)^2 / 2 or ("huber", delta) (quadratic up to delta, linear beyond); s_t given
# directly (omega_t / N); without intercept b is fixed at 0. Dense X_t only
# (callers densify CSR blocks first).


def _loss_and_delta(loss):
    """("huber", delta) or a plain name -> (name, delta or None)."""
    if isinstance(loss, tuple):
        return loss
    return loss, None


def margin_loss(loss, y, f):
    """l(y_i, f_i) elementwise; ``loss`` a name or ("huber", delta)."""
    name, delta = _loss_and_delta(loss)
    if name == "logistic":
        return np.logaddexp(0.0, -y * f)
    if name == "squared_hinge":
        return np.maximum(0.0, 1.0 - y * f) ** 2
    if name == "squared":
        return 0.5 * (f - y) ** 2
    if name == "huber":
        r = np.abs(f - y)
        return np.where(r <= delta, 0.5 * r**2, delta * (r - 0.5 * delta))
    raise ValueError(loss)


def margin_loss_first(loss, y, f):
    """dl/df (y_i, f_i) elementwise."""
    name, delta = _loss_and_delta(loss)
    if name == "logistic":
        return -y * 0.5 * (1.0 - np.tanh(0.5 * y * f))  # -y sigma(-y f)
    if name == "squared_hinge":
        return -2.0 * y * np.maximum(0.0, 1.0 - y * f)
    if name == "squared":
        return f - y
    if name == "huber":
        return np.clip(f - y, -delta, delta)
    raise ValueError(loss)


def margin_loss_second(loss, y, f):
    """d2l/df2 (y_i, f_i): sigma(m) sigma(-m), or the generalised 2 [y f < 1], 1, [|f - y| <= delta]."""
    name, delta = _loss_and_delta(loss)
    if name == "logistic":
        return 0.25 * (1.0 - np.tanh(0.5 * y * f) ** 2)
    if name == "squared_hinge":
        return 2.0 * (y * f < 1.0)
    if name == "squared":
        return np.ones_like(f)
    if name == "huber":
        return (np.abs(f - y) <= delta).astype(float)
    raise ValueError(loss)


def linear_model_objective(Xs, ys, s, K, alpha, loss, coef, intercept, fit_intercept=True):
    """F(W, b) from its definition; coef (T, d), intercept (T,) (ignored without intercept)."""
    b = np.asarray(intercept, dtype=float) if fit_intercept else np.zeros(len(Xs))
    value = sum(s[t] * margin_loss(loss, ys[t], Xs[t] @ coef[t] + b[t]).sum() for t in range(len(Xs)))
    return value + 0.5 * alpha * np.sum(K * (coef @ coef.T))


def classification_gradient(Xs, ys, s, K, alpha, loss, coef, intercept, fit_intercept=True):
    """(dF/dcoef (T, d), dF/dintercept (T,)); the intercept part is 0 without intercept."""
    b = np.asarray(intercept, dtype=float) if fit_intercept else np.zeros(len(Xs))
    grad_coef = alpha * K @ coef
    grad_intercept = np.zeros(len(Xs))
    for t, (X, y) in enumerate(zip(Xs, ys)):
        first = s[t] * margin_loss_first(loss, y, X @ coef[t] + b[t])
        grad_coef[t] += X.T @ first
        if fit_intercept:
            grad_intercept[t] = first.sum()
    return grad_coef, grad_intercept


def classification_hessian(Xs, ys, s, K, alpha, loss, coef, intercept, fit_intercept=True):
    """Dense Hessian over x = [coef.ravel(); intercept] (the generalised one for the squared hinge)."""
    T, d = coef.shape
    b = np.asarray(intercept, dtype=float) if fit_intercept else np.zeros(T)
    H = np.zeros((T * d + T, T * d + T))
    H[: T * d, : T * d] = alpha * np.kron(K, np.eye(d))
    for t, (X, y) in enumerate(zip(Xs, ys)):
        D = s[t] * margin_loss_second(loss, y, X @ coef[t] + b[t])
        Xb = np.hstack([X, np.ones((X.shape[0], 1))]) if fit_intercept else X
        block = Xb.T @ (D[:, None] * Xb)
        rows = list(range(t * d, (t + 1) * d)) + ([T * d + t] if fit_intercept else [])
        H[np.ix_(rows, rows)] += block
    return H


def classification_solution(Xs, ys, s, K, alpha, loss, fit_intercept=True, newton_polish=True):
    """(coef (T, d), intercept (T,), gradient norm) minimising F.

    scipy L-BFGS-B on F written in numpy (tight gtol/ftol), then optionally a few
    damped Newton steps with the dense numpy Hessian above (the objective is
    strongly convex when alpha K is positive definite) to reach round-off.
    """
    from scipy.optimize import minimize

    T, d = len(Xs), Xs[0].shape[1]

    def split(x):
        return x[: T * d].reshape(T, d), (x[T * d :] if fit_intercept else np.zeros(T))

    def fun(x):
        coef, intercept = split(x)
        value = linear_model_objective(Xs, ys, s, K, alpha, loss, coef, intercept, fit_intercept)
        g_coef, g_intercept = classification_gradient(Xs, ys, s, K, alpha, loss, coef, intercept, fit_intercept)
        return value, np.concatenate([g_coef.ravel(), g_intercept if fit_intercept else []])

    size = T * d + (T if fit_intercept else 0)
    result = minimize(fun, np.zeros(size), jac=True, method="L-BFGS-B",
                      options={"maxiter": 100000, "maxfun": 200000, "gtol": 1e-14, "ftol": 1e-15, "maxcor": 30})
    x = result.x
    if newton_polish:
        # Damped Newton: a step is taken when it satisfies Armijo or, once value
        # differences are round-off, when it reduces the gradient norm.
        value, gradient = fun(x)
        for _ in range(100):
            if np.linalg.norm(gradient) < 1e-16:
                break
            coef, intercept = split(x)
            H = classification_hessian(Xs, ys, s, K, alpha, loss, coef, intercept, fit_intercept)
            if not fit_intercept:
                H = H[: T * d, : T * d]
            step = np.linalg.lstsq(H, -gradient, rcond=None)[0]
            tau = 1.0
            while tau > 1e-10:
                trial_value, trial_gradient = fun(x + tau * step)
                if trial_value <= value + 1e-4 * tau * (gradient @ step) or (
                    np.linalg.norm(trial_gradient) < np.linalg.norm(gradient)
                    and trial_value <= value + 1e-13 * abs(value)
                ):
                    break
                tau /= 2
            if tau <= 1e-10:
                break
            x, value, gradient = x + tau * step, trial_value, trial_gradient
    coef, intercept = split(x)
    return coef, np.array(intercept, dtype=float), float(np.linalg.norm(fun(x)[1]))
