"""``multitask demo --dataset school``: four least-squares models on the School benchmark.

All fitted with :class:`multitask.KernelCoupledRegressor`:

* independent ridge: K = I, every task on its own;
* pooled ridge: one model fitted on all tasks' data stacked, used for every task;
* mean-regularised: K = I - 11^T/T + mu I, every task pulled towards the mean model;
* graph-coupled: K = L + mu I with L the Laplacian of a graph between the tasks.

Built from the package's public pieces: the split is
:func:`multitask.model_selection.train_test_split_tasks`, the folds
:class:`multitask.model_selection.TaskKFold`, and alpha (and mu) are chosen by
:class:`multitask.KernelCoupledRegressorCV` on the training part only; each
model is refitted on the whole training part and scored on the held-out part.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .. import coupling as coupling_builders
from .._regressor import KernelCoupledRegressor
from .._regressor_cv import KernelCoupledRegressorCV
from ..datasets import load_school
from ..model_selection import TaskKFold, train_test_split_tasks
from ._common import N_FOLDS, print_table, progress

__all__ = ["DEMO_PROBLEMS", "cv_folds", "knn_adjacency", "run_demo"]

ALPHAS = np.logspace(-5, 0, 6)  # 1e-5 ... 1: Ridge(alpha=alpha * N) per task, N ~ 11,500 training pupils
MUS = (1e-3, 1e-2, 1e-1)  # diagonal ridge of the coupled models' K
TEST_FRACTION = 0.25
N_NEIGHBOURS = 5


@dataclass
class DemoProblem:
    """A multi-task regression problem split into training and test rows.

    Rows are in long format and sorted by task; task ids are 0..T-1.
    """

    name: str
    X_train: np.ndarray  # (n_train, d)
    y_train: np.ndarray  # (n_train,)
    tasks_train: np.ndarray  # (n_train,)
    X_test: np.ndarray  # (n_test, d)
    y_test: np.ndarray  # (n_test,)
    tasks_test: np.ndarray  # (n_test,)
    task_features: np.ndarray  # (T, p): descriptors of every task, for the task graph
    notes: list[str]

    @property
    def n_tasks(self) -> int:
        return int(self.tasks_train.max()) + 1


def _school_problem(seed: int) -> DemoProblem:
    X, y, tasks = load_school(form="long")
    rows = np.arange(y.size)
    _, test_rows = train_test_split_tasks(rows[:, None], None, tasks, test_size=TEST_FRACTION,
                                          random_state=seed)[:2]
    test = np.zeros(y.size, dtype=bool)
    test[test_rows[:, 0]] = True
    train = ~test

    # Column 27 is a constant 1; the per-task intercepts replace it. The other columns
    # are standardised with the mean and standard deviation of the training rows:
    # the penalty treats every coefficient alike, so without this the percentage
    # columns 3-4 (ranges 8-91 and 3-43) would be penalised far less than the 0/1
    # indicators, and the choice of alpha would depend on the units.
    X = X[:, :27]
    mean = X[train].mean(axis=0)
    scale = X[train].std(axis=0)
    scale[scale == 0] = 1.0
    X_std = (X - mean) / scale

    # Descriptors of every school for the graph-coupled model. Columns 21-26 (school
    # gender and denomination) are constant within a school and say what kind of
    # school it is; the means of the pupil-level columns 0-20 over the school's
    # training pupils describe its intake (free meals, VR band 1, pupils' VR bands,
    # gender and ethnic mix, exam years). Only features of training rows are used,
    # never targets, so nothing of the test part leaks into the model.
    n_tasks = int(tasks.max()) + 1
    school_type = np.array([X[tasks == t][0, 21:27] for t in range(n_tasks)])
    intake = np.array([X_std[train & (tasks == t), :21].mean(axis=0) for t in range(n_tasks)])
    task_features = np.hstack([school_type, intake])
    notes = [
        "features: column 27 (constant) dropped, the rest standardised with training-set mean and sd",
        f"graph: {N_NEIGHBOURS}-nearest-neighbour graph between schools on their type (columns 21-26) "
        "and mean intake (columns 0-20)",
    ]
    return DemoProblem(
        "School",
        X_std[train],
        y[train],
        tasks[train],
        X_std[test],
        y[test],
        tasks[test],
        task_features,
        notes,
    )


# The regression demo data sets (run_demo).
DEMO_PROBLEMS: dict[str, Callable[[int], DemoProblem]] = {"school": _school_problem}


def knn_adjacency(task_features: np.ndarray, n_neighbours: int) -> np.ndarray:
    """Symmetric 0/1 adjacency joining every task to its ``n_neighbours`` nearest tasks.

    Descriptors are standardised across tasks first so each counts the same in the
    Euclidean distance. A k-nearest-neighbour graph (rather than a distance
    threshold) leaves no task isolated, and it stays sparse, so each task borrows
    from a few similar tasks instead of from all of them as the mean-regularised
    model does. s and t are joined when either is among the other's neighbours.
    """
    F = np.asarray(task_features, dtype=np.float64)
    spread = F.std(axis=0)
    F = (F - F.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    squared = np.sum(F**2, axis=1)
    distances = squared[:, None] + squared[None, :] - 2.0 * F @ F.T
    np.fill_diagonal(distances, np.inf)
    neighbours = np.argsort(distances, axis=1, kind="stable")[:, :n_neighbours]
    adjacency = np.zeros_like(distances)
    adjacency[np.repeat(np.arange(F.shape[0]), n_neighbours), neighbours.ravel()] = 1.0
    return np.maximum(adjacency, adjacency.T)


@dataclass
class Candidate:
    """One demo model: how to build it for a hyper-parameter setting, and its grid."""

    name: str
    pooled: bool  # one model for every task, fitted on the stacked rows
    make_coupling: Callable[[float], np.ndarray | str]  # mu -> K
    mus: Sequence[float | None]


def _fit(candidate: Candidate, alpha: float, mu: float | None, X, y, tasks, n_jobs) -> KernelCoupledRegressor:
    model = KernelCoupledRegressor(coupling=candidate.make_coupling(mu), alpha=alpha, n_jobs=n_jobs)
    if candidate.pooled:
        return model.fit(X, y)  # a single task: the stacked rows with one target
    return model.fit(X, y, tasks=tasks)


def _predict(candidate: Candidate, model: KernelCoupledRegressor, X, tasks) -> np.ndarray:
    return model.predict(X) if candidate.pooled else model.predict(X, tasks=tasks)


def cv_folds(problem: DemoProblem, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The cross-validation folds of the training part: :class:`TaskKFold` within every task."""
    splitter = TaskKFold(N_FOLDS, shuffle=True, random_state=seed + 1)
    return list(splitter.split(problem.X_train, groups=problem.tasks_train))


