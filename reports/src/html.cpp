// index.html: one self-contained page (inline CSS and SVG; no script, no
// network) with the summary, the plots and the worst inputs.
#include "parts.hpp"
#include "views.hpp"

#include <softcheck/generators.hpp>

#include <softcheck/text.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

namespace softcheck::report {
namespace {

// Everything a plugin or a path supplied, and every label, as HTML text.
std::string esc(const std::string &s) { return text::html(s); }

constexpr const char *kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                   "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};
const char *color(size_t i) { return kColors[i % std::size(kColors)]; }

struct Series {
  std::string name;
  std::vector<double> y; // NaN: no point
};

// A line chart over categorical x, log10 y. Values <= floor sit on the
// floor; infinite values on the top edge, drawn hollow.
std::string line_chart(const std::string &title, const std::string &ylabel,
                       const std::vector<std::string> &x, const std::vector<Series> &series,
                       double floor) {
  const double W = 460, H = 250, L = 58, R = 12, T = 26, B = 46;
  double hi = floor * 10;
  for (const Series &s : series)
    for (double v : s.y)
      if (std::isfinite(v)) hi = std::max(hi, v);
  const double lo_e = std::floor(std::log10(floor)), hi_e = std::ceil(std::log10(hi));
  auto px = [&](size_t i) {
    return L + (W - L - R) * (x.size() > 1 ? double(i) / double(x.size() - 1) : 0.5);
  };
  auto py = [&](double v) {
    double e = std::log10(std::max(v, floor));
    if (std::isinf(v)) e = hi_e;
    return T + (H - T - B) * (1 - (e - lo_e) / std::max(1.0, hi_e - lo_e));
  };
  std::string s = fmt::format(
      "<svg class=\"chart\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" role=\"img\" "
      "aria-label=\"{}\"><text x=\"{}\" y=\"16\" class=\"t\">{}</text>",
      W, H, W, H, esc(title), L, esc(title));
  for (double e = lo_e; e <= hi_e; e += std::max(1.0, std::ceil((hi_e - lo_e) / 6))) {
    const double y = py(std::pow(10.0, e));
    s += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\" class=\"g\"/>"
                     "<text x=\"{}\" y=\"{:.1f}\" class=\"a\" text-anchor=\"end\">1e{}</text>",
                     L, W - R, y, y, L - 4, y + 3, int(e));
  }
  for (size_t i = 0; i < x.size(); ++i)
    s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" class=\"a\" text-anchor=\"end\" "
                     "transform=\"rotate(-45 {:.1f} {})\">{}</text>",
                     px(i), H - B + 12, px(i), H - B + 12, esc(x[i]));
  s += fmt::format("<text x=\"12\" y=\"{}\" class=\"a\" transform=\"rotate(-90 12 {})\" "
                   "text-anchor=\"middle\">{}</text>",
                   (H - B + T) / 2, (H - B + T) / 2, esc(ylabel));
  for (size_t k = 0; k < series.size(); ++k) {
    std::string path;
    for (size_t i = 0; i < series[k].y.size() && i < x.size(); ++i) {
      const double v = series[k].y[i];
      if (std::isnan(v)) continue;
      path += fmt::format("{}{:.1f},{:.1f}", path.empty() ? "M" : " L", px(i), py(v));
      s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"{}\" stroke=\"{}\"/>",
                       px(i), py(v), std::isinf(v) ? "white" : color(k), color(k));
    }
    if (!path.empty())
      s += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\"/>", path,
                       color(k));
    s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"10\" height=\"3\" fill=\"{}\"/>"
                     "<text x=\"{}\" y=\"{}\" class=\"a\">{}</text>",
                     W - R - 150, T + 4 + 12 * double(k), color(k), W - R - 136,
                     T + 8 + 12 * double(k), esc(series[k].name));
  }
  return s + "</svg>";
}

