// Per-task sums over a chunk of labelled rows (multitask/data/task_sums.hpp):
// the map steps of partial_fit and of the Dask fits. The GIL is released
// around the core, so Dask worker threads run them in parallel.
#include <pybind11/numpy.h>

#include <cstdint>
#include <string>

#include <multitask/data/task_sums.hpp>

#include "array_conversion.hpp"
#include "bindings.hpp"
#include "interrupt_hook.hpp"

namespace py = pybind11;

namespace multitask::bindings {
namespace {

using TaskIndex = py::array_t<std::int64_t, py::array::c_style>;

/// The chunk's checked views: X (n, d) and y (n) of Scalar, task (n) int64.
template <typename Scalar>
struct Chunk {
  CArray<Scalar> X;
  py::array_t<Scalar> y;
  TaskIndex task;

  Chunk(const py::handle& X_obj, const py::handle& y_obj, const py::handle& task_obj)
      : X(checked_array<Scalar>(X_obj, "X")), y(checked_vector<Scalar>(y_obj, "y")) {
    require(X.ndim() == 2, "X must be 2-D (n_samples, n_features)");
    require(TaskIndex::check_(task_obj), "task must be a C-contiguous int64 array");
    task = py::reinterpret_borrow<TaskIndex>(task_obj);
    require(task.ndim() == 1 && task.shape(0) == X.shape(0) && y.shape(0) == X.shape(0),
            "X, y and task must have the same number of rows");
  }
  Eigen::Map<const RowMatrix<Scalar>> design() const { return {X.data(), X.shape(0), X.shape(1)}; }
  Vector<Scalar> targets() const { return vector_view(y); }
};

template <typename Scalar>
py::dict statistics(const py::handle& X_obj, const py::handle& y_obj, const py::handle& task_obj, Index n_tasks,
                    int n_threads) {
  const Chunk<Scalar> chunk(X_obj, y_obj, task_obj);
  require(n_tasks >= 0 && n_threads >= 1, "n_tasks must be >= 0 and n_threads >= 1");
  const Index d = chunk.X.shape(1);
  py::array_t<double> counts(n_tasks), y_mean(n_tasks), yy(n_tasks);
  CArray<double> x_mean({n_tasks, d}), xx({n_tasks, d, d}), xy({n_tasks, d});
  const Vector<Scalar> y = chunk.targets();
  call_core([&] {
    centred_task_statistics<Scalar>(chunk.design(), y, chunk.task.data(), n_tasks, n_threads, counts.mutable_data(),
                                    x_mean.mutable_data(), y_mean.mutable_data(), xx.mutable_data(),
                                    xy.mutable_data(), yy.mutable_data());
  });
  py::dict out;
  out["counts"] = counts;
  out["x_mean"] = x_mean;
  out["y_mean"] = y_mean;
  out["xx"] = xx;
  out["xy"] = xy;
  out["yy"] = yy;
  return out;
}

template <typename Scalar>
py::dict newton_sums(const py::handle& X_obj, const py::handle& y_obj, const py::handle& task_obj,
                     const py::array_t<double, py::array::c_style>& coef,
                     const py::array_t<double, py::array::c_style>& intercept, const std::string& loss_name,
                     bool fit_intercept, int n_threads) {
  const Chunk<Scalar> chunk(X_obj, y_obj, task_obj);
  const Index d = chunk.X.shape(1), k = coef.ndim() == 2 ? coef.shape(0) : -1, p = d + 1;
  require(coef.ndim() == 2 && coef.shape(1) == d, "coef must have shape (n_tasks, n_features)");
  require(intercept.ndim() == 1 && intercept.shape(0) == k, "intercept must have shape (n_tasks,)");
  require(n_threads >= 1, "n_threads must be at least 1");
  const PointwiseLoss loss = PointwiseLoss::from_name(loss_name);
  py::array_t<double> loss_sum(k);
  CArray<double> gradient({k, p}), hessian({k, p, p});
  const Vector<Scalar> y = chunk.targets();
  call_core([&] {
    task_newton_sums<Scalar>(chunk.design(), y, chunk.task.data(), k, coef.data(), intercept.data(), loss,
                             fit_intercept, n_threads, loss_sum.mutable_data(), gradient.mutable_data(),
                             hessian.mutable_data());
  });
  py::dict out;
  out["loss"] = loss_sum;
  out["gradient"] = gradient;
  out["hessian"] = hessian;
  return out;
}

bool is_float32(const py::handle& X) { return CArray<float>::check_(X); }

}  // namespace

void bind_task_sums(py::module_& m) {
  m.def(
      "centred_task_statistics",
      [](const py::object& X, const py::object& y, const py::object& task, Index n_tasks, int n_threads) {
        return is_float32(X) ? statistics<float>(X, y, task, n_tasks, n_threads)
                             : statistics<double>(X, y, task, n_tasks, n_threads);
      },
      py::arg("X"), py::arg("y"), py::arg("task"), py::kw_only(), py::arg("n_tasks"), py::arg("n_threads") = 1,
      "Per-task counts, means and centred sums S, c, q of rows X (n, d), y (n) with task index task (n) in "
      "[0, n_tasks): a dict of float64 arrays counts (k), x_mean (k, d), y_mean (k), xx (k, d, d), xy (k, d), yy (k).");
  m.def(
      "task_newton_sums",
      [](const py::object& X, const py::object& y, const py::object& task, const py::array_t<double, py::array::c_style>& coef,
         const py::array_t<double, py::array::c_style>& intercept, const std::string& loss, bool fit_intercept,
         int n_threads) {
        return is_float32(X) ? newton_sums<float>(X, y, task, coef, intercept, loss, fit_intercept, n_threads)
                             : newton_sums<double>(X, y, task, coef, intercept, loss, fit_intercept, n_threads);
      },
      py::arg("X"), py::arg("y"), py::arg("task"), py::kw_only(), py::arg("coef"), py::arg("intercept"),
      py::arg("loss"), py::arg("fit_intercept"), py::arg("n_threads") = 1,
      "Per-task loss, gradient (k, d + 1) and Hessian (k, d + 1, d + 1) sums of the pointwise loss at the models "
      "coef (k, d), intercept (k), the intercept last; labels y as the loss takes them (+-1 for classification).");
}

}  // namespace multitask::bindings
