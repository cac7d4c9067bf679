// Numbers in softcheck's JSON files: JSON has no infinities or NaN, so they
// are the strings "inf", "-inf" and "nan".
#pragma once

#include <nlohmann/json.hpp>

#include <cmath>
#include <stdexcept>
#include <string>

namespace softcheck::json_number {

using json = nlohmann::ordered_json;

inline json put(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

// Throws std::runtime_error when j is neither a number nor one of the three strings.
inline double get(const json &j) {
  if (j.is_number()) return j.get<double>();
  if (j == "inf") return INFINITY;
  if (j == "-inf") return -INFINITY;
  if (j == "nan") return NAN;
  throw std::runtime_error("a number was expected, found " + j.dump());
}

} // namespace softcheck::json_number
