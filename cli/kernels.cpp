#include "commands.hpp"
#include "isolate.hpp"
#include "parse.hpp"

#include <softcheck/kernels.hpp>

#include <fmt/core.h>

#include <cstdio>

namespace softcheck::cli {

bool load_registry(Registry &registry, const std::vector<std::string> &plugins) {
  std::string err = registry.add(&builtin_plugin(), "built-in");
  for (size_t i = 0; err.empty() && i < plugins.size(); ++i) err = registry.load(plugins[i]);
  if (!err.empty()) {
    std::fprintf(stderr, "error: %s\n", err.c_str());
    return false;
  }
  return true;
}

const softcheck_kernel_set *callable(const KernelSetRef &ref, const IsolationArgs &a) {
  if (ref.source == "built-in" || a.in_process) return ref.set;
  if (!(a.call_timeout > 0) || a.call_timeout > 86400)
    throw UsageError("--call-timeout must be between 0 and 86400 seconds");
  if (a.memory_limit_mb < 16 || a.memory_limit_mb > (int64_t(1) << 30))
    throw UsageError("--memory-limit must be at least 16 (MiB)");
  IsolationOptions o;
  o.call_timeout = a.call_timeout;
  o.memory_limit_mb = a.memory_limit_mb;
  o.fault_dir = a.faults;
  try {
    return isolate(*ref.set, ref.source, o);
  } catch (const std::runtime_error &e) {
    throw UsageError(e.what());
  }
}

namespace {

std::string bound_text(const softcheck_contract *c, softcheck_dtype d, softcheck_op op) {
  if (c == nullptr) return "";
  const softcheck_bound &b = (d == SOFTCHECK_F32 ? c->f32 : c->f64)[op];
  std::string s;
  if (b.max_ulp >= 0) s += fmt::format("{:g} ulp", b.max_ulp);
  if (b.max_scaled_u >= 0)
    s += fmt::format("{}{:g}u scaled", s.empty() ? "" : ", ", b.max_scaled_u);
  return s;
}

} // namespace

int run_kernels(const KernelsArgs &args) {
  Registry registry;
  if (!load_registry(registry, args.plugins)) return 2;
  for (const KernelSetRef &ref : registry.sets()) {
    const softcheck_kernel_set &set = *ref.set;
    fmt::print("{}  [{}]{}\n", set.name, ref.source,
               set.version ? fmt::format("  version {}", set.version) : "");
    if (set.description) fmt::print("  {}\n", set.description);
    fmt::print("  contract: {}\n", set.contract ? "declared" : "none (the suite's default bounds)");
    fmt::print("  {:<28} {:<4} {:<4} {}\n", "op", "f32", "f64", "declared bound (f32 / f64)");
    for (int i = 0; i < SOFTCHECK_OP_COUNT; ++i) {
      auto op = softcheck_op(i);
      bool f32 = provides(set, SOFTCHECK_F32, op), f64 = provides(set, SOFTCHECK_F64, op);
      std::string b32 = bound_text(set.contract, SOFTCHECK_F32, op);
      std::string b64 = bound_text(set.contract, SOFTCHECK_F64, op);
      std::string bounds = b32 == b64 ? b32 : b32 + " / " + b64;
      std::string line = fmt::format("  {:<28} {:<4} {:<4} {}", softcheck_op_name(op),
                                     f32 ? "yes" : "-", f64 ? "yes" : "-", bounds);
      line.erase(line.find_last_not_of(' ') + 1);
      fmt::print("{}\n", line);
    }
    fmt::print("\n");
  }
  return 0;
}

} // namespace softcheck::cli
