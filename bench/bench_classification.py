"""Classification benchmarks (issue 3): helpers shared by the classification scripts, and the
driver that writes the "## Classification (issue 3)" section of bench/RESULTS.md.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 python bench/bench_classification.py
    ... python bench/bench_classification.py --append bench/RESULTS.md     # append the section

runs, in turn (each also runs alone, see its docstring):

* ``bench_classification_dense.py``  -- workloads C1 (K = I against scikit-learn) and C2 (mean-regularised
  coupling, ``bcd``, ``newton`` and ``gradient``), dense Gaussian features, T=50, n_t=1000, d=200;
* ``bench_classification_sparse.py`` -- workload C3, sparse TF-IDF-like input, T=20, n_t=2000, d=50,000:
  fit time and peak extra memory (in child processes) of ``bcd``, ``newton`` and ``gradient``, and sparse
  against dense input at d=5,000;
* ``bench_newsgroups.py``            -- workload C4, the two MALSAR Newsgroups collections, coupled
  against independent logistic models (test accuracy, alpha from 3-fold CV).

The objective is the package's F(W, b) = (1/N) sum_t omega_t sum_i log(1 + exp(-y (<w_t, x> + b_t)))
+ alpha/2 sum_st K_st <w_s, w_t> with uniform task weights; every gap here is evaluated on the data in
numpy (``logistic_objective``), independently of the package. Solvers: ``bcd`` (block Newton over the
tasks), ``newton`` (truncated Newton-CG on all parameters at once), ``gradient`` (accelerated gradient);
``auto`` picks bcd for diagonal K (e.g. ``coupling="identity"``), newton otherwise.

Threads: our core gets ``n_jobs``; numpy/scipy/scikit-learn get theirs through threadpoolctl (all
APIs, BLAS and OpenMP: scikit-learn's loss/gradient kernels are OpenMP); run with
``OMP_NUM_THREADS=1`` as above.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from contextlib import contextmanager
from typing import Callable, Iterator

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from common import core, machine_lines, markdown_table, mt, section_driver_main, wait_for_quiet_machine  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from threadpoolctl import ThreadpoolController  # noqa: E402

GAP_TARGET_CLASSIFICATION = 1e-8
TOLERANCES_CLASSIFICATION = tuple(10.0 ** -k for k in range(2, 13))  # 1e-2 ... 1e-12
REFERENCE_TOL = 1e-12


def fit_classifier(Xs, ys, *, coupling, alpha, solver="auto", tol=1e-8, threads=1, max_iter=100_000):
    """Our estimator fitted on task lists; ConvergenceWarning silenced (callers check the gap)."""
    model = mt.KernelCoupledClassifier(coupling=coupling, alpha=alpha, solver=solver, tol=tol, max_iter=max_iter,
                               n_jobs=threads)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(Xs, ys)


def signed_labels(ys) -> list[np.ndarray]:
    """0/1 (or any two-class) labels as float -1/+1, the larger class +1 (the estimator's convention)."""
    classes = np.unique(np.concatenate([np.asarray(y) for y in ys]))
    return [np.where(np.asarray(y) == classes[1], 1.0, -1.0) for y in ys]


def core_fit(Xs, ys, K, alpha, solver, tol, threads=1, max_iter=100_000):
    """The estimator's fit as a direct call of the C++ core (same arguments: uniform weights s_t = 1/N,
    labels -1/+1, intercepts, no l1/l21/trace-norm penalty): its result dict (coef (T, d), intercept,
    n_iter, data_passes, ...), or None if the private signature has changed. Used where the core's
    ``data_passes`` is wanted (the estimator does not expose it); never timed.

    The core entry point is ``fit_linear_model_f64`` (the estimator's call); ``fit_classifier_f64``, its
    older name and signature (no penalties), is tried when that is absent."""
    import scipy.sparse as sp

    blocks = [(X.data, X.indices.astype(np.int32), X.indptr.astype(np.int32), X.shape[1]) if sp.issparse(X)
              else np.ascontiguousarray(X, dtype=np.float64) for X in Xs]
    weights = np.full(len(Xs), 1.0 / sum(X.shape[0] for X in Xs))
    labels, coupling = signed_labels(ys), np.ascontiguousarray(K, dtype=float)
    try:
        if hasattr(core, "fit_linear_model_f64"):
            return core.fit_linear_model_f64(X=blocks, y=labels, sample_weight=weights, coupling=coupling,
                                             alpha=float(alpha), fit_intercept=True, loss="logistic", l1=0.0, l21=0.0,
                                             trace_norm=0.0, solver=solver, tol=tol, max_iter=max_iter,
                                             n_threads=threads, warm_coef=None, warm_intercept=None)
        return core.fit_classifier_f64(blocks, labels, weights, coupling, float(alpha), True, "logistic", solver,
                                       tol, max_iter, threads, None, None)
    except Exception:  # noqa: BLE001 - a changed private signature only drops the column
        return None


def core_data_passes(Xs, ys, K, alpha, solver, tol, threads=1, max_iter=100_000):
    """(n_iter, data_passes) of the same fit as the estimator's, from the core; (None, None) if that fails.

    The fit is deterministic, so the caller checks that ``n_iter`` agrees with the estimator's.
    """
    result = core_fit(Xs, ys, K, alpha, solver, tol, threads, max_iter)
    if result is None:
        return None, None
    return int(result["n_iter"]), int(result["data_passes"])


def logistic_objective(Xs, ys, coef, intercept, K, alpha) -> float:
    """F(W, b) on the data, in numpy: uniform weights s_t = 1/N, labels mapped to -1/+1."""
    n_total = sum(X.shape[0] for X in Xs)
    loss = 0.0
    for X, y, w, b in zip(Xs, signed_labels(ys), coef, intercept):
        margins = np.asarray(X @ w).ravel() + b
        loss += float(np.sum(np.logaddexp(0.0, -y * margins)))
    coef = np.asarray(coef)
    return loss / n_total + 0.5 * alpha * float(np.sum(coef * (np.asarray(K) @ coef)))


def relative_gap(value: float, optimum: float) -> float:
    return (value - optimum) / abs(optimum)


def loosest_tolerance_for(gap_at: Callable[[float], float], target: float = GAP_TARGET_CLASSIFICATION):
    """The loosest tolerance of 1e-2 ... 1e-12 whose fit has a relative gap <= target: (tol, gap)."""
    for tol in TOLERANCES_CLASSIFICATION:
        gap = gap_at(tol)
        if gap <= target:
            return tol, gap
    return tol, gap


_controller: ThreadpoolController | None = None


@contextmanager
def all_threads(threads: int) -> Iterator[None]:
    """numpy/scipy BLAS and every OpenMP runtime (scikit-learn's) limited to ``threads``."""
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    with _controller.limit(limits=threads):
        yield


def limited(threads: int, run: Callable[[], object]) -> Callable[[], object]:
    def call():
        with all_threads(threads):
            return run()

    return call


def round_robin(runs: dict[str, Callable[[], object]], repeats: int, warm_up: bool = True) -> dict[str, float]:
    """Median wall time (s) of each run over ``repeats`` round-robin rounds (one untimed warm-up each
    unless ``warm_up`` is False: the caller has just run them untimed)."""
    if warm_up:
        for run in runs.values():
            run()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(values)) for name, values in times.items()}


