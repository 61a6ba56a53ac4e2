// What this build of the core was compiled with.
#include <multitask/common/parallel.hpp>

#include "bindings.hpp"
#include "cpu_levels.hpp"

#ifndef MULTITASK_ISA
#define MULTITASK_ISA "baseline"
#endif

namespace py = pybind11;

namespace multitask::bindings {
namespace {

/// OpenMP's thread limit for the calling thread (omp_get_max_threads): the
/// OMP_NUM_THREADS setting or a limit set at run time with omp_set_num_threads
/// (which is what threadpoolctl does). 1 without OpenMP.
int openmp_max_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

}  // namespace

void bind_build_info(py::module_& m) {
  py::dict info;
  info["isa"] = MULTITASK_ISA;
  info["openmp"] = openmp_enabled();
  info["eigen_version"] = std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
                          std::to_string(EIGEN_MINOR_VERSION);
  info["simd"] = std::string(Eigen::SimdInstructionSetsInUse());
  m.attr("build_info") = info;
  // OpenMP's own thread limit (omp_get_max_threads): honours OMP_NUM_THREADS
  // and limits set at run time, e.g. by threadpoolctl's threadpool_limits.
  m.def("cpu_isa_levels", &cpu_isa_levels,
        "The x86-64 levels this CPU and OS run, from CPUID: 'baseline', then 'x86-64-v3', 'x86-64-v4'.");
  m.def("openmp_max_threads", &openmp_max_threads,
        "OpenMP's current thread limit for this thread (1 without OpenMP).");
}

}  // namespace multitask::bindings
