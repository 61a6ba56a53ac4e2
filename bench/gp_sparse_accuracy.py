"""Accuracy of the sparse (VFE) multi-task GP against the exact model, both fitted by ML-II.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 PYTHONPATH=python python bench/gp_sparse_accuracy.py \
        [--cases 2000x3] [--inducing 50 100 200 400] [--max-iter 200] [--out bench/gp_sparse_accuracy.md]

Data (per case N x d, seed ``--seed``): T = 4 tasks with their own inputs (N/T each, uniform on
[-2, 2]^d), f drawn from the ICM prior B ⊗ k with a planted rank-2 task kernel B = L Lᵀ + 0.05 I,
rbf ARD length-scales uniform on [0.6, 1.5], per-task noise variances uniform on [0.02, 0.1] and
per-task means; 250 test points per task from the same draw.

Model: rbf ARD, rank 2, per-task noise and constant means, the same as the planted one.
Both fits run scipy's L-BFGS-B (``--max-iter`` iterations, scipy's default tolerances) over the
covariance and noise hyperparameters from the same start (L = 0.3 · fixed normal draw,
κ = 0.5 var(y), length-scales = the input std, noise = 0.1 var(y)), the per-task means profiled
out (their GLS maximiser at every evaluation, as the estimator's exact routes do): the exact one
on log p(y) (the estimator's "dense" route), the sparse one on Titsias' bound F
(:func:`multitask._gp_sparse.vfe_objective` with ``profile_mean=True``) with the inducing inputs Z
chosen once by :func:`multitask._gp_sparse.choose_inducing_inputs` (m rows, M = m T inducing
variables) and kept fixed.

Reported per (case, m): the test RMSE of the posterior mean (against the noisy test targets)
minus the exact model's; the mean over the test points of |std_sparse − std_exact| of the
latent f (each model at its own fitted hyperparameters), also relative to the mean exact std, and
the signed mean (std_sparse − std_exact) relative to the mean exact std; the noise ratio (the
geometric mean over the tasks of σ²_sparse / σ²_exact);
the bound gap log p(y) − F at the sparse fit's hyperparameters (the KL divergence from q to the
exact posterior); log p(y) at the exact fit minus log p(y) at the sparse fit (how far the sparse
hyperparameters are from the exact optimum, judged by the exact model); the number of
objective evaluations and the CPU seconds of the fit. One thread; CPU time (process_time).

The covariance functions are the estimator's (the core's, one thread), so the CPU times are
those of MultiTaskGaussianProcessRegressor's fits up to the start and the restarts.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.optimize import minimize

from multitask._gp_data import GPData
from multitask._gp_likelihood import CoreCovariance, Likelihood
from multitask._gp_params import GPSpec, TermSpec
from multitask._gp_sparse import VFEPosterior, choose_inducing_inputs, vfe_objective

T, RANK = 4, 2


def make_data(rng: np.random.Generator, n_train: int, d: int, n_test_per_task: int = 250):
    """Train and test sets drawn jointly from the planted model (module docstring)."""
    spec = GPSpec((TermSpec("rbf", RANK, d),), T)
    planted = np.concatenate([rng.normal(size=T * RANK), np.full(T, np.log(0.05)),
                              np.log(rng.uniform(0.6, 1.5, size=d)), np.zeros(2 * T)])
    tasks = np.concatenate([np.repeat(np.arange(T), n_train // T), np.repeat(np.arange(T), n_test_per_task)])
    X = rng.uniform(-2.0, 2.0, size=(tasks.size, d))
    K = CoreCovariance(spec.unpack(planted), n_threads=1).covariance(X, tasks, X, tasks)
    K[np.diag_indices_from(K)] += 1e-8 * np.trace(K) / K.shape[0]
    f = np.tril(cho_factor(K, lower=True, overwrite_a=True)[0]) @ rng.normal(size=tasks.size)
    noise, means = rng.uniform(0.02, 0.1, size=T), rng.normal(size=T)
    y = means[tasks] + f + np.sqrt(noise[tasks]) * rng.normal(size=tasks.size)
    planted[spec.noise_slice()], planted[spec.mean_slice()] = np.log(noise), means
    n = (n_train // T) * T
    return spec, GPData(X[:n], tasks[:n], y[:n], T), (X[n:], tasks[n:], y[n:]), planted


def start_vector(data: GPData) -> np.ndarray:
    """The common start (module docstring), in the order of the full vector."""
    var = data.y.var()
    L = 0.3 * np.random.default_rng(12345).normal(size=T * RANK)
    means = np.array([data.y[data.tasks == t].mean() for t in range(T)])
    return np.concatenate([L, np.full(T, np.log(0.5 * var)), np.log(data.X.std(axis=0)),
                           np.full(T, np.log(0.1 * var)), means])


def maximise(objective, start: np.ndarray, max_iter: int):
    """L-BFGS-B on −objective over the covariance and noise hyperparameters (the means are
    profiled); returns (argmax as a full vector with the means used, max, evaluations, CPU s)."""
    n_free, count, means = start.size - T, [0], {}

    def negative(sub):
        count[0] += 1
        value, gradient, mean = objective(np.concatenate([sub, np.zeros(T)]))
        means[sub.tobytes()] = mean
        return -value, -gradient[:n_free]

    begin = time.process_time()
    result = minimize(negative, start[:n_free], jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
    cpu = time.process_time() - begin
    print(f"  L-BFGS-B: nit={result.nit} {result.message}", flush=True)
    if result.x.tobytes() not in means:
        negative(result.x)
    return np.concatenate([result.x, means[result.x.tobytes()]]), -result.fun, count[0], cpu


def exact_posterior(functions: CoreCovariance, log_noise, mean, data: GPData, test):
    """Exact latent posterior mean and std at the test points."""
    Xs, ts, _ = test
    K = functions.covariance(data.X, data.tasks, data.X, data.tasks)
    K[np.diag_indices_from(K)] += np.exp(log_noise)[data.tasks]
    factor = cho_factor(K, lower=True, overwrite_a=True)
    K_s = functions.covariance(Xs, ts, data.X, data.tasks)
    mu = mean[ts] + K_s @ cho_solve(factor, data.y - mean[data.tasks])
    var = functions.diagonal(Xs, ts) - np.sum(K_s.T * cho_solve(factor, K_s.T), axis=0)
    return mu, np.sqrt(np.maximum(var, 0.0))


def run_case(n_train: int, d: int, inducing: list[int], max_iter: int, seed: int, jitter: float) -> list[dict]:
    rng = np.random.default_rng(seed)
    spec, data, test, _ = make_data(rng, n_train, d)
    start = start_vector(data)

    def at(vector):
        params = spec.unpack(vector)
        return CoreCovariance(params, n_threads=1), params.log_noise, params.mean

    dense = Likelihood(spec, data, "dense", n_threads=1)  # at given means
    profiled = Likelihood(spec, data, "dense", n_threads=1, profile_mean=True)

    def exact(vector):
        out = profiled(vector)
        return out.value, out.gradient, out.mean

    theta_exact, lml_exact, n_exact, time_exact = maximise(exact, start, max_iter)
    mu_exact, std_exact = exact_posterior(*at(theta_exact), data, test)
    rmse_exact = np.sqrt(np.mean((mu_exact - test[2]) ** 2))
    rows = [dict(N=n_train, d=d, m="exact", rmse=rmse_exact, evals=n_exact, cpu=time_exact, lml=lml_exact)]
    print(f"N={n_train} d={d} exact: log p={lml_exact:.2f} rmse={rmse_exact:.4f} "
          f"evals={n_exact} cpu={time_exact:.1f}s", flush=True)
    for m in inducing:
        Z = choose_inducing_inputs(data.X, m, random_state=seed)

        def sparse(vector, Z=Z):
            functions, log_noise, _ = at(vector)
            return vfe_objective(functions, data.X, data.tasks, data.y, Z, log_noise, None, eval_gradient=True,
                                 jitter=jitter, profile_mean=True)

        theta, bound, n_evals, cpu = maximise(sparse, start, max_iter)
        functions, log_noise, mean = at(theta)
        posterior = VFEPosterior.from_data(functions, data.X, data.tasks, data.y, Z, log_noise, mean, jitter=jitter)
        mu, var = posterior.predict(*test[:2])
        std = np.sqrt(var)
        lml_at_sparse = dense(theta, eval_gradient=False).value
        rmse = np.sqrt(np.mean((mu - test[2]) ** 2))
        row = dict(N=n_train, d=d, m=m, rmse=rmse, d_rmse=rmse - rmse_exact,
                   d_std=np.mean(np.abs(std - std_exact)), rel_std=np.mean(np.abs(std - std_exact)) / std_exact.mean(),
                   signed_std=np.mean(std - std_exact) / std_exact.mean(),
                   noise_ratio=np.exp(np.mean(theta[spec.noise_slice()] - theta_exact[spec.noise_slice()])),
                   gap=lml_at_sparse - bound, lml_loss=lml_exact - lml_at_sparse, evals=n_evals, cpu=cpu)
        rows.append(row)
        print(f"N={n_train} d={d} m={m}: F={bound:.2f} gap={row['gap']:.2f} lml_loss={row['lml_loss']:.2f} "
              f"d_rmse={row['d_rmse']:+.4f} d_std={row['d_std']:.4f} evals={n_evals} cpu={cpu:.1f}s", flush=True)
    return rows


def inducing_choice(n_train: int, d: int, inducing: list[int], seed: int, jitter: float, repeats: int = 5) -> str:
    """log p(y) − F at the planted hyperparameters for k-means++ inducing inputs against a
    uniform random subset of the rows (``repeats`` seeds each): a markdown table."""
    spec, data, _, planted = make_data(np.random.default_rng(seed), n_train, d)
    params = spec.unpack(planted)
    functions = CoreCovariance(params, n_threads=1)
    exact = Likelihood(spec, data, "dense", n_threads=1)(planted, eval_gradient=False).value
    lines = [f"Bound gap log p − F at the planted hyperparameters, N = {n_train}, d = {d} "
             f"(mean [min, max] over {repeats} seeds):", "",
             "| m | k-means++ (choose_inducing_inputs) | uniform subset of the rows |", "|---|---|---|"]
    for m in inducing:
        gaps = {"kmeans": [], "uniform": []}
        for r in range(repeats):
            choices = {"kmeans": choose_inducing_inputs(data.X, m, random_state=r),
                       "uniform": data.X[np.random.default_rng(r).choice(data.X.shape[0], m, replace=False)]}
            for name, Z in choices.items():
                bound = vfe_objective(functions, data.X, data.tasks, data.y, Z, params.log_noise, params.mean,
                                      jitter=jitter)
                gaps[name].append(exact - bound)
        cells = [f"{np.mean(g):.2f} [{np.min(g):.2f}, {np.max(g):.2f}]" for g in gaps.values()]
        lines.append(f"| {m} | {cells[0]} | {cells[1]} |")
        print(lines[-1], flush=True)
    return "\n".join(lines) + "\n"


def markdown(rows: list[dict], command: str) -> str:
    lines = [
        "| N | d | m (M = 4m) | test RMSE | RMSE − exact | mean abs std diff (rel.) | mean std diff (rel.) "
        "| noise ratio | log p − F | log p(exact fit) − log p(sparse fit) | evals | CPU s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r["m"] == "exact":
            lines.append(
                f"| {r['N']} | {r['d']} | exact | {r['rmse']:.4f} | — | — | — | 1 | 0 | 0 | {r['evals']} "
                f"| {r['cpu']:.1f} |"
            )
        else:
            lines.append(
                f"| {r['N']} | {r['d']} | {r['m']} | {r['rmse']:.4f} | {r['d_rmse']:+.4f} | "
                f"{r['d_std']:.4f} ({100 * r['rel_std']:.1f} %) | {100 * r['signed_std']:+.1f} % | "
                f"{r['noise_ratio']:.3f} | {r['gap']:.2f} | {r['lml_loss']:.2f} | "
                f"{r['evals']} | {r['cpu']:.1f} |"
            )
    return f"Command: `{command}`\n\n" + "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=["2000x3"], help="N x d per case")
    parser.add_argument("--inducing", nargs="+", type=int, default=[50, 100, 200, 400])
    parser.add_argument("--max-iter", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jitter", type=float, default=1e-8)
    parser.add_argument("--out", type=Path, default=None, help="write the markdown table here")
    parser.add_argument("--choice-only", action="store_true",
                        help="only compare the inducing-input choices (no fits): bound gaps at the planted values")
    args = parser.parse_args()
    if args.choice_only:
        text = "\n".join(inducing_choice(int(c.split("x")[0]), int(c.split("x")[1]), args.inducing, args.seed,
                                         args.jitter) for c in args.cases)
        print(text)
        if args.out is not None:
            args.out.write_text(text)
        return
    rows = []
    for case in args.cases:
        n_train, d = (int(v) for v in case.split("x"))
        rows += run_case(n_train, d, args.inducing, args.max_iter, args.seed, args.jitter)
    table = markdown(rows, "python bench/gp_sparse_accuracy.py " + " ".join(sys.argv[1:]))
    print(table)
    if args.out is not None:
        args.out.write_text(table)


if __name__ == "__main__":
    main()
