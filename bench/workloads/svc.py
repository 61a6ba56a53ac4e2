"""Multi-task SVM, K3: ``MultiTaskSVC`` against scikit-learn ``SVC(kernel="precomputed")``.

T=4 tasks, N=5000 samples (own inputs in R^10), RBF gamma=0.1, a fixed task kernel B, one shared
intercept, C = 1 (alpha = 1/N), tol = 1e-3 for both (the same dual, LIBSVM's second-order working-set
selection). scikit-learn timed (a) with building the multi-task Gram and (b) on a prebuilt Gram.
Target: ours <= 0.5x scikit-learn.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.svm import SVC

import multitask as mt

from ..adapters.sklearn_peers import svc_gram
from ..harness.threads import limit
from ..harness.timing import interleaved_times
from ..harness.workload import Context, Outcome, Part, ms, table, verdict
from ..problems.kernels import task_kernel

NAME, IDS, GROUP = "svc", ("K3",), "kernel_machines"
T, D, GAMMA, TOL = 4, 10, 0.1, 1e-3
TARGET = 0.5


def labels(X: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
    """A nonlinear boundary that shifts from task to task, with label noise (classes overlap)."""
    score = np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2] - 0.3 * X[:, 3] + 0.2 * t * X[:, 4]
    return np.where(score + 0.5 * rng.normal(size=len(X)) > 0, 1, -1)


def data(N: int, n_test: int, seed: int = 0) -> tuple[list, list, list, list]:
    """Training and test inputs and labels per task."""
    rng = np.random.default_rng(seed)
    Xs = [rng.normal(size=(N // T, D)) for _ in range(T)]
    tests = [rng.normal(size=(n_test, D)) for _ in range(T)]
    return Xs, [labels(X, t, rng) for t, X in enumerate(Xs)], tests, [labels(X, t, rng) for t, X in enumerate(tests)]


def run(context: Context, output_folder: Path) -> Outcome:
    """Measure K3."""
    N = 800 if context.quick else 5000
    Xs, ys, tests, test_ys = data(N, 200 if context.quick else 2000)
    B = task_kernel(T, 1)
    y = np.concatenate(ys)
    ours = mt.MultiTaskSVC(kernel="rbf", gamma=GAMMA, task_kernel=B, alpha=1.0 / N, fit_intercept="shared", tol=TOL,
                           n_jobs=context.threads)
    reference = SVC(kernel="precomputed", C=1.0, tol=TOL)
    with limit(context.threads, blas_only=True):
        M = svc_gram(Xs, Xs, B, GAMMA)
        times = interleaved_times({
            "ours": lambda: ours.fit(Xs, ys),
            "sklearn (a): build M + fit": lambda: reference.fit(svc_gram(Xs, Xs, B, GAMMA), y),
            "sklearn (b): fit on a prebuilt M": lambda: reference.fit(M, y),
        }, context.repeats, budget=30.0)
        ours.fit(Xs, ys)
        reference.fit(M, y)
        ours_scores = np.concatenate(ours.decision_function(tests))
        reference_scores = reference.decision_function(svc_gram(tests, Xs, B, GAMMA))
    t_ours = times.pop("ours")
    outcome = Outcome()
    outcome.tables["svc"] = table(["scikit-learn route", "scikit-learn (ms)", "multitask (ms)", "ours / sklearn",
                                   f"target ≤ {TARGET}"],
                                  [[name, ms(t), ms(t_ours), f"{t_ours / t:.2f}", f"**{verdict(t_ours / t, TARGET)}**"]
                                   for name, t in times.items()])
    outcome.figures.update(
        T=T, N=N, D=D, gamma=GAMMA, tol=TOL, threads=context.threads, target=TARGET, ours_sv=ours.support_.size,
        sklearn_sv=reference.support_.size, ours_iter=ours.n_iter_, sklearn_iter=int(np.sum(reference.n_iter_)),
        n_scores=len(ours_scores), agreement=float(np.mean(np.sign(ours_scores) == np.sign(reference_scores))),
        difference=float(np.abs(ours_scores - reference_scores).max()),
        accuracy=float(np.mean(np.concatenate(ours.predict(tests)) == np.concatenate(test_ys))),
        ratios="; ".join(f"{t_ours / t:.2f} × {name.split(':')[0].removeprefix('sklearn ')}" for name, t in times.items()),
        statuses=" / ".join(verdict(t_ours / t, TARGET) for t in times.values()))
    outcome.verdicts.update({f"K3 {name.split(':')[0]}": verdict(t_ours / t, TARGET) for name, t in times.items()})
    outcome.summary.append(Part("summary"))
    return outcome
