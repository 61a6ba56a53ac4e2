"""Issue 18: fitting on Dask collections at scale, on a 2-worker LocalCluster, against dask-ml.

    PYTHONPATH=python python bench/dask_scale.py [--quick] [--n-rows 50000000] [--compare-rows 5000000] \
        [--json out.json] [--markdown out.md]

Data, generated lazily (never materialised on the client): N rows in partitions of ``--partition-rows``
rows; partition i is drawn on a worker by one delayed call from the seed (``--seed``, i) that returns
(X, y, tasks), and the three Dask arrays are ``da.from_delayed`` of its items, so a graph computes each
partition once and any partition can be recomputed after a worker loss. X is standard normal (float64,
d columns); tasks are uniform over T labels (``--task-dist zipf``: P(t) ∝ (t + 1)^-s instead). The
planted models share a mean: w_t = w_0 + δ_t with w_0 ~ N(0, I/d), δ_t ~ N(0, (0.2)² I/d), b_t ~ N(0, 0.5²)
(drawn from ``--seed`` alone, identical on every worker). Regression: y = <x, w_t> + b_t + N(0, 1) noise;
classification: y = 1[<x, w_t> + b_t + N(0, 0.5²) > 0]. A held-out partition (index = number of training
partitions, ``--test-rows`` rows) is drawn on the client for R² / accuracy.

Cluster: ``distributed.LocalCluster`` with ``--workers`` worker processes, 1 thread each, started with
OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = MKL_NUM_THREADS = 1 in their environment (checked with
threadpoolctl inside the workers). A thread on the client samples every worker process's RSS (psutil)
every ``--sample-interval`` s during each timed step; reported: each worker's RSS just before the step
(idle, libraries imported) and its maximum during the step.

Timed steps (wall clock, ``time.perf_counter``; medians of ``--repeats`` where noted):

* a generation pass: the sums of X, y and tasks (every partition generated once, nothing else), the
  floor of any method that reads the data once;
* ``KernelCoupledRegressor().fit(X, y, tasks)`` (mean-regularised coupling, defaults) and, where the
  installed multitask supports Dask input for it, ``KernelCoupledClassifier().fit``;
* dask-ml ``LinearRegression`` / ``LogisticRegression`` (defaults: solver ``admm``, L2 with C = 1) fitted
  pooled on all rows (lazy, so every solver pass regenerates the data), and per task: a task's rows
  filtered and persisted in one pass over the data (``X[tasks == t]``, chunk sizes computed), then fitted;
  ``--per-task`` tasks, each timed once. The per-task total for all T tasks is an estimate (T × the
  median per-task time), labelled as such.

At ``--n-rows`` only our fits (and the generation pass) run; at ``--compare-rows`` (same T, d and
partition size) ours and dask-ml's, on the same cluster.
"""

from __future__ import annotations

import os

# Single-threaded BLAS/OpenMP on the client too (the core solves there), before numpy is imported.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from dataclasses import asdict, dataclass  # noqa: E402
from typing import Any, Callable  # noqa: E402

import numpy as np  # noqa: E402

SINGLE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
MB = 1e6


# --------------------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class DataSpec:
    """What a partition is drawn from (everything but its index and row count)."""

    n_tasks: int
    n_features: int
    kind: str  # "regression" or "classification"
    task_dist: str  # "uniform" or "zipf"
    zipf_exponent: float
    seed: int


def planted_models(spec: DataSpec) -> tuple[np.ndarray, np.ndarray]:
    """W (T, d) = w_0 + δ_t and b (T,), from the seed alone (the same on every worker)."""
    rng = np.random.default_rng([spec.seed, 2**31])
    d = spec.n_features
    w0 = rng.standard_normal(d) / math.sqrt(d)
    W = w0 + 0.2 * rng.standard_normal((spec.n_tasks, d)) / math.sqrt(d)
    b = 0.5 * rng.standard_normal(spec.n_tasks)
    return W, b


