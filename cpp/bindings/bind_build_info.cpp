// What this build of the core was compiled with.
#include <multitask/parallel.hpp>

#include "bindings.hpp"

#ifndef MULTITASK_ISA
#define MULTITASK_ISA "baseline"
#endif

namespace py = pybind11;

namespace multitask::bindings {

void bind_build_info(py::module_& m) {
  py::dict info;
  info["isa"] = MULTITASK_ISA;
  info["openmp"] = openmp_enabled();
  info["eigen_version"] = std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
                          std::to_string(EIGEN_MINOR_VERSION);
  info["simd"] = std::string(Eigen::SimdInstructionSetsInUse());
  m.attr("build_info") = info;
}

}  // namespace multitask::bindings
