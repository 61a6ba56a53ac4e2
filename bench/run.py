"""Run the benchmark workloads, write one JSON result each, then the report.

    bench/run_all.sh [--quick] [--only K1,S2] [--repeats 5] [--threads 1]
    # = env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 python bench/run.py ...

Results go to bench/results/<workload>.json (``--quick``: a temporary folder, unless ``--results``
says otherwise), and ``bench/report.py`` then rewrites the generated part of bench/RESULTS.md from
them. A ``--quick`` run writes its page next to its results instead, and an ``--only`` run leaves the
page alone (``python bench/report.py`` renders it from bench/results when wanted).

Before each workload the runner waits (up to ``--max-wait`` s) until other processes use less than
15 % of the CPUs, and records what it measured. A peer that is not installed is skipped with a note;
any other error fails the run (exit status 1) after the remaining workloads have run.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
import traceback
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable as a package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness.machine import machine_info, wait_for_quiet_machine  # noqa: E402
from bench.harness.results import RESULTS_DIR, write_result  # noqa: E402
from bench.harness.threads import numba_threads, pin_numba  # noqa: E402
from bench.harness.workload import Context  # noqa: E402
from bench.workloads import MODULES  # noqa: E402

QUICK_REPEATS = 2


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes and at most 2 repeats: a smoke run")
    parser.add_argument("--only", default="", help="comma-separated workload ids or names (e.g. K1,S2,school)")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per measurement (median)")
    parser.add_argument("--threads", type=int, default=1, help="threads of ours (n_jobs) and of BLAS/OpenMP")
    parser.add_argument("--max-wait", type=float, default=600.0, help="seconds to wait for a quiet machine")
    parser.add_argument("--results", default=None, help="folder of the JSON results (default bench/results)")
    parser.add_argument("--no-report", action="store_true", help="do not rewrite bench/RESULTS.md")
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    return parser.parse_args(argv)


def selected(only: str) -> list:
    """The workload modules named by ``--only`` (all of them when empty)."""
    modules = [importlib.import_module(f"bench.workloads.{name}") for name in MODULES]
    if not only:
        return modules
    wanted = {item.strip().lower() for item in only.split(",") if item.strip()}
    chosen = [m for m in modules if wanted & ({m.NAME.lower()} | {i.lower() for i in m.IDS})]
    known = {m.NAME.lower() for m in modules} | {i.lower() for m in modules for i in m.IDS}
    unknown = wanted - known
    if unknown:
        raise SystemExit(f"unknown workload(s): {', '.join(sorted(unknown))}; see --list")
    return chosen


def run_one(module, context: Context, folder: Path, max_wait: float) -> bool:
    """Run one workload and write its result file; False if it raised."""
    busy = wait_for_quiet_machine(0 if context.quick else max_wait)
    print(f"{module.NAME} ({', '.join(module.IDS)}) ...", file=sys.stderr, flush=True)
    repeats = min(context.repeats, getattr(module, "MAX_REPEATS", context.repeats))
    started = time.perf_counter()
    try:
        outcome = module.run(Context(repeats, context.threads, context.quick), folder)
    except Exception:  # noqa: BLE001 - report, go on with the other workloads, fail at the end
        traceback.print_exc()
        print(f"  {module.NAME}: FAILED", file=sys.stderr, flush=True)
        return False
    elapsed = time.perf_counter() - started
    for note in outcome.notes:
        print(f"  note: {note}", file=sys.stderr, flush=True)
    document = dict(workload=module.NAME, ids=list(module.IDS), group=module.GROUP, quick=context.quick,
                    repeats=repeats, threads=context.threads, busy_before=busy, elapsed_s=elapsed,
                    numba_threads=numba_threads(), machine=machine_info(), outcome=outcome)
    path = write_result(document, folder)
    print(f"  done in {elapsed:.0f} s -> {path}", file=sys.stderr, flush=True)
    return True


def main(argv: list[str] | None = None) -> int:
    """Run the selected workloads; 0 if all of them ran without error."""
    args = parse_arguments(argv)
    pin_numba(1)  # before any peer imports numba (skglm, mutar)
    modules = selected(args.only)
    if args.list:
        for module in modules:
            print(f"{module.NAME:24s} {', '.join(module.IDS):10s} {module.GROUP}")
        return 0
    repeats = min(args.repeats, QUICK_REPEATS) if args.quick else args.repeats
    context = Context(repeats=repeats, threads=args.threads, quick=args.quick)
    folder = Path(args.results) if args.results else (Path(tempfile.mkdtemp(prefix="bench_quick_"))
                                                      if args.quick else RESULTS_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    failed = [m.NAME for m in modules if not run_one(m, context, folder, args.max_wait)]
    print(f"{len(modules) - len(failed)} of {len(modules)} workloads ran in {time.perf_counter() - started:.0f} s; "
          f"results in {folder}", file=sys.stderr)
    from bench.report import write_report

    if args.quick and not args.no_report:  # the renderer runs in every smoke run (CI) too
        print(f"report: {write_report(folder, folder / 'RESULTS.md', replace_block=False)}", file=sys.stderr)
    elif not (args.only or args.no_report):
        print(f"report: {write_report(folder)}", file=sys.stderr)
    else:
        print("bench/RESULTS.md left as it is: `python bench/report.py` renders it from bench/results", file=sys.stderr)
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
