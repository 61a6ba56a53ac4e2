// fit_least_squares for float64: see explicit_instantiations.hpp.
#include "explicit_instantiations.hpp"

namespace multitask {
MULTITASK_INSTANTIATE_FIT_LEAST_SQUARES(, double)
}  // namespace multitask
