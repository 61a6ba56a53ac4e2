"""What the two demos share: the number of folds, progress lines, tables."""

from __future__ import annotations

import sys
from typing import Sequence


__all__ = ["N_FOLDS", "print_table", "progress"]

N_FOLDS = 3


def progress(message: str) -> None:
    """Print a progress line to stderr (the results go to stdout)."""
    print(message, file=sys.stderr, flush=True)


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
