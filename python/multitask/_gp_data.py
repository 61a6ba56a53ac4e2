"""Training data of the multi-task GP in the two layouts its likelihoods read.

Every input form becomes the long layout (rows task by task, integer task ids);
a shared design (every task observed at the same inputs) also keeps X (n, d) and
Y (n, T), which the Kronecker route reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._input import TaskBlocks

__all__ = ["GPData", "gp_data"]


@dataclass(frozen=True)
class GPData:
    """Long layout: X (N, d) float64, tasks (N,) int64 in [0, T), y (N,); shared layout: X_shared, Y or None."""

    X: np.ndarray
    tasks: np.ndarray
    y: np.ndarray
    n_tasks: int
    X_shared: np.ndarray | None = None
    Y: np.ndarray | None = None

    @property
    def shared(self) -> bool:
        return self.Y is not None

    def task_targets(self, t: int) -> np.ndarray:
        return self.y[self.tasks == t]


def gp_data(blocks: TaskBlocks) -> GPData:
    """The GP's layouts of validated task blocks (float64, C-contiguous)."""
    T = blocks.n_tasks
    blocks_X = [np.ascontiguousarray(block, dtype=np.float64) for block in blocks.X]
    blocks_y = [np.ascontiguousarray(y, dtype=np.float64) for y in blocks.y]
    X = np.vstack(blocks_X) if T > 1 else blocks_X[0]
    tasks = np.repeat(np.arange(T, dtype=np.int64), [block.shape[0] for block in blocks_X])
    y = np.concatenate(blocks_y)
    if blocks.form in ("shared", "single"):
        return GPData(X, tasks, y, T, X_shared=blocks_X[0], Y=np.column_stack(blocks_y))
    return GPData(X, tasks, y, T)
