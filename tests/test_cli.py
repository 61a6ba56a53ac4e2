"""The command-line interface: ``multitask demo`` and argument handling."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse

from multitask.cli import main
from multitask.demos.newsgroups import NEWSGROUPS_ALPHAS, log1p_unit_rows
from multitask.demos.school import knn_adjacency

MODELS = ("independent ridge", "pooled ridge", "mean-regularised", "graph-coupled")
NEWSGROUPS_MODELS = ("independent", "mean-regularised")
SOLVERS = {"exact", "cg", "task_bcd", "gradient"}


def _table_rows(stdout: str, models: tuple[str, ...] = MODELS) -> dict[str, list[str]]:
    """Cells after the model name of every row of the demo table, by model."""
    rows = {}
    for line in stdout.splitlines():
        for model in models:
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


@pytest.mark.parametrize("name", [None, "comp_vs_sci", "rec_vs_talk"])
def test_newsgroups_demo_prints_table_of_two_logistic_models(name, capsys):
    argv = ["demo", "--dataset", "newsgroups"] + ([] if name is None else ["--name", name])
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "cross-validating" in captured.err  # progress goes to stderr
    assert f"20 Newsgroups {name or 'comp_vs_sci'}: 2 tasks" in captured.out
    rows = _table_rows(captured.out, NEWSGROUPS_MODELS)
    assert set(rows) == set(NEWSGROUPS_MODELS)

    mean_accuracy = {}
    grid = {f"{alpha:.0e}" for alpha in NEWSGROUPS_ALPHAS}
    for model, cells in rows.items():
        alpha, cv_accuracy, task1, task2, mean, fit_ms = cells
        assert alpha in grid
        # Both collections are easy (about 97% test accuracy): any working logistic model gets 90%.
        for accuracy in (cv_accuracy, task1, task2, mean):
            assert 0.9 < float(accuracy) <= 1.0
        assert float(mean) == pytest.approx((float(task1) + float(task2)) / 2, abs=0.0011)
        assert float(fit_ms) >= 0.0
        mean_accuracy[model] = float(mean)
    assert mean_accuracy["mean-regularised"] >= mean_accuracy["independent"] - 0.02


def test_log1p_unit_rows_keeps_structure_and_scales_rows():
    counts = scipy.sparse.csr_array(np.array([[3.0, 0.0, 4.0], [0.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))
    features = log1p_unit_rows(counts)
    np.testing.assert_array_equal(features.indptr, counts.indptr)
    np.testing.assert_array_equal(features.indices, counts.indices)
    row = np.log1p([3.0, 4.0])
    np.testing.assert_allclose(features.toarray(), [[row[0], 0, row[1]] / np.linalg.norm(row), [0, 0, 0], [0, 1, 0]])
    np.testing.assert_array_equal(counts.data, [3.0, 4.0, 1.0])  # the input is left alone


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


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["demo", "--dataset", "no-such-data"],
        ["demo", "--seed", "x"],
        ["demo", "--dataset", "newsgroups", "--name", "no-such-collection"],
        ["demo", "--name", "rec_vs_talk"],  # --name applies to newsgroups only
    ],
)
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
