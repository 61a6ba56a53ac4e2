"""A/B timing of C2's `gradient` fit against another build of multitask, in alternating processes.

    python bench/ab_classification_gradient.py --other /tmp/before/python --alpha 1e-4 --tol 1e-5

``--other`` is the ``python/`` directory of another checkout with its compiled
module copied in (bench/RESULTS.md, "Build", says how the issue-13 "before" was
built). Each round starts one process per side, other side first; each process
fits once untimed, then 7 times, and reports the median. The rounds alternate so
that the machine's drift hits both sides alike; the medians over rounds are
compared. Threads: 1 (``OMP_NUM_THREADS=1``, BLAS limited by threadpoolctl).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

CHILD = """
import sys, time
other = {other!r}
if other:
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__module__.lower()]
    sys.path.insert(0, other)
sys.path.insert(0, {repository!r})
import multitask as mt
from threadpoolctl import threadpool_limits
from bench.problems.logistic import planted_dense
threadpool_limits(1)
Xs, ys = planted_dense(50, 1000, 200)
model = mt.KernelCoupledClassifier(coupling="mean_regularized", alpha={alpha}, solver="gradient", tol={tol}, n_jobs=1)
model.fit(Xs, ys)
times = []
for _ in range(7):
    start = time.perf_counter()
    model.fit(Xs, ys)
    times.append(time.perf_counter() - start)
print(sorted(times)[3], model.n_iter_)
"""


def one_process(other: str, alpha: float, tol: float) -> float:
    code = CHILD.format(other=other, repository=os.path.dirname(os.path.dirname(os.path.abspath(__file__))), alpha=alpha, tol=tol)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env).stdout
    return float(out.split()[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--other", required=True, help="python/ directory of the other build")
    parser.add_argument("--alpha", type=float, default=1e-3)
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    other, this = [], []
    for _ in range(args.rounds):
        other.append(one_process(args.other, args.alpha, args.tol))
        this.append(one_process("", args.alpha, args.tol))
    ratio = statistics.median(this) / statistics.median(other)
    print(f"{time.strftime('%Y-%m-%d %H:%M')} alpha={args.alpha:g} tol={args.tol:g}, {args.rounds} rounds, 1 thread")
    print(f"other: median {statistics.median(other) * 1e3:.1f} ms  ({', '.join(f'{t * 1e3:.0f}' for t in other)})")
    print(f"this:  median {statistics.median(this) * 1e3:.1f} ms  ({', '.join(f'{t * 1e3:.0f}' for t in this)})")
    print(f"this / other: {ratio:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
