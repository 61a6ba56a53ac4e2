// The scope of a core call made with the GIL released: the core's interrupt
// hook (interrupt.hpp) for Ctrl-C, and a single-threaded BLAS.
#pragma once

#include <pybind11/pybind11.h>

#include <multitask/common/interrupt.hpp>

namespace multitask::bindings {

/// Runs Python's pending signal handlers. PyErr_CheckSignals needs the GIL,
/// which the binding released around the core: it is taken back for the call
/// (the core polls at most every kInterruptPollInterval, so this is cheap). A
/// handler that raised (SIGINT's default handler raises KeyboardInterrupt) is
/// thrown as error_already_set: the core unwinds, releasing what it allocated,
/// and pybind11 restores the Python exception in the calling thread.
/// PyErr_CheckSignals does nothing off the main thread, where Python runs no
/// signal handlers either.
inline void check_python_signals() {
  pybind11::gil_scoped_acquire gil;
  if (PyErr_CheckSignals() != 0) throw pybind11::error_already_set();
}

/// Limits the BLAS libraries to one thread for the scope's lifetime (the core
/// calls SciPy's BLAS from its own OpenMP loops: see multitask/_blas_threads.py).
/// Constructed and destroyed with the GIL held.
class SingleThreadedBlas {
 public:
  SingleThreadedBlas() : module_(pybind11::module_::import("multitask._blas_threads")) { module_.attr("limit")(); }
  ~SingleThreadedBlas() {
    try {
      module_.attr("restore")();
    } catch (pybind11::error_already_set& error) {
      error.discard_as_unraisable(__func__);  // a destructor must not throw
    }
  }
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

 private:
  pybind11::module_ module_;
};

/// The scope of one call into the core: Ctrl-C stops it (on the calling thread)
/// and the BLAS runs single-threaded. Open it before releasing the GIL, as
/// call_core does.
class CoreCallScope : public InterruptScope {
 public:
  CoreCallScope() : InterruptScope(&check_python_signals) {}

 private:
  SingleThreadedBlas blas_threads_;
};

/// body() run in the core: under a CoreCallScope, with the GIL released; its result.
template <typename Body>
auto call_core(Body&& body) {
  CoreCallScope core_call;
  pybind11::gil_scoped_release release;
  return body();
}

}  // namespace multitask::bindings