// The signed-ulp histogram of one op x dtype x regime, one bar per set and
// bin, bar heights log10(1 + count).
std::string histogram_chart(const std::string &title, const std::vector<const Entry *> &entries,
                            const std::vector<std::string> &names) {
  const double W = 300, H = 150, L = 8, R = 8, T = 18, B = 40;
  double top = 1;
  for (const Entry *e : entries)
    for (int64_t c : e->histogram) top = std::max(top, std::log10(1.0 + double(c)));
  const double slot = (W - L - R) / kHistogramBins;
  std::string s = fmt::format("<svg class=\"hist\" viewBox=\"0 0 {} {}\" width=\"{}\" "
                              "height=\"{}\" role=\"img\" aria-label=\"{}\"><text x=\"{}\" "
                              "y=\"12\" class=\"t\">{}</text>",
                              W, H, W, H, esc(title), L, esc(title));
  for (int b = 0; b < kHistogramBins; ++b) {
    const double x0 = L + slot * b;
    for (size_t k = 0; k < entries.size(); ++k) {
      const double c = double(entries[k]->histogram[size_t(b)]);
      const double h = (H - T - B) * std::log10(1.0 + c) / top;
      const double w = slot / double(entries.size() + 1);
      s += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
                       "fill=\"{}\"><title>{} {}: {}</title></rect>",
                       x0 + w * (double(k) + 0.5), H - B - h, w, h, color(k), esc(names[k]),
                       esc(histogram_label(b)), int64_t(c));
    }
    s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" class=\"s\" text-anchor=\"end\" "
                     "transform=\"rotate(-60 {:.1f} {})\">{}</text>",
                     x0 + slot / 2, H - B + 8, x0 + slot / 2, H - B + 8, esc(histogram_label(b)));
  }
  return s + "</svg>";
}

const char *kStyle =
    R"(body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}.ok{background:#e8f5e9}.bad{background:#ffebee}
