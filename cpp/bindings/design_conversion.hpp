// Designs (input rows) from Python: a C-contiguous 2-D array, or a sparse CSR
// block that Python passes as the tuple (data, indices, indptr, n_features)
// of canonical int32 CSR arrays (multitask/_sparse_input.py). The core maps
// them in place; KeepAlive holds the arrays for as long as the maps are used.
#pragma once

#include <string>
#include <vector>

#include <multitask/data/designs.hpp>
#include <multitask/kernels/multitask_gram.hpp>

#include "array_conversion.hpp"

namespace multitask::bindings {

using IndexArray = py::array_t<int, py::array::c_style>;

/// Python arrays that must outlive the Eigen maps over them.
struct KeepAlive {
  std::vector<py::object> arrays;
};

/// Whether obj is a sparse block (the CSR tuple) rather than a dense array.
inline bool is_sparse_block(const py::handle& obj) { return py::isinstance<py::tuple>(obj); }

/// The CSR tuple `csr` as a sparse design; InvalidArgument naming `name` otherwise.
template <typename Scalar>
SparseDesign<Scalar> sparse_design(const py::handle& csr_obj, const std::string& name, KeepAlive& keep) {
  require(is_sparse_block(csr_obj), name + " must be a sparse block (data, indices, indptr, n_features)");
  const auto csr = py::reinterpret_borrow<py::tuple>(csr_obj);
  require(csr.size() == 4, name + ": a sparse block is (data, indices, indptr, n_features)");
  const auto data = checked_array<Scalar>(csr[0], name + " data");
  if (!IndexArray::check_(csr[1]) || !IndexArray::check_(csr[2]))
    throw InvalidArgument(name + ": indices and indptr must be C-contiguous int32 arrays");
  const auto indices = py::reinterpret_borrow<IndexArray>(csr[1]);
  const auto indptr = py::reinterpret_borrow<IndexArray>(csr[2]);
  const Index n_features = csr[3].cast<Index>();
  keep.arrays.insert(keep.arrays.end(), {data, indices, indptr});
  const Index rows = indptr.shape(0) - 1;
  require(rows >= 0 && indptr.data()[0] == 0, name + ": indptr must start at 0");
  const Index nnz = indptr.data()[rows];
  require(data.ndim() == 1 && data.shape(0) >= nnz && indices.shape(0) >= nnz,
          name + ": data and indices must hold indptr[-1] entries");
  return SparseDesign<Scalar>(rows, n_features, nnz, indptr.data(), indices.data(), data.data());
}

/// A checked 2-D C-contiguous array as a dense design (row-major map).
template <typename Scalar>
DenseDesign<Scalar> dense_design(const py::handle& obj, const std::string& name, KeepAlive& keep) {
  const auto array = checked_array<Scalar>(obj, name);
  require(array.ndim() == 2, name + " must be 2-D");
  keep.arrays.push_back(array);
  return {array.data(), array.shape(0), array.shape(1)};
}

/// An empty dense design (the "no dense input" value of a view).
template <typename Scalar>
DenseDesign<Scalar> empty_dense_design() {
  return {nullptr, 0, 0};
}

/// The input side of a kernel machine: X (a dense array or a CSR tuple) with a
/// named kernel, or `gram` (a precomputed input Gram; X is then ignored). The
/// views point into the arguments' buffers, which the calling binding holds.
template <typename Scalar>
KernelInputs<Scalar> kernel_inputs(const py::object& X_obj, const py::object& gram_obj, const std::string& kernel_name,
                                   double gamma, double coef0, int degree) {
  // Maps are bound at construction (assigning a Map copies values), and the
  // arrays are the arguments' own (checked_array borrows), so `borrowed` may go.
  KeepAlive borrowed;
  if (!gram_obj.is_none())
    return {empty_dense_design<Scalar>(), InputKernel{},
            dense_design<Scalar>(gram_obj, "the precomputed kernel", borrowed)};
  const InputKernel kernel = InputKernel::from_name(kernel_name, gamma, coef0, degree);
  if (is_sparse_block(X_obj))
    return {empty_dense_design<Scalar>(), kernel, empty_dense_design<Scalar>(),
            sparse_design<Scalar>(X_obj, "X", borrowed)};
  return {dense_design<Scalar>(X_obj, "X", borrowed), kernel, empty_dense_design<Scalar>()};
}

}  // namespace multitask::bindings
