// C++ errors to Python: InvalidArgument -> ValueError (pybind11 maps
// std::invalid_argument), NumericalError -> multitask's NumericalError, a
// subclass of numpy.linalg.LinAlgError defined in Python and looked up here.
#include <multitask/common/types.hpp>

#include "bindings.hpp"

namespace py = pybind11;

namespace multitask::bindings {

void bind_errors(py::module_& m) {
  static py::handle numerical_error_type;
  numerical_error_type = py::object(py::module_::import("multitask._errors").attr("NumericalError")).release();
  py::register_exception_translator([](std::exception_ptr error) {
    try {
      if (error) std::rethrow_exception(error);
    } catch (const NumericalError& e) {
      PyErr_SetString(numerical_error_type.ptr(), e.what());
    }
  });
  (void)m;
}

}  // namespace multitask::bindings