def draw_partition(index: int, n_rows: int, spec: DataSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, y, tasks) of partition ``index``, from the seed (spec.seed, index): reproducible anywhere."""
    rng = np.random.default_rng([spec.seed, index])
    W, b = planted_models(spec)
    X = rng.standard_normal((n_rows, spec.n_features))
    if spec.task_dist == "uniform":
        tasks = rng.integers(0, spec.n_tasks, n_rows)
    else:
        weights = (np.arange(spec.n_tasks) + 1.0) ** -spec.zipf_exponent
        tasks = rng.choice(spec.n_tasks, n_rows, p=weights / weights.sum())
    score = np.empty(n_rows)
    step = 65536  # W[tasks] a block of rows at a time: no (n_rows, d) temporary
    for start in range(0, n_rows, step):
        rows = slice(start, start + step)
        score[rows] = np.einsum("ij,ij->i", X[rows], W[tasks[rows]])
    score += b[tasks]
    if spec.kind == "regression":
        score += rng.standard_normal(n_rows)
        return X, score, tasks
    score += 0.5 * rng.standard_normal(n_rows)
    return X, (score > 0).astype(np.int64), tasks


def lazy_data(n_rows: int, partition_rows: int, spec: DataSpec) -> tuple[Any, Any, Any]:
    """Dask arrays X, y, tasks: one delayed ``draw_partition`` per partition, its tuple's items."""
    import dask
    import dask.array as da

    y_dtype = np.float64 if spec.kind == "regression" else np.int64
    X_parts, y_parts, task_parts = [], [], []
    for index, start in enumerate(range(0, n_rows, partition_rows)):
        rows = min(partition_rows, n_rows - start)
        part = dask.delayed(draw_partition, pure=True, nout=3)(index, rows, spec)
        X_parts.append(da.from_delayed(part[0], (rows, spec.n_features), dtype=np.float64))
        y_parts.append(da.from_delayed(part[1], (rows,), dtype=y_dtype))
        task_parts.append(da.from_delayed(part[2], (rows,), dtype=np.int64))
    return da.concatenate(X_parts), da.concatenate(y_parts), da.concatenate(task_parts)


# ------------------------------------------------------------------------------------------ memory


class RssSampler:
    """Samples the RSS of some processes from a client thread, every ``interval`` seconds."""

    def __init__(self, pids: dict[str, int], interval: float) -> None:
        import psutil

        self._processes = {name: psutil.Process(pid) for name, pid in pids.items()}
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.peak: dict[str, int] = {}
        self.samples = 0

    def rss(self) -> dict[str, int]:
        return {name: process.memory_info().rss for name, process in self._processes.items()}

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, value in self.rss().items():
                self.peak[name] = max(self.peak.get(name, 0), value)
            self.samples += 1
            self._stop.wait(self._interval)

    def __enter__(self) -> "RssSampler":
        self.baseline = self.rss()
        self.peak = dict(self.baseline)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        for name, value in self.rss().items():
            self.peak[name] = max(self.peak[name], value)


@dataclass
class Step:
    """One timed step: wall time, load average around it, RSS before and peak during, per process."""

    name: str
    n_rows: int
    seconds: float
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    rss_before: dict[str, int]
    rss_peak: dict[str, int]
    samples: int
    note: str = ""
    rss_rise: dict[str, int] | None = None  # peak − before per process; over repeats, the largest

    def __post_init__(self) -> None:
        if self.rss_rise is None:
            self.rss_rise = {name: self.rss_peak[name] - self.rss_before[name] for name in self.rss_peak}


