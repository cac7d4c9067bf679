#include "commands.hpp"
#include "parse.hpp"

#include <softcheck/kernels.hpp>
#include <softcheck/properties.hpp>
#include <softcheck/sandbox.hpp>
#include <softcheck/text.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace softcheck::cli {

bool load_registry(Registry &registry, const std::vector<std::string> &plugins,
                   const IsolationArgs &a) {
  if (!(a.call_timeout > 0) || a.call_timeout > 86400)
    throw UsageError("--call-timeout must be between 0 and 86400 seconds");
  if (!(a.load_timeout > 0) || a.load_timeout > 86400)
    throw UsageError("--load-timeout must be between 0 and 86400 seconds");
  if (a.memory_limit_mb < 16 || a.memory_limit_mb > (int64_t(1) << 30))
    throw UsageError("--memory-limit must be between 16 and 2^30 (MiB)");
  for (const std::string &c : a.conventions) {
    const size_t eq = c.find('=');
    const std::string cls = c.substr(0, eq),
                      value = eq == std::string::npos ? "" : c.substr(eq + 1);
    int k = -1;
    for (int i = 0; i < SOFTCHECK_CLASS_COUNT; ++i)
      if (cls == props::convention_class_id(softcheck_convention_class(i))) k = i;
    if (k < 0 || (value != "nan" && value != "softcheck"))
      throw UsageError("--convention takes masked=nan|softcheck or "
                       "zero_coefficient=nan|softcheck, not '" +
                       text::printable(c) + "'");
    props::set_convention_override(softcheck_convention_class(k),
                                   value == "nan" ? SOFTCHECK_CONVENTION_NAN
                                                  : SOFTCHECK_CONVENTION_SOFTCHECK);
  }
  if (plugins.size() > sandbox::kMaxSets)
    throw UsageError(fmt::format("at most {} --plugin (a run takes at most {} kernel sets)",
                                 sandbox::kMaxSets, sandbox::kMaxSets));
  std::string err = registry.add(&builtin_plugin(), "built-in");
  sandbox::Limits limits;
  limits.call_timeout = a.call_timeout;
  limits.load_timeout = a.load_timeout;
  limits.memory_limit_mb = a.memory_limit_mb;
  limits.fault_dir = a.faults;
  limits.reproduce_args = isolation_args(a);
  for (size_t i = 0; err.empty() && i < plugins.size(); ++i) {
    try {
      err = registry.add_sets(a.in_process ? sandbox::load_in_process(plugins[i])
                                           : sandbox::load(plugins[i], limits),
                              plugins[i]);
    } catch (const sandbox::LoadError &e) {
      err = e.what();
    }
  }
  if (!err.empty()) {
    std::fprintf(stderr, "error: %s\n", text::printable(err).c_str());
    return false;
  }
  return true;
}

std::vector<std::string> isolation_args(const IsolationArgs &a) {
  const IsolationArgs d;
  std::vector<std::string> w;
  if (a.in_process) w.push_back("--in-process");
  if (a.call_timeout != d.call_timeout)
    w.insert(w.end(), {"--call-timeout", fmt::format("{:g}", a.call_timeout)});
  if (a.load_timeout != d.load_timeout)
    w.insert(w.end(), {"--load-timeout", fmt::format("{:g}", a.load_timeout)});
  if (a.memory_limit_mb != d.memory_limit_mb)
    w.insert(w.end(), {"--memory-limit", std::to_string(a.memory_limit_mb)});
  for (const std::string &c : a.conventions) w.insert(w.end(), {"--convention", c});
  return w;
}

std::vector<std::string> load_args(const KernelSetRef &ref, const IsolationArgs &a) {
  if (ref.source == "built-in") return {};
  std::vector<std::string> w = {"--plugin", ref.source};
  for (std::string &x : isolation_args(a)) w.push_back(std::move(x));
  return w;
}

void print_plugin_output() {
  const std::string text = sandbox::captured_output();
  if (!text.empty()) std::fprintf(stderr, "%s", text.c_str());
}

