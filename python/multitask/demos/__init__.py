"""The demo applications of ``multitask demo`` (see :mod:`multitask.cli`).

* :mod:`multitask.demos.school`: least-squares models on the School benchmark;
* :mod:`multitask.demos.newsgroups`: logistic models on 20 Newsgroups.
"""

from __future__ import annotations

from .newsgroups import NEWSGROUPS_NAMES, run_newsgroups_demo
from .school import DEMO_PROBLEMS, run_demo

__all__ = ["DATASETS", "NEWSGROUPS_NAMES", "run_demo", "run_newsgroups_demo"]

DATASETS = (*DEMO_PROBLEMS, "newsgroups")
"""The ``--dataset`` choices: the regression problems of :func:`run_demo` and "newsgroups"."""
