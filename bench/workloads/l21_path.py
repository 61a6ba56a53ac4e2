"""Structure workload S3: a warm-started L2,1 path on S1's data, against scikit-learn's path.

50 values rho_max ... rho_max/100 (log-spaced), fitted from the largest down with warm starts. Ours:
``multitask.regularization_path(..., penalty="l21", values=rho)`` on the raw data. Peer:
scikit-learn ``MultiTaskLasso.path`` (the path ``MultiTaskLassoCV`` runs per fold) on centred
Fortran-ordered data with alphas = T rho; celer ``mtl_path`` as a further row without a target.
Every method at the loosest tolerance for which EVERY point meets the common gap target.
Target: ours <= 0.5x scikit-learn's path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..adapters import celer_peer, ours, sklearn_peers
from ..adapters.optional import available
from ..harness.certified_tables import comparison_part
from ..harness.search import Method, certified_search, decades
from ..harness.threads import limit, limited
from ..harness.workload import Context, Outcome, Part
from ..problems import l21

NAME, IDS, GROUP = "l21_path", ("S3",), "structure"
RATIO_TARGET = 0.5
TOLERANCES = decades(2, 12)
N_VALUES = 50
MIN_RATIO = 1e-2
SIZES, QUICK_SIZES = (2000, 500, 20), (300, 60, 5)  # S1's data: (n, d, T)


def run(context: Context, output_folder: Path) -> Outcome:
    """Measure S3."""
    n, d, T = QUICK_SIZES if context.quick else SIZES
    threads = context.threads
    X, Y = l21.make_shared(n, d, T, seed=0)
    Xc, Yc = np.asfortranarray(X - X.mean(axis=0)), np.asfortranarray(Y - Y.mean(axis=0))
    Xcs, ycs = [Xc] * T, [np.ascontiguousarray(Yc[:, t]) for t in range(T)]
    rho_max = ours.l21_penalty_max(X, Y, threads)
    values = rho_max * np.logspace(0, np.log10(MIN_RATIO), N_VALUES)
    alphas = T * values

    def evaluate(coefs):
        points = [l21.duality_gap(Xcs, ycs, coef, a) for coef, a in zip(coefs, alphas)]
        return {key: np.array([p[key] for p in points]) for key in ("gap", "primal", "dual", "target")}

    outcome = Outcome()
    methods = [
        Method("ours", "multitask `regularization_path(..., penalty=\"l21\", values=ρ)`",
               lambda tol: ours.l21_path(X, Y, values, tol, threads), ours=True),
        Method("scikit-learn", "scikit-learn `MultiTaskLasso.path(X̃, Ỹ, l1_ratio=1, alphas=Tρ)`",
               lambda tol: sklearn_peers.multitask_lasso_path(Xc, Yc, alphas, tol)),
    ]
    if available("celer"):
        methods.append(Method("celer", "celer `mtl_path(X̃, Ỹ, alphas=Tρ)` (no target)",
                              lambda tol: celer_peer.mtl_path(Xc, Yc, alphas, tol)))
    else:
        outcome.notes.append("S3 celer: peer not installed")
    with limit(threads):
        reference, _ = ours.l21_path(X, Y, values, 1e-13, threads)
    Xc_c = np.ascontiguousarray(Xc)
    breakdown_runs = lambda tols: {  # noqa: E731 - timed in the same rounds, ours at its certified tolerance
        "ours path max_iter=1": limited(threads, lambda: ours.l21_path(X, Y, values, tols["ours"], threads,
                                                                       max_iter=1)),
        "ours last value alone": limited(threads, lambda: ours.fit_l21(X, Y, values[-1], tols["ours"], threads)),
        "numpy gram": limited(threads, lambda: Xc_c.T @ Xc_c),
    }
    target = float(evaluate(np.zeros((1, T, d)))["target"][0])  # the same at every point (it depends on Y only)
    result = certified_search(methods, evaluate, target, evaluate(reference), context.repeats, threads, TOLERANCES,
                              breakdown_runs)
    times = result["times"]
    entries = {e["key"]: e for e in result["entries"]}
    comparison = comparison_part("S3", result["entries"], {
        f"our path with `max_iter=1` ({N_VALUES} × input checks, centring/statistics, one iteration)":
            times["ours path max_iter=1"],
        "our single cold fit at ρ_max/100 alone (same tol)": times["ours last value alone"],
        "numpy X̃ᵀX̃ (the Gram, syrk)": times["numpy gram"],
    }, RATIO_TARGET, reference="scikit-learn", reference_label="scikit-learn path",
        verdict_reference="scikit-learn's path")
    comparison.blocks.append("opt_every_point")
    if "celer" in entries:
        comparison.blocks.append("opt_extra_verdict")
        comparison.figures["extra_verdict"] = (
            f"Ours against celer's `mtl_path` (no target): {entries['ours']['time'] / entries['celer']['time']:.2f} ×.")
    outcome.parts["comparison"] = [comparison]
    outcome.figures.update(n=n, d=d, T=T, n_values=N_VALUES, last_index=N_VALUES - 1, rho_max=rho_max, target=target,
                           bracket=result["bracket"], ratio_target=RATIO_TARGET,
                           **{f"s_{key}": value for key, value in comparison.figures.items()})
    outcome.verdicts["S3"] = comparison.figures["status"]
    outcome.summary.append(Part("summary"))
    return outcome
