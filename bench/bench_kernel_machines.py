"""Multi-task kernel machines (issue 5): the driver that runs K1-K5 and writes the
"## Multi-task kernel machines (issue 5)" section of bench/RESULTS.md.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 python bench/bench_kernel_machines.py --repeats 5
    ... python bench/bench_kernel_machines.py --append bench/RESULTS.md     # append the section

runs, in turn (each also runs alone with the same options, see its docstring):

* ``bench_kernel_ridge.py``           -- K1: T=4 tasks at their own inputs, RBF, N = 2000 and 5000, against
  a numpy Cholesky solve, scikit-learn ``KernelRidge(kernel="precomputed")`` and GPy's ICM model;
  K2: shared design T=10, n=2000, ``kronecker`` against a numpy dense solve of the N x N system;
* ``bench_svc.py``                    -- K3: ``MultiTaskSVC`` against scikit-learn ``SVC(kernel="precomputed")``;
* ``bench_kernel_ridge_nystroem.py``  -- K4: N = 200,000 with ``nystroem`` (and random features), and the
  exact solver on a 10,000-sample subsample;
* ``bench_kernel_ridge_path.py``      -- K5: ``kernel_ridge_path`` at 25 alphas against 25 separate fits.
"""

from __future__ import annotations

import sys
import time

from common import machine_lines, markdown_table, section_driver_main, wait_for_quiet_machine


def run(repeats: int = 5, threads: int = 1, quick: bool = False, max_wait: float = 600.0) -> dict:
    """Runs K1-K5 and returns {"section": markdown, "summary_rows": [...]}."""
    import bench_kernel_ridge
    import bench_kernel_ridge_nystroem
    import bench_kernel_ridge_path
    import bench_svc

    workloads = [
        ("kernel ridge", bench_kernel_ridge.run, repeats),
        ("svc", bench_svc.run, repeats),
        # Fits of tens of seconds at N = 200,000: 3 repeats (the script says how each was timed).
        ("nystroem", bench_kernel_ridge_nystroem.run, min(repeats, 3)),
        ("path", bench_kernel_ridge_path.run, min(repeats, 3)),
    ]
    start = time.perf_counter()
    background, results = {}, {}
    for key, work, work_repeats in workloads:
        background[key] = wait_for_quiet_machine(0 if quick else max_wait)
        print(f"kernel machines: {key} (other processes: {background[key]:.0%} of the CPUs) ...", file=sys.stderr,
              flush=True)
        t0 = time.perf_counter()
        results[key] = work(repeats=work_repeats, threads=threads, quick=quick)
        print(f"  done in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - start
    summary_rows = [row for key, _, _ in workloads for row in results[key]["summary_rows"]]
    busy = ", ".join(f"{key} {value:.0%}" for key, value in background.items())
    section = "\n".join([
        "## Multi-task kernel machines (issue 5)",
        "",
        f"Written by `bench/bench_kernel_machines.py` from one run (about {elapsed:.0f} s). Times are medians of "
        f"{repeats} repeats (K4, K5: at most 3; K2's dense reference: once), methods timed round-robin, "
        f"threads: {threads} (ours `n_jobs`, BLAS via threadpoolctl).",
        "",
        *machine_lines(),
        f"* CPU used by other processes just before each workload (from /proc/stat): {busy}",
        "* reproduce: `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 python "
        f"bench/bench_kernel_machines.py --repeats {repeats}` (add `--append bench/RESULTS.md` to append this "
        "section); each workload alone: `python bench/bench_kernel_ridge.py` (K1, K2), `bench/bench_svc.py` (K3), "
        "`bench/bench_kernel_ridge_nystroem.py` (K4), `bench/bench_kernel_ridge_path.py` (K5); `--quick` for a "
        "smoke run.",
        "",
        "### Kernel machines summary",
        "",
        markdown_table(["workload", "measured", "target", "result"], summary_rows),
        "",
        *[part for key, _, _ in workloads for part in (results[key]["section"], "")],
    ])
    return {"section": section, "summary_rows": summary_rows, "elapsed": elapsed}


def main() -> int:
    return section_driver_main(run, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
