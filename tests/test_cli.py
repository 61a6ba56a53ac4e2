"""The command-line interface: ``multitask demo`` and argument handling."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from multitask.cli import knn_adjacency, main

MODELS = ("independent ridge", "pooled ridge", "mean-regularised", "graph-coupled")
SOLVERS = {"exact", "cg", "bcd", "gradient"}


def _table_rows(stdout: str) -> dict[str, list[str]]:
    """Cells after the model name of every row of the demo table, by model."""
    rows = {}
    for line in stdout.splitlines():
        for model in MODELS:
            if line.startswith(model + " "):
                rows[model] = line[len(model) :].split()
    return rows


def test_demo_prints_table_of_four_models(capsys):
    assert main(["demo"]) == 0
    captured = capsys.readouterr()
    assert "cross-validating" in captured.err  # progress goes to stderr
    rows = _table_rows(captured.out)
    assert set(rows) == set(MODELS)

    ev_pooled = {}
    for model, cells in rows.items():
        alpha, mu, pooled, task_average, rmse, fit_ms, solver = cells
        assert float(alpha) > 0
        assert mu == "-" if model in ("independent ridge", "pooled ridge") else float(mu) > 0
        ev_pooled[model] = float(pooled)
        assert 0.0 < float(pooled) < 1.0
        assert 0.0 < float(task_average) < 1.0
        # The exam scores have standard deviation 12.7: any useful model does better.
        assert 0.0 < float(rmse) < 12.7
        assert float(fit_ms) >= 0.0
        assert solver in SOLVERS
    for coupled in ("mean-regularised", "graph-coupled"):
        assert ev_pooled[coupled] >= ev_pooled["independent ridge"] - 0.01


def test_module_help_exits_zero():
    result = subprocess.run(
        [sys.executable, "-m", "multitask", "--help"], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0
    assert "demo" in result.stdout


def test_unknown_subcommand_exits_nonzero():
    result = subprocess.run(
        [sys.executable, "-m", "multitask", "no-such-command"], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode != 0
    assert "no-such-command" in result.stderr


@pytest.mark.parametrize("argv", [[], ["demo", "--dataset", "no-such-data"], ["demo", "--seed", "x"]])
def test_bad_arguments_exit_with_usage_error(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_knn_adjacency_is_symmetric_and_joins_nearest_tasks():
    # Tasks 0-2 lie close together, 3-5 close together, the groups far apart.
    features = np.array([[0.0, 0.0], [0.1, 0.0], [0.0, 0.1], [5.0, 5.0], [5.1, 5.0], [5.0, 5.1]])
    adjacency = knn_adjacency(features, n_neighbours=2)
    np.testing.assert_array_equal(adjacency, adjacency.T)
    np.testing.assert_array_equal(np.diag(adjacency), 0.0)
    np.testing.assert_array_equal(adjacency[:3, 3:], 0.0)
    np.testing.assert_array_equal(adjacency[:3, :3], 1.0 - np.eye(3))
