// The report's parts, one file each.
#pragma once

#include <softcheck/report.hpp>

namespace softcheck::report {

std::vector<SpecialValue> special_values(const std::vector<SetRef> &sets, const Options &o);
std::vector<Pipeline> pipelines(const std::vector<SetRef> &sets, const Options &o);

const char *dtype_name(softcheck_dtype d);

} // namespace softcheck::report
