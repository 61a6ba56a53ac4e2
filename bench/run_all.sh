#!/bin/sh
# Runs the Python benchmarks (bench/run.py) and writes bench/results/*.json and bench/RESULTS.md.
#
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for the benchmark process
# only: some machines here set them for old OpenBLAS builds, and they make the
# OpenBLAS that numpy/scipy ship (our reference) run a slower kernel. The page
# records which BLAS kernel ran (threadpoolctl.threadpool_info()). One OpenMP and
# one numba thread unless a workload sets its own (the limits are also applied
# with threadpoolctl; numba reads its variable once, at import).
#
# Usage: bench/run_all.sh [--quick] [--only K1,S2] [--repeats 5] [--threads 1] [--results DIR]
cd "$(dirname "$0")/.." || exit 1
exec env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" \
  NUMBA_NUM_THREADS="${NUMBA_NUM_THREADS:-1}" python bench/run.py "$@"
