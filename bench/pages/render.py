"""Fill a workload's template from its result document.

A template file holds named blocks, each introduced by a line ``%% name``. Blocks are Python format
strings over the result's ``figures`` (format specs such as ``{ratio:.3f}`` live in the template), plus:

* ``{table_<name>}``: the result's table ``<name>`` as markdown;
* ``{opt_<name>}``: the block ``opt_<name>`` if the result lists it in ``blocks``, else nothing;
* ``{<key>}`` for every key of ``parts``: each part rendered with its own block and fields, joined.

The block ``section`` is the workload's section of RESULTS.md; every summary entry names its block.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).resolve().parent / "templates"
NON_FINITE = {"nan", "inf", "-inf"}


@lru_cache(maxsize=None)
def load_template(name: str) -> dict[str, str]:
    """The blocks of ``templates/<name>.md`` by name (trailing newlines removed)."""
    blocks: dict[str, list[str]] = {}
    current = None
    for line in (TEMPLATES / f"{name}.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("%% "):
            current = line[3:].strip()
            blocks[current] = []
        elif current is not None:
            blocks[current].append(line)
    return {key: "\n".join(lines).rstrip("\n") for key, lines in blocks.items()}


def markdown_table(table: dict) -> str:
    """A ``{"header", "rows"}`` table as a markdown table."""
    header = table["header"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in table["rows"]]
    return "\n".join(lines)


def _number(value: Any) -> Any:
    """Non-finite floats come back from JSON as strings; make them floats again for format specs."""
    return float(value) if isinstance(value, str) and value in NON_FINITE else value


class _Fields(dict):
    """Template fields: figures, with tables, optional blocks and parts rendered on demand."""

    def __init__(self, template: dict[str, str], figures: dict, tables: dict, blocks: list, parts: dict):
        super().__init__({key: _number(value) for key, value in figures.items()})
        self.template, self.tables, self.blocks, self.parts = template, tables, set(blocks), parts

    def __missing__(self, key: str) -> Any:
        if key.startswith("table_") and key[6:] in self.tables:
            return markdown_table(self.tables[key[6:]])
        if key.startswith("opt_"):
            return self.template[key].format_map(self) if key in self.blocks else ""
        if key in self.parts:
            return "\n\n".join(render_part(self.template, part, dict(self)) for part in self.parts[key])
        raise KeyError(f"template field {key!r} has no value")


def render_part(template: dict[str, str], part: dict, inherited: dict | None = None) -> str:
    """One block rendered with ``part``'s figures over the ``inherited`` ones."""
    if part.get("template"):
        template = load_template(part["template"])
    figures = {**(inherited or {}), **part.get("figures", {})}
    fields = _Fields(template, figures, part.get("tables", {}), part.get("blocks", []), part.get("parts", {}))
    return template[part["block"]].format_map(fields)


def render_section(document: dict) -> str:
    """A workload's section of RESULTS.md from its result document."""
    template = load_template(document["workload"])
    outcome = document["outcome"]
    return render_part(template, {"block": "section", **outcome})


def summary_rows(document: dict) -> list[str]:
    """A workload's rows of the summary tables (markdown table lines)."""
    template = load_template(document["workload"])
    figures = document["outcome"].get("figures", {})
    return [render_part(template, part, figures) for part in document["outcome"].get("summary", [])]


def percent(value: Any) -> str:
    """A busy fraction as a percentage ("n/a" when it was not measured)."""
    value = _number(value)
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.0%}"
