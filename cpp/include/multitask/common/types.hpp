// Common Eigen types and error types of the multitask core.
#pragma once

#include <Eigen/Dense>
#include <stdexcept>
#include <string>

namespace multitask {

using Index = Eigen::Index;

template <typename Scalar>
using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;

template <typename Scalar>
using RowMatrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <typename Scalar>
using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

/// Bad argument given to the core (shape, value). Mapped to Python's ValueError.
class InvalidArgument : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// Numerical breakdown, e.g. a system that is not positive definite.
/// Mapped to multitask.NumericalError, a subclass of numpy.linalg.LinAlgError.
class NumericalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline void require(bool condition, const std::string& message) {
  if (!condition) throw InvalidArgument(message);
}

}  // namespace multitask
