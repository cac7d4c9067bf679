#include <softcheck/case_io.hpp>
#include <softcheck/host.hpp>
#include <softcheck/read.hpp>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <type_traits>

namespace softcheck {
namespace {

template <class T> std::string hex(T v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", double(v));
  return buf;
}

// A list of values as hex floats (exact), then, when short, the same values
// in decimal (round-trip digits) as a comment for the reader.
template <class V> void put_list(std::ostringstream &s, const char *key, const V &values) {
  if (values.empty()) return;
  using E = std::decay_t<decltype(values[0])>;
  s << key;
  for (const auto &v : values) {
    if constexpr (std::is_integral_v<E>)
      s << ' ' << v;
    else
      s << ' ' << hex(v);
  }
  s << '\n';
  if constexpr (!std::is_integral_v<E>) {
    if (values.size() <= 16) {
      s << "# " << key << " =";
      char buf[48];
      for (const auto &v : values) {
        const int digits = std::numeric_limits<E>::max_digits10;
        std::snprintf(buf, sizeof buf, " %.*g", digits, double(v));
        s << buf;
      }
      s << '\n';
    }
  }
}

const char *reduction_name(Reduction r) {
  switch (r) {
  case Reduction::none: return "none";
  case Reduction::sum: return "sum";
  default: return "mean";
  }
}

// A value of T. A half format's value must be one of the format's (a case
// file holds exact inputs; rounding one silently would test another case).
template <class T> T parse_float(const std::string &w, int line) {
  char *end = nullptr;
  T v;
  if constexpr (std::is_same_v<T, float>) {
    v = std::strtof(w.c_str(), &end);
  } else if constexpr (std::is_same_v<T, double>) {
    v = std::strtod(w.c_str(), &end);
  } else {
    const double d = std::strtod(w.c_str(), &end);
    v = T(d);
    if (end != w.c_str() && *end == '\0' && !std::isnan(d) && double(float(v)) != d)
      throw CaseFormatError("line " + std::to_string(line) + ": '" + w + "' is not a " +
                            softcheck_dtype_name(dtype_of<T>) + " value");
  }
  if (end == w.c_str() || *end != '\0')
    throw CaseFormatError("line " + std::to_string(line) + ": not a number: '" + w + "'");
  return v;
}

int64_t parse_integer(const std::string &w, int line) {
  char *end = nullptr;
  errno = 0;
  long long v = std::strtoll(w.c_str(), &end, 10);
  if (end == w.c_str() || *end != '\0')
    throw CaseFormatError("line " + std::to_string(line) + ": not an integer: '" + w + "'");
  if (errno == ERANGE)
    throw CaseFormatError("line " + std::to_string(line) + ": '" + w +
                          "' is out of range (a 64-bit integer)");
  return v;
}

template <class T>
void fill(Case<T> &c, const std::string &key, std::istringstream &words, int line) {
  std::vector<std::string> ws;
  for (std::string w; words >> w;) ws.push_back(w);
  auto floats = [&] {
    std::vector<T> v;
    for (const auto &w : ws) v.push_back(parse_float<T>(w, line));
    return v;
  };
  auto one = [&]() -> const std::string & {
    if (ws.size() != 1)
      throw CaseFormatError("line " + std::to_string(line) + ": '" + key + "' takes one value");
    return ws[0];
  };
  if (key == "x")
    c.x = floats();
  else if (key == "aux")
    c.aux = floats();
  else if (key == "dout")
    c.dout = floats();
  else if (key == "weight")
    c.weight = floats();
  else if (key == "target") {
    c.target.clear();
    for (const auto &w : ws) c.target.push_back(parse_integer(w, line));
  } else if (key == "shape") {
    if (ws.size() != 3)
      throw CaseFormatError("line " + std::to_string(line) + ": shape takes outer classes inner");
    c.shape = {parse_integer(ws[0], line), parse_integer(ws[1], line), parse_integer(ws[2], line)};
  } else if (key == "reduction") {
    const std::string &r = one();
    if (r == "none")
      c.reduction = Reduction::none;
    else if (r == "mean")
      c.reduction = Reduction::mean;
    else if (r == "sum")
      c.reduction = Reduction::sum;
    else
      throw CaseFormatError("line " + std::to_string(line) + ": unknown reduction '" + r + "'");
  } else if (key == "ignore_index") {
    c.ignore_index = parse_integer(one(), line);
  } else if (key == "label_smoothing") {
    c.label_smoothing = parse_float<double>(one(), line);
  } else {
    throw CaseFormatError("line " + std::to_string(line) + ": unknown key '" + key + "'");
  }
}

// The sizes a case's vectors must have; a file that disagrees is corrupt.
template <class T> void check_sizes(const Case<T> &c) {
  auto fail = [](const std::string &m) { throw CaseFormatError(m); };
  int64_t rows = 0, elems = 0;
  const Shape s = c.shape;
  if (s.outer < 0 || s.classes < 0 || s.inner < 0 ||
      __builtin_mul_overflow(s.outer, s.inner, &rows) ||
      __builtin_mul_overflow(rows, s.classes, &elems) || elems > (int64_t(1) << 26))
    fail("shape out of range (at most 2^26 elements)");
  if (int64_t(c.x.size()) != c.elems())
    fail("x has " + std::to_string(c.x.size()) + " values, the shape needs " +
         std::to_string(c.elems()));
  bool needs_aux =
      c.op == SOFTCHECK_OP_SOFTMAX_BACKWARD || c.op == SOFTCHECK_OP_LOG_SOFTMAX_BACKWARD ||
      c.op == SOFTCHECK_OP_CROSS_ENTROPY_PROB || c.op == SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD;
  if (needs_aux && int64_t(c.aux.size()) != c.elems()) fail("aux must have one value per element");
  bool needs_target = c.op == SOFTCHECK_OP_NLL_LOSS || c.op == SOFTCHECK_OP_NLL_LOSS_BACKWARD ||
                      c.op == SOFTCHECK_OP_CROSS_ENTROPY ||
                      c.op == SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD;
  if (needs_target && int64_t(c.target.size()) != c.rows()) fail("target must have one per row");
  if (c.is_loss() && c.is_backward() &&
      int64_t(c.dout.size()) != (c.reduction == Reduction::none ? c.rows() : 1))
    fail("dout has the wrong number of values for the reduction");
  if (!c.weight.empty() && int64_t(c.weight.size()) != c.shape.classes)
    fail("weight must have one value per class");
}

} // namespace

template <class T> std::string to_text(const Case<T> &c, const std::string &property) {
  std::ostringstream s;
  s << "softcheck-case 1\n";
  if (!property.empty()) s << "property " << property << '\n';
  s << "op " << softcheck_op_name(c.op) << '\n';
  s << "dtype " << softcheck_dtype_name(dtype_of<T>) << '\n';
  s << "shape " << c.shape.outer << ' ' << c.shape.classes << ' ' << c.shape.inner << '\n';
  if (c.is_loss()) {
    s << "reduction " << reduction_name(c.reduction) << '\n';
    s << "ignore_index " << c.ignore_index << '\n';
    s << "label_smoothing " << hex(c.label_smoothing) << '\n';
  }
  const softcheck_op op = c.op;
  const bool aux = op == SOFTCHECK_OP_SOFTMAX_BACKWARD || op == SOFTCHECK_OP_LOG_SOFTMAX_BACKWARD ||
                   op == SOFTCHECK_OP_CROSS_ENTROPY_PROB ||
                   op == SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD;
  const bool target = op == SOFTCHECK_OP_NLL_LOSS || op == SOFTCHECK_OP_NLL_LOSS_BACKWARD ||
                      op == SOFTCHECK_OP_CROSS_ENTROPY || op == SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD;
  put_list(s, "x", c.x);
  if (aux) put_list(s, "aux", c.aux);
  if (target) put_list(s, "target", c.target);
  if (c.is_loss() && c.is_backward()) put_list(s, "dout", c.dout);
  if (c.is_loss()) put_list(s, "weight", c.weight);
  return s.str();
}

template std::string to_text<float>(const Case<float> &, const std::string &);
template std::string to_text<double>(const Case<double> &, const std::string &);
template std::string to_text<bf16>(const Case<bf16> &, const std::string &);
template std::string to_text<f16>(const Case<f16> &, const std::string &);

CaseFile parse_case(const std::string &text) {
  if (text.find('\0') != std::string::npos)
    throw CaseFormatError("a NUL byte: not a softcheck case");
  std::istringstream in(text);
  std::string line;
  CaseFile f;
  bool header = false, have_op = false, have_dtype = false;
  std::vector<std::pair<int, std::string>> body;
  for (int number = 1; std::getline(in, line); ++number) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::istringstream words(line);
    std::string key;
    if (!(words >> key)) continue;
    if (!header) {
      std::string version;
      words >> version;
      if (key != "softcheck-case")
        throw CaseFormatError("line " + std::to_string(number) +
                              ": not a softcheck case (expected 'softcheck-case 1')");
      if (version != "1")
        throw CaseFormatError("case format version '" + version + "' (this softcheck reads 1)");
      header = true;
    } else if (key == "op") {
      std::string name;
      words >> name;
      softcheck_op op;
      if (!op_from_name(name, op))
        throw CaseFormatError("line " + std::to_string(number) + ": unknown op '" + name + "'");
      f.f32.op = f.f64.op = f.bf16.op = f.f16.op = op;
      have_op = true;
    } else if (key == "dtype") {
      std::string d;
      words >> d;
      bool known = false;
      for (int k = 0; k < SOFTCHECK_DTYPE_COUNT && !known; ++k)
        if (d == softcheck_dtype_name(softcheck_dtype(k))) {
          f.dtype = softcheck_dtype(k);
          known = true;
        }
      if (!known)
        throw CaseFormatError("line " + std::to_string(number) +
                              ": dtype must be f32, f64, bf16 or f16");
      have_dtype = true;
    } else if (key == "property") {
      words >> f.property;
    } else {
      body.emplace_back(number, line);
    }
  }
  if (!header) throw CaseFormatError("empty file: not a softcheck case");
  if (!have_op || !have_dtype) throw CaseFormatError("a case needs 'op' and 'dtype' lines");
  for (const auto &[number, l] : body) {
    std::istringstream words(l);
    std::string key;
    words >> key;
    switch (f.dtype) {
    case SOFTCHECK_F64: fill(f.f64, key, words, number); break;
    case SOFTCHECK_BF16: fill(f.bf16, key, words, number); break;
    case SOFTCHECK_F16: fill(f.f16, key, words, number); break;
    default: fill(f.f32, key, words, number); break;
    }
  }
  visit_case(f, [](const auto &c) { check_sizes(c); });
  return f;
}

CaseFile read_case_file(const std::string &path) {
  std::string text;
  try {
    text = read_bounded(path, kMaxInputBytes, false);
  } catch (const ReadError &e) {
    throw CaseFormatError(e.what());
  }
  try {
    return parse_case(text);
  } catch (const CaseFormatError &e) {
    throw CaseFormatError(path + ": " + e.what());
  }
}

} // namespace softcheck
