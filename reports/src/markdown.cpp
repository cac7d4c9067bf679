// report.md: the summary that fits a pull-request comment.
#include "parts.hpp"
#include "views.hpp"

#include <softcheck/properties.hpp>
#include <softcheck/text.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

namespace softcheck::report {
namespace {

// Every name, path, description and version in report.md came from a
// plugin or a path: escaped, so none of it can become Markdown or HTML.
std::string md(const std::string &s) { return text::markdown(s); }

} // namespace

std::string summary_lines(const Report &r) {
  const View v(r, nullptr);
  std::string s;
  for (size_t k = 0; k < v.sets.size(); ++k) {
    double ulp = 0, scaled = 0;
    int64_t m = 0;
    std::string ulp_at = "-", scaled_at = "-";
    for (const OpRow &row : v.op_rows()) {
      const OpCell &c = row.cells[k];
      if (!c.present) continue;
      m += c.mismatches;
      auto where = [&](const std::string &regime) {
        return fmt::format("{} {} {}", softcheck_op_name(row.op), dtype_name(row.dtype), regime);
      };
      if (c.ulp > ulp || (c.ulp >= 0 && ulp_at == "-")) {
        ulp = std::max(ulp, c.ulp);
        if (c.ulp >= ulp) ulp_at = where(c.ulp_regime);
      }
      if (c.scaled_u > scaled || (c.scaled_u >= 0 && scaled_at == "-")) {
        scaled = std::max(scaled, c.scaled_u);
        if (c.scaled_u >= scaled) scaled_at = where(c.scaled_regime);
      }
    }
    s += fmt::format("  {:<12} max {} ulp ({}), max {} u scaled ({}), {} special-value "
                     "mismatches\n",
                     text::printable(v.sets[k]), ulp_text(ulp), ulp_at, ulp_text(scaled), scaled_at,
                     m);
  }
  return s;
}

std::string to_markdown(const Report &r, const Timing *timing) {
  const View v(r, timing);
  std::string s = "# softcheck accuracy report\n\n";
  s += fmt::format("softcheck {}, seed {}, {} cases per op x dtype x regime, errors against the "
                   "correctly rounded result (MPFR oracle).\n\n",
                   r.tool_version, r.seed, r.cases);
  for (const SetInfo &set : r.sets)
    s += fmt::format("- **{}** ({}){}{}\n", md(set.name), md(set.plugin),
                     set.description.empty() ? "" : ": " + md(set.description),
                     set.version.empty() ? "" : " \\[" + md(set.version) + "\\]");
  bool any_convention = false;
  for (const SetInfo &set : r.sets) any_convention = any_convention || !set.conventions.empty();
  if (any_convention) {
    s += "\n## Conventions of these sets\n\nDeclared conventions other than softcheck's "
         "(plugin.h): the outputs they give are agreed with, never counted as mismatches.\n\n";
    for (const SetInfo &set : r.sets) {
      int64_t n = 0;
      for (const Entry &e : r.results)
        if (e.set == set.name) n += e.counts.by_convention;
      for (const std::string &line : set.conventions)
        s += fmt::format("- **{}**: {}\n", md(set.name), md(line));
      if (!set.conventions.empty())
        s += fmt::format("- **{}**: {} outputs of this run were NaN by these conventions\n",
                         md(set.name), n);
    }
  }
  s += "\n## Max error per op (finite regimes) and special-value mismatches (all regimes)\n\n";
  s += "| op | dtype |";
  for (const std::string &set : v.sets)
    s += fmt::format(" {} max error | {} mismatches |", md(set), md(set));
  s += "\n|---|---|";
  for (size_t i = 0; i < v.sets.size(); ++i) s += "---:|---:|";
  s += "\n";
  for (const OpRow &row : v.op_rows()) {
    s += fmt::format("| {} | {} |", softcheck_op_name(row.op), dtype_name(row.dtype));
    for (const OpCell &c : row.cells)
      s += c.present ? fmt::format(" {} | {}{} |", c.text(), c.mismatches,
                                   c.declined ? fmt::format(" ({} declined)", c.declined) : "")
                     : " - | - |";
    s += "\n";
  }
  s += "\nmax error: the largest error over the regimes with finite rows, and the regime it "
       "came from, in the unit of the op's default bound: ulps of the correctly rounded value "
       "where outputs are judged elementwise; u (2^-24 or 2^-53) times the magnitude of the "
       "summed terms, beyond 1 ulp of rounding, where they are judged scaled (backward ops, "
       "reductions, signed terms). mismatches: outputs that are NaN or infinite where the "
       "correct value is not (or the reverse), flushed subnormals and wrong signs (elementwise "
       "outputs), positive log-probabilities, and calls whose status differs from the "
       "oracle's. declined: valid cases the kernel answered SOFTCHECK_ERR_UNSUPPORTED (a "
       "layout, size or option its library lacks), left out of every figure, never "
       "counted as passed or as mismatches. Per-regime tables with median and p99 are in "
       "index.html and report.json.\n";

  // Headroom: per op, the regime whose case came closest to its bound.
  s += "\n## Headroom: the worst error beside the bound that applied\n\n";
  s += "| op | dtype |";
  for (const std::string &set : v.sets) s += fmt::format(" {} |", md(set));
  s += "\n|---|---|";
  for (size_t i = 0; i < v.sets.size(); ++i) s += "---|";
  s += "\n";
  for (const OpRow &row : v.op_rows()) {
    s += fmt::format("| {} | {} |", softcheck_op_name(row.op), dtype_name(row.dtype));
    for (const std::string &set : v.sets) {
      const Entry *worst = nullptr;
      for (const Entry &e : r.results)
        if (e.set == set && e.op == row.op && e.dtype == row.dtype &&
            !std::isnan(e.headroom.share) && (!worst || e.headroom.share > worst->headroom.share))
          worst = &e;
      if (!worst) {
        s += " - |";
        continue;
      }
      const Entry::Headroom &h = worst->headroom;
      const bool loose = h.unit == "ulp" && h.allowed > props::kLooseBoundUlp;
      const std::string flags =
          std::string(h.share > 1 ? ", broken" : "") + (loose ? ", loose" : "");
      if (h.share == 0)
        s += fmt::format(" exact ({}) |", md(worst->regime));
      else if (h.unit == "ulp")
        s += fmt::format(" {:.3g} of the bound: {} of {} ulp ({}){} |", h.share, ulp_text(h.error),
                         ulp_text(h.allowed), md(worst->regime), flags);
      else // the share of k u M + 1 ulp; the error beyond the ulp is h.error
        s += fmt::format(" {:.3g} of the bound {} u M + 1 ulp ({}){} |", h.share,
                         ulp_text(h.allowed), md(worst->regime), flags);
    }
    s += "\n";
  }
  s += fmt::format(
      "\nThe bound is the one `softcheck check` applies (the set's declared contract, else the "
      "default bound of properties/src/tolerance.hpp); per op, the regime whose case came "
      "closest to it, and the error there (finite outputs; special values are the mismatches "
      "above); exact: every output correctly rounded. Scaled bounds are k u M + 1 ulp, M the "
      "magnitude of the summed terms. Past 1 the bound is broken. loose: a bound over {} ulps, "
      "where a kernel far "
      "worse than this one would still pass (the default bound grows with the row length: "
      "declare a contract to be held to less).\n",
      props::kLooseBoundUlp);

  s += "\n## Pipelines\n\n";
  s += "| set | dtype | nll_loss(log_softmax) vs cross_entropy, max gap (ulp) | Keras clip, "
       "median rel. error at scale 1 / 16 / 256 / 4096 | double softmax loss, median rel. "
       "error at 1 / 4096 | double softmax gradient, median rel. error at 1 / 4096 |\n";
  s += "|---|---|---:|---:|---:|---:|\n";
  for (const std::string &set : v.sets)
    for (softcheck_dtype d : kDtypes) {
      const Pipeline *gap = v.pipeline("pipeline_gap", set, d);
      const Pipeline *keras = v.pipeline("keras_clip", set, d);
      if (!gap && !keras) continue;
      auto at = [](const Pipeline *p, const char *where) -> std::string {
        if (!p) return "-";
        for (const PipelinePoint &pt : p->points)
          if (pt.at == where) return std::isnan(pt.median) ? "-" : fmt::format("{:.2g}", pt.median);
        return "-";
      };
      double gap_max = 0;
      if (gap)
        for (const PipelinePoint &pt : gap->points) gap_max = std::max(gap_max, pt.max);
      const Pipeline *dl = v.pipeline("double_softmax_loss", set, d);
      const Pipeline *dg = v.pipeline("double_softmax_gradient", set, d);
      s += fmt::format("| {} | {} | {} | {} / {} / {} / {} | {} / {} | {} / {} |\n", md(set),
                       dtype_name(d), gap ? ulp_text(gap_max) : "-", at(keras, "2^0"),
                       at(keras, "2^4"), at(keras, "2^8"), at(keras, "2^12"), at(dl, "2^0"),
                       at(dl, "2^12"), at(dg, "2^0"), at(dg, "2^12"));
    }
  s += "\nThe two pipelines must agree within the loss's bound. Keras's clip caps every loss at "
       "-log(1e-7) = 16.1 and floors confident ones at 1e-7; softmax fed to cross_entropy (a "
       "double softmax) is wrong at every scale and its gradient vanishes as the logits grow.\n";

  s += "\n## Special values\n\n";
  bool any = false;
  for (const SpecialValue &sv : r.special) {
    if (sv.agrees) continue;
    if (!any) {
      s += "| set | dtype | input | op | got | expected (ABI) |\n|---|---|---|---|---|---|\n";
      any = true;
    }
    s += fmt::format("| {} | {} | {} | {} | {} | {} |\n", md(sv.set), dtype_name(sv.dtype),
                     md(sv.input), softcheck_op_name(sv.op), md(sv.got), md(sv.want));
  }
  if (!any) s += "Every set gives the ABI's answer on every special input.\n";

  s += "\n## Worst inputs\n\n";
  for (const std::string &set : v.sets) {
    const auto worst = v.worst_of(set, 5);
    if (worst.empty()) {
      s += fmt::format("- {}: every output correctly rounded.\n", md(set));
      continue;
    }
    for (const auto &[e, w] : worst)
      s += fmt::format("- {} {} {} ({}): {}, got {} want {}: {}\n", md(set),
                       softcheck_op_name(e->op), dtype_name(e->dtype), e->regime, error_text(*w),
                       w->got, w->want, text::markdown_code(w->reproduce));
  }
  s += "\nRun the commands in the report's folder.\n";

  if (timing) {
    s += "\n## Throughput\n\nMillions of input elements per second inside the kernel, over "
         "every regime (timing.json; not compared, the machine is shared).\n\n| op | dtype |";
    for (const std::string &set : v.sets) s += " " + md(set) + " |";
    s += "\n|---|---|";
    for (size_t i = 0; i < v.sets.size(); ++i) s += "---:|";
    s += "\n";
    for (const OpRow &row : v.op_rows()) {
      s += fmt::format("| {} | {} |", softcheck_op_name(row.op), dtype_name(row.dtype));
      for (const std::string &set : v.sets) {
        const double rate = v.rate(set, row.op, row.dtype);
        s += rate > 0 ? fmt::format(" {:.1f} |", rate / 1e6) : " - |";
      }
      s += "\n";
    }
  }
  return s;
}

} // namespace softcheck::report
