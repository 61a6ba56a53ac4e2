#!/bin/sh
# Runs every Python benchmark and writes bench/RESULTS.md.
#
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for the benchmark process
# only: some machines here set them for old OpenBLAS builds, and they make the
# OpenBLAS that numpy/scipy ship (our reference) run a slower kernel. The page
# records which BLAS kernel ran (threadpoolctl.threadpool_info()).
#
# Usage: bench/run_all.sh [--repeats 5] [--threads 1] [--quick] [--output PATH]
cd "$(dirname "$0")/.." || exit 1
exec env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/run_all.py "$@"