namespace {

std::string bound_text(const softcheck_kernel_set &set, softcheck_dtype d, softcheck_op op) {
  const softcheck_bound *table = nullptr;
  if (set.contract && (d == SOFTCHECK_F32 || d == SOFTCHECK_F64))
    table = d == SOFTCHECK_F32 ? set.contract->f32 : set.contract->f64;
  if (set.half_contract && (d == SOFTCHECK_BF16 || d == SOFTCHECK_F16))
    table = d == SOFTCHECK_BF16 ? set.half_contract->bf16 : set.half_contract->f16;
  if (table == nullptr) return "";
  const softcheck_bound &b = table[op];
  std::string s;
  if (b.max_ulp >= 0) s += fmt::format("{:g} ulp", b.max_ulp);
  if (b.max_scaled_u >= 0)
    s += fmt::format("{}{:g}u scaled", s.empty() ? "" : ", ", b.max_scaled_u);
  return s;
}

// The declared bounds of an op: the text alone when every dtype the set
// provides declares the same, else grouped ("f32, f64: 1 ulp; bf16: ...").
std::string bounds_text(const softcheck_kernel_set &set, softcheck_op op) {
  std::vector<std::pair<std::string, std::string>> groups; // (dtypes, bound)
  int provided = 0, declared = 0;
  for (int d = 0; d < SOFTCHECK_DTYPE_COUNT; ++d) {
    provided += provides(set, softcheck_dtype(d), op);
    const std::string b = bound_text(set, softcheck_dtype(d), op);
    if (b.empty()) continue;
    ++declared;
    auto it =
        std::find_if(groups.begin(), groups.end(), [&](const auto &g) { return g.second == b; });
    if (it == groups.end())
      groups.emplace_back(softcheck_dtype_name(softcheck_dtype(d)), b);
    else
      it->first += std::string(", ") + softcheck_dtype_name(softcheck_dtype(d));
  }
  if (groups.size() == 1 && declared == provided) return groups.front().second;
  std::string s;
  for (const auto &[dtypes, b] : groups) s += (s.empty() ? "" : "; ") + dtypes + ": " + b;
  return s;
}

} // namespace

int run_kernels(const KernelsArgs &args) {
  Registry registry;
  if (!load_registry(registry, args.plugins, args.isolation)) return 2;
  for (const KernelSetRef &ref : registry.sets()) {
    const softcheck_kernel_set &set = *ref.set;
    fmt::print("{}  [{}]{}\n", set.name, text::printable(ref.source),
               set.version ? fmt::format("  version {}", text::printable(set.version)) : "");
    if (set.description) fmt::print("  {}\n", text::printable(set.description));
    fmt::print("  contract: {}\n", set.contract ? "declared" : "none (the suite's default bounds)");
    for (const std::string &c : props::declared_conventions(set))
      fmt::print("  convention: {}\n", c);
    if (set.input_padding_bytes > 0)
      fmt::print("  reads up to {} bytes past the end of each input (declared)\n",
                 set.input_padding_bytes);
    fmt::print("  {:<28} {:<4} {:<4} {:<4} {:<4} {}\n", "op", "f32", "f64", "bf16", "f16",
               "declared bound");
    for (int i = 0; i < SOFTCHECK_OP_COUNT; ++i) {
      auto op = softcheck_op(i);
      auto has = [&](softcheck_dtype d) { return provides(set, d, op) ? "yes" : "-"; };
      std::string line = fmt::format("  {:<28} {:<4} {:<4} {:<4} {:<4} {}", softcheck_op_name(op),
                                     has(SOFTCHECK_F32), has(SOFTCHECK_F64), has(SOFTCHECK_BF16),
                                     has(SOFTCHECK_F16), bounds_text(set, op));
      line.erase(line.find_last_not_of(' ') + 1);
      fmt::print("{}\n", line);
    }
    fmt::print("\n");
  }
  if (!args.plugins.empty()) {
    const std::string how = sandbox::confinement();
    if (args.isolation.in_process)
      fmt::print("plugin kernels run in this process (--in-process): not confined\n");
    else if (!how.empty())
      fmt::print("plugin kernels run in a confined worker: {}\n", how);
  }
  print_plugin_output();
  return 0;
}

} // namespace softcheck::cli
