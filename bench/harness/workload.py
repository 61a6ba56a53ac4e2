"""The protocol between the runner, the workloads and the report.

A workload module (``bench/workloads/<name>.py``) defines

* ``NAME``   -- its result file name (``bench/results/<NAME>.json``) and template (``pages/templates/<NAME>.md``);
* ``IDS``    -- the labels ``--only`` selects it by (e.g. ``("K1", "K2")``);
* ``GROUP``  -- the section of RESULTS.md it belongs to (see ``bench/report.py``);
* ``run(context) -> Outcome`` -- measures, and returns figures only: no markdown prose.

``Outcome`` holds what the report needs: ``figures`` (numbers and short names, the template fields),
``tables`` (header and pre-formatted rows), ``blocks`` (the optional template blocks that apply),
``parts`` (repeated template blocks, e.g. one per size) and ``summary`` (rows of the summary table,
each a template block with its fields). ``notes`` records what was skipped (a peer not installed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Context:
    """The options of one run, the same for every workload.

    Parameters
    ----------
    repeats : int
        Timed repeats (or round-robin rounds) per measurement; the median is reported.
    threads : int
        Threads of our core (``n_jobs``) and of numpy/scipy/scikit-learn (threadpoolctl).
    quick : bool
        Tiny sizes: a smoke run of the code path, not a measurement.
    """

    repeats: int
    threads: int
    quick: bool


@dataclass
class Part:
    """One rendering of a repeated template block (e.g. one table per problem size).

    ``template`` names a shared template file (e.g. "certified") instead of the workload's own.
    """

    block: str
    figures: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, dict] = field(default_factory=dict)
    blocks: list[str] = field(default_factory=list)
    template: str = ""


@dataclass
class Outcome:
    """What a workload measured; see the module docstring."""

    figures: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, dict] = field(default_factory=dict)
    blocks: list[str] = field(default_factory=list)
    parts: dict[str, list[Part]] = field(default_factory=dict)
    summary: list[Part] = field(default_factory=list)
    verdicts: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def table(header: list[str], rows: list[list[Any]]) -> dict:
    """A table as data: ``{"header": [...], "rows": [[...], ...]}`` (cells are made strings)."""
    return {"header": [str(cell) for cell in header], "rows": [[str(cell) for cell in row] for row in rows]}


def verdict(ratio: float, target: float, at_most: bool = True) -> str:
    """"PASS" if ``ratio`` meets ``target`` (at most, or at least), else "MISS"."""
    ok = ratio <= target if at_most else ratio >= target
    return "PASS" if ok else "MISS"


def ms(seconds: float, digits: int = 1) -> str:
    """Seconds as milliseconds with ``digits`` decimals (the unit of most table cells)."""
    return f"{seconds * 1e3:.{digits}f}"
