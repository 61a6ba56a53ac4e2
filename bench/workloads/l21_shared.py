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
from ..adapters.optional import installed
from ..harness.certified_tables import compare_single_fits
from ..harness.search import Method, decades
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
    rho_max, rho, a = ours.l21_penalty_levels(X, Y, T, threads, l21.PENALTY_RATIO)
    evaluate = lambda coef: l21.duality_gap(Xcs, ycs, coef, a)  # noqa: E731
    outcome = Outcome()
    ours_fits = ours.RecordedL21Fits(X, Y, rho, threads)
    methods = [Method("ours", "multitask `KernelCoupledRegressor(l21=ρ)`", ours_fits, ours=True)]
    methods += [Method(key, label, lambda tol, solve=solve: solve(Xc, Yc, a, tol))
                for key, (label, solve) in installed(PEERS, outcome.notes, "S1").items()]
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
    reference_values = {**evaluate(reference.coef_), "target": target}
    breakdown_labels = {
        "our fit with `max_iter=1` (input checks, centring/statistics, one iteration)": "ours max_iter=1",
        "numpy X̃ᵀX̃ (the Gram, syrk)": "numpy gram",
        "numpy XᵀY": "numpy XtY",
        "numpy centring X": "numpy centring",
    }
    comparison, result, model = compare_single_fits("S1", methods, evaluate, reference_values, context, TOLERANCES,
                                                    breakdown_runs, breakdown_labels, RATIO_TARGET, ours_fits.fits)
    entry = result["entries"][0]
    outcome.parts["comparison"] = [comparison]
    outcome.figures.update(
        n=n, d=d, T=T, active=l21.active_features(d), correlation=l21.AR_CORRELATION, rho=rho, rho_max=rho_max,
        rho_max_numpy=float(np.max(np.linalg.norm(Xc.T @ Yc, axis=1))) / (n * T), a=a, target=target,
        own_gap=T * model.dual_gap_, numpy_gap=entry["certified"]["max_gap"], bracket=result["bracket"],
        ratio_target=RATIO_TARGET, **{f"s_{key}": value for key, value in comparison.figures.items()})
    outcome.verdicts["S1"] = comparison.figures["status"]
    outcome.summary.append(Part("summary"))
    return outcome
