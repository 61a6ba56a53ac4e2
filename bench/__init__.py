"""The benchmark suite of ``multitask``: ``python bench/run.py`` runs it, ``python bench/report.py`` writes
bench/RESULTS.md from its JSON results (see README.md, "Benchmarks").

Layers, each importing only the ones above it:

* ``harness``   -- timing, thread limits, machine information, result files, the workload protocol;
* ``problems``  -- data generators and objective / duality-gap functions, in numpy only;
* ``adapters``  -- one module per solver family (ours, numpy/scipy, scikit-learn, each optional peer);
* ``workloads`` -- one configuration module per workload family; no workload imports another;
* ``pages``     -- templates and the renderer that turn result files into markdown (``report.py`` writes them).
"""