def fmt_tol(tol: float) -> str:
    return f"{tol:.0e}"


# --------------------------------------------------------------------------- the section


def run(repeats: int = 5, threads: int = 1, quick: bool = False, max_wait: float = 600.0,
        sparse_repeats: int | None = None) -> dict:
    """Runs C1-C4 and returns {"section": markdown, "summary_rows": [...], ...}."""
    import bench_classification_dense
    import bench_classification_sparse
    import bench_newsgroups

    start = time.perf_counter()
    background, results = {}, {}
    workloads = [
        ("dense", lambda: bench_classification_dense.run(repeats=repeats, threads=threads, quick=quick)),
        ("sparse", lambda: bench_classification_sparse.run(repeats=sparse_repeats or min(repeats, 3), threads=threads,
                                                           quick=quick, scan=True)),
        ("newsgroups", lambda: bench_newsgroups.run(repeats=repeats, threads=threads, quick=quick)),
    ]
    for key, work in workloads:
        background[key] = wait_for_quiet_machine(0 if quick else max_wait)
        print(f"classification {key} (other processes: {background[key]:.0%} of the CPUs) ...", file=sys.stderr,
              flush=True)
        t0 = time.perf_counter()
        results[key] = work()
        print(f"  done in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - start
    dense, sparse, news = results["dense"], results["sparse"], results["newsgroups"]
    summary_rows = dense["summary_rows"] + sparse["summary_rows"] + news["summary_rows"]
    summary = markdown_table(["workload", "measured", "target", "result"], summary_rows)
    busy = ", ".join(f"{key} {value:.0%}" for key, value in background.items())
    section = "\n".join([
        "## Classification (issue 3)",
        "",
        f"Written by `bench/bench_classification.py` from one run (about {elapsed:.0f} s). Estimator: "
        f"`multitask.KernelCoupledClassifier`, `fit` timed on task lists (its input checks included). Solvers: "
        "`bcd` (block Newton over the tasks), `newton` (truncated Newton-CG on all parameters at once) and "
        "`gradient` (accelerated gradient); `auto` picks `bcd` for diagonal K (e.g. `coupling=\"identity\"`), "
        "`newton` otherwise. Objective "
        "F(W, b) = (1/N) Σ_t Σ_i log(1 + exp(−y (⟨w_t, x⟩ + b_t))) + α/2 Σ_st K_st ⟨w_s, w_t⟩ (uniform task "
        "weights, intercepts unpenalised); every relative gap (F − F*)/|F*| is evaluated in numpy on the data. "
        f"Times are medians of round-robin repeats after one untimed warm-up ({repeats} repeats; the sparse "
        f"workload C3, whose fits take seconds, {sparse_repeats or min(repeats, 3)}). Threads: {threads} unless a "
        f"row says otherwise (our `n_jobs`; numpy/scipy/scikit-learn limited with threadpoolctl, all APIs: BLAS and "
        f"OpenMP); `OMP_NUM_THREADS` {os.environ.get('OMP_NUM_THREADS', 'unset')} (the limits above do not need it).",
        "",
        *machine_lines(),
        f"* CPU used by other processes just before each workload (from /proc/stat): {busy}",
        "* reproduce: `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 python "
        f"bench/bench_classification.py --repeats {repeats} --sparse-repeats {sparse_repeats or min(repeats, 3)}"
        "` (add `--append bench/RESULTS.md` to append this section); each workload alone (same environment): "
        "`python bench/bench_classification_dense.py` (C1, C2), `python bench/bench_classification_sparse.py` "
        "(C3; `--alpha-scan` adds the test-accuracy scan that chose α), `python bench/bench_newsgroups.py` (C4); "
        "options `--repeats`, `--threads`, `--quick`.",
        "",
        "### Classification summary",
        "",
        summary,
        "",
        dense["section"],
        "",
        sparse["section"],
        "",
        news["section"],
        "",
    ])
    return {"section": section, "summary_rows": summary_rows, "elapsed": elapsed, "results": results}


def main() -> int:
    def sparse_repeats(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--sparse-repeats", type=int, default=None,
                            help="repeats of the sparse workload C3 (default min(repeats, 3): its fits take seconds)")

    return section_driver_main(run, __doc__, sparse_repeats)


if __name__ == "__main__":
    raise SystemExit(main())
