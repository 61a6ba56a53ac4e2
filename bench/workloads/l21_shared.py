"""Structure workload S1: L2,1 on a shared design (multi-output).

X (n=2000, d=500) AR(1) features of correlation 0.9, Y (n, T=20) from a row-sparse W, SNR 1,
rho = rho_max/100. Ours on the raw data (intercepts fitted) against scikit-learn
``MultiTaskLasso``, celer ``mtl_path`` and skglm ``MultiTaskLasso`` on centred data with a = T rho,
every method at the loosest tolerance whose solution meets the common gap target
(``problems.l21``). Target: ours <= 0.5x the fastest peer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..adapters import celer_peer, ours, sklearn_peers, skglm_peer
from ..adapters.optional import available
from ..harness.certified_tables import comparison_part
from ..harness.search import Method, certified_search, decades
from ..harness.threads import limit, limited
from ..harness.workload import Context, Outcome, Part
from ..problems import l21

NAME, IDS, GROUP = "l21_shared", ("S1",), "structure"
RATIO_TARGET = 0.5
TOLERANCES = decades(2, 12)
PEERS = {  # key: (row label, module that must import, solve(Xc, Yc, a, tol))
    "scikit-learn": ("scikit-learn `MultiTaskLasso(alpha=a, fit_intercept=False)`", "sklearn",
                     sklearn_peers.multitask_lasso),
    "celer": ("celer `mtl_path(X̃, Ỹ, alphas=[a])`", "celer", celer_peer.multitask_lasso),
    "skglm": ("skglm `MultiTaskLasso(alpha=a, fit_intercept=False)`", "skglm", skglm_peer.multitask_lasso),
}


def sizes(quick: bool) -> tuple[int, int, int]:
    """(n, d, T)."""
    return (300, 60, 5) if quick else (2000, 500, 20)


def run(context: Context, output_folder: Path) -> Outcome:
    """Measure S1."""
    n, d, T = sizes(context.quick)
    threads = context.threads
    X, Y = l21.make_shared(n, d, T, seed=0)
    Xc, Yc = np.asfortranarray(X - X.mean(axis=0)), np.asfortranarray(Y - Y.mean(axis=0))
    Xcs, ycs = [Xc] * T, [np.ascontiguousarray(Yc[:, t]) for t in range(T)]
    rho_max = ours.l21_penalty_max(X, Y, threads)
    rho = l21.PENALTY_RATIO * rho_max
    a = T * rho
    evaluate = lambda coef: l21.duality_gap(Xcs, ycs, coef, a)  # noqa: E731
    last = {}

    def ours_solve(tol):
        last[tol] = ours.fit_l21(X, Y, rho, tol, threads)
        return last[tol].coef_, last[tol].n_iter_

    outcome = Outcome()
    methods = [Method("ours", "multitask `KernelCoupledRegressor(l21=ρ)`", ours_solve, ours=True)]
    for key, (label, module, solve) in PEERS.items():
        if available(module):
            methods.append(Method(key, label, lambda tol, solve=solve: solve(Xc, Yc, a, tol)))
        else:
            outcome.notes.append(f"S1 {key}: peer not installed")
    with limit(threads):
        reference = ours.fit_l21(X, Y, rho, 1e-13, threads)
    Xc_c = np.ascontiguousarray(Xc)
    breakdown_runs = lambda tols: {  # noqa: E731 - timed in the same rounds, ours at its certified tolerance
        "ours max_iter=1": limited(threads, lambda: ours.fit_l21(X, Y, rho, tols["ours"], threads, max_iter=1)),
        "numpy gram": limited(threads, lambda: Xc_c.T @ Xc_c),
        "numpy XtY": limited(threads, lambda: X.T @ Y),
        "numpy centring": limited(threads, lambda: X - X.mean(axis=0)),
    }
    target = evaluate(np.zeros((T, d)))["target"]
    result = certified_search(methods, evaluate, target, evaluate(reference.coef_), context.repeats, threads,
                              TOLERANCES, breakdown_runs)
    times, entry = result["times"], result["entries"][0]
    model = last[entry["certified"]["tol"]]
    entry["name"] += f" (`{model.solver_}`)"
    comparison = comparison_part("S1", result["entries"], {
        "our fit with `max_iter=1` (input checks, centring/statistics, one iteration)": times["ours max_iter=1"],
        "numpy X̃ᵀX̃ (the Gram, syrk)": times["numpy gram"],
        "numpy XᵀY": times["numpy XtY"],
        "numpy centring X": times["numpy centring"],
    }, RATIO_TARGET)
    outcome.parts["comparison"] = [comparison]
    outcome.figures.update(
        n=n, d=d, T=T, active=l21.active_features(d), correlation=l21.AR_CORRELATION, rho=rho, rho_max=rho_max,
        rho_max_numpy=float(np.max(np.linalg.norm(Xc.T @ Yc, axis=1))) / (n * T), a=a, target=target,
        own_gap=T * model.dual_gap_, numpy_gap=entry["certified"]["max_gap"], bracket=result["bracket"],
        ratio_target=RATIO_TARGET, **{f"s_{key}": value for key, value in comparison.figures.items()})
    outcome.verdicts["S1"] = comparison.figures["status"]
    outcome.summary.append(Part("summary"))
    return outcome
