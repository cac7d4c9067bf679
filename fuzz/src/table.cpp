// The worst-case table of a fuzz run (or of merged runs).
#include <softcheck/fuzz.hpp>

#include <fmt/core.h>
#include <softcheck/json_number.hpp>

#include <cmath>
#include <stdexcept>

namespace softcheck::fuzz {
namespace {

using json = nlohmann::ordered_json;

json num(double v) { return json_number::put(v); }
double get_num(const json &j) { return json_number::get(j); }

std::string text(double v) { return std::isinf(v) ? "inf" : fmt::format("{:.4g}", v); }

} // namespace

std::vector<TableRow> table_of(const std::string &set, const Result &r) {
  std::vector<TableRow> rows;
  for (const Worst &w : r.worst)
    rows.push_back({set, softcheck_op_name(w.op), softcheck_dtype_name(w.dtype),
                    w.judged.scaled ? "u scaled" : "ulp", w.file, w.judged.ratio, w.judged.error,
                    w.judged.allowed, w.specials});
  return rows;
}

std::string table_json(const std::vector<TableRow> &rows) {
  json j;
  j["schema"] = "softcheck-fuzz-worst";
  j["schema_version"] = 1;
  json a = json::array();
  for (const TableRow &r : rows)
    a.push_back({{"set", r.set},
                 {"op", r.op},
                 {"dtype", r.dtype},
                 {"ratio", num(r.ratio)},
                 {"error", num(r.error)},
                 {"allowed", num(r.allowed)},
                 {"unit", r.unit},
                 {"file", r.file},
                 {"special_cases", r.specials}});
  j["worst"] = a;
  return j.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::vector<TableRow> parse_table(const std::string &text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error &e) {
    throw std::runtime_error(std::string("not JSON (") + e.what() + ")");
  }
  if (!j.is_object() || !j.contains("schema") || j["schema"] != "softcheck-fuzz-worst")
    throw std::runtime_error(
        "not a softcheck fuzz table (no \"schema\": \"softcheck-fuzz-worst\")");
  if (!j.contains("schema_version") || j["schema_version"] != 1)
    throw std::runtime_error("fuzz table schema version " +
                             (j.contains("schema_version") ? j["schema_version"].dump() : "?") +
                             " (this softcheck reads version 1)");
  std::vector<TableRow> rows;
  try {
    for (const json &r : j.at("worst"))
      rows.push_back({r.at("set").get<std::string>(), r.at("op").get<std::string>(),
                      r.at("dtype").get<std::string>(), r.at("unit").get<std::string>(),
                      r.at("file").get<std::string>(), get_num(r.at("ratio")),
                      get_num(r.at("error")), get_num(r.at("allowed")),
                      r.contains("special_cases") ? r.at("special_cases").get<int64_t>() : 0});
  } catch (const json::exception &e) {
    throw std::runtime_error(std::string("malformed fuzz table: ") + e.what());
  }
  return rows;
}

std::string table_markdown(const std::vector<TableRow> &rows) {
  std::string s = "| set | op | dtype | worst finite error | bound | of the bound | case | "
                  "special-value cases |\n"
                  "|---|---|---|---:|---:|---:|---|---:|\n";
  for (const TableRow &r : rows) {
    if (r.ratio == 0) { // every finite output of every case exactly the correctly rounded one
      s += fmt::format("| {} | {} | {} | exact | | 0% | {} | {} |\n", r.set, r.op, r.dtype, r.file,
                       r.specials);
      continue;
    }
    s += fmt::format("| {} | {} | {} | {} {} | {} | {}{} | {} | {} |\n", r.set, r.op, r.dtype,
                     text(r.error), r.unit, text(r.allowed), text(r.ratio * 100), "%", r.file,
                     r.specials);
  }
  return s;
}

} // namespace softcheck::fuzz