def timed(name: str, n_rows: int, function: Callable[[], Any], pids: dict[str, int], interval: float,
          note: str = "") -> tuple[Step, Any]:
    """Run ``function`` once under the RSS sampler; print and return its Step and its result."""
    load_before = os.getloadavg()
    print(f"  [{time.strftime('%H:%M:%S')}] {name} (N={n_rows:,}) ...", flush=True)
    with RssSampler(pids, interval) as sampler:
        start = time.perf_counter()
        result = function()
        seconds = time.perf_counter() - start
    step = Step(name, n_rows, seconds, load_before, os.getloadavg(), sampler.baseline, sampler.peak,
                sampler.samples, note)
    peaks = ", ".join(f"{k} {v / MB:.0f} MB (+{(v - step.rss_before[k]) / MB:.0f})" for k, v in step.rss_peak.items())
    print(f"    {seconds:.2f} s; peak RSS {peaks}; load {load_before[0]:.2f} -> {step.load_after[0]:.2f}",
          flush=True)
    return step, result


# ------------------------------------------------------------------------------------------ models


CLASSIFIER_ALPHA = [1e-4]
"""The classifier's alpha (``--classifier-alpha``): its default 1.0 shrinks far too much at this scale (the loss
is a mean over all N rows), as the regressor's validation shows; no statistics to re-solve from, so no search."""


def our_model(kind: str) -> Any:
    """The regressor with its defaults (mean-regularised coupling, alpha = 1); the classifier (logistic) at
    CLASSIFIER_ALPHA."""
    from multitask import KernelCoupledClassifier, KernelCoupledRegressor

    if kind == "regression":
        return KernelCoupledRegressor(n_jobs=1)
    return KernelCoupledClassifier(alpha=CLASSIFIER_ALPHA[0], n_jobs=1)


def daskml_model(kind: str, max_iter: int) -> Any:
    from dask_ml.linear_model import LinearRegression, LogisticRegression

    model = LinearRegression if kind == "regression" else LogisticRegression
    return model(max_iter=max_iter)


ALPHA_GRID = tuple(10.0**-k for k in range(8))


def validated_alpha(model: Any, validation: tuple[np.ndarray, np.ndarray, np.ndarray]) -> tuple[Any, float]:
    """The model re-solved from its Gram statistics at every alpha of ALPHA_GRID; the best on ``validation``.

    Re-solving from ``statistics_`` is what ``fit`` on Dask collections does after its pass over the data
    (``_fit_statistics``), so each is the fit at that alpha without another pass. Also returns the median
    seconds of one re-solve (the client-side part of a fit).
    """
    from sklearn.base import clone

    X_val, y_val, tasks_val = validation
    best, best_score, seconds = None, -np.inf, []
    for alpha in ALPHA_GRID:
        candidate = clone(model).set_params(alpha=alpha)
        start = time.perf_counter()
        candidate._fit_statistics(model.statistics_)
        seconds.append(time.perf_counter() - start)
        score = held_out_score("regression", lambda A, t: candidate.predict(A, tasks=t), X_val, y_val, tasks_val)
        print(f"    alpha={alpha:g}: validation R² {score:.4f} (solve {seconds[-1]:.2f} s)", flush=True)
        if score > best_score:
            best, best_score = candidate, score
    return best, statistics.median(seconds)


def held_out_score(kind: str, predict: Callable[[np.ndarray, np.ndarray], np.ndarray], X: np.ndarray, y: np.ndarray,
                   tasks: np.ndarray) -> float:
    """R² (regression) or accuracy (classification) on the held-out partition."""
    prediction = np.asarray(predict(X, tasks))
    if kind == "regression":
        return float(1.0 - np.sum((y - prediction) ** 2) / np.sum((y - y.mean()) ** 2))
    return float(np.mean(prediction == y))


def supports_dask_fit(kind: str) -> bool:
    """Whether the installed multitask fits this kind of model from Dask collections partition by partition.

    (A model without that support would still accept Dask arrays, through scikit-learn's input checks,
    by computing them into one array on the client: not what is measured here.)
    """
    if kind == "regression":
        return True
    from multitask import _classifier

    return hasattr(_classifier, "uses_dask")


# --------------------------------------------------------------------------------------------- runs


