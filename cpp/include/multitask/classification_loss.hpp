// Margin losses for binary labels y in {-1, +1} and a decision value f:
//   logistic       l(y, f) = log(1 + exp(-y f))
//   squared hinge  l(y, f) = max(0, 1 - y f)^2
// with their first and second derivatives in f (for the squared hinge the
// second derivative is the generalised one, 2 [y f < 1]: semismooth Newton).
#pragma once

#include <cmath>
#include <string>

#include "types.hpp"

namespace multitask {

enum class MarginLoss { logistic, squared_hinge };

inline MarginLoss margin_loss_from_name(const std::string& name) {
  if (name == "logistic") return MarginLoss::logistic;
  if (name == "squared_hinge") return MarginLoss::squared_hinge;
  throw InvalidArgument("loss must be 'logistic' or 'squared_hinge', got '" + name + "'");
}

/// sum_i l(y_i, f_i) for labels y (n) and decision values f (n).
template <typename Scalar, typename Labels, typename Values>
Scalar margin_loss_sum(MarginLoss loss, const Labels& y, const Values& f) {
  Scalar total = 0;
  const Index n = y.size();
  if (loss == MarginLoss::logistic) {
    for (Index i = 0; i < n; ++i) {
      const Scalar m = y[i] * f[i];  // log(1 + e^-m), stable for either sign of m
      total += m > 0 ? std::log1p(std::exp(-m)) : -m + std::log1p(std::exp(m));
    }
  } else {
    for (Index i = 0; i < n; ++i) {
      const Scalar gap = std::max(Scalar(0), 1 - y[i] * f[i]);
      total += gap * gap;
    }
  }
  return total;
}

/// first_out_i = dl/df (y_i, f_i); returns sum_i l(y_i, f_i).
template <typename Scalar, typename Labels, typename Values>
Scalar margin_loss_derivative(MarginLoss loss, const Labels& y, const Values& f, Vector<Scalar>& first_out) {
  const Index n = y.size();
  first_out.resize(n);
  Scalar total = 0;
  if (loss == MarginLoss::logistic) {
    for (Index i = 0; i < n; ++i) {
      const Scalar m = y[i] * f[i];
      // sigma(-m) = 1 / (1 + e^m), computed without overflow.
      const Scalar e = std::exp(-std::abs(m));
      const Scalar sigma_minus = m > 0 ? e / (1 + e) : 1 / (1 + e);
      total += m > 0 ? std::log1p(e) : -m + std::log1p(e);
      first_out[i] = -y[i] * sigma_minus;
    }
  } else {
    for (Index i = 0; i < n; ++i) {
      const Scalar gap = std::max(Scalar(0), 1 - y[i] * f[i]);
      total += gap * gap;
      first_out[i] = -2 * y[i] * gap;
    }
  }
  return total;
}

/// second_out_i = d2l/df2 (y_i, f_i): sigma(m) sigma(-m) for the logistic loss,
/// 2 [y_i f_i < 1] for the squared hinge.
template <typename Scalar, typename Labels, typename Values>
void margin_loss_curvature(MarginLoss loss, const Labels& y, const Values& f, Vector<Scalar>& second_out) {
  const Index n = y.size();
  second_out.resize(n);
  if (loss == MarginLoss::logistic) {
    for (Index i = 0; i < n; ++i) {
      const Scalar e = std::exp(-std::abs(y[i] * f[i]));
      second_out[i] = e / ((1 + e) * (1 + e));
    }
  } else {
    for (Index i = 0; i < n; ++i) second_out[i] = y[i] * f[i] < 1 ? Scalar(2) : Scalar(0);
  }
}

}  // namespace multitask
