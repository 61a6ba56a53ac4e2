// Cooperative interruption of long computations (Ctrl-C from Python) and the
// checks that turn floating-point overflow into an error.
//
// The core stays free of Python: a caller (the bindings) installs a hook on
// the thread that enters the core with an InterruptScope; the solvers call
// poll_interrupt() at iteration boundaries and between the panels of long
// factorisations. The hook either returns, or throws to abandon the
// computation (the bindings throw the pending KeyboardInterrupt); everything
// the core allocated is released by RAII as the exception unwinds, and no
// result is returned, so the caller's model is never half-written.
//
// Only the thread that installed the scope runs the hook, and never inside an
// OpenMP parallel region: a worker thread has no scope (the pointer is
// thread-local), and exceptions must not leave a parallel region. The hook
// runs at most once per kInterruptPollInterval, so it may be expensive (the
// bindings take the GIL); between clock reads, calls only add up `work`.
#pragma once

#include <chrono>
#include <cmath>
#include <string>

#include <multitask/common/types.hpp>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace multitask {

/// Returns normally, or throws to stop the computation.
using InterruptHook = void (*)();

/// The hook runs at most this often (a pending Ctrl-C is seen within this
/// delay plus the longest stretch of work between two polls).
constexpr std::chrono::milliseconds kInterruptPollInterval{20};

/// Work (about flops) between two clock reads: ~10-100 microseconds, so that
/// polls inside fast loops cost an add and a compare, and a clock read
/// (~20 ns) is negligible next to the work between them.
constexpr double kInterruptClockWork = 1e5;

namespace interrupt_detail {

struct State {
  InterruptHook hook = nullptr;
  double work = 0;  // since the last clock read
  std::chrono::steady_clock::time_point next_call;
};

/// The calling thread's scope, or null (no hook, or an OpenMP worker thread).
inline State*& current() {
  thread_local State* state = nullptr;
  return state;
}

}  // namespace interrupt_detail

/// Installs `hook` on the calling thread for the lifetime of the scope.
class InterruptScope {
 public:
  explicit InterruptScope(InterruptHook hook) : previous_(interrupt_detail::current()) {
    state_.hook = hook;
    state_.next_call = std::chrono::steady_clock::now() + kInterruptPollInterval;
    interrupt_detail::current() = &state_;
  }
  ~InterruptScope() { interrupt_detail::current() = previous_; }
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

 private:
  interrupt_detail::State state_;
  interrupt_detail::State* previous_;
};

/// A point where the computation may be abandoned. `work`: about the flops
/// done since the previous poll (the default reads the clock every time, for
/// polls between long steps). Runs the hook, which may throw, when the calling
/// thread has one, at least kInterruptPollInterval has passed since it last
/// ran, and the thread is not inside an OpenMP parallel region.
inline void poll_interrupt(double work = kInterruptClockWork) {
  interrupt_detail::State* state = interrupt_detail::current();
  if (!state) return;
  state->work += work;
  if (state->work < kInterruptClockWork) return;
  state->work = 0;
  const auto now = std::chrono::steady_clock::now();
  if (now < state->next_call) return;
#ifdef _OPENMP
  if (omp_in_parallel()) return;
#endif
  state->next_call = now + kInterruptPollInterval;
  state->hook();
}

/// The likely causes of an overflow, appended to every non-finite error.
inline const char* overflow_advice() {
  return "the problem overflows in floating point. Likely causes: entries of X or y of huge magnitude, or a huge "
         "alpha, coupling, task_kernel or task/sample weights; rescale X and y (e.g. standardise the features) and "
         "keep alpha and the weights moderate";
}

/// NumericalError: `what` (e.g. "the objective") of `solver` became inf or NaN at `iteration`.
[[noreturn]] inline void throw_non_finite(const std::string& solver, const std::string& what, long long iteration) {
  throw NumericalError("solver '" + solver + "': " + what + " became inf or NaN at iteration " +
                       std::to_string(iteration) + ": " + overflow_advice());
}

/// Throws (throw_non_finite) unless `value` is finite.
inline void check_finite(double value, const char* solver, const char* what, long long iteration) {
  if (!std::isfinite(value)) throw_non_finite(solver, what, iteration);
}

/// Throws (throw_non_finite) unless every entry of `x` is finite. O(size).
template <typename Derived>
void check_all_finite(const Eigen::DenseBase<Derived>& x, const char* solver, const char* what,
                      long long iteration) {
  if (!x.allFinite()) throw_non_finite(solver, what, iteration);
}

/// The multi-task kernel matrix overflowed (inf or NaN entries).
inline NumericalError non_finite_kernel_matrix() {
  return NumericalError(std::string("the multi-task kernel matrix B_st k(x, x') has inf or NaN entries: the input "
                                    "kernel overflows (scale of X, gamma, coef0, degree) or task_kernel is huge; ") +
                        overflow_advice());
}

/// Whether the lower triangle (diagonal included) of A is finite.
template <typename Scalar>
bool lower_triangle_finite(const Matrix<Scalar>& A) {
  for (Index j = 0; j < A.cols(); ++j)
    if (!A.col(j).tail(A.rows() - j).allFinite()) return false;
  return true;
}

}  // namespace multitask
