"""Run every Python benchmark and write bench/RESULTS.md from that one run.

    bench/run_all.sh                    # = env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/run_all.py

Use the wrapper: it unsets OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for the
benchmark process only (some machines here set them for old OpenBLAS builds,
and they make numpy's OpenBLAS, our reference, run a slower kernel). The page
records the BLAS kernel that ran either way.

Before each workload the script waits (up to --max-wait s) until other
processes use less than 15% of the CPUs, and records what it measured.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench_gram_bound  # noqa: E402
import bench_per_task  # noqa: E402
import bench_school  # noqa: E402
import bench_shared_design  # noqa: E402
import bench_classification  # noqa: E402  (issue 3: classification workloads C1-C4)
import bench_structure  # noqa: E402  (issue 4: structured sharing S1-S3)
import bench_kernel_machines  # noqa: E402  (issue 5: kernel machines K1-K5)
from common import machine_lines, markdown_table, wait_for_quiet_machine  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per measurement (median)")
    parser.add_argument("--threads", type=int, default=1, help="threads (ours and BLAS) outside workload 5")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run (writes to a temp file)")
    parser.add_argument("--max-wait", type=float, default=600.0, help="seconds to wait for a quiet machine")
    parser.add_argument("--output", default=None, help="page to write (default bench/RESULTS.md)")
    args = parser.parse_args()
    if args.quick:
        args.repeats = min(args.repeats, 2)
    output = args.output or (os.path.join(tempfile.gettempdir(), "RESULTS_quick.md") if args.quick
                             else os.path.join(HERE, "RESULTS.md"))
    common = dict(repeats=args.repeats, threads=args.threads, quick=args.quick)
    start = time.perf_counter()
    results, background = {}, {}
    workloads = [
        ("per_task", "workload 1: per-task designs", lambda: bench_per_task.run(
            **common, plot_path=None if args.quick else os.path.join(os.path.dirname(output),
                                                                    "suboptimality_per_task.png"))),
        ("gram_bound", "workloads 2 and 5: Gram-bound", lambda: bench_gram_bound.run(**common)),
        ("shared", "workload 3: shared design", lambda: bench_shared_design.run(**common)),
        ("school", "workload 4: School", lambda: bench_school.run(**common)),
        ("classification", "classification (issue 3): C1-C4", lambda: bench_classification.run(
            repeats=args.repeats, threads=args.threads, quick=args.quick, max_wait=args.max_wait)),
        ("structure", "structured sharing (issue 4): S1-S3", lambda: bench_structure.run(
            repeats=args.repeats, threads=args.threads, quick=args.quick, max_wait=args.max_wait)),
        ("kernel_machines", "kernel machines (issue 5): K1-K5", lambda: bench_kernel_machines.run(
            repeats=args.repeats, threads=args.threads, quick=args.quick, max_wait=args.max_wait)),
    ]
    for key, label, run in workloads:
        background[key] = wait_for_quiet_machine(0 if args.quick else args.max_wait)
        print(f"{label} (other processes: {background[key]:.0%} of the CPUs) ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        results[key] = run()
        print(f"  done in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - start

    r1, r2, r3, r4 = results["per_task"], results["gram_bound"], results["shared"], results["school"]
    summary = markdown_table(["workload", "measured", "target", "result"], [
        ["1. per-task designs, T=50, n_t=200, d=100: `auto` vs fastest peer, gap ≤ 1e-10",
         f"{r1['ratio']:.3f} × ({r1['fastest_peer']})", "≤ 0.5 ×", f"**{r1['status']}**"],
        ["2. Gram-bound, T=50, n_t=4000, d=100: whole fit vs numpy's 50 Grams",
         f"{r2['gram_ratio']:.2f} ×", "≤ 1.5 ×", f"**{r2['gram_status']}**"],
        ["3. shared design, n=5000, d=300, T=100: fit(X, Y) vs fastest numpy/scipy route",
         f"{r3['ratio']:.2f} × ({r3['fastest']})", "≤ 1.0 ×", f"**{r3['status']}**"],
        ["4. School, 139 tasks: `auto` vs dense numpy solve", f"{r4['ratio']:.4f} ×", "≤ 0.02 ×",
         f"**{r4['status']}**"],
        ["5. Gram-bound fit, 2 threads vs 1 thread", f"{r2['speedup']:.2f} × faster", "≥ 1.6 × faster",
         f"**{r2['speedup_status']}**"],
        *results["classification"]["summary_rows"],
        *results["structure"]["summary_rows"],
        *results["kernel_machines"]["summary_rows"],
    ])
    busy = ", ".join(f"{key} {value:.0%}" for key, value in background.items())
    page = "\n".join([
        "# Benchmark results",
        "",
        "Written by `bench/run_all.py` from one run. Every time is the median of "
        f"{args.repeats} timed repeats (`time.perf_counter`, after one untimed warm-up); every speed is a ratio "
        "against a reference measured in the same run with the same thread count; methods compared with each "
        "other are timed round-robin (fast ones for more rounds, up to 51), so that drifts of this shared "
        "virtual machine hit them alike. Threads: "
        f"{args.threads} (our `n_jobs={args.threads}`; numpy/scipy BLAS limited to {args.threads} with "
        "threadpoolctl, `user_api='blas'`) except in workload 5, which compares 1 and 2.",
        "",
        *machine_lines(),
        f"* CPU used by other processes just before each workload (from /proc/stat): {busy}",
        f"* reproduce: `bench/run_all.sh` (= `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python "
        f"bench/run_all.py --repeats {args.repeats} --threads {args.threads}`, about {elapsed:.0f} s); "
        "each workload alone: `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_per_task.py` "
        "(also `bench_gram_bound.py`, `bench_shared_design.py`, `bench_school.py`; options `--repeats`, "
        "`--threads`, `--quick`).",
        "",
        "## Summary",
        "",
        summary,
        "",
        r1["section"],
        "",
        r2["section"],
        "",
        r3["section"],
        "",
        r4["section"],
        "",
        results["classification"]["section"],
        "",
        results["structure"]["section"],
        "",
        results["kernel_machines"]["section"],
    ])
    with open(output, "w", encoding="utf-8") as handle:
        handle.write(page)
    print(f"wrote {output} ({elapsed:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
