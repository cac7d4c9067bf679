// softcheck eval: prints, for each output element, the kernel's value, the
// oracle's correctly rounded value and the error in ulps.
#include "commands.hpp"
#include "options.hpp"
#include "parse.hpp"

#include <softcheck/case.hpp>
#include <softcheck/case_io.hpp>
#include <softcheck/metrics.hpp>
#include <softcheck/oracle.hpp>
#include <softcheck/text.hpp>

#include <fmt/core.h>

#include <cstdio>

namespace softcheck::cli {
namespace {

Reduction parse_reduction(const std::string &s) {
  if (s == "none") return Reduction::none;
  if (s == "mean") return Reduction::mean;
  if (s == "sum") return Reduction::sum;
  throw UsageError("--reduction must be none, mean or sum, not '" + s + "'");
}

bool uses_class_targets(softcheck_op op) {
  return op == SOFTCHECK_OP_NLL_LOSS || op == SOFTCHECK_OP_NLL_LOSS_BACKWARD ||
         op == SOFTCHECK_OP_CROSS_ENTROPY || op == SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD;
}

template <class T> Case<T> build_case(const EvalArgs &a, softcheck_op op) {
  Case<T> c;
  c.op = op;
  int64_t rows = 1;
  if (!a.input.empty()) {
    if (!a.values.empty()) throw UsageError("give values after -- or --input, not both");
    auto file_rows = read_rows<T>(a.input);
    rows = int64_t(file_rows.size());
    for (auto &r : file_rows) c.x.insert(c.x.end(), r.begin(), r.end());
  } else {
    c.x = parse_values<T>(a.values);
  }
  if (c.x.empty()) throw UsageError("no input values (give them after --, or --input FILE)");
  if (!a.shape.empty()) {
    std::vector<int64_t> dims;
    std::string part;
    for (char ch : a.shape + ",") {
      if (ch == ',') {
        dims.push_back(parse_int(part));
        part.clear();
      } else {
        part += ch;
      }
    }
    if (dims.size() != 3 || dims[0] < 1 || dims[1] < 1 || dims[2] < 1)
      throw UsageError("--shape must be three positive sizes outer,classes,inner");
    c.shape = {dims[0], dims[1], dims[2]};
  } else {
    c.shape = {rows, int64_t(c.x.size()) / rows, 1};
  }
  if (__int128(c.shape.outer) * c.shape.classes * c.shape.inner != __int128(c.x.size()))
    throw UsageError(fmt::format(
        "--shape {},{},{} needs {} values, got {}", c.shape.outer, c.shape.classes, c.shape.inner,
        __int128(c.shape.outer) * c.shape.classes * c.shape.inner > 1e12
            ? std::string("too many")
            : std::to_string(c.shape.outer * c.shape.classes * c.shape.inner),
        c.x.size()));
  c.reduction = parse_reduction(a.reduction);
  c.ignore_index = a.ignore_index;
  c.label_smoothing = a.label_smoothing;
  c.weight = parse_values<T>(a.weight);
  if (!c.weight.empty() && int64_t(c.weight.size()) != c.shape.classes)
    throw UsageError(fmt::format("--weight needs {} values (one per class), got {}",
                                 c.shape.classes, c.weight.size()));
  auto need = [&](const std::vector<std::string> &v, const char *flag, int64_t count) {
    if (int64_t(v.size()) != count)
      throw UsageError(fmt::format("{} {} needs {} values, got {}", softcheck_op_name(op), flag,
                                   count, v.size()));
    return parse_values<T>(v);
  };
  if (op == SOFTCHECK_OP_SOFTMAX_BACKWARD || op == SOFTCHECK_OP_LOG_SOFTMAX_BACKWARD)
    c.aux = need(a.dy, "--dy", c.elems());
  if (op == SOFTCHECK_OP_CROSS_ENTROPY_PROB || op == SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD)
    c.aux = need(a.prob, "--prob", c.elems());
  if (uses_class_targets(op)) {
    if (int64_t(a.target.size()) != c.rows())
      throw UsageError(fmt::format("{} --target needs {} class indices (one per row), got {}",
                                   softcheck_op_name(op), c.rows(), a.target.size()));
    for (const std::string &t : a.target) c.target.push_back(parse_int(t));
  }
  if (c.is_loss() && c.is_backward()) {
    int64_t n = c.reduction == Reduction::none ? c.rows() : 1;
    c.dout = a.dout.empty() ? std::vector<T>(size_t(n), T(1)) : need(a.dout, "--dout", n);
  }
  return c;
}

template <class T> int eval(const Case<T> &c, const KernelSetRef &ref) {
  const softcheck_op op = c.op;
  const char *dtype = softcheck_dtype_name(dtype_of<T>);
  if (!provides(*ref.set, dtype_of<T>, op)) {
    std::fprintf(stderr, "error: set '%s' does not provide %s for %s\n", ref.set->name,
                 softcheck_op_name(op), dtype);
    return 2;
  }
  fmt::print("op {}, dtype {}, set {} [{}], shape [{}, {}, {}]\n", softcheck_op_name(op), dtype,
             ref.set->name, text::printable(ref.source), c.shape.outer, c.shape.classes,
             c.shape.inner);
  const size_t n = size_t(c.output_count());
  std::vector<T> got(n, T(NAN)), want(n, T(NAN));
  oracle::Stats stats;
  oracle::Config cfg;
  cfg.stats = &stats;
  Status ks = call(*ref.set, c, got.data());
  Status os = oracle::call(c, want.data(), cfg);
  if (ks != SOFTCHECK_OK || os != SOFTCHECK_OK) {
    fmt::print("kernel status: {}\noracle status: {}\n", softcheck_status_name(ks),
               softcheck_status_name(os));
    return ks == os ? 0 : 1;
  }
  fmt::print("oracle: correctly rounded (MPFR intervals, up to {} bits){}\n", stats.max_precision,
             stats.unresolved ? fmt::format(", {} outputs unresolved", stats.unresolved) : "");
  const int w = std::numeric_limits<T>::digits > 24 ? 46 : 34;
  fmt::print("{:<8} {:<{}} {:<{}} {}\n", "output", "kernel", w, "oracle", w, "ulp error");
  for (size_t i = 0; i < n; ++i) {
    Mismatch m = classify(op, got[i], want[i]);
    fmt::print("{:<8} {:<{}} {:<{}} {:.3g}{}\n", fmt::format("[{}]", i), format_value(got[i]), w,
               format_value(want[i]), w, ulp_error(got[i], want[i]),
               m == Mismatch::none ? "" : fmt::format("  ({})", mismatch_name(m)));
  }
  return 0;
}

} // namespace

int run_eval(const EvalArgs &args) {
  CaseFile file;
  if (!args.case_file.empty()) {
    if (!args.op.empty() || !args.values.empty() || !args.input.empty())
      throw UsageError("--case holds the op and its inputs: give no --op, --input or values");
    try {
      file = read_case_file(args.case_file);
    } catch (const CaseFormatError &e) {
      throw UsageError(e.what());
    }
  } else if (args.op.empty()) {
    throw UsageError("--op is required (or --case FILE)");
  }
  softcheck_op op = SOFTCHECK_OP_SOFTMAX;
  if (args.case_file.empty() && !op_from_name(args.op, op))
    throw UsageError("unknown op '" + text::printable(args.op) + "'");
  // The input is read and checked before any plugin is loaded.
  if (args.case_file.empty()) {
    const std::vector<softcheck_dtype> d = parse_dtypes(args.dtype);
    if (d.size() != 1) throw UsageError("--dtype takes one of f32, f64, bf16, f16");
    file.dtype = d[0];
    switch (file.dtype) {
    case SOFTCHECK_F64: file.f64 = build_case<double>(args, op); break;
    case SOFTCHECK_BF16: file.bf16 = build_case<bf16>(args, op); break;
    case SOFTCHECK_F16: file.f16 = build_case<f16>(args, op); break;
    default: file.f32 = build_case<float>(args, op); break;
    }
  }
  Registry registry;
  if (!load_registry(registry, args.plugins, args.isolation)) return 2;
  const KernelSetRef *ref = registry.find(args.set);
  if (ref == nullptr) throw UsageError("no kernel set named '" + text::printable(args.set) + "'");
  const int code = visit_case(file, [&](const auto &c) { return eval(c, *ref); });
  std::fflush(stdout);
  print_plugin_output();
  return code;
}

} // namespace softcheck::cli
