// Pointwise losses l(y, f) of a target y and a prediction f, as types:
//   LogisticLoss      l = log(1 + exp(-y f))                      (labels y in {-1, +1})
//   SquaredHingeLoss  l = max(0, 1 - y f)^2                        (labels y in {-1, +1})
//   SquaredLoss       l = (f - y)^2 / 2                            (regression)
//   HuberLoss         l = r^2 / 2 if |r| <= delta, else delta (|r| - delta / 2),  r = f - y
// Each type gives, per sample, value(y, f), value_and_derivative(y, f, dl/df)
// and curvature(y, f) = d2l/df2 (the generalised second derivative where l' has
// kinks: 2 [y f < 1] for the squared hinge, [|r| <= delta] for Huber; the
// semismooth Newton solvers use it). A loss chosen at run time is a
// PointwiseLoss: its position in PointwiseLossTypes and its parameter (Huber's
// delta; the others have none). with_loss() calls a generic function with the
// loss's type, so the solvers are written once for every loss.
//
// Adding a loss: one type here, appended to PointwiseLossTypes (its `name` is
// what Python passes), and its tests. Nothing else switches on the loss.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include <multitask/common/types.hpp>

namespace multitask {

struct LogisticLoss {
  static constexpr const char* name = "logistic";
  static constexpr bool sign_labels = true;
  explicit LogisticLoss(double /*parameter*/ = 0) {}

  template <typename Scalar>
  Scalar value(Scalar y, Scalar f) const {
    const Scalar m = y * f;  // log(1 + e^-m), stable for either sign of m
    return m > 0 ? std::log1p(std::exp(-m)) : -m + std::log1p(std::exp(m));
  }
  template <typename Scalar>
  Scalar value_and_derivative(Scalar y, Scalar f, Scalar& derivative) const {
    const Scalar m = y * f;
    // sigma(-m) = 1 / (1 + e^m), computed without overflow; one exp for both.
    const Scalar e = std::exp(-std::abs(m));
    derivative = -y * (m > 0 ? e / (1 + e) : 1 / (1 + e));
    return m > 0 ? std::log1p(e) : -m + std::log1p(e);
  }
  /// sigma(m) sigma(-m)
  template <typename Scalar>
  Scalar curvature(Scalar y, Scalar f) const {
    const Scalar e = std::exp(-std::abs(y * f));
    return e / ((1 + e) * (1 + e));
  }
};

struct SquaredHingeLoss {
  static constexpr const char* name = "squared_hinge";
  static constexpr bool sign_labels = true;
  explicit SquaredHingeLoss(double /*parameter*/ = 0) {}

  template <typename Scalar>
  Scalar value(Scalar y, Scalar f) const {
    const Scalar gap = std::max(Scalar(0), 1 - y * f);
    return gap * gap;
  }
  template <typename Scalar>
  Scalar value_and_derivative(Scalar y, Scalar f, Scalar& derivative) const {
    const Scalar gap = std::max(Scalar(0), 1 - y * f);
    derivative = -2 * y * gap;
    return gap * gap;
  }
  template <typename Scalar>
  Scalar curvature(Scalar y, Scalar f) const {
    return y * f < 1 ? Scalar(2) : Scalar(0);
  }
};

struct SquaredLoss {
  static constexpr const char* name = "squared";
  static constexpr bool sign_labels = false;
  explicit SquaredLoss(double /*parameter*/ = 0) {}

  template <typename Scalar>
  Scalar value(Scalar y, Scalar f) const {
    return (f - y) * (f - y) / 2;
  }
  template <typename Scalar>
  Scalar value_and_derivative(Scalar y, Scalar f, Scalar& derivative) const {
    derivative = f - y;
    return derivative * derivative / 2;
  }
  template <typename Scalar>
  Scalar curvature(Scalar /*y*/, Scalar /*f*/) const {
    return Scalar(1);
  }
};

/// Huber's loss with threshold delta > 0 (in the units of y): quadratic for
/// residuals up to delta, linear beyond, so that outliers pull with a bounded force.
struct HuberLoss {
  static constexpr const char* name = "huber";
  static constexpr bool sign_labels = false;
  double delta;
  explicit HuberLoss(double parameter) : delta(parameter) {
    require(parameter > 0 && std::isfinite(parameter), "the Huber threshold (epsilon) must be finite and > 0");
  }

