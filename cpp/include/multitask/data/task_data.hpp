// A read-only view of multi-task regression data: the task blocks of
// task_blocks.hpp with dense (n_t, d) row-major designs and real targets
// (no copy of the caller's arrays).
#pragma once

#include <vector>

#include <multitask/data/task_blocks.hpp>

namespace multitask {

/// The squared-loss solvers' view: dense blocks, real targets, and whether
/// every task shares one design (the multi-output form, whose Gram is formed once).
template <typename Scalar>
struct TaskData : TaskBlocks<Scalar, DenseDesign<Scalar>> {
  bool shared_design = false;  // every X_t is the same matrix

  /// Checks the shapes agree and every task has samples; throws InvalidArgument otherwise.
  void validate() const { TaskBlocks<Scalar, DenseDesign<Scalar>>::validate(false); }
};

}  // namespace multitask
