"""What the two demos share: progress lines, splits within groups, cross-validation folds, tables."""

from __future__ import annotations

import sys
from typing import Sequence

import numpy as np

__all__ = ["N_FOLDS", "fold_ids", "print_table", "progress", "split_within_groups"]

N_FOLDS = 3


def progress(message: str) -> None:
    """Print a progress line to stderr (the results go to stdout)."""
    print(message, file=sys.stderr, flush=True)


def split_within_groups(groups: np.ndarray, test_fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of test rows: a random ``test_fraction`` of every group's rows (e.g. of every task)."""
    is_test = np.zeros(groups.size, dtype=bool)
    for group in np.unique(groups):
        rows = np.flatnonzero(groups == group)
        n_test = int(round(test_fraction * rows.size))
        is_test[rng.permutation(rows)[:n_test]] = True
    return is_test


def fold_ids(groups: np.ndarray, n_folds: int, rng: np.random.Generator) -> np.ndarray:
    """Fold of every row, assigned at random within every group, e.g. task (all groups in every fold)."""
    folds = np.empty(groups.size, dtype=np.int64)
    for group in np.unique(groups):
        rows = np.flatnonzero(groups == group)
        folds[rows] = rng.permutation(rows.size) % n_folds
    return folds


def _format_row(cells: Sequence[str], widths: Sequence[int]) -> str:
    """The first column left-aligned, the others right-aligned."""
    first = cells[0].ljust(widths[0])
    rest = [cell.rjust(width) for cell, width in zip(cells[1:], widths[1:])]
    return "  ".join([first, *rest])


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """The header, a rule and the rows, with columns as wide as their widest cell."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    print(_format_row(header, widths))
    print(_format_row(["-" * width for width in widths], widths))
    for row in rows:
        print(_format_row(row, widths))
