"""Multi-task data sets: the School and 20 Newsgroups benchmarks, and synthetic tasks with a known coupling.

The loaders return data in the package's list form (one array per task) and/or
in long format (stacked rows plus a task id per row).
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from numbers import Integral
from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse
from numpy.typing import ArrayLike, NDArray
from sklearn.utils import Bunch
from sklearn.utils._param_validation import StrOptions, validate_params

from ._validation import NON_NEGATIVE_REAL, POSITIVE_INT, NumberInterval
from .coupling import BUILDER_NAMES, _check_positive_definite, resolve_coupling

__all__ = ["load_newsgroups", "load_school", "make_multitask_regression"]

FORMS = ("lists", "long")


def _read_archive(filename: str) -> dict[str, NDArray[Any]]:
    """Every array of the ``.npz`` file ``filename`` shipped in ``multitask/data``."""
    data_file = resources.files(__package__).joinpath("data").joinpath(filename)
    with data_file.open("rb") as handle, np.load(handle) as archive:
        return {key: archive[key] for key in archive.files}


def _task_slices(n_per_task: NDArray[np.integer]) -> list[slice]:
    """The rows of every task in the stacked arrays, whose tasks come in order."""
    ends = np.cumsum(n_per_task)
    return [slice(int(end - size), int(end)) for size, end in zip(n_per_task, ends)]


def _task_ids(n_per_task: NDArray[np.integer]) -> NDArray[np.int64]:
    """The int64 task id 0..T-1 of every row of the stacked arrays."""
    return np.repeat(np.arange(n_per_task.size, dtype=np.int64), n_per_task)


def _read_school() -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """The stacked School arrays: X (15362, 28), y (15362,), and the number of rows of each school."""
    archive = _read_archive("school.npz")
    # The archive stores the original MATLAB uint8 values (X column-major), so
    # converting to float64 reproduces the published data exactly.
    X = np.ascontiguousarray(archive["X"], dtype=np.float64)
    y = np.ascontiguousarray(archive["y"], dtype=np.float64)
    return X, y, archive["n_per_task"].astype(np.int64)


@validate_params({"form": [StrOptions(set(FORMS))]}, prefer_skip_nested_validation=True)
def load_school(*, form: str = "lists") -> tuple[Any, ...]:
    """Load the School data: exam scores of 15,362 pupils in 139 London secondary schools.

    Every school is a regression task with 22 to 251 pupils (median 103). The
    data are the Inner London Education Authority (ILEA) examination records of
    1985-1987, the classic multi-task benchmark of Bakker & Heskes (JMLR 2003)
    and Argyriou, Evgeniou & Pontil ("Convex multi-task feature learning",
    MLJ 2008), as distributed in the MALSAR repository (``data/school.mat``).
    The target is the pupil's exam score, an integer from 1 to 70.

    The 28 columns of X (1-based, as in the MALSAR description; one-hot groups
    are 0/1 indicators):

    * 1-3: exam year one-hot (1985, 1986, 1987);
    * 4: % of pupils in the school eligible for free school meals (8-91);
    * 5: % of pupils in the school in verbal-reasoning (VR) band 1 (3-43);
    * 6-7: pupil gender one-hot;
    * 8-10: pupil VR band one-hot (about 0.1% of rows are all zero: missing);
    * 11-21: pupil ethnic group one-hot (11 groups);
    * 22-24: school gender one-hot (mixed, boys, girls);
    * 25-27: school denomination one-hot (maintained, Church of England, Roman Catholic);
    * 28: the constant 1 (a bias column), so there are 27 real features.

    Columns 22-28 are constant within every school; columns 1-5 vary within a
    school only across exam years. The design is **rank deficient**: the
    one-hot groups each sum to the bias column, so the stacked X has rank 23
    of 28 (lower still within a school), and W is unique only with a ridge or
    coupling term. Columns 4-5 are not normalised.

    Parameters
    ----------
    form : {"lists", "long"}, default="lists"
        ``"lists"``: one array per school, the package's list form.
        ``"long"``: the schools' rows stacked in order, with a school id per row.

    Returns
    -------
    Xs, ys : list of ndarray
        For ``form="lists"``: 139 float64 arrays of shape (n_t, 28) and (n_t,).
    X, y, tasks : ndarray
        For ``form="long"``: X of shape (15362, 28), y of shape (15362,), both
        float64, and tasks of shape (15362,), the int64 school id 0..138 of
        every row (rows are grouped by school in increasing id).

    Raises
    ------
    ValueError
        If ``form`` is not ``"lists"`` or ``"long"``.
    """
    X, y, n_per_task = _read_school()
    if form == "long":
        return X, y, _task_ids(n_per_task)
    # Copies, so that every task's array owns its (C-contiguous) memory.
    rows = _task_slices(n_per_task)
    return [X[task].copy() for task in rows], [y[task].copy() for task in rows]


# --------------------------------------------------------------------------------------------
# 20 Newsgroups (MALSAR)
# --------------------------------------------------------------------------------------------

# Canonical name -> (MALSAR folder, MALSAR files of task 1 and task 2; note the case).
_NEWSGROUPS = {
    "comp_vs_sci": ("comp.vs.sci", ("task1.mat", "task2.mat")),
    "rec_vs_talk": ("rec.vs.talk", ("Task1.mat", "Task2.mat")),
}
_NEWSGROUPS_ALIASES = {folder: name for name, (folder, _) in _NEWSGROUPS.items()}

_NEWSGROUPS_DESCR = """\
20 Newsgroups, {folder}: two binary text-classification tasks (MALSAR)
{underline}

