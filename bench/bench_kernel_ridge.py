"""Multi-task kernel ridge (issue 5, benchmarks 1 and 2).

1. T=4 tasks, each observed at its own inputs in R^2, RBF input kernel with a fixed
   lengthscale l (gamma = 1 / (2 l^2)), a fixed positive definite task kernel B and
   noise variance s2, N = 2000 and 5000 samples. Fit + predict of the mean at 500
   test inputs per task. The GP posterior mean with kernel B_st k(x, x') and noise s2
   is kernel ridge with alpha N = s2 (uniform weights, no intercept), so every route
   solves (M + s2 I) c = y:
     * ours: MultiTaskKernelRidge(solver="auto", i.e. the parallel in-place Cholesky);
     * numpy: M from scipy cdist + exp, scipy.linalg.cho_factor/cho_solve (LAPACK), on M as it is
       (C order: cho_factor copies it) and on its F-ordered transpose (factorised in place);
     * scikit-learn KernelRidge(kernel="precomputed", alpha=s2) on the same M;
     * GPy's ICM model (GPCoregionalizedRegression, B = W W^T + diag(kappa) fixed,
       lengthscale and noise fixed): model construction (its exact inference) and
       the posterior mean K_* woodbury_vector; only if GPy is installed.
   Target: ours <= 1.0 x the fastest, predictions equal to 1e-8 (relative to max |f|).
2. Shared design, T=10 tasks at the same n inputs (N = 10 n), RBF, a PSD task kernel:
   solver="kronecker" against a numpy dense solve of the N x N system (cho_factor).
   At the issue's n = 2000 the dense system needs 3.2 GB and minutes; it is timed
   once (not the median of repeats). Target: >= 50 x faster, same predictions.

Run: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 python bench/bench_kernel_ridge.py --threads 1
(--quick: tiny sizes, a smoke test of the script).
"""

from __future__ import annotations

import time

import numpy as np
import scipy.linalg
from scipy.spatial.distance import cdist
from sklearn.kernel_ridge import KernelRidge

from common import blas_threads, interleaved_times, main, markdown_table, ms, mt, verdict

try:
    import GPy
except ImportError:  # GPy is optional
    GPy = None

T1, LENGTHSCALE, NOISE = 4, 0.5, 0.1
GAMMA = 1.0 / (2 * LENGTHSCALE**2)
T2 = 10


def task_kernel(T: int, seed: int) -> np.ndarray:
    """A positive definite B with unit diagonal and correlations up to about 0.8."""
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(T, 2))
    B = A @ A.T + 0.2 * np.eye(T)
    scale = 1 / np.sqrt(np.diag(B))
    return B * np.outer(scale, scale)