@dataclass
class Config:
    n_rows: int
    compare_rows: int
    partition_rows: int
    n_tasks: int
    n_features: int
    task_dist: str
    zipf_exponent: float
    seed: int
    workers: int
    repeats: int
    full_repeats: int
    per_task: int
    daskml_max_iter: int
    test_rows: int
    sample_interval: float
    kinds: tuple[str, ...]
    skip_full: bool
    skip_daskml: bool


def median_step(steps: list[Step]) -> Step:
    """The step of median time (the upper median for an even count), with every repeat's time in its note."""
    ordered = sorted(steps, key=lambda s: s.seconds)
    chosen = ordered[len(ordered) // 2]
    if len(steps) > 1:
        chosen.note = (chosen.note + "; " if chosen.note else "") + "repeats: " + ", ".join(
            f"{s.seconds:.2f}" for s in steps) + " s; peak RSS and its rise: max over the repeats"
        for name in chosen.rss_peak:
            chosen.rss_peak[name] = max(s.rss_peak[name] for s in steps)
            chosen.rss_rise[name] = max(s.rss_rise[name] for s in steps)
    return chosen


def run_scale(config: Config, kind: str, n_rows: int, repeats: int, with_daskml: bool, pids: dict[str, int],
              record: dict) -> None:
    """Generation pass, our fit (repeats) and, with ``with_daskml``, dask-ml pooled and per task, at n_rows."""
    import dask

    spec = DataSpec(config.n_tasks, config.n_features, kind, config.task_dist, config.zipf_exponent, config.seed)
    X, y, tasks = lazy_data(n_rows, config.partition_rows, spec)
    n_partitions = X.numblocks[0]
    X_test, y_test, tasks_test = draw_partition(n_partitions, config.test_rows, spec)
    print(f"{kind}, N={n_rows:,}: {n_partitions} partitions of {config.partition_rows:,} rows "
          f"({config.partition_rows * config.n_features * 8 / MB:.0f} MB of X each)", flush=True)
    steps, scores = [], {}
    interval = config.sample_interval

    generation = [timed("generation pass (sums of X, y, tasks)", n_rows, lambda: dask.compute(X.sum(), y.sum(),
                  tasks.sum()), pids, interval)[0] for _ in range(repeats)]
    steps.append(median_step(generation))

    ours, model = [], None
    for _ in range(repeats):
        step, model = timed(f"ours: {type(our_model(kind)).__name__}.fit", n_rows,
                            lambda: our_model(kind).fit(X, y, tasks), pids, interval)
        step.note = f"alpha={model.alpha:g}" + (f", {model.n_iter_} Newton iterations" if kind != "regression" else "")
        ours.append(step)
    steps.append(median_step(ours))
    scores[f"ours (alpha={model.alpha:g})"] = held_out_score(kind, lambda A, t: model.predict(A, tasks=t), X_test,
                                                             y_test, tasks_test)
    print(f"    held-out {'R²' if kind == 'regression' else 'accuracy'}: {scores[f'ours (alpha={model.alpha:g})']:.4f}",
          flush=True)
    if kind == "regression":
        validation = draw_partition(n_partitions + 1, config.test_rows, spec)
        model, solve_seconds = validated_alpha(model, validation)
        scores[f"ours (alpha={model.alpha:g}, chosen on a validation partition)"] = held_out_score(
            kind, lambda A, t: model.predict(A, tasks=t), X_test, y_test, tasks_test)
        record.setdefault("resolve_seconds", {})[str(n_rows)] = solve_seconds

    if with_daskml:
        name = type(daskml_model(kind, 1)).__name__
        step, pooled = timed(f"dask-ml {name} pooled (solver admm, lazy data)", n_rows,
                             lambda: daskml_model(kind, config.daskml_max_iter).fit(X, y), pids, interval,
                             note=f"max_iter={config.daskml_max_iter}")
        steps.append(step)
        scores["dask-ml pooled"] = held_out_score(kind, lambda A, t: pooled.predict(A), X_test, y_test, tasks_test)
        print(f"    held-out score: {scores['dask-ml pooled']:.4f}", flush=True)
        per_task = _daskml_per_task(config, kind, n_rows, X, y, tasks, pids, X_test, y_test, tasks_test)
        steps.extend(per_task["steps"])
        scores["dask-ml per task (fitted tasks' held-out rows)"] = per_task["score"]
        scores[f"ours (alpha={model.alpha:g}), the same rows"] = held_out_score(
            kind, lambda A, t: model.predict(A, tasks=t), *per_task["test_rows"])
    record.setdefault("runs", []).append({"kind": kind, "n_rows": n_rows, "n_partitions": n_partitions,
                                          "steps": [asdict(s) for s in steps], "scores": scores})


def _daskml_per_task(config: Config, kind: str, n_rows: int, X: Any, y: Any, tasks: Any, pids: dict[str, int],
                     X_test: np.ndarray, y_test: np.ndarray, tasks_test: np.ndarray) -> dict:
    """dask-ml fitted on a few tasks' rows: filter + persist (one pass), then fit; each step timed."""
    import dask

    steps, predictions, rows = [], [], []
    chosen = range(min(config.per_task, config.n_tasks))
    name = type(daskml_model(kind, 1)).__name__
    for t in chosen:
        def select(t: int = t) -> tuple[Any, Any]:
            mask = tasks == t
            X_t, y_t = dask.persist(X[mask], y[mask])
            X_t.compute_chunk_sizes()
            y_t.compute_chunk_sizes()
            return X_t, y_t

        step, (X_t, y_t) = timed(f"dask-ml per task: filter + persist task {t}", n_rows, select, pids,
                                 config.sample_interval)
        step.note = f"{X_t.shape[0]} rows"
        steps.append(step)
        step, fitted = timed(f"dask-ml {name} per task: fit task {t}", n_rows,
                             lambda: daskml_model(kind, config.daskml_max_iter).fit(X_t, y_t), pids,
                             config.sample_interval, note=f"{X_t.shape[0]} rows")
        steps.append(step)
        in_task = tasks_test == t
        predictions.append(np.asarray(fitted.predict(X_test[in_task])))
        rows.append(np.flatnonzero(in_task))
        del X_t, y_t
    rows_all = np.concatenate(rows)
    prediction = np.concatenate(predictions)
    y_rows = y_test[rows_all]
    if kind == "regression":
        score = float(1.0 - np.sum((y_rows - prediction) ** 2) / np.sum((y_rows - y_rows.mean()) ** 2))
    else:
        score = float(np.mean(prediction == y_rows))
    return {"steps": steps, "score": score, "test_rows": (X_test[rows_all], y_test[rows_all], tasks_test[rows_all])}


def check_workers(client: Any) -> dict:
    """The workers' thread settings: environment, threads, and BLAS/OpenMP pools (threadpoolctl)."""

    def report() -> dict:
        import threadpoolctl

        import multitask  # noqa: F401  (imported here so that the idle RSS includes it)

        return {"env": {k: os.environ.get(k) for k in SINGLE_THREAD_ENV},
                "pools": [{"api": p["user_api"], "lib": p["internal_api"], "threads": p["num_threads"]}
                          for p in threadpoolctl.threadpool_info()]}

    info = client.run(report)
    for address, worker in info.items():
        threads = {p["threads"] for p in worker["pools"]}
        print(f"  worker {address}: env {worker['env']}, thread pools {worker['pools']}")
        if threads != {1}:
            raise RuntimeError(f"worker {address} does not run single-threaded BLAS/OpenMP: {worker['pools']}")
    return info


def warm_up(client: Any, kinds: tuple[str, ...], with_daskml: bool) -> None:
    """Libraries imported in the workers (and our fit's code run once) before any measurement.

    So that the idle RSS each step starts from holds the imported code, not data.
    """
    import dask

    def imports() -> None:
        import dask.array  # noqa: F401
        import sklearn.linear_model  # noqa: F401

        if with_daskml:
            import dask_ml.linear_model  # noqa: F401

    client.run(imports)
    for kind in kinds:
        spec = DataSpec(4, 3, kind, "uniform", 1.0, 12345)
        X, y, tasks = lazy_data(400, 100, spec)
        dask.compute(X.sum(), y.sum(), tasks.sum())
        if supports_dask_fit(kind):
            our_model(kind).fit(X, y, tasks)
        if with_daskml:
            daskml_model(kind, 2).fit(X, y)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test, < 60 s)")
    parser.add_argument("--n-rows", type=int, default=50_000_000, help="rows of the full run (ours only)")
    parser.add_argument("--compare-rows", type=int, default=5_000_000, help="rows of the run against dask-ml")
    parser.add_argument("--partition-rows", type=int, default=1_000_000)
    parser.add_argument("--n-tasks", type=int, default=1000)
    parser.add_argument("--n-features", type=int, default=50)
    parser.add_argument("--task-dist", choices=("uniform", "zipf"), default="uniform")
    parser.add_argument("--zipf-exponent", type=float, default=1.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="repeats of our fit at --compare-rows")
    parser.add_argument("--full-repeats", type=int, default=1, help="repeats of our fit at --n-rows")
    parser.add_argument("--per-task", type=int, default=3, help="tasks fitted one by one with dask-ml")
    parser.add_argument("--daskml-max-iter", type=int, default=100, help="dask-ml's max_iter (its default: 100)")
    parser.add_argument("--classifier-alpha", type=float, default=CLASSIFIER_ALPHA[0])
    parser.add_argument("--test-rows", type=int, default=200_000, help="rows of the held-out partition")
    parser.add_argument("--sample-interval", type=float, default=0.1, help="seconds between RSS samples")
    parser.add_argument("--kinds", default="regression,classification",
                        help="comma-separated: regression, classification")
    parser.add_argument("--skip-full", action="store_true", help="no run at --n-rows")
    parser.add_argument("--skip-daskml", action="store_true", help="no dask-ml fits")
    parser.add_argument("--json", help="write every step's figures here")
    args = parser.parse_args(argv)
    if args.quick:
        args.n_rows, args.compare_rows, args.partition_rows = 100_000, 40_000, 20_000
        args.n_tasks, args.n_features, args.test_rows = 20, 5, 5_000
        args.repeats, args.per_task, args.daskml_max_iter = 1, 1, 10
    for name in ("n_rows", "compare_rows", "partition_rows", "n_tasks", "n_features", "workers", "repeats",
                 "full_repeats", "test_rows", "daskml_max_iter"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    CLASSIFIER_ALPHA[0] = args.classifier_alpha
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    if not kinds or any(k not in ("regression", "classification") for k in kinds):
        parser.error(f"--kinds must list regression and/or classification, got {args.kinds!r}")
    config = Config(args.n_rows, args.compare_rows, args.partition_rows, args.n_tasks, args.n_features,
                    args.task_dist, args.zipf_exponent, args.seed, args.workers, args.repeats, args.full_repeats,
                    args.per_task, args.daskml_max_iter, args.test_rows, args.sample_interval, kinds,
                    args.skip_full, args.skip_daskml)

    import logging

    import dask
    import distributed

    # The fits' own progress (statistics merged, each Newton iteration) on stdout.
    logging.basicConfig(format="    %(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S", stream=sys.stdout)
    logging.getLogger("multitask").setLevel(logging.INFO)

    record: dict = {"config": asdict(config), "argv": sys.argv, "started": time.strftime("%Y-%m-%d %H:%M:%S UTC",
                    time.gmtime()), "python": platform.python_version(), "numpy": np.__version__,
                    "dask": dask.__version__, "distributed": distributed.__version__}
    if not args.skip_daskml:
        import dask_ml

        record["dask_ml"] = dask_ml.__version__
    statistics_mb = config.n_tasks * config.n_features**2 * 8 / MB
    partition_mb = config.partition_rows * config.n_features * 8 / MB
    record["bound_mb"] = {"partition_X": partition_mb, "statistics": statistics_mb,
                          "bound": 2 * partition_mb + statistics_mb}
    print(f"bound on the peak per-worker memory: 2 x {partition_mb:.0f} MB (a partition of X) + {statistics_mb:.0f} "
          f"MB (T d^2 8 bytes) = {2 * partition_mb + statistics_mb:.0f} MB", flush=True)

    cluster = client = None
    exit_code = 0
    try:
        cluster = distributed.LocalCluster(n_workers=config.workers, threads_per_worker=1, processes=True,
                                           env=dict(SINGLE_THREAD_ENV), dashboard_address=":0",
                                           worker_dashboard_address=":0")
        client = distributed.Client(cluster)
        print(f"cluster: {config.workers} workers x 1 thread; {client.dashboard_link or 'no dashboard'}", flush=True)
        record["workers"] = check_workers(client)
        warm_up(client, kinds, not args.skip_daskml)
        pids = {f"worker{i}": pid for i, pid in enumerate(sorted(client.run(os.getpid).values()))}
        pids["client"] = os.getpid()
        record["pids"] = pids
        for kind in kinds:
            if kind == "classification" and not supports_dask_fit(kind):
                record.setdefault("skipped", []).append(f"{kind}: no Dask fit in this multitask")
                continue
            run_scale(config, kind, config.compare_rows, config.repeats, not args.skip_daskml, pids, record)
            if not args.skip_full:
                run_scale(config, kind, config.n_rows, config.full_repeats, False, pids, record)
    except KeyboardInterrupt:
        print("\ninterrupted: closing the cluster", flush=True)
        record["interrupted"] = True
        exit_code = 130
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
        record["finished"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        if args.json:
            with open(args.json, "w") as handle:
                json.dump(record, handle, indent=1)
            print(f"wrote {args.json}")
    if "runs" in record:
        print(markdown(record))
    return exit_code


def markdown(record: dict) -> str:
    """The steps as a markdown table, and the held-out scores."""
    bound = record["bound_mb"]["bound"]
    lines = ["| N | step | time (s) | worker RSS before (MB) | worker peak RSS (MB) | peak − before (MB) "
             f"| bound {bound:.0f} MB: peak / peak − before within? | client peak − before (MB) "
             "| load 1-min before → after | note |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for run in record["runs"]:
        for s in run["steps"]:
            workers = sorted(k for k in s["rss_peak"] if k.startswith("worker"))
            before = " / ".join(f"{s['rss_before'][w] / MB:.0f}" for w in workers)
            peak = " / ".join(f"{s['rss_peak'][w] / MB:.0f}" for w in workers)
            rise = " / ".join(f"{s['rss_rise'][w] / MB:.0f}" for w in workers)
            raw = max(s["rss_peak"][w] for w in workers) / MB <= bound
            rise_within = max(s["rss_rise"][w] for w in workers) / MB <= bound
            within = f"{'yes' if raw else 'no'} / {'yes' if rise_within else 'no'}"
            client = s["rss_rise"]["client"] / MB
            lines.append(f"| {s['n_rows']:,} | {s['name']} | {s['seconds']:.2f} | {before} | {peak} | {rise} "
                         f"| {within} | {client:.0f} | {s['load_before'][0]:.2f} → {s['load_after'][0]:.2f} "
                         f"| {s['note']} |")
    lines.append("")
    for run in record["runs"]:
        for name, value in run["scores"].items():
            lines.append(f"* {run['kind']}, N={run['n_rows']:,}: held-out "
                         f"{'R²' if run['kind'] == 'regression' else 'accuracy'} {name}: {value:.4f}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
