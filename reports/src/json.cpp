// report.json and timing.json: the report as data. Keys keep their order
// (ordered_json) and numbers print the same way everywhere, so one seed
// gives one byte sequence. Infinities and NaN, which JSON lacks, are the
// strings "inf", "-inf" and "nan".
#include "parts.hpp"

#include <softcheck/host.hpp>

#include <softcheck/json_number.hpp>

#include <cmath>

namespace softcheck::report {
namespace {

using json = nlohmann::ordered_json;

json num(double v) { return json_number::put(v); }

double get_num(const json &j) {
  try {
    return json_number::get(j);
  } catch (const std::runtime_error &e) {
    throw FormatError(e.what());
  }
}

const json &field(const json &j, const char *key) {
  if (!j.is_object() || !j.contains(key))
    throw FormatError(std::string("field '") + key + "' is missing");
  return j.at(key);
}

std::string get_str(const json &j, const char *key) {
  const json &v = field(j, key);
  if (!v.is_string()) throw FormatError(std::string("field '") + key + "' is not a string");
  return v.get<std::string>();
}

int64_t get_int(const json &j, const char *key) {
  const json &v = field(j, key);
  if (!v.is_number_integer())
    throw FormatError(std::string("field '") + key + "' is not an integer");
  return v.get<int64_t>();
}

softcheck_op get_op(const json &j) {
  softcheck_op op;
  const std::string name = get_str(j, "op");
  if (!op_from_name(name, op)) throw FormatError("unknown op '" + name + "'");
  return op;
}

softcheck_dtype get_dtype(const json &j) {
  const std::string d = get_str(j, "dtype");
  for (int k = 0; k < SOFTCHECK_DTYPE_COUNT; ++k)
    if (d == softcheck_dtype_name(softcheck_dtype(k))) return softcheck_dtype(k);
  throw FormatError("unknown dtype '" + d + "'");
}

const json &get_array(const json &j, const char *key) {
  const json &v = field(j, key);
  if (!v.is_array()) throw FormatError(std::string("field '") + key + "' is not an array");
  return v;
}

json counts_json(const Counts &c) {
  return {{"nan_where_finite", c.nan_where_finite},
          {"number_where_nan", c.number_where_nan},
          {"wrong_infinity", c.wrong_infinity},
          {"flushed_subnormal", c.flushed_subnormal},
          {"wrong_sign", c.wrong_sign},
          {"positive_log_probability", c.positive_log_probability},
          {"status_mismatch", c.status_mismatch},
          {"declined", c.declined},
          {"by_convention", c.by_convention}};
}

} // namespace

std::string to_json(const Report &r) {
  json j;
  j["schema"] = kSchema;
  j["schema_version"] = kSchemaVersion;
  j["tool_version"] = r.tool_version;
  j["seed"] = r.seed;
  j["cases"] = r.cases;
  j["worst_n"] = r.worst_n;
  if (r.shard.count > 1)
    j["shard"] = {{"index", r.shard.index},
                  {"count", r.shard.count},
                  {"ops", r.shard.ops},
                  {"dtypes", r.shard.dtypes}};
  j["units"] = {{"ulp", "|got - want| / spacing(want), want the correctly rounded value"},
                {"normwise_u", "max over rows of ||got - want||_2 / ||want||_2, in u = 2^-p"},
                {"elementwise_max_ulp", "max ulp over the outputs the default bound judges "
                                        "elementwise"},
                {"scaled_max_u", "max (|got - want| - 1 ulp) / (u M) over the outputs the default "
                                 "bound judges scaled, M the terms' magnitude; nan: none"},
                {"headroom", "the bound a property run applies (the set's contract, else the "
                             "default bound) on the case that came closest to it: share = "
                             "error / allowed, > 1 breaks it; error and allowed in unit"},
                {"histogram", "signed ulp bins, labels in histogram_bins"},
                {"reproduce", "run in the report's folder (case files are under cases/)"}};
  json bins = json::array();
  for (int b = 0; b < kHistogramBins; ++b) bins.push_back(histogram_label(b));
  j["histogram_bins"] = bins;
  json gbins = json::array();
  for (int b = 0; b < kGapBins; ++b) gbins.push_back(gap_label(b));
  j["gap_bins"] = gbins;
  json sets = json::array();
  for (const SetInfo &s : r.sets)
    sets.push_back({{"name", s.name},
                    {"description", s.description},
                    {"version", s.version},
                    {"plugin", s.plugin},
                    {"conventions", s.conventions}});
  j["sets"] = sets;
  json results = json::array();
  for (const Entry &e : r.results) {
    json worst = json::array();
    for (const Worst &w : e.worst)
      worst.push_back({{"error", num(w.error)},
                       {"unit", w.unit},
                       {"ulp", num(w.ulp)},
                       {"output", w.output},
                       {"got", w.got},
                       {"want", w.want},
                       {"mismatch", w.mismatch},
                       {"file", w.file},
                       {"case", w.text},
                       {"reproduce", w.reproduce}});
    json hist = json::array();
    for (int64_t h : e.histogram) hist.push_back(h);
    results.push_back({{"set", e.set},
                       {"op", softcheck_op_name(e.op)},
                       {"dtype", dtype_name(e.dtype)},
                       {"regime", e.regime},
                       {"cases", e.cases},
                       {"outputs", e.outputs},
                       {"max_ulp", num(e.max_ulp)},
                       {"median_ulp", num(e.median_ulp)},
                       {"p99_ulp", num(e.p99_ulp)},
                       {"normwise_u", num(e.normwise_u)},
                       {"elementwise_max_ulp", num(e.elementwise_max_ulp)},
                       {"scaled_max_u", num(e.scaled_max_u)},
                       {"headroom",
                        {{"share", num(e.headroom.share)},
                         {"error", num(e.headroom.error)},
                         {"allowed", num(e.headroom.allowed)},
                         {"unit", e.headroom.unit}}},
                       {"counts", counts_json(e.counts)},
                       {"histogram", hist},
                       {"worst", worst}});
  }
  j["results"] = results;
  json gaps = json::array();
  for (const GapCurve &g : r.gaps) {
    json count = json::array(), mx = json::array();
    for (int b = 0; b < kGapBins; ++b) {
      count.push_back(g.count[size_t(b)]);
      mx.push_back(num(g.max_ulp[size_t(b)]));
    }
    gaps.push_back({{"set", g.set},
                    {"op", softcheck_op_name(g.op)},
                    {"dtype", dtype_name(g.dtype)},
                    {"count", count},
                    {"max_ulp", mx}});
  }
  j["error_vs_gap"] = gaps;
  json special = json::array();
  for (const SpecialValue &s : r.special)
    special.push_back({{"set", s.set},
                       {"dtype", dtype_name(s.dtype)},
                       {"input", s.input},
                       {"op", softcheck_op_name(s.op)},
                       {"got", s.got},
                       {"want", s.want},
                       {"agrees", s.agrees}});
  j["special_values"] = special;
  json pipes = json::array();
  for (const Pipeline &p : r.pipelines) {
    json points = json::array();
    for (const PipelinePoint &pt : p.points)
      points.push_back({{"at", pt.at},
                        {"scale", num(pt.scale)},
                        {"rows", pt.rows},
                        {"median", num(pt.median)},
                        {"max", num(pt.max)}});
    pipes.push_back({{"id", p.id},
                     {"set", p.set},
                     {"dtype", dtype_name(p.dtype)},
                     {"metric", p.metric},
                     {"points", points}});
  }
  j["pipelines"] = pipes;
  return j.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string to_json(const Timing &t) {
  json j;
  j["schema"] = "softcheck-timing";
  j["schema_version"] = 1;
  j["note"] = "time inside the kernels; varies with the machine's load, never compared";
  j["threads"] = t.threads;
  j["wall_seconds"] = t.wall_seconds;
  json results = json::array();
  for (const TimingEntry &e : t.results)
    results.push_back({{"set", e.set},
                       {"op", softcheck_op_name(e.op)},
                       {"dtype", dtype_name(e.dtype)},
                       {"regime", e.regime},
                       {"elements", e.elements},
                       {"seconds", e.seconds},
                       {"elements_per_second", e.elements_per_second()}});
  j["results"] = results;
  return j.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
}

Report from_json(const std::string &text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error &e) {
    throw FormatError(std::string("not JSON (") + e.what() + ")");
  }
  if (!j.is_object() || !j.contains("schema") || j["schema"] != kSchema)
    throw FormatError("not a softcheck report (no \"schema\": \"softcheck-report\")");
  const int64_t version = get_int(j, "schema_version");
  if (version != kSchemaVersion)
    throw FormatError("report schema version " + std::to_string(version) +
                      " (this softcheck reads version " + std::to_string(kSchemaVersion) + ")");
  Report r;
  try {
    r.tool_version = get_str(j, "tool_version");
    r.seed = uint64_t(get_int(j, "seed"));
    r.cases = get_int(j, "cases");
    r.worst_n = get_int(j, "worst_n");
    for (const json &s : get_array(j, "sets")) {
      SetInfo info{get_str(s, "name"), get_str(s, "description"), get_str(s, "version"),
                   get_str(s, "plugin")};
      if (s.contains("conventions") && s.at("conventions").is_array())
        for (const json &v : s.at("conventions"))
          if (v.is_string()) info.conventions.push_back(v.get<std::string>());
      r.sets.push_back(std::move(info));
    }
    size_t index = 0;
    for (const json &e : get_array(j, "results")) {
      try {
        Entry x;
        x.set = get_str(e, "set");
        x.op = get_op(e);
        x.dtype = get_dtype(e);
        x.regime = get_str(e, "regime");
        x.cases = get_int(e, "cases");
        x.outputs = get_int(e, "outputs");
        x.max_ulp = get_num(field(e, "max_ulp"));
        x.median_ulp = get_num(field(e, "median_ulp"));
        x.p99_ulp = get_num(field(e, "p99_ulp"));
        x.normwise_u = get_num(field(e, "normwise_u"));
        x.elementwise_max_ulp = get_num(field(e, "elementwise_max_ulp"));
        x.scaled_max_u = get_num(field(e, "scaled_max_u"));
        if (e.contains("headroom")) { // older files have none
          const json &h = field(e, "headroom");
          x.headroom.share = get_num(field(h, "share"));
          x.headroom.error = get_num(field(h, "error"));
          x.headroom.allowed = get_num(field(h, "allowed"));
          x.headroom.unit = get_str(h, "unit");
        }
        const json &c = field(e, "counts");
        x.counts.nan_where_finite = get_int(c, "nan_where_finite");
        x.counts.number_where_nan = get_int(c, "number_where_nan");
        x.counts.wrong_infinity = get_int(c, "wrong_infinity");
        x.counts.flushed_subnormal = get_int(c, "flushed_subnormal");
        x.counts.wrong_sign = get_int(c, "wrong_sign");
        x.counts.positive_log_probability = get_int(c, "positive_log_probability");
        x.counts.status_mismatch = get_int(c, "status_mismatch");
        x.counts.declined = c.contains("declined") ? get_int(c, "declined") : 0; // older files
        x.counts.by_convention = c.contains("by_convention") ? get_int(c, "by_convention") : 0;
        if (e.contains("histogram")) {
          const json &h = get_array(e, "histogram");
          if (h.size() != x.histogram.size())
            throw FormatError("histogram has " + std::to_string(h.size()) + " bins, not " +
                              std::to_string(x.histogram.size()));
          for (size_t b = 0; b < h.size(); ++b) {
            if (!h[b].is_number_integer()) throw FormatError("histogram bin is not an integer");
            x.histogram[b] = h[b].get<int64_t>();
          }
        }
        if (e.contains("worst"))
          for (const json &w : get_array(e, "worst")) {
            Worst y;
            y.error = get_num(field(w, "error"));
            y.unit = get_str(w, "unit");
            y.ulp = get_num(field(w, "ulp"));
            y.output = get_int(w, "output");
            y.got = get_str(w, "got");
            y.want = get_str(w, "want");
            y.mismatch = get_str(w, "mismatch");
            y.file = get_str(w, "file");
            y.text = get_str(w, "case");
            y.reproduce = get_str(w, "reproduce");
            x.worst.push_back(std::move(y));
          }
        r.results.push_back(std::move(x));
      } catch (const FormatError &err) {
        throw FormatError("results[" + std::to_string(index) + "]: " + err.what());
      }
      ++index;
    }
    if (j.contains("shard")) {
      const json &sh = field(j, "shard");
      r.shard.index = get_int(sh, "index");
      r.shard.count = get_int(sh, "count");
      for (const json &v : get_array(sh, "ops")) r.shard.ops.push_back(v.get<std::string>());
      for (const json &v : get_array(sh, "dtypes")) r.shard.dtypes.push_back(v.get<std::string>());
      if (r.shard.count < 2 || r.shard.index < 0 || r.shard.index >= r.shard.count)
        throw FormatError("shard " + std::to_string(r.shard.index) + " of " +
                          std::to_string(r.shard.count));
    }
    if (j.contains("error_vs_gap"))
      for (const json &g : get_array(j, "error_vs_gap")) {
        GapCurve c;
        c.set = get_str(g, "set");
        c.op = get_op(g);
        c.dtype = get_dtype(g);
        const json &count = get_array(g, "count"), &mx = get_array(g, "max_ulp");
        if (count.size() != c.count.size() || mx.size() != c.max_ulp.size())
          throw FormatError("error_vs_gap: not " + std::to_string(kGapBins) + " bins");
        for (size_t b = 0; b < c.count.size(); ++b) {
          c.count[b] = count[b].get<int64_t>();
          c.max_ulp[b] = get_num(mx[b]);
        }
        r.gaps.push_back(std::move(c));
      }
    if (j.contains("special_values"))
      for (const json &v : get_array(j, "special_values")) {
        SpecialValue x;
        x.set = get_str(v, "set");
        x.dtype = get_dtype(v);
        x.input = get_str(v, "input");
        x.op = get_op(v);
        x.got = get_str(v, "got");
        x.want = get_str(v, "want");
        const json &agrees = field(v, "agrees");
        if (!agrees.is_boolean()) throw FormatError("field 'agrees' is not a boolean");
        x.agrees = agrees.get<bool>();
        r.special.push_back(std::move(x));
      }
    if (j.contains("pipelines"))
      for (const json &p : get_array(j, "pipelines")) {
        Pipeline x;
        x.id = get_str(p, "id");
        x.set = get_str(p, "set");
        x.dtype = get_dtype(p);
        x.metric = get_str(p, "metric");
        for (const json &pt : get_array(p, "points"))
          x.points.push_back({get_str(pt, "at"), get_num(field(pt, "scale")), get_int(pt, "rows"),
                              get_num(field(pt, "median")), get_num(field(pt, "max"))});
        r.pipelines.push_back(std::move(x));
      }
  } catch (const json::exception &e) {
    throw FormatError(e.what());
  }
  return r;
}

Timing timing_from_json(const std::string &text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error &e) {
    throw FormatError(std::string("not JSON (") + e.what() + ")");
  }
  if (!j.is_object() || !j.contains("schema") || j["schema"] != "softcheck-timing")
    throw FormatError("not a softcheck timing file (no \"schema\": \"softcheck-timing\")");
  if (get_int(j, "schema_version") != 1) throw FormatError("timing schema version is not 1");
  Timing t;
  try {
    t.threads = int(get_int(j, "threads"));
    t.wall_seconds = get_num(field(j, "wall_seconds"));
    for (const json &e : get_array(j, "results"))
      t.results.push_back({get_str(e, "set"), get_op(e), get_dtype(e), get_str(e, "regime"),
                           get_int(e, "elements"), get_num(field(e, "seconds"))});
  } catch (const json::exception &e) {
    throw FormatError(e.what());
  }
  return t;
}

} // namespace softcheck::report