code{font-size:12px;background:#f6f6f6;padding:1px 3px}.charts{display:flex;flex-wrap:wrap;gap:8px}
svg{background:#fff;border:1px solid #eee}.t{font-size:12px;font-weight:600}.a{font-size:10px;fill:#444}
.s{font-size:7px;fill:#555}.g{stroke:#eee}details{margin:6px 0}summary{cursor:pointer;font-weight:600}
)";

} // namespace

std::string to_html(const Report &r, const Timing *timing) {
  const View v(r, timing);
  std::string s = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                  "<title>softcheck accuracy report</title><style>";
  s += kStyle;
  s += "</style></head><body>\n<h1>softcheck accuracy report</h1>\n";
  s += fmt::format("<p>softcheck {}, seed {}, {} cases per op &times; dtype &times; regime; "
                   "errors in ulps of the correctly rounded result (MPFR oracle).</p><ul>",
                   esc(r.tool_version), r.seed, r.cases);
  for (const SetInfo &set : r.sets)
    s += fmt::format("<li><b>{}</b> ({}){}</li>", esc(set.name), esc(set.plugin),
                     set.description.empty() ? "" : ": " + esc(set.description));
  s += "</ul>\n<h2>Max error per op</h2>\n<p>Over the regimes with finite rows, in the unit "
       "of the op's default bound: ulps where outputs are judged elementwise, u times the "
       "summed terms' magnitude where they are judged scaled (backward ops, reductions). "
       "Mismatches count special values that differ from the oracle's, over every regime."
       "</p><table><tr><th class=l>op</th><th>dtype</th>";
  for (const std::string &set : v.sets)
    s += fmt::format("<th>{} max error</th><th>{} mismatches</th>", esc(set), esc(set));
  s += "</tr>\n";
  for (const OpRow &row : v.op_rows()) {
    s += fmt::format("<tr><td class=l>{}</td><td>{}</td>", softcheck_op_name(row.op),
                     dtype_name(row.dtype));
    for (const OpCell &c : row.cells)
      s += c.present ? fmt::format("<td>{}</td><td class=\"{}\">{}</td>", esc(c.text()),
                                   c.mismatches ? "bad" : "ok", c.mismatches)
                     : "<td>-</td><td>-</td>";
    s += "</tr>\n";
  }
  s += "</table>\n";

  // Pipelines.
  s += "<h2>Pipelines</h2>\n<p>The mistakes this project started from, measured on each set's "
       "own kernels. Rows are s&middot;z with z ~ N(0,1), ten classes, a uniform target.</p>"
       "<div class=charts>";
  struct Plot {
    const char *id, *title, *ylabel;
  };
  for (const Plot &p : {Plot{"keras_clip", "softmax → clip(1e-7) → −log (Keras from_logits=False)",
                             "median relative error of the loss"},
                        Plot{"double_softmax_loss", "softmax fed to cross_entropy: loss",
                             "median relative error of the loss"},
                        Plot{"double_softmax_gradient", "softmax fed to cross_entropy: gradient",
                             "median normwise relative error"}}) {
    std::vector<std::string> xs;
    std::vector<Series> series;
    for (const Pipeline &pl : r.pipelines) {
      if (pl.id != p.id) continue;
      Series se{pl.set + " " + dtype_name(pl.dtype), {}};
      if (xs.empty())
        for (const PipelinePoint &pt : pl.points) xs.push_back("s=" + pt.at);
      for (const PipelinePoint &pt : pl.points) se.y.push_back(pt.median);
      series.push_back(std::move(se));
    }
    if (!series.empty()) s += line_chart(p.title, p.ylabel, xs, series, 1e-18);
  }
  s += "</div>\n<p>log_softmax + nll_loss against cross_entropy on the same logits (max over "
       "rows, ulps of the correctly rounded loss):</p><table><tr><th class=l>set</th>"
       "<th>dtype</th><th class=l>regime</th><th>nll_loss(log_softmax)</th><th>cross_entropy"
       "</th><th>gap between them</th></tr>\n";
  for (const Pipeline &pl : r.pipelines) {
    if (pl.id != "pipeline_gap") continue;
    const Pipeline *a = v.pipeline("nll_of_log_softmax", pl.set, pl.dtype);
    const Pipeline *b = v.pipeline("cross_entropy", pl.set, pl.dtype);
    for (size_t i = 0; i < pl.points.size(); ++i)
      s += fmt::format("<tr><td class=l>{}</td><td>{}</td><td class=l>{}</td><td>{}</td>"
                       "<td>{}</td><td>{}</td></tr>\n",
                       esc(pl.set), dtype_name(pl.dtype), esc(pl.points[i].at),
                       a && i < a->points.size() ? ulp_text(a->points[i].max) : "-",
                       b && i < b->points.size() ? ulp_text(b->points[i].max) : "-",
                       ulp_text(pl.points[i].max));
  }
  s += "</table>\n";

  // Error against x - max.
  s += "<h2>Error against x &minus; max</h2>\n<p>Max ulp error of each output against its "
       "logit's distance below the row's max (regimes with finite rows; a hollow point is an "
       "infinite error).</p><div class=charts>";
  for (softcheck_op op : {SOFTCHECK_OP_SOFTMAX, SOFTCHECK_OP_LOG_SOFTMAX})
    for (softcheck_dtype d : kDtypes) {
      std::vector<Series> series;
      for (const GapCurve &g : r.gaps) {
        if (g.op != op || g.dtype != d) continue;
        Series se{g.set, {}};
        for (int b = 0; b < kGapBins; ++b)
          se.y.push_back(g.count[size_t(b)] ? g.max_ulp[size_t(b)] : NAN);
        series.push_back(std::move(se));
      }
      if (series.empty()) continue;
      std::vector<std::string> xs;
      for (int b = 0; b < kGapBins; ++b) xs.push_back(gap_label(b));
      s += line_chart(fmt::format("{} {}", softcheck_op_name(op), dtype_name(d)), "max ulp error",
                      xs, series, 1e-3);
    }
  s += "</div>\n";

  // Histograms.
  s += "<h2>Per op and regime</h2>\n<p>Per op, dtype and regime: the error statistics and the "
       "signed ulp error histogram (bar height log10(1 + count)); colors:";
  for (size_t k = 0; k < v.sets.size(); ++k)
    s += fmt::format(" <span style=\"color:{}\">&#9632; {}</span>", color(k), esc(v.sets[k]));
  s += ".</p>\n";
  for (int op = 0; op < SOFTCHECK_OP_COUNT; ++op)
    for (softcheck_dtype d : kDtypes) {
      std::string charts;
      for (int g = 0; g < gen::kRegimes; ++g) {
        std::vector<const Entry *> entries;
        std::vector<std::string> names;
        for (const std::string &set : v.sets)
          for (const Entry &e : r.results)
            if (e.set == set && e.op == softcheck_op(op) && e.dtype == d &&
                e.regime == gen::regime_id(gen::Regime(g))) {
              entries.push_back(&e);
              names.push_back(set);
            }
        if (!entries.empty())
          charts += histogram_chart(gen::regime_name(gen::Regime(g)), entries, names);
      }
      if (charts.empty()) continue;
      std::string table =
          "<table><tr><th class=l>regime</th><th class=l>set</th><th>cases</th><th>outputs</th>"
          "<th>max ulp</th><th>median ulp</th><th>p99 ulp</th><th>normwise (u)</th><th>scaled "
          "(u)</th><th>mismatches</th><th>declined</th></tr>\n";
      for (const Entry &e : r.results) {
        if (e.op != softcheck_op(op) || e.dtype != d) continue;
        gen::Regime g;
        const std::string regime =
            gen::regime_from_id(e.regime, g) ? gen::regime_name(g) : e.regime;
        const int64_t m = mismatches(e.counts);
        table += fmt::format("<tr><td class=l>{}</td><td class=l>{}</td><td>{}</td><td>{}</td>"
                             "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td "
                             "class=\"{}\">{}</td><td>{}</td></tr>\n",
                             esc(regime), esc(e.set), e.cases, e.outputs, ulp_text(e.max_ulp),
                             ulp_text(e.median_ulp), ulp_text(e.p99_ulp), ulp_text(e.normwise_u),
                             std::isnan(e.scaled_max_u) ? "-" : ulp_text(e.scaled_max_u),
                             m ? "bad" : "ok", m, e.counts.declined);
      }
      s += fmt::format("<details><summary>{} {}</summary>{}</table><div class=charts>{}</div>"
                       "</details>\n",
                       softcheck_op_name(softcheck_op(op)), dtype_name(d), table, charts);
    }

  // Special values.
  s += "<h2>Special values</h2>\n<p>What each set gives, against the ABI's semantics (the "
       "oracle). Agreement means the same status and the same special values (NaN, &plusmn;inf, "
       "no flushed subnormals); the accuracy of the numbers is the tables' job.</p>\n";
  for (const std::string &set : v.sets) {
    s += fmt::format("<details open><summary>{}</summary><table><tr><th class=l>dtype</th>"
                     "<th class=l>input</th><th class=l>op</th><th class=l>got</th><th "
                     "class=l>expected</th></tr>\n",
                     esc(set));
    for (const SpecialValue &sv : r.special)
      if (sv.set == set)
        s += fmt::format("<tr class=\"{}\"><td class=l>{}</td><td class=l>{}</td><td "
                         "class=l>{}</td><td class=l>{}</td><td class=l>{}</td></tr>\n",
                         sv.agrees ? "ok" : "bad", dtype_name(sv.dtype), esc(sv.input),
                         softcheck_op_name(sv.op), esc(sv.got), esc(sv.want));
    s += "</table></details>\n";
  }

  // Worst inputs.
  s += "<h2>Worst inputs</h2>\n<p>Run the commands in the report's folder.</p><table><tr>"
       "<th class=l>set</th><th class=l>op</th><th>dtype</th><th class=l>regime</th><th>error"
       "</th><th class=l>got</th><th class=l>correctly rounded</th><th class=l>reproduce</th>"
       "</tr>\n";
  for (const std::string &set : v.sets)
    for (const auto &[e, w] : v.worst_of(set, 10))
      s += fmt::format("<tr><td class=l>{}</td><td class=l>{}</td><td>{}</td><td class=l>{}</td>"
                       "<td>{}</td><td class=l><code>{}</code></td><td class=l><code>{}</code>"
                       "</td><td class=l><code>{}</code></td></tr>\n",
                       esc(set), softcheck_op_name(e->op), dtype_name(e->dtype), esc(e->regime),
                       esc(error_text(*w)), esc(w->got), esc(w->want), esc(w->reproduce));
  s += "</table>\n";

  if (timing) {
    s += "<h2>Throughput</h2>\n<p>Millions of input elements per second inside the kernel "
         "(timing.json; not compared, the machine is shared).</p><table><tr><th class=l>op</th>"
         "<th>dtype</th>";
    for (const std::string &set : v.sets) s += "<th>" + esc(set) + "</th>";
    s += "</tr>\n";
    for (const OpRow &row : v.op_rows()) {
      s += fmt::format("<tr><td class=l>{}</td><td>{}</td>", softcheck_op_name(row.op),
                       dtype_name(row.dtype));
      for (const std::string &set : v.sets) {
        const double rate = v.rate(set, row.op, row.dtype);
        s += rate > 0 ? fmt::format("<td>{:.1f}</td>", rate / 1e6) : "<td>-</td>";
      }
      s += "</tr>\n";
    }
    s += "</table>\n";
  }
  return s + "</body></html>\n";
}

} // namespace softcheck::report