{n_rows} documents in 2 tasks ({n_task_rows} rows), each a row of term counts
over the same 2,000-term vocabulary ({nnz} non-zeros in all, counts up to
{max_count}). Labels are 1 or 2 in both tasks (counts of 1/2: {label_counts}).
The source gives the two classes of every task only as 1 and 2: it does not
say which category each stands for, nor which word each column counts.

Source: the MALSAR repository (J. Zhou, J. Chen and J. Ye, "MALSAR: Multi-tAsk
Learning via StructurAl Regularization", Arizona State University, 2011),
files data/Newsgroup/{folder}/{file1} and {file2} (``fea``: the count matrix,
``gnd``: the label), task 1 and task 2 in that order. The tasks were built from
the 20 Newsgroups corpus (K. Lang, "NewsWeeder: learning to filter netnews",
ICML 1995) by Q. Gu and J. Zhou, "Learning the shared subspace for multi-task
clustering and transductive transfer classification", ICDM 2009; MALSAR uses
them for multi-task clustering (LSSMTC). The packaged copy equals the MALSAR
data exactly (counts, sparsity structure, labels).
"""


@validate_params(
    # The MALSAR folder names are accepted too (and listed, so that the message names every valid spelling).
    {"name": [StrOptions({*_NEWSGROUPS, *_NEWSGROUPS_ALIASES})]},
    prefer_skip_nested_validation=True,
)
def load_newsgroups(name: str = "comp_vs_sci") -> Bunch:
    """Load a two-task 20 Newsgroups collection of the MALSAR repository.

    Each collection has two binary classification tasks with labels 1 and 2
    over the same 2,000-term vocabulary; every row is one document's term
    counts. From Gu & Zhou (ICDM 2009), as distributed in MALSAR
    (``data/Newsgroup``); see ``DESCR`` for the sources.

    ============  ====  ===========  =======  =================
    collection    task  documents    nnz      labels 1 / 2
    ============  ====  ===========  =======  =================
    comp_vs_sci   1     1875         100,922  967 / 908
    comp_vs_sci   2     1827         90,209   871 / 956
    rec_vs_talk   1     1844         110,726  975 / 869
    rec_vs_talk   2     1545         78,608   860 / 685
    ============  ====  ===========  =======  =================

    The source does not say which newsgroup category labels 1 and 2 stand
    for, nor which word each of the 2,000 columns counts.

    Parameters
    ----------
    name : {"comp_vs_sci", "rec_vs_talk"}, default="comp_vs_sci"
        The collection; the MALSAR spellings ``"comp.vs.sci"`` and
        ``"rec.vs.talk"`` are accepted too.

    Returns
    -------
    data : sklearn.utils.Bunch
        With the fields

        X : list of scipy.sparse.csr_array
            The 2 tasks' term counts, float64 of shape (n_t, 2000) (list form).
        y : list of ndarray
            The 2 tasks' labels, int8 of shape (n_t,), each 1 or 2.
        X_all : scipy.sparse.csr_array
            Both tasks' rows stacked in order, float64 of shape (n, 2000) (long format).
        y_all : ndarray
            Their labels, int8 of shape (n,).
        tasks : ndarray
            The int64 task id (0 or 1) of every row of ``X_all``.
        task_names : list of str
            ``["task1", "task2"]``.
        name : str
            The canonical name of the collection.
        DESCR : str
            A description of the data and its sources.

    Raises
    ------
    ValueError
        If ``name`` is not one of the collections (the message lists them).

    Examples
    --------
    >>> from multitask.datasets import load_newsgroups
    >>> data = load_newsgroups("rec_vs_talk")
    >>> [X_t.shape for X_t in data.X]
    [(1844, 2000), (1545, 2000)]
    >>> data.y[1][:5].tolist(), data.task_names
    ([1, 1, 1, 1, 1], ['task1', 'task2'])
    """
    name = _NEWSGROUPS_ALIASES.get(name, name)
    archive = _read_archive(f"newsgroups_{name}.npz")
    # The archive holds both tasks' rows stacked in CSR form, with the counts
    # (all 0-43) as uint8 and the column indices (0-1999) as uint16, so the
    # float64 matrices reproduce the MALSAR data exactly.
    n_per_task = archive["n_per_task"].astype(np.int64)
    X_all = scipy.sparse.csr_array(
        (
            archive["data"].astype(np.float64),
            archive["indices"].astype(np.int32),
            archive["indptr"].astype(np.int32),
        ),
        shape=(int(n_per_task.sum()), int(archive["n_features"])),
    )
    y_all = archive["y"].astype(np.int8)
    rows = _task_slices(n_per_task)
    folder, files = _NEWSGROUPS[name]
    title = f"20 Newsgroups, {folder}: two binary text-classification tasks (MALSAR)"
    descr = _NEWSGROUPS_DESCR.format(
        folder=folder,
        underline="=" * len(title),
        n_rows=f"{y_all.size:,}",
        n_task_rows=" and ".join(f"{size:,}" for size in n_per_task),
        nnz=f"{X_all.nnz:,}",
        max_count=int(X_all.data.max()),
        label_counts=", ".join(f"{np.sum(y_all[task] == 1)}/{np.sum(y_all[task] == 2)}" for task in rows),
        file1=files[0],
        file2=files[1],
    )
    return Bunch(
        X=[X_all[task] for task in rows],  # row slices of a CSR array are copies
        y=[y_all[task].copy() for task in rows],
        X_all=X_all,
        y_all=y_all,
        tasks=_task_ids(n_per_task),
        task_names=[f"task{t + 1}" for t in range(n_per_task.size)],
        name=name,
        DESCR=descr,
    )


# --------------------------------------------------------------------------------------------
# Synthetic tasks
# --------------------------------------------------------------------------------------------


def _check_positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _check_sample_sizes(n_samples: Any, n_tasks: int) -> list[int]:
    """One positive sample size per task, from an int or a sequence of length ``n_tasks``."""
    if isinstance(n_samples, np.ndarray) and n_samples.ndim == 0:
        n_samples = n_samples.item()
    if isinstance(n_samples, str) or not isinstance(n_samples, (Sequence, np.ndarray)):
        return [_check_positive_int(n_samples, "n_samples")] * n_tasks
    sizes = list(n_samples)
    if len(sizes) != n_tasks:
        raise ValueError(f"n_samples has {len(sizes)} entries but n_tasks is {n_tasks}")
    return [_check_positive_int(size, "n_samples") for size in sizes]


def _draw_coef(
    rng: np.random.Generator | np.random.RandomState,
    coupling: Any,
    n_tasks: int,
    n_features: int,
) -> NDArray[np.float64]:
    """Task models coef (T, d), drawn from the prior that the coupling describes."""
    if coupling is None:
        # A shared model plus smaller task-specific deviations: w_t = w_0 + 0.5 v_t, w_0, v_t ~ N(0, I).
        shared = rng.standard_normal(n_features)
        deviations = rng.standard_normal((n_tasks, n_features))
        return shared[None, :] + 0.5 * deviations
    K = resolve_coupling(coupling, n_tasks)
    _check_positive_definite(K, "coupling", " to define the prior covariance B = coupling^-1")
    try:
        factor = np.linalg.cholesky(K)  # K = L L^T
    except np.linalg.LinAlgError:
        raise ValueError("coupling must be positive definite; its Cholesky factorisation failed") from None
    # Matrix-normal prior: every feature's column of task weights is ~ N(0, B), B = K^{-1}.
    # With Z ~ N(0, I_T) per column, L^T x = z gives cov(x) = L^{-T} L^{-1} = (L L^T)^{-1} = B.
    standard = rng.standard_normal((n_tasks, n_features))
    return scipy.linalg.solve_triangular(factor.T, standard, lower=False)


@validate_params(
    {
        "n_tasks": [POSITIVE_INT],
        "n_samples": [POSITIVE_INT, "array-like"],
        "n_features": [POSITIVE_INT],
        "coupling": [StrOptions(set(BUILDER_NAMES)), "array-like", None],
        "noise": [NON_NEGATIVE_REAL],
        "random_state": [None, NumberInterval(Integral, 0, None, closed="left"), np.random.RandomState,
                         np.random.Generator],
        "form": [StrOptions(set(FORMS))],
    },
    prefer_skip_nested_validation=True,
)
def make_multitask_regression(
    n_tasks: int = 10,
    n_samples: int | Sequence[int] = 100,
    n_features: int = 20,
    *,
    coupling: str | ArrayLike | None = None,
    noise: float = 0.1,
    random_state: int | np.random.RandomState | np.random.Generator | None = None,
    form: str = "lists",
) -> tuple[Any, ...]:
    """Generate related linear regression tasks with known true models.

    The true models are the rows of ``coef`` (T, d), i.e. ``W = coef^T``:

    * with a ``coupling`` K (positive definite), W follows the matrix-normal
      prior that the penalty ``(1/2) tr(W K W^T)`` encodes: the d rows of W are
      independent ``N(0, B)`` with task covariance ``B = K^{-1}``, so tasks with
      a large ``B_st`` have similar models (e.g. neighbours for
      :func:`multitask.coupling.chain`);
    * without one, every task is a shared model plus a smaller task-specific
      deviation, ``w_t = w_0 + 0.5 v_t`` with ``w_0, v_t ~ N(0, I_d)``.

    Then, per task, ``X_t`` has i.i.d. standard normal entries and
    ``y_t = X_t w_t + noise * e_t`` with ``e_t ~ N(0, I)``. Draws are made in
    this order (models, then each task's X_t, then each task's noise), so a
    seed fixes everything.

    Parameters
    ----------
    n_tasks : int, default=10
        Number of tasks T, >= 1.
    n_samples : int or sequence of int, default=100
        Samples per task: one number for every task, or one per task (unequal
        sizes allowed), each >= 1.
    n_features : int, default=20
        Number of features d, >= 1.
    coupling : {"identity", "mean_regularized", "chain"} or array-like of shape (T, T), default=None
        Positive definite coupling K of the prior (a builder name is applied
        with its default parameters, as in the estimators). None: shared model
        plus deviations.
    noise : float, default=0.1
        Standard deviation of the Gaussian noise, finite and >= 0.
    random_state : int, RandomState, Generator or None, default=None
        An int seeds a new :class:`numpy.random.Generator` (reproducible
        output); a RandomState or Generator is used (and advanced); None draws
        fresh entropy.
    form : {"lists", "long"}, default="lists"
        Output form, as in :func:`load_school`.

    Returns
    -------
    Xs, ys, coef : list of ndarray, list of ndarray, ndarray
        For ``form="lists"``: T arrays of shape (n_t, d) and (n_t,), and the
        true models ``coef`` of shape (T, d).
    X, y, tasks, coef : ndarray
        For ``form="long"``: the tasks stacked in order, X (N, d) and y (N,)
        with N = sum_t n_t, the int64 task id 0..T-1 of every row, and ``coef``.

    Raises
    ------
    ValueError
        If an argument is invalid (the message names it): non-positive or
        non-integer ``n_tasks``, ``n_samples`` or ``n_features``; an
        ``n_samples`` sequence of the wrong length; negative or non-finite
        ``noise``; a ``coupling`` that is not a valid positive definite T x T
        matrix; an unusable ``random_state``; an unknown ``form``.
    """
    n_tasks, n_features, noise = int(n_tasks), int(n_features), float(noise)
    sizes = _check_sample_sizes(n_samples, n_tasks)
    if isinstance(random_state, (np.random.Generator, np.random.RandomState)):
        rng = random_state  # used as it is, and advanced
    else:
        rng = np.random.default_rng(random_state)  # an int seeds a new Generator; None draws fresh entropy

    coef = _draw_coef(rng, coupling, n_tasks, n_features)
    Xs = [rng.standard_normal((size, n_features)) for size in sizes]
    ys = [X_t @ w_t + noise * rng.standard_normal(X_t.shape[0]) for X_t, w_t in zip(Xs, coef)]
    if form == "lists":
        return Xs, ys, coef
    return np.vstack(Xs), np.concatenate(ys), _task_ids(np.asarray(sizes)), coef
