// Reading numbers and rows of numbers the way every softcheck command does:
// decimal or hex floats (%a), inf, -inf, nan; a value that does not parse
// completely is an error, never a silent 0.
#pragma once

#include <softcheck/half.hpp>
#include <softcheck/read.hpp>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace softcheck::cli {

// Thrown for bad input; main() prints it as one "error:" line, exit 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <class T> T parse_value(const std::string &text) {
  const char *s = text.c_str();
  char *end = nullptr;
  errno = 0;
  T v;
  if constexpr (std::is_same_v<T, float>)
    v = std::strtof(s, &end);
  else if constexpr (std::is_same_v<T, double>)
    v = std::strtod(s, &end);
  else // a half format, through 64 significant bits: hex input is exact, and a
       // decimal rounds twice only within 2^-64 of one of the format's midpoints
    v = T(std::strtold(s, &end));
  // Overflow to inf and underflow to a subnormal or 0 are correctly rounded
  // results, not errors; only a string that is not a number is.
  if (end == s || *end != '\0') throw UsageError("not a number: '" + text + "'");
  return v;
}

inline int64_t parse_int(const std::string &text) {
  const char *s = text.c_str();
  char *end = nullptr;
  errno = 0;
  long long v = std::strtoll(s, &end, 10);
  if (end == s || *end != '\0' || errno == ERANGE)
    throw UsageError("not an integer: '" + text + "'");
  return v;
}

template <class T> std::vector<T> parse_values(const std::vector<std::string> &texts) {
  std::vector<T> out;
  out.reserve(texts.size());
  for (const std::string &t : texts) out.push_back(parse_value<T>(t));
  return out;
}

// Rows of values from a file: one row per line, values separated by spaces
// or commas, '#' starts a comment. Every row must have the same length.
template <class T> std::vector<std::vector<T>> read_rows(const std::string &path) {
  std::istringstream in;
  try {
    in.str(read_bounded(path));
  } catch (const ReadError &e) {
    throw UsageError(e.what());
  }
  std::vector<std::vector<T>> rows;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    for (char &c : line)
      if (c == ',') c = ' ';
    std::istringstream words(line);
    std::vector<T> row;
    for (std::string w; words >> w;) {
      try {
        row.push_back(parse_value<T>(w));
      } catch (const UsageError &e) {
        throw UsageError(path + ":" + std::to_string(number) + ": " + e.what());
      }
    }
    if (row.empty()) continue;
    if (!rows.empty() && row.size() != rows[0].size())
      throw UsageError(path + ":" + std::to_string(number) + ": row has " +
                       std::to_string(row.size()) + " values, the first row has " +
                       std::to_string(rows[0].size()));
    rows.push_back(std::move(row));
  }
  if (rows.empty()) throw UsageError("'" + path + "' holds no values");
  return rows;
}

} // namespace softcheck::cli
