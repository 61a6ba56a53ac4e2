// Ctrl-C during a core call: the core's interrupt hook (interrupt.hpp) for
// calls made with the GIL released.
#pragma once

#include <pybind11/pybind11.h>

#include <multitask/interrupt.hpp>

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

/// Makes the core interruptible by Ctrl-C on the calling thread for the scope's
/// lifetime; open it before releasing the GIL:
///     PythonInterruptScope interruptible;
///     py::gil_scoped_release release;
///     result = solve(...);
class PythonInterruptScope : public InterruptScope {
 public:
  PythonInterruptScope() : InterruptScope(&check_python_signals) {}
};

}  // namespace multitask::bindings
