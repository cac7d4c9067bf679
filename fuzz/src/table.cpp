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
                    w.judged.allowed, w.specials, w.stream});
  return rows;
}

std::string table_json(const std::vector<TableRow> &rows, const Campaign *c) {
  json j;
  j["schema"] = "softcheck-fuzz-worst";
  j["schema_version"] = 1;
  if (c != nullptr)
    j["campaign"] = {{"set", c->set},         {"seed", c->seed},
                     {"budget", c->budget},   {"selection", c->selection},
                     {"shard", c->shard},     {"shards", c->shards},
                     {"streams", c->streams}, {"units", c->units}};
  json a = json::array();
  for (const TableRow &r : rows) {
    json row = {{"set", r.set},
                {"op", r.op},
                {"dtype", r.dtype},
                {"ratio", num(r.ratio)},
                {"error", num(r.error)},
                {"allowed", num(r.allowed)},
                {"unit", r.unit},
                {"file", r.file},
                {"special_cases", r.specials}};
    if (r.stream >= 0) row["stream"] = r.stream;
    a.push_back(std::move(row));
  }
  j["worst"] = a;
  return j.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
}

Table parse_table(const std::string &text) {
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
  Table t;
  try {
    for (const json &r : j.at("worst"))
      t.rows.push_back({r.at("set").get<std::string>(), r.at("op").get<std::string>(),
                        r.at("dtype").get<std::string>(), r.at("unit").get<std::string>(),
                        r.at("file").get<std::string>(), get_num(r.at("ratio")),
                        get_num(r.at("error")), get_num(r.at("allowed")),
                        r.contains("special_cases") ? r.at("special_cases").get<int64_t>() : 0,
                        r.contains("stream") ? r.at("stream").get<int64_t>() : -1});
    if (j.contains("campaign")) {
      const json &c = j.at("campaign");
      t.has_campaign = true;
      t.campaign = {c.at("set").get<std::string>(),    c.at("seed").get<std::string>(),
                    c.at("budget").get<std::string>(), c.at("selection").get<std::string>(),
                    c.at("shard").get<int64_t>(),      c.at("shards").get<int64_t>(),
                    c.at("streams").get<int64_t>(),    c.at("units").get<int64_t>()};
      if (t.campaign.shards < 1 || t.campaign.shard < 0 || t.campaign.shard >= t.campaign.shards)
        throw std::runtime_error("campaign shard " + std::to_string(t.campaign.shard) + " of " +
                                 std::to_string(t.campaign.shards));
    }
  } catch (const json::exception &e) {
    throw std::runtime_error(std::string("malformed fuzz table: ") + e.what());
  }
  return t;
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
