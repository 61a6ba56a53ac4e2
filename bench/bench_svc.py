"""Multi-task SVM (issue 5, benchmark 3).

T=4 tasks, N=5000 samples in all (1250 per task, each task at its own inputs in R^10),
RBF input kernel gamma=0.1, a fixed positive definite task kernel B, one shared
intercept, C = 1 (alpha = 1/N), tol = 1e-3 for both:
  * ours: MultiTaskSVC(kernel="rbf", task_kernel=B, fit_intercept="shared").fit;
  * scikit-learn SVC(kernel="precomputed", C=1) on the multi-task Gram matrix
    M = B[t_i, t_j] k(x_i, x_j), timed (a) with building M (sklearn's rbf_kernel and
    a numpy product) and (b) the fit alone on a prebuilt M.
Both solve the same dual (LIBSVM's, second-order working-set selection), so they
stop at the same tolerance; predictions are compared at 2000 test inputs per task.
Target: ours <= 0.5 x scikit-learn.

Run: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 python bench/bench_svc.py --threads 1
(--quick: a small N, a smoke test of the script).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.svm import SVC

from common import blas_threads, interleaved_times, main, markdown_table, ms, mt, verdict

T, D, GAMMA, TOL = 4, 10, 0.1, 1e-3


def task_kernel(seed: int = 1) -> np.ndarray:
    """A positive definite B with unit diagonal and correlations up to about 0.8."""
    A = np.random.default_rng(seed).normal(size=(T, 2))
    B = A @ A.T + 0.2 * np.eye(T)
    scale = 1 / np.sqrt(np.diag(B))
    return B * np.outer(scale, scale)


def labels(X: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
    """A nonlinear boundary that shifts from task to task, with label noise (classes overlap)."""
    score = np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2] - 0.3 * X[:, 3] + 0.2 * t * X[:, 4]
    return np.where(score + 0.5 * rng.normal(size=len(X)) > 0, 1, -1)


def data(N: int, n_test: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    Xs = [rng.normal(size=(N // T, D)) for _ in range(T)]
    tests = [rng.normal(size=(n_test, D)) for _ in range(T)]
    return Xs, [labels(X, t, rng) for t, X in enumerate(Xs)], tests, [labels(X, t, rng) for t, X in enumerate(tests)]


def multitask_gram(X1s, X2s, B):
    """Rows (task s, x) against columns (task t, x'): B_st k(x, x')."""
    X1, X2 = np.vstack(X1s), np.vstack(X2s)
    t1 = np.repeat(np.arange(T), [len(X) for X in X1s])
    t2 = np.repeat(np.arange(T), [len(X) for X in X2s])
    return B[np.ix_(t1, t2)] * rbf_kernel(X1, X2, gamma=GAMMA)


def run(repeats: int = 5, threads: int = 1, quick: bool = False) -> dict:
    N = 800 if quick else 5000
    Xs, ys, tests, test_ys = data(N, 200 if quick else 2000)
    B = task_kernel()
    y = np.concatenate(ys)
    ours = mt.MultiTaskSVC(kernel="rbf", gamma=GAMMA, task_kernel=B, alpha=1.0 / N, fit_intercept="shared", tol=TOL,
                           n_jobs=threads)
    reference = SVC(kernel="precomputed", C=1.0, tol=TOL)
    with blas_threads(threads):
        M = multitask_gram(Xs, Xs, B)
        times = interleaved_times(
            {
                "ours": lambda: ours.fit(Xs, ys),
                "sklearn (a): build M + fit": lambda: reference.fit(multitask_gram(Xs, Xs, B), y),
                "sklearn (b): fit on a prebuilt M": lambda: reference.fit(M, y),
            },
            repeats,
            budget=30.0,
        )
        ours.fit(Xs, ys)
        reference.fit(M, y)
        M_test = multitask_gram(tests, Xs, B)
        ours_scores = np.concatenate(ours.decision_function(tests))
        reference_scores = reference.decision_function(M_test)
    agreement = np.mean(np.sign(ours_scores) == np.sign(reference_scores))
    difference = np.abs(ours_scores - reference_scores).max()
    accuracy = np.mean(np.concatenate(ours.predict(tests)) == np.concatenate(test_ys))
    t_ours = times.pop("ours")
    rows, statuses = [], []
    for name, t in times.items():
        ratio = t_ours / t
        status = verdict(ratio, 0.5)
        statuses.append(f"{name[:12]}: {status}")
        rows.append([name, ms(t), ms(t_ours), f"{ratio:.2f}", f"**{status}**"])
    table = markdown_table(["scikit-learn route", "scikit-learn (ms)", "multitask (ms)", "ours / sklearn", "target ≤ 0.5"],
                           rows)
    section = (
        f"### K3. Multi-task SVM (threads: {threads})\n\n"
        f"T = {T} tasks, N = {N} samples (own inputs in R^{D}), RBF gamma = {GAMMA}, fixed task kernel B, shared "
        f"intercept, C = 1, tol = {TOL}.\n\n{table}\n\n"
        f"Support vectors: ours {ours.support_.size}, scikit-learn {reference.support_.size}; iterations: ours "
        f"{ours.n_iter_}, scikit-learn {int(np.sum(reference.n_iter_))}. Test predictions ({len(ours_scores)}): "
        f"signs agree on {agreement:.4%}, max |decision difference| {difference:.1e} (both stop at tol {TOL}); "
        f"test accuracy {accuracy:.3f}.\n"
    )
    summary = [f"K3. `MultiTaskSVC`, T={T}, N={N} in R^{D}, RBF, shared intercept, tol {TOL}: fit vs scikit-learn "
               "`SVC(kernel=\"precomputed\")` (a) building the multi-task Gram + fit, (b) fit alone",
               "; ".join(f"{t_ours / t:.2f} × {name.split(':')[0].removeprefix('sklearn ')}"
                         for name, t in times.items()), "≤ 0.5 ×",
               "**" + " / ".join(verdict(t_ours / t, 0.5) for t in times.values()) + "**"]
    return {"section": section, "status": ", ".join(statuses), "summary_rows": [summary]}


if __name__ == "__main__":
    main(run, __doc__)
