"""M2: ``KernelCoupledRegressorCV(penalty="l21")`` against scikit-learn's ``MultiTaskLassoCV``.

S1's data (shared design X (n=2000, d=500), AR(1) features of correlation 0.9, Y (n, T=20) from a
row-sparse W with 50 relevant features, SNR 1, seed 0), 50 penalty values, the 5 folds of
``KFold(5)`` (no shuffling) on both sides. The mapping (README "Mappings to other packages"): with a
shared design, alpha=0 and uniform weights, ours ``l21 = a / T`` is ``MultiTaskLasso(alpha=a)``; the
grid is a = a_max · logspace(0, -2, 50), a_max = max_j ||(X̃ᵀỸ)_j||₂ / n (every coefficient zero).
Ours: ``coupling="identity", alpha=0, alphas=a / T``, scoring "neg_mean_squared_error" (the mean over
samples and tasks of the held-out squared error: what ``MultiTaskLassoCV`` averages).

Tolerances with one meaning: scikit-learn's coordinate descent stops when its duality gap is at
most ``tol ||Ỹ||²_F`` on its scale n·P (P = 1/(2n) ||Ỹ - X̃W||² + a Σ_j ||W_j||₂), i.e. gap_P ≤ tol
||Ỹ||²_F / n; ours ("feature_bcd") when its gap is at most ``tol`` F(0), and with P = T F and
P(0) = ||Ỹ||²_F / (2n) that is gap_P ≤ tol ||Ỹ||²_F / (2n). So ours runs at twice scikit-learn's
tol: the same stopping rule. Two levels: scikit-learn's default tol=1e-4 and tol=1e-6. Checks, on
the first round, before the others (a ``RuntimeError`` fails the workload): both choose the same
value, both refits' P are within 1e-6 relative of P* (ours at tol=1e-13 at the chosen value), and
the largest difference of the mean held-out errors is reported. Target: ours at most 0.5 × theirs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.model_selection import KFold

import multitask as mt

from ..adapters.optional import quiet
from ..adapters.ours_cv import fit, search_profile
from ..harness.threads import limit
from ..harness.timing import timed_once
from ..harness.workload import Context, Outcome, Part, ms, table, verdict
from ..problems import l21

NAME, IDS, GROUP = "cv_l21", ("M2",), "model_selection"
MAX_REPEATS = 3
RATIO_TARGET = 0.5
N_VALUES = 50
SKLEARN_TOLS = (1e-4, 1e-6)
OBJECTIVE_TOLERANCE = 1e-6
MAX_ITER = 10_000


def sizes(quick: bool) -> tuple[int, int, int]:
    """(n, d, T), S1's."""
    return (300, 60, 5) if quick else (2000, 500, 20)


def ours(values_l21: np.ndarray, tol: float, threads: int) -> mt.KernelCoupledRegressorCV:
    """Ours over the l21 values, at ``tol`` (twice scikit-learn's: the same stopping rule)."""
    return mt.KernelCoupledRegressorCV(coupling="identity", alpha=0.0, penalty="l21", alphas=values_l21, cv=KFold(5),
                                       scoring="neg_mean_squared_error", tol=tol, max_iter=MAX_ITER, n_jobs=threads)


def theirs(values_a: np.ndarray, tol: float, threads: int):
    """scikit-learn's ``MultiTaskLassoCV`` over the same values (a = T l21)."""
    from sklearn.linear_model import MultiTaskLassoCV

    return MultiTaskLassoCV(alphas=values_a, cv=KFold(5), tol=tol, max_iter=MAX_ITER, n_jobs=threads)


def fit_theirs(model, X, Y):
    """``MultiTaskLassoCV.fit`` with warnings silenced (the workload checks the result)."""
    with quiet():
        return model.fit(X, Y)


