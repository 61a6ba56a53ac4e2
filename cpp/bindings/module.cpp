// The extension module multitask._core_<isa>: it only calls the bind_* functions.
#include "bindings.hpp"

#ifndef MULTITASK_MODULE_NAME
#define MULTITASK_MODULE_NAME _core_baseline
#endif

PYBIND11_MODULE(MULTITASK_MODULE_NAME, m) {
  m.doc() = "C++ core of multitask (Eigen, OpenMP). Private: use the multitask package.";
  multitask::bindings::load_scipy_blas();
  multitask::bindings::bind_errors(m);
  multitask::bindings::bind_build_info(m);
  multitask::bindings::bind_least_squares(m);
  multitask::bindings::bind_linear_model(m);
  multitask::bindings::bind_penalties(m);
  multitask::bindings::bind_kernel_ridge(m);
  multitask::bindings::bind_svc(m);
  multitask::bindings::bind_kernel_ridge_path(m);
  multitask::bindings::bind_shared_subspace(m);
  multitask::bindings::bind_gp(m);
  multitask::bindings::bind_task_sums(m);
}
