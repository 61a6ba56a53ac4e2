"""Peak extra memory of our classifier's fit, measured in a fresh child process.

The child (``python -m bench.adapters.ours_memory``) loads CSR tasks from an .npz, resets its
high-water mark (``echo 5 > /proc/self/clear_refs``), fits, and prints one JSON line with VmHWM and
VmRSS from /proc/self/status (kB). With ``--solver none`` it only loads the data: the lifetime VmHWM
of such a child is the cross-check's baseline.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

PREFIX = "MEMORY "
REPOSITORY = Path(__file__).resolve().parent.parent.parent


def save_tasks(path: str, Xs: list, ys: list) -> None:
    """CSR tasks and labels to one .npz for the children."""
    arrays = {"n_tasks": len(Xs), "n_features": Xs[0].shape[1]}
    for t, (X, y) in enumerate(zip(Xs, ys)):
        arrays.update({f"data{t}": X.data, f"indices{t}": X.indices, f"indptr{t}": X.indptr, f"y{t}": y})
    np.savez(path, **arrays)


def measure(path: str, solver: str, alpha: float, tol: float, max_iter: int, threads: int) -> dict:
    """Run a child on the tasks in ``path``; its JSON figures (kB, seconds)."""
    command = [sys.executable, "-m", "bench.adapters.ours_memory", path, "--solver", solver, "--alpha", repr(alpha),
               "--tol", repr(tol), "--max-iter", str(max_iter), "--threads", str(threads)]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH", "")])))
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True, cwd=REPOSITORY)
    line = next(line for line in done.stdout.splitlines() if line.startswith(PREFIX))
    return json.loads(line[len(PREFIX):])


def _status_kb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def child(path: str, solver: str, alpha: float, tol: float, max_iter: int, threads: int) -> dict:
    """The child's work (see the module docstring)."""
    from ..harness.threads import limit
    from .ours import fit_classifier

    archive = np.load(path)
    T, d = int(archive["n_tasks"]), int(archive["n_features"])
    Xs = [sp.csr_matrix((archive[f"data{t}"], archive[f"indices{t}"], archive[f"indptr{t}"]),
                        shape=(int(archive[f"indptr{t}"].size - 1), d)) for t in range(T)]
    ys = [archive[f"y{t}"] for t in range(T)]
    del archive
    gc.collect()
    out = {"hwm_load_kb": _status_kb("VmHWM"), "rss_loaded_kb": _status_kb("VmRSS")}
    if solver == "none":
        out["hwm_lifetime_kb"] = _status_kb("VmHWM")
        return out
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")  # resets VmHWM to the current RSS
        out["reset"] = True
    except OSError:
        out["reset"] = False
    baseline = _status_kb("VmRSS")
    with limit(threads):
        start = time.perf_counter()
        model = fit_classifier(Xs, ys, coupling="mean_regularized", alpha=alpha, solver=solver, tol=tol,
                               threads=threads, max_iter=max_iter)
        out["fit_s"] = time.perf_counter() - start
    hwm = _status_kb("VmHWM")
    out.update(baseline_kb=baseline, hwm_fit_kb=hwm, extra_kb=hwm - baseline if out["reset"] else None,
               n_iter=int(model.n_iter_), hwm_lifetime_kb=max(hwm, out["hwm_load_kb"]))
    return out


def main() -> int:
    """Command line of the child."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path")
    parser.add_argument("--solver", default="block_newton")
    parser.add_argument("--alpha", type=float, required=True)
    parser.add_argument("--tol", type=float, default=1e-8)
    parser.add_argument("--max-iter", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    print(PREFIX + json.dumps(child(args.path, args.solver, args.alpha, args.tol, args.max_iter, args.threads)),
          flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