  template <typename Scalar>
  Scalar value(Scalar y, Scalar f) const {
    const Scalar r = std::abs(f - y), d = static_cast<Scalar>(delta);
    return r <= d ? r * r / 2 : d * (r - d / 2);
  }
  template <typename Scalar>
  Scalar value_and_derivative(Scalar y, Scalar f, Scalar& derivative) const {
    const Scalar d = static_cast<Scalar>(delta);
    derivative = std::clamp(f - y, -d, d);
    return value(y, f);
  }
  template <typename Scalar>
  Scalar curvature(Scalar y, Scalar f) const {
    return std::abs(f - y) <= static_cast<Scalar>(delta) ? Scalar(1) : Scalar(0);
  }
};

/// Every loss the core knows; a PointwiseLoss indexes this list.
using PointwiseLossTypes = std::tuple<LogisticLoss, SquaredHingeLoss, SquaredLoss, HuberLoss>;

/// A loss chosen at run time (from its name, as Python passes it).
struct PointwiseLoss {
  std::size_t index = 0;  // position in PointwiseLossTypes
  double parameter = 0;   // HuberLoss: delta; unused by the others

  /// The loss called `name`, with its parameter.
  static PointwiseLoss from_name(const std::string& name, double parameter = 0);
  template <typename Loss>
  bool is() const;
  bool sign_labels() const;
  std::string name() const;
};

namespace loss_detail {

constexpr std::size_t n_losses = std::tuple_size_v<PointwiseLossTypes>;
template <std::size_t I>
using LossAt = std::tuple_element_t<I, PointwiseLossTypes>;

template <typename Loss, std::size_t... I>
constexpr std::size_t index_of(std::index_sequence<I...>) {
  std::size_t found = n_losses;
  ((std::is_same_v<Loss, LossAt<I>> ? (void)(found = I) : (void)0), ...);
  return found;
}

template <std::size_t... I>
std::size_t index_of_name(const std::string& name, std::string& known, std::index_sequence<I...>) {
  std::size_t found = n_losses;
  ((name == LossAt<I>::name ? (void)(found = I) : (void)0), ...);
  ((known += (I ? ", '" : "'") + std::string(LossAt<I>::name) + "'"), ...);
  return found;
}

template <typename Result, typename Function, std::size_t... I>
Result dispatch(const PointwiseLoss& loss, Function& fn, std::index_sequence<I...>) {
  if constexpr (std::is_void_v<Result>) {
    ((loss.index == I ? (fn(LossAt<I>(loss.parameter)), true) : false) || ...);
  } else {
    Result out{};
    ((loss.index == I ? (out = fn(LossAt<I>(loss.parameter)), true) : false) || ...);
    return out;
  }
}

}  // namespace loss_detail

/// fn(loss) with `loss` an object of the chosen type (built with the parameter);
/// returns what fn returns (the same type for every loss).
template <typename Function>
auto with_loss(const PointwiseLoss& loss, Function&& fn) {
  using Result = std::decay_t<decltype(fn(std::declval<const loss_detail::LossAt<0>&>()))>;
  return loss_detail::dispatch<Result>(loss, fn, std::make_index_sequence<loss_detail::n_losses>());
}

inline PointwiseLoss PointwiseLoss::from_name(const std::string& name, double parameter) {
  std::string known;
  const PointwiseLoss found{loss_detail::index_of_name(name, known, std::make_index_sequence<loss_detail::n_losses>()),
                            parameter};
  require(found.index < loss_detail::n_losses, "loss must be one of " + known + ", got '" + name + "'");
  with_loss(found, [](const auto&) {});  // checks the parameter (e.g. Huber's delta > 0)
  return found;
}

template <typename Loss>
bool PointwiseLoss::is() const {
  return index == loss_detail::index_of<Loss>(std::make_index_sequence<loss_detail::n_losses>());
}

inline bool PointwiseLoss::sign_labels() const {
  return with_loss(*this, [](const auto& loss) { return std::decay_t<decltype(loss)>::sign_labels; });
}

inline std::string PointwiseLoss::name() const {
  return with_loss(*this, [](const auto& loss) { return std::string(std::decay_t<decltype(loss)>::name); });
}

/// sum_i l(y_i, f_i) for targets y (n) and predictions f (n).
template <typename Scalar, typename Labels, typename Values>
Scalar pointwise_loss_sum(const PointwiseLoss& loss, const Labels& y, const Values& f) {
  return with_loss(loss, [&](const auto& l) {
    Scalar total = 0;
    for (Index i = 0; i < y.size(); ++i) total += l.value(static_cast<Scalar>(y[i]), static_cast<Scalar>(f[i]));
    return total;
  });
}

/// first_out_i = dl/df (y_i, f_i); returns sum_i l(y_i, f_i).
template <typename Scalar, typename Labels, typename Values>
Scalar pointwise_loss_derivative(const PointwiseLoss& loss, const Labels& y, const Values& f,
                                 Vector<Scalar>& first_out) {
  first_out.resize(y.size());
  return with_loss(loss, [&](const auto& l) {
    Scalar total = 0;
    for (Index i = 0; i < y.size(); ++i)
      total += l.value_and_derivative(static_cast<Scalar>(y[i]), static_cast<Scalar>(f[i]), first_out[i]);
    return total;
  });
}

/// second_out_i = d2l/df2 (y_i, f_i) (generalised where l' has kinks).
template <typename Scalar, typename Labels, typename Values>
void pointwise_loss_curvature(const PointwiseLoss& loss, const Labels& y, const Values& f,
                              Vector<Scalar>& second_out) {
  second_out.resize(y.size());
  with_loss(loss, [&](const auto& l) {
    for (Index i = 0; i < y.size(); ++i)
      second_out[i] = l.curvature(static_cast<Scalar>(y[i]), static_cast<Scalar>(f[i]));
  });
}

/// The constant prediction b minimising sum_i l(y_i, b): the root of the
/// non-decreasing sum_i l'(y_i, b) (l convex), bracketed by doubling from
/// [-1, 1] and then bisected to round-off. For the squared loss it is mean(y);
/// for the logistic loss log(p / (1 - p)), p the fraction of +1 labels.
/// Throws InvalidArgument when no finite minimiser exists (e.g. one class only
/// with the logistic loss).
template <typename Labels>
double best_constant_prediction(const PointwiseLoss& loss, const Labels& y) {
  return with_loss(loss, [&](const auto& l) {
    const auto slope = [&](double b) {
      double total = 0, derivative = 0;
      for (Index i = 0; i < y.size(); ++i) {
        l.value_and_derivative(static_cast<double>(y[i]), b, derivative);
        total += derivative;
      }
      return total;
    };
    double low = -1, high = 1;
    for (int doubling = 0; slope(low) > 0; ++doubling) {
      require(doubling < 64, "no finite best constant prediction for these targets (one class only?)");
      low *= 2;
    }
    for (int doubling = 0; slope(high) < 0; ++doubling) {
      require(doubling < 64, "no finite best constant prediction for these targets (one class only?)");
      high *= 2;
    }
    for (int step = 0; step < 200 && high - low > 4 * std::numeric_limits<double>::epsilon() *
                                                       std::max(std::abs(low), std::abs(high)); ++step) {
      const double middle = (low + high) / 2;
      (slope(middle) > 0 ? high : low) = middle;
    }
    return (low + high) / 2;
  });
}

}  // namespace multitask
