// Declarations shared by the binding translation units: one bind_* per concept.
#pragma once

#include <pybind11/pybind11.h>

namespace multitask::bindings {

/// Points Eigen's BLAS back-end at SciPy's BLAS (scipy_blas.cpp); first, at import.
void load_scipy_blas();

void bind_errors(pybind11::module_& m);
void bind_build_info(pybind11::module_& m);
void bind_least_squares(pybind11::module_& m);
void bind_linear_model(pybind11::module_& m);
void bind_penalties(pybind11::module_& m);
void bind_kernel_ridge(pybind11::module_& m);
void bind_svc(pybind11::module_& m);
void bind_kernel_ridge_path(pybind11::module_& m);
void bind_shared_subspace(pybind11::module_& m);
void bind_gp(pybind11::module_& m);
void bind_task_sums(pybind11::module_& m);

}  // namespace multitask::bindings
