"""A/B timing of representative fits against another build of multitask, in alternating processes.

    python bench/ab_builds.py --other /tmp/before/python [--cases school,svc] [--rounds 5]

``--other`` is the ``python/`` directory of another checkout with its compiled
module copied in. Each case is a fit whose parameters mean the same in both
builds (``solver="auto"`` or a name both know), timed on data from
``bench/problems``. Each round starts one process per side, the other side
first; a process fits once untimed, then ``--repeats`` times, and reports the
median. The rounds alternate so that the machine's drift hits both sides alike;
the medians over rounds are compared. Threads: 1 (``OMP_NUM_THREADS=1``, BLAS
limited by threadpoolctl, ``n_jobs=1``).

Cases:
  school      KernelCoupledRegressor on School, mean-regularised coupling, auto (workload 4)
  c1          KernelCoupledClassifier, 10 tasks x 1000 x 100 logistic, identity coupling, auto (block Newton)
  c2_gradient KernelCoupledClassifier, 50 x 1000 x 200, mean-regularised, gradient, tol 1e-4 (C2)
  l21         KernelCoupledRegressor, l21 on 20 tasks x 200 x 500 (AR(1) features), auto (feature solver)
  kernel_ridge MultiTaskKernelRidge, rbf, 4 tasks x 500 in R^10, cholesky (K1)
  svc         MultiTaskSVC, rbf, 4 tasks x 750 in R^10, shared intercept (K3)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PRELUDE = """
import sys, time
import numpy as np
other = {other!r}
if other:
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__module__.lower()]
    sys.path.insert(0, other)
sys.path.insert(0, {repository!r})
import multitask as mt
from threadpoolctl import threadpool_limits
threadpool_limits(1)
rng = np.random.default_rng(0)
"""

CASES = {
    "school": """
Xs, ys = mt.datasets.load_school()[:2]
model = mt.KernelCoupledRegressor(coupling="mean_regularized", alpha=1e-3, n_jobs=1)
fit = lambda: model.fit(Xs, ys)
""",
    "c1": """
from bench.problems.logistic import planted_dense
Xs, ys = planted_dense(10, 1000, 100)
model = mt.KernelCoupledClassifier(coupling="identity", alpha=1e-3, tol=1e-8, n_jobs=1)
fit = lambda: model.fit(Xs, ys)
""",
    "c2_gradient": """
from bench.problems.logistic import planted_dense
Xs, ys = planted_dense(50, 1000, 200)
model = mt.KernelCoupledClassifier(coupling="mean_regularized", alpha=1e-3, solver="gradient", tol=1e-4, n_jobs=1)
fit = lambda: model.fit(Xs, ys)
""",
    "l21": """
from bench.problems.l21 import make_per_task
Xs, ys = make_per_task(20, 200, 500)
model = mt.KernelCoupledRegressor(coupling="identity", alpha=0.0, l21=0.05, tol=1e-8, max_iter=100000, n_jobs=1)
fit = lambda: model.fit(Xs, ys)
""",
    "kernel_ridge": """
Xs = [rng.normal(size=(500, 10)) for _ in range(4)]
ys = [np.sin(X[:, 0]) + 0.1 * rng.normal(size=500) for X in Xs]
model = mt.MultiTaskKernelRidge(kernel="rbf", gamma=0.1, coupling="mean_regularized", alpha=1e-3, solver="cholesky",
                                n_jobs=1)
fit = lambda: model.fit(Xs, ys)
""",
    "svc": """
Xs = [rng.normal(size=(750, 10)) for _ in range(4)]
ys = [np.where(np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2] + 0.5 * rng.normal(size=750) > 0, 1, -1) for X in Xs]
model = mt.MultiTaskSVC(kernel="rbf", gamma=0.1, coupling="mean_regularized", alpha=1.0 / 3000,
                        fit_intercept="shared", tol=1e-3, n_jobs=1)
fit = lambda: model.fit(Xs, ys)
""",
}

TIMING = """
fit()
times = []
for _ in range({repeats}):
    start = time.perf_counter()
    fit()
    times.append(time.perf_counter() - start)
print(sorted(times)[len(times) // 2], model.n_iter_)
"""


def one_process(case: str, other: str, repeats: int) -> float:
    """Median seconds of one process's timed fits of ``case``, with this build or ``other``."""
    code = PRELUDE.format(other=other, repository=REPOSITORY) + CASES[case] + TIMING.format(repeats=repeats)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env).stdout
    return float(out.split()[0])


def main() -> int:
    """Time every selected case in alternating processes and print this / other per case."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--other", required=True, help="python/ directory of the other build")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated case names")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5, help="timed fits per process (median)")
    args = parser.parse_args()
    print(f"{time.strftime('%Y-%m-%d %H:%M')}: {args.rounds} rounds, {args.repeats} fits per process, 1 thread")
    print("| case | other (ms) | this (ms) | this / other |\n|---|---|---|---|")
    for case in args.cases.split(","):
        other, this = [], []
        for _ in range(args.rounds):
            other.append(one_process(case, args.other, args.repeats))
            this.append(one_process(case, "", args.repeats))
        before, after = statistics.median(other), statistics.median(this)
        print(f"| {case} | {before * 1e3:.1f} | {after * 1e3:.1f} | {after / before:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