def own_inputs_data(N: int, n_test: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    n_t = N // T1
    Xs = [rng.uniform(-2, 2, size=(n_t, 2)) for _ in range(T1)]
    ys = [np.sin(2 * X[:, 0]) * np.cos(X[:, 1]) + 0.3 * t + 0.1 * rng.normal(size=n_t) for t, X in enumerate(Xs)]
    tests = [rng.uniform(-2, 2, size=(n_test, 2)) for _ in range(T1)]
    return Xs, ys, tests


def rbf(X1, X2):
    return np.exp(-GAMMA * cdist(X1, X2, "sqeuclidean"))


def multitask_gram(Xs, B):
    X_all = np.vstack(Xs)
    task_of = np.repeat(np.arange(len(Xs)), [X.shape[0] for X in Xs])
    return B[np.ix_(task_of, task_of)] * rbf(X_all, X_all), X_all, task_of


def test_gram(tests, X_all, task_of, B):
    """Rows (task t, test x) of the multi-task kernel against every training sample."""
    return np.vstack([B[t, task_of] * rbf(X, X_all) for t, X in enumerate(tests)])


def numpy_route(Xs, ys, tests, B):
    M, X_all, task_of = multitask_gram(Xs, B)
    M[np.diag_indices_from(M)] += NOISE
    factor = scipy.linalg.cho_factor(M, lower=True, overwrite_a=True, check_finite=False)
    c = scipy.linalg.cho_solve(factor, np.concatenate(ys), check_finite=False)
    return test_gram(tests, X_all, task_of, B) @ c


def numpy_view_route(Xs, ys, tests, B):
    """As numpy_route, with LAPACK factorising M in place: M is symmetric, so its transpose is the
    same matrix in Fortran order, which potrf takes without the N x N copy that cho_factor makes
    of a C-ordered array (the fastest honest numpy route)."""
    M, X_all, task_of = multitask_gram(Xs, B)
    M[np.diag_indices_from(M)] += NOISE
    factor = scipy.linalg.cho_factor(M.T, lower=True, overwrite_a=True, check_finite=False)
    c = scipy.linalg.cho_solve(factor, np.concatenate(ys), check_finite=False)
    return test_gram(tests, X_all, task_of, B) @ c


def sklearn_route(Xs, ys, tests, B):
    M, X_all, task_of = multitask_gram(Xs, B)
    model = KernelRidge(alpha=NOISE, kernel="precomputed").fit(M, np.concatenate(ys))
    return model.predict(test_gram(tests, X_all, task_of, B))


def gpy_route(Xs, ys, tests, B):
    """GPy's ICM with every parameter fixed; the posterior mean K_* woodbury_vector."""
    kappa = 0.05  # B = W W^T + diag(kappa): GPy's parametrisation of the coregionalisation matrix
    W = np.linalg.cholesky(B - kappa * np.eye(len(B)))
    kernel = GPy.util.multioutput.ICM(input_dim=2, num_outputs=len(Xs), kernel=GPy.kern.RBF(2, lengthscale=LENGTHSCALE),
                                      W_rank=len(B))
    kernel.B.W = W
    kernel.B.kappa = np.full(len(B), kappa)
    model = GPy.models.GPCoregionalizedRegression(Xs, [y[:, None] for y in ys], kernel=kernel)
    # Every task's Gaussian noise variance (re-runs the inference once). GPy's exact inference adds a
    # jitter of 1e-8 to it (ExactGaussianInference: diag.add(Ky, variance + 1e-8)): compensated here.
    model.mixed_noise[:] = NOISE - 1e-8
    X_test = np.vstack([np.column_stack([X, np.full(X.shape[0], t)]) for t, X in enumerate(tests)])
    return (model.kern.K(X_test, model.X) @ model.posterior.woodbury_vector)[:, 0]


def ours_route(Xs, ys, tests, B, threads):
    model = mt.MultiTaskKernelRidge(kernel="rbf", gamma=GAMMA, task_kernel=B, alpha=NOISE / sum(map(len, ys)),
                                    fit_intercept=False, n_jobs=threads).fit(Xs, ys)
    return np.concatenate(model.predict(tests)), model.solver_


def workload_1(N: int, n_test: int, repeats: int, threads: int) -> tuple[str, float, str, str]:
    Xs, ys, tests = own_inputs_data(N, n_test)
    B = task_kernel(T1, 1)
    routes = {"numpy (cdist + cho_factor)": numpy_route,
              "numpy (cdist + cho_factor in place on the F-ordered view, no copy)": numpy_view_route,
              "scikit-learn KernelRidge(precomputed)": sklearn_route}
    if GPy is not None:
        routes["GPy ICM (fixed parameters)"] = gpy_route
    with blas_threads(threads):
        runs = {name: (lambda route=route: route(Xs, ys, tests, B)) for name, route in routes.items()}
        runs["ours"] = lambda: ours_route(Xs, ys, tests, B, threads)
        times = interleaved_times(runs, repeats, budget=10.0)
        reference = numpy_route(Xs, ys, tests, B)
        scale = np.abs(reference).max()
        differences = {name: np.abs(route(Xs, ys, tests, B) - reference).max() / scale for name, route in routes.items()}
        ours_prediction, solver = ours_route(Xs, ys, tests, B, threads)
    ours = times.pop("ours")
    difference = np.abs(ours_prediction - reference).max() / scale
    fastest_name = min(times, key=times.get)
    ratio = ours / times[fastest_name]
    status = verdict(ratio, 1.0) if difference < 1e-8 else "MISS (predictions differ)"
    rows = [[name, ms(t), f"{t / times[fastest_name]:.2f}", "", f"{differences[name]:.1e}"] for name, t in times.items()]
    rows.append([f"**multitask** (`{solver}`)", ms(ours), f"{ratio:.2f}", f"**{status}**", f"{difference:.1e}"])
    table = markdown_table(["method", "fit + predict (ms)", "× fastest peer", "target ≤ 1.0", "max abs difference / max abs f"],
                           rows)
    text = f"#### K1: N = {N} (T = {T1}, {N // T1} inputs per task, {n_test} test inputs per task)\n\n{table}\n"
    return text, ratio, status, fastest_name


def shared_data(n: int, seed: int = 2):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 2))
    Y = np.column_stack([np.sin(2 * X[:, 0] + t) * np.cos(X[:, 1]) + 0.1 * rng.normal(size=n) for t in range(T2)])
    return X, Y, rng.uniform(-2, 2, size=(200, 2))