def _cross_validate(
    candidate: Candidate, problem: DemoProblem, folds: list, n_jobs: int | None
) -> tuple[float, float | None]:
    """(alpha, mu) with the smallest mean cross-validated squared error (one KernelCoupledRegressorCV per mu)."""
    best: tuple[float, float, float | None] | None = None
    for mu in candidate.mus:
        search = KernelCoupledRegressorCV(coupling=candidate.make_coupling(mu), alphas=ALPHAS, cv=folds,
                                          scoring="neg_mean_squared_error", n_jobs=n_jobs)
        if candidate.pooled:
            search.fit(problem.X_train, problem.y_train)
        else:
            search.fit(problem.X_train, problem.y_train, tasks=problem.tasks_train)
        if best is None or search.best_score_ > best[0]:
            best = (search.best_score_, search.alpha_, mu)
    assert best is not None
    return best[1], best[2]


def explained_variance_pooled(y: np.ndarray, prediction: np.ndarray) -> float:
    """1 - sum of squared errors / sum of (y - mean y)^2 over all samples pooled."""
    return 1.0 - float(np.sum((y - prediction) ** 2) / np.sum((y - y.mean()) ** 2))


def explained_variance_task_average(y: np.ndarray, prediction: np.ndarray, tasks: np.ndarray) -> float:
    """Mean over tasks of each task's R^2 on its own samples."""
    return float(np.mean([explained_variance_pooled(y[tasks == t], prediction[tasks == t]) for t in np.unique(tasks)]))


def run_demo(dataset: str, seed: int, n_jobs: int | None) -> int:
    """Fit the four demo models on ``dataset`` and print the comparison table to stdout."""
    started = time.perf_counter()
    progress(f"loading {dataset} and splitting every task 75/25 (seed {seed}) ...")
    problem = DEMO_PROBLEMS[dataset](seed)
    n_tasks = problem.n_tasks
    adjacency = knn_adjacency(problem.task_features, N_NEIGHBOURS)
    candidates = [
        Candidate("independent ridge", False, lambda mu: "identity", [None]),
        Candidate("pooled ridge", True, lambda mu: "identity", [None]),
        Candidate("mean-regularised", False, lambda mu: coupling_builders.mean_regularized(n_tasks, mu=mu), MUS),
        Candidate("graph-coupled", False, lambda mu: coupling_builders.graph_laplacian(adjacency, ridge=mu), MUS),
    ]
    folds = cv_folds(problem, seed)

    header = ["model", "alpha", "mu", "EV pooled", "EV task-avg", "test RMSE", "fit ms", "solver"]
    rows = []
    for candidate in candidates:
        n_settings = len(ALPHAS) * len(candidate.mus)
        progress(f"cross-validating {candidate.name} ({N_FOLDS}-fold, {n_settings} settings) ...")
        alpha, mu = _cross_validate(candidate, problem, folds, n_jobs)
        progress(f"refitting {candidate.name} on the whole training part ...")
        fit_started = time.perf_counter()
        model = _fit(candidate, alpha, mu, problem.X_train, problem.y_train, problem.tasks_train, n_jobs)
        fit_ms = 1e3 * (time.perf_counter() - fit_started)
        prediction = _predict(candidate, model, problem.X_test, problem.tasks_test)
        y = problem.y_test
        rows.append(
            [
                candidate.name,
                f"{alpha:.0e}",
                "-" if mu is None else f"{mu:g}",
                f"{explained_variance_pooled(y, prediction):.3f}",
                f"{explained_variance_task_average(y, prediction, problem.tasks_test):.3f}",
                f"{np.sqrt(np.mean((y - prediction) ** 2)):.3f}",
                f"{fit_ms:.1f}",
                model.solver_,
            ]
        )

    print(
        f"{problem.name}: {n_tasks} tasks, {problem.y_train.size} training and {problem.y_test.size} test samples "
        f"(random {100 - 100 * TEST_FRACTION:.0f}/{100 * TEST_FRACTION:.0f} split within every task, seed {seed})"
    )
    for note in problem.notes:
        print(note)
    print(
        f"alpha (and mu) chosen by {N_FOLDS}-fold cross-validation within every task on the training part, "
        "then refitted on all of it; 'fit ms' times that final fit"
    )
    print()
    print_table(header, rows)
    print()
    print("mean-regularised: K = I - 11^T/T + mu I; graph-coupled: K = L + mu I (L: graph Laplacian)")
    print("EV pooled: 1 - sum (y - yhat)^2 / sum (y - mean y)^2 over all test samples (R^2 pooled)")
    print("EV task-avg: mean over tasks of each task's test R^2; test RMSE: over all test samples")
    progress(f"done in {time.perf_counter() - started:.1f} s")
    return 0