def run(context: Context, output_folder: Path) -> Outcome:
    """Measure M2."""
    n, d, T = sizes(context.quick)
    threads = context.threads
    X, Y = l21.make_shared(n, d, T, seed=0)
    Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
    Xcs, ycs = [Xc] * T, [np.ascontiguousarray(Yc[:, t]) for t in range(T)]
    a_max = float(np.max(np.linalg.norm(Xc.T @ Yc, axis=1))) / n
    n_values = 10 if context.quick else N_VALUES
    values_a = a_max * np.logspace(0, -2, n_values)
    values_l21 = values_a / T
    rows, figures, statuses, measured = [], {}, [], []
    with limit(threads):
        for tol in SKLEARN_TOLS:
            runs = {"ours": lambda tol=tol: fit(ours(values_l21, 2 * tol, threads), X, Y),
                    "theirs": lambda tol=tol: fit_theirs(theirs(values_a, tol, threads), X, Y)}
            samples: dict[str, list[float]] = {name: [] for name in runs}
            for index in range(context.repeats):  # no untimed warm-up: compiled code, minutes per round
                models = {}
                for name, run in runs.items():
                    models[name], seconds = timed_once(run)
                    samples[name].append(seconds)
                if index == 0:  # checked before the other rounds
                    checks = check(models, Xcs, ycs, values_a, X, Y, T, threads, tol)
            times = {name: float(np.median(values)) for name, values in samples.items()}
            profile = search_profile(ours(values_l21, 2 * tol, threads), X, Y)
            ratio = times["ours"] / times["theirs"]
            status = verdict(ratio, RATIO_TARGET)
            statuses.append(status)
            measured.append(f"{ratio:.2f} × (tol {tol:.0e})")
            folds_core = profile["core"] - profile["refit_core"]
            rows.append([f"{tol:.0e} (ours {2 * tol:.0e})", ms(times["ours"], 0), ms(times["theirs"], 0),
                         f"{ratio:.3f}", status, f"{checks['a']:.4g} (#{checks['index']})",
                         f"{checks['ours_suboptimality']:.1e} / {checks['theirs_suboptimality']:.1e}",
                         f"{checks['coef_difference']:.1e}", f"{checks['mse_difference']:.1e}",
                         f"{ms(folds_core, 0)} / {ms(profile['scoring'], 0)} / {ms(profile['refit'], 0)} / "
                         f"{ms(profile['rest'], 0)}"])
            figures[f"ratio_{tol:g}"] = ratio
    figures.update(n=n, d=d, T=T, active=l21.active_features(d), correlation=l21.AR_CORRELATION, a_max=a_max,
                   n_values=n_values, threads=threads, ratio_target=RATIO_TARGET,
                   objective_tolerance=OBJECTIVE_TOLERANCE, max_iter=MAX_ITER, measured="; ".join(measured),
                   status="pass" if all(s == "PASS" for s in statuses) else
                   ", ".join(f"{s.lower()} (tol {t:.0e})" for s, t in zip(statuses, SKLEARN_TOLS)))
    outcome = Outcome(figures=figures)
    outcome.tables["main"] = table(
        ["scikit-learn tol", "ours (ms)", "`MultiTaskLassoCV` (ms)", "ratio", f"≤ {RATIO_TARGET} ×",
         "a chosen (both; index)", "(P − P*)/P* refit: ours / theirs", "max |coef difference| / max |coef|",
         "max difference of mean held-out MSE / its minimum",
         "ours: core in folds / scoring / refit / rest (ms)"], rows)
    outcome.verdicts["M2"] = figures["status"]
    outcome.summary.append(Part("summary"))
    return outcome


def check(models: dict, Xcs: list, ycs: list, values_a: np.ndarray, X, Y, T: int, threads: int, tol: float) -> dict:
    """Same choice, both refits within OBJECTIVE_TOLERANCE of P*, the differences; RuntimeError otherwise."""
    mine, peer = models["ours"], models["theirs"]
    index = int(np.argmin(np.abs(values_a - peer.alpha_)))
    if mine.best_index_ != index:
        raise RuntimeError(f"M2 tol={tol:g}: ours chose a={T * mine.alpha_:.6g} (#{mine.best_index_}), "
                           f"MultiTaskLassoCV a={peer.alpha_:.6g} (#{index})")
    a = float(values_a[index])
    reference = mt.KernelCoupledRegressor(coupling="identity", alpha=0.0, l21=a / T, tol=1e-13, max_iter=100_000,
                                          n_jobs=threads)
    fit(reference, X, Y)
    primal = lambda coef: l21.duality_gap(Xcs, ycs, coef, a)["primal"]  # noqa: E731
    best = min(primal(reference.coef_), primal(mine.coef_), primal(peer.coef_))
    suboptimality = {name: (primal(coef) - best) / best for name, coef in (("ours", mine.coef_),
                                                                            ("theirs", peer.coef_))}
    for name, value in suboptimality.items():
        if not value <= OBJECTIVE_TOLERANCE:
            raise RuntimeError(f"M2 tol={tol:g}: {name}' refit is {value:.1e} above P* (> {OBJECTIVE_TOLERANCE:.0e})")
    ours_mse = -np.asarray(mine.cv_results_["mean_test_score"])
    theirs_mse = peer.mse_path_.mean(axis=1)  # in the order of peer.alphas_ (decreasing, as values_a)
    return dict(index=index, a=a, ours_suboptimality=suboptimality["ours"],
                theirs_suboptimality=suboptimality["theirs"],
                coef_difference=float(np.abs(mine.coef_ - peer.coef_).max() / np.abs(peer.coef_).max()),
                mse_difference=float(np.abs(ours_mse - theirs_mse).max() / theirs_mse.min()))
