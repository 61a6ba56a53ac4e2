// fit_least_squares and its alpha path for float64: see explicit_instantiations.hpp.
#include "explicit_instantiations.hpp"

namespace multitask {
MULTITASK_INSTANTIATE_FIT_LEAST_SQUARES(, double)
MULTITASK_INSTANTIATE_FIT_LEAST_SQUARES_PATH(, double)
}  // namespace multitask
