"""Multi-task kernel ridge, K1 and K2.

K1. T=4 tasks at their own inputs in R^2, RBF (lengthscale 0.5), fixed task kernel B, noise 0.1,
    N = 2000 and 5000: fit + predict at 500 test inputs per task. Ours (``auto``: the parallel in-place
    Cholesky) against numpy cho_factor (on M, and in place on its F-ordered transpose), scikit-learn
    ``KernelRidge(precomputed)`` and GPy's ICM model (optional). Target: ours <= 1.0x the fastest, same
    predictions to 1e-8.
K2. Shared design, T=10 tasks at the same n=2000 inputs: ``kronecker`` against a numpy dense solve of
    the N x N system (timed once: minutes). Target: >= 50x faster, same predictions.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..adapters import gpy_peer, numpy_scipy, ours, sklearn_peers
from ..adapters.optional import PeerMissing
from ..harness.threads import limit
from ..harness.timing import interleaved_times
from ..harness.workload import Context, Outcome, Part, ms, table, verdict
from ..problems.kernels import GAMMA, LENGTHSCALE, NOISE, own_inputs, shared_inputs, task_kernel

NAME, IDS, GROUP = "kernel_ridge", ("K1", "K2"), "kernel_machines"
T1, T2 = 4, 10
ROUTES = {
    "numpy (cdist + cho_factor)": numpy_scipy.kernel_ridge_cholesky,
    "numpy (cdist + cho_factor in place on the F-ordered view, no copy)": numpy_scipy.kernel_ridge_cholesky_in_place,
    "scikit-learn KernelRidge(precomputed)": sklearn_peers.kernel_ridge_precomputed,
}


def gpy_route(Xs, ys, tests, B, noise):
    """GPy's ICM with every parameter fixed (optional peer)."""
    return gpy_peer.icm_predict(Xs, ys, tests, B, noise, LENGTHSCALE)


def own_inputs_part(N: int, n_test: int, repeats: int, threads: int, notes: list[str]) -> Part:
    """K1 at one N."""
    Xs, ys, tests = own_inputs(T1, N // T1, n_test, seed=0)
    B = task_kernel(T1, 1)
    routes = dict(ROUTES)
    try:
        gpy_peer.version()
        routes["GPy ICM (fixed parameters)"] = gpy_route
    except PeerMissing as missing:
        notes.append(f"K1 {missing}")
    model = ours.kernel_ridge(B, NOISE / sum(map(len, ys)), threads, GAMMA)
    ours_run = lambda: np.concatenate(model.fit(Xs, ys).predict(tests))  # noqa: E731
    with limit(threads, blas_only=True):
        runs = {name: (lambda route=route: route(Xs, ys, tests, B, NOISE)) for name, route in routes.items()}
        runs["ours"] = ours_run
        times = interleaved_times(runs, repeats, budget=10.0)
        reference = numpy_scipy.kernel_ridge_cholesky(Xs, ys, tests, B, NOISE)
        scale = np.abs(reference).max()
        differences = {name: np.abs(route(Xs, ys, tests, B, NOISE) - reference).max() / scale
                       for name, route in routes.items()}
        difference = np.abs(ours_run() - reference).max() / scale
    ours_time = times.pop("ours")
    fastest = min(times, key=times.get)
    ratio = ours_time / times[fastest]
    status = verdict(ratio, 1.0) if difference < 1e-8 else "MISS (predictions differ)"
    rows = [[name, ms(t), f"{t / times[fastest]:.2f}", "", f"{differences[name]:.1e}"] for name, t in times.items()]
    rows.append([f"**multitask** (`{model.solver_}`)", ms(ours_time), f"{ratio:.2f}", f"**{status}**",
                 f"{difference:.1e}"])
    part = Part("k1", figures=dict(N=N, T1=T1, n_t=N // T1, n_test=n_test, ratio=ratio, status=status,
                                   fastest=fastest))
    part.tables["k1"] = table(["method", "fit + predict (ms)", "× fastest peer", "target ≤ 1.0",
                               "max abs difference / max abs f"], rows)
    return part


def shared_inputs_part(n: int, repeats: int, threads: int) -> Part:
    """K2: ``kronecker`` against the dense N x N solve (timed once)."""
    X, Y, X_test = shared_inputs(n, T2, offset=0.0, seed=2)
    B = task_kernel(T2, 3)
    N = n * T2
    model = ours.kernel_ridge(B, NOISE / N, threads, GAMMA, solver="kronecker")
    with limit(threads, blas_only=True):
        ours_time = interleaved_times({"ours": lambda: model.fit(X, Y).predict(X_test)}, repeats)["ours"]
        prediction = model.fit(X, Y).predict(X_test)
        start = time.perf_counter()  # the dense reference: once (minutes at the full size)
        reference = numpy_scipy.kernel_ridge_kronecker_dense(X, Y, X_test, B, NOISE)
        dense = time.perf_counter() - start
    difference = np.abs(prediction - reference).max() / np.abs(reference).max()
    speedup = dense / ours_time
    status = verdict(speedup, 50.0, at_most=False) if difference < 1e-8 else "MISS (predictions differ)"
    part = Part("k2", figures=dict(T2=T2, n=n, N=N, speedup=speedup, status=status))
    part.tables["k2"] = table(["method", "fit + predict (ms)", "speed-up", "target ≥ 50", "max abs difference / max abs f"],
                              [[f"numpy dense cho_factor of the ({N}, {N}) system (timed once)", ms(dense), "1", "", "0"],
                               ["**multitask** `kronecker`", ms(ours_time), f"{speedup:.0f}", f"**{status}**",
                                f"{difference:.1e}"]])
    return part


def run(context: Context, output_folder: Path) -> Outcome:
    """Measure K1 and K2."""
    try:
        gpy = f"GPy {gpy_peer.version()}"
    except PeerMissing:
        gpy = "GPy not installed (its column is missing)"
    outcome = Outcome(figures=dict(threads=context.threads, gpy=gpy, lengthscale=LENGTHSCALE, gamma=GAMMA,
                                   noise=NOISE))
    sizes = [200] if context.quick else [2000, 5000]
    k1 = [own_inputs_part(N, 50 if context.quick else 500, context.repeats, context.threads, outcome.notes)
          for N in sizes]
    k2 = shared_inputs_part(60 if context.quick else 2000, context.repeats, context.threads)
    outcome.parts["parts"] = k1 + [k2]
    outcome.summary += [Part("summary_k1", figures=part.figures) for part in k1]
    outcome.summary.append(Part("summary_k2", figures=k2.figures))
    outcome.verdicts.update({f"K1 N={p.figures['N']}": p.figures["status"] for p in k1})
    outcome.verdicts["K2"] = k2.figures["status"]
    return outcome
