// The structure penalties on their own, for tests against their definitions:
// value, prox, the per-row KKT violation and dual norm.
#include <pybind11/numpy.h>

#include <multitask/objectives/sparsity_penalty.hpp>

#include "array_conversion.hpp"
#include "bindings.hpp"

namespace py = pybind11;

namespace multitask::bindings {
namespace {

SparsityPenalty make_penalty(double l1, double l21, double trace_norm) {
  require(l1 >= 0 && l21 >= 0 && trace_norm >= 0, "penalty weights must be non-negative");
  return SparsityPenalty{RowSparsePenalty{l1, l21}, TraceNormPenalty{trace_norm}};
}

/// (T, d) coef as W (d, T).
Matrix<double> coefficients(const py::handle& coef) {
  const auto array = checked_array<double>(coef, "coef");
  require(array.ndim() == 2, "coef must be 2-D (n_tasks, n_features)");
  return coef_matrix<double>(coef, array.shape(0), "coef");
}

}  // namespace

void bind_penalties(py::module_& m) {
  m.def(
      "penalty_value",
      [](const py::object& coef, double l1, double l21, double trace_norm) {
        return make_penalty(l1, l21, trace_norm).value(coefficients(coef));
      },
      py::arg("coef"), py::kw_only(), py::arg("l1"), py::arg("l21"), py::arg("trace_norm"),
      "Omega(W) = l1 sum |W| + l21 sum_j ||W[:, j]|| + trace_norm ||W||_* for coef (T, d).");
  m.def(
      "penalty_prox",
      [](const py::object& coef, double tau, double l1, double l21, double trace_norm) {
        Matrix<double> W = coefficients(coef);
        make_penalty(l1, l21, trace_norm).prox(tau, W);
        return coef_array(W);
      },
      py::arg("coef"), py::kw_only(), py::arg("tau"), py::arg("l1"), py::arg("l21"), py::arg("trace_norm"),
      "prox_{tau Omega}(coef) for coef (T, d) (trace norm alone, or l1 and l21).");
  m.def(
      "penalty_prox_row_scaled",
      [](const py::object& row, const py::object& step, double l1, double l21) {
        Vector<double> v = vector_view(checked_vector<double>(row, "row"));
        const Vector<double> h = vector_view(checked_vector<double>(step, "step"));
        require(h.size() == v.size(), "step and row must have the same length");
        require((h.array() >= 0).all(), "step must be non-negative");
        make_penalty(l1, l21, 0).rows.prox_row_scaled(h, v);
        return vector_array<double>(v);
      },
      py::arg("row"), py::arg("step"), py::kw_only(), py::arg("l1"), py::arg("l21"),
      "argmin_v sum_t (v_t - row_t)^2 / (2 step_t) + Omega(v) for one feature row (T entries).");
  m.def(
      "row_kkt_violation",
      [](const py::object& gradient, const py::object& coef, double l1, double l21) {
        const Vector<double> g = vector_view(checked_vector<double>(gradient, "gradient"));
        const Vector<double> w = vector_view(checked_vector<double>(coef, "coef"));
        require(g.size() == w.size(), "gradient and coef must have the same length");
        return make_penalty(l1, l21, 0).rows.row_kkt_violation(g, w);
      },
      py::arg("gradient"), py::arg("coef"), py::kw_only(), py::arg("l1"), py::arg("l21"),
      "dist(-gradient, d Omega(coef)) for one feature row (T entries).");
  m.def(
      "row_dual_norm",
      [](const py::object& v, double l1, double l21) {
        return make_penalty(l1, l21, 0).rows.row_dual_norm(Vector<double>(vector_view(checked_vector<double>(v, "v"))));
      },
      py::arg("v"), py::kw_only(), py::arg("l1"), py::arg("l21"), "The dual norm of the l1 + l21 row penalty at v (T entries).");
}

}  // namespace multitask::bindings