def dense_shared_route(X, Y, X_test, B):
    """numpy: the (nT, nT) system B (x) K_x + s2 I, task-major, by cho_factor."""
    Kx = rbf(X, X)
    M = np.kron(B, Kx)
    M[np.diag_indices_from(M)] += NOISE
    factor = scipy.linalg.cho_factor(M, lower=True, overwrite_a=True, check_finite=False)
    del M
    C = scipy.linalg.cho_solve(factor, Y.T.ravel(), check_finite=False).reshape(T2, -1).T
    return rbf(X_test, X) @ C @ B


def workload_2(n: int, repeats: int, threads: int) -> tuple[str, float, str]:
    X, Y, X_test = shared_data(n)
    B = task_kernel(T2, 3)
    N = n * T2
    model = mt.MultiTaskKernelRidge(kernel="rbf", gamma=GAMMA, task_kernel=B, alpha=NOISE / N, fit_intercept=False,
                                    solver="kronecker", n_jobs=threads)
    with blas_threads(threads):
        ours = interleaved_times({"ours": lambda: model.fit(X, Y).predict(X_test)}, repeats)["ours"]
        prediction = model.fit(X, Y).predict(X_test)
        # The dense reference: once (it takes minutes at the full size).
        start = time.perf_counter()
        reference = dense_shared_route(X, Y, X_test, B)
        dense = time.perf_counter() - start
    difference = np.abs(prediction - reference).max() / np.abs(reference).max()
    speedup = dense / ours
    status = verdict(speedup, 50.0, at_most=False) if difference < 1e-8 else "MISS (predictions differ)"
    table = markdown_table(
        ["method", "fit + predict (ms)", "speed-up", "target ≥ 50", "max abs difference / max abs f"],
        [[f"numpy dense cho_factor of the ({N}, {N}) system (timed once)", ms(dense), "1", "", "0"],
         ["**multitask** `kronecker`", ms(ours), f"{speedup:.0f}", f"**{status}**", f"{difference:.1e}"]],
    )
    text = f"#### K2: shared design: T = {T2} tasks at the same n = {n} inputs (N = {N})\n\n{table}\n"
    return text, speedup, status


def run(repeats: int = 5, threads: int = 1, quick: bool = False) -> dict:
    """Runs workloads 1 and 2: {"section": markdown, "summary_rows": [...], "status": "..."}."""
    sizes = [200] if quick else [2000, 5000]
    parts, statuses, summary_rows = [], [], []
    for N in sizes:
        text, ratio, status, fastest = workload_1(N, 50 if quick else 500, repeats, threads)
        parts.append(text)
        statuses.append(status)
        summary_rows.append([f"K1. kernel ridge, T={T1} tasks at own inputs in R², RBF, N={N}: fit + predict vs "
                             "fastest of numpy Cholesky / scikit-learn `KernelRidge` / GPy ICM",
                             f"{ratio:.2f} × ({fastest})", "≤ 1.0 ×", f"**{status}**"])
    n2 = 60 if quick else 2000
    text, speedup, status = workload_2(n2, repeats, threads)
    parts.append(text)
    statuses.append(status)
    summary_rows.append([f"K2. shared design, T={T2} tasks at the same n={n2} inputs: `kronecker` vs numpy dense "
                         "solve of the N × N system", f"{speedup:.0f} × faster", "≥ 50 × faster", f"**{status}**"])
    gpy = f"GPy {GPy.__version__}" if GPy is not None else "GPy not installed (its column is missing)"
    section = (
        f"### K1, K2. Multi-task kernel ridge (threads: {threads}; {gpy})\n\nRBF input kernel, lengthscale "
        f"{LENGTHSCALE} (gamma = {GAMMA}), noise variance {NOISE} (alpha = noise / N), fixed task kernel B, no "
        "intercepts.\n\n" + "\n".join(parts)
    )
    return {"section": section, "summary_rows": summary_rows, "status": ", ".join(statuses)}


if __name__ == "__main__":
    main(run, __doc__)
