"""Result files: one JSON document per workload run, under ``bench/results/`` by default."""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

RESULTS_DIR = Path(__file__).resolve().parent.parent / "results"


def _plain(value: Any) -> Any:
    """JSON-ready copy: numpy scalars and arrays to Python, non-finite floats to strings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)  # JSON has no nan/inf; "nan" formats back through float()
    return value


def write_result(document: dict, folder: os.PathLike | str = RESULTS_DIR) -> Path:
    """Write one workload's result document to ``<folder>/<document['workload']>.json``.

    Returns
    -------
    Path
        The file written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{document['workload']}.json"
    path.write_text(json.dumps(_plain(document), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def read_results(folder: os.PathLike | str = RESULTS_DIR) -> dict[str, dict]:
    """Every result document in ``folder``, by workload name."""
    documents = {}
    for path in sorted(Path(folder).glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        documents[document["workload"]] = document
    return documents
