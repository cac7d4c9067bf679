// Bad input through the plugin ABI: every case returns the status that names
// the problem and leaves every output byte untouched.
#include <softcheck/kernels.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace {

// Enough room for every op on the small shapes below.
constexpr size_t kSlots = 64;
constexpr unsigned char kPattern = 0xA5;

// One call of an op through the ABI table, with every buffer under our control.
struct Call {
  softcheck_dtype dtype = SOFTCHECK_F32;
  softcheck_shape shape{2, 3, 1};
  softcheck_loss_options options{SOFTCHECK_REDUCTION_MEAN, -100, nullptr, 0.0};
  bool null_options = false;
  bool null_input = false, null_output = false, null_target = false;
  std::vector<int64_t> target = {0, 2};
  double weight[3] = {1, 1, 1};
  float weight32[3] = {1, 1, 1};

  alignas(16) unsigned char x[kSlots * 8], aux[kSlots * 8], out[kSlots * 8];

  // Inputs hold small finite values whether read as float or double.
  Call() {
    std::memset(out, kPattern, sizeof out);
    for (size_t i = 0; i < 2 * kSlots; ++i) reinterpret_cast<float *>(x)[i] = 0.25f * float(i % 7);
    for (size_t i = 0; i < kSlots; ++i) reinterpret_cast<double *>(aux)[i] = 0.125;
  }

  void use_weights(double w) {
    for (int k = 0; k < 3; ++k) weight[k] = w, weight32[k] = float(w);
    options.weight = dtype == SOFTCHECK_F32 ? static_cast<const void *>(weight32)
                                            : static_cast<const void *>(weight);
  }

  softcheck_status run(softcheck_op op) {
    const softcheck_kernel_set &set = softcheck::builtin_kernel_set();
    const softcheck_ops &ops = dtype == SOFTCHECK_F32 ? set.f32 : set.f64;
    const void *in = null_input ? nullptr : x;
    const void *in2 = null_input ? nullptr : aux;
    void *o = null_output ? nullptr : out;
    const int64_t *t = null_target ? nullptr : target.data();
    const softcheck_loss_options *opt = null_options ? nullptr : &options;
    const softcheck_shape s = shape;
    switch (op) {
    case SOFTCHECK_OP_SOFTMAX: return ops.softmax(s, in, o);
    case SOFTCHECK_OP_LOG_SOFTMAX: return ops.log_softmax(s, in, o);
    case SOFTCHECK_OP_LOGSUMEXP: return ops.logsumexp(s, in, o);
    case SOFTCHECK_OP_SOFTMAX_BACKWARD: return ops.softmax_backward(s, in, in2, o);
    case SOFTCHECK_OP_LOG_SOFTMAX_BACKWARD: return ops.log_softmax_backward(s, in, in2, o);
    case SOFTCHECK_OP_NLL_LOSS: return ops.nll_loss(s, in, t, opt, o);
    case SOFTCHECK_OP_NLL_LOSS_BACKWARD: return ops.nll_loss_backward(s, t, opt, in2, o);
    case SOFTCHECK_OP_CROSS_ENTROPY: return ops.cross_entropy(s, in, t, opt, o);
    case SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD:
      return ops.cross_entropy_backward(s, in, t, opt, in2, o);
    case SOFTCHECK_OP_CROSS_ENTROPY_PROB: return ops.cross_entropy_prob(s, in, in2, opt, o);
    case SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD:
      return ops.cross_entropy_prob_backward(s, in, in2, opt, in2, o);
    case SOFTCHECK_OP_COUNT: break;
    }
    return SOFTCHECK_ERR_INTERNAL;
  }

  bool output_untouched() const {
    for (unsigned char b : out)
      if (b != kPattern) return false;
    return true;
  }
};

bool is_loss(softcheck_op op) { return op >= SOFTCHECK_OP_NLL_LOSS; }
bool has_class_targets(softcheck_op op) {
  return op == SOFTCHECK_OP_NLL_LOSS || op == SOFTCHECK_OP_NLL_LOSS_BACKWARD ||
         op == SOFTCHECK_OP_CROSS_ENTROPY || op == SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD;
}

// Runs `mutate` on a fresh valid call of every op (and dtype) it applies to,
// and expects `status` with the output untouched.
template <class Mutate>
void expect_rejected(const char *what, softcheck_status status, Mutate &&mutate,
                     bool (*applies)(softcheck_op) = nullptr) {
  int checked = 0;
  for (softcheck_dtype d : {SOFTCHECK_F32, SOFTCHECK_F64}) {
    for (int i = 0; i < SOFTCHECK_OP_COUNT; ++i) {
      auto op = softcheck_op(i);
      if (applies && !applies(op)) continue;
      Call call;
      call.dtype = d;
      // The unmodified call is valid: the rejection below is the mutation's doing.
      {
        Call valid;
        valid.dtype = d;
        INFO(what << ": baseline " << softcheck_op_name(op));
        REQUIRE(valid.run(op) == SOFTCHECK_OK);
      }
      mutate(call);
      INFO(what << ": " << softcheck_op_name(op) << (d == SOFTCHECK_F32 ? " f32" : " f64"));
      softcheck_status got = call.run(op);
      CHECK(softcheck_status_name(got) == std::string(softcheck_status_name(status)));
      CHECK(call.output_untouched());
      ++checked;
    }
  }
  CHECK(checked > 0);
}

} // namespace

TEST_CASE("negative sizes", "[bad-input]") {
  expect_rejected("outer < 0", SOFTCHECK_ERR_NEGATIVE_SIZE, [](Call &c) { c.shape.outer = -1; });
  expect_rejected("classes < 0", SOFTCHECK_ERR_NEGATIVE_SIZE,
                  [](Call &c) { c.shape.classes = -3; });
  expect_rejected("inner < 0", SOFTCHECK_ERR_NEGATIVE_SIZE,
                  [](Call &c) { c.shape.inner = INT64_MIN; });
}

TEST_CASE("sizes past int64 or past what size_t addresses", "[bad-input]") {
  expect_rejected("outer*classes*inner > INT64_MAX", SOFTCHECK_ERR_SIZE_OVERFLOW, [](Call &c) {
    c.shape = {int64_t(1) << 31, int64_t(1) << 31, int64_t(1) << 31};
  });
  expect_rejected("bytes > PTRDIFF_MAX", SOFTCHECK_ERR_SIZE_OVERFLOW, [](Call &c) {
    c.shape = {int64_t(1) << 61, 1, 1};
  });
  expect_rejected("outer*inner overflows with classes = 0", SOFTCHECK_ERR_SIZE_OVERFLOW,
                  [](Call &c) {
                    c.shape = {INT64_MAX, 0, 2};
                  });
}

TEST_CASE("null pointers with non-zero sizes", "[bad-input]") {
  expect_rejected("input NULL", SOFTCHECK_ERR_NULL_POINTER, [](Call &c) { c.null_input = true; });
  expect_rejected("output NULL", SOFTCHECK_ERR_NULL_POINTER, [](Call &c) { c.null_output = true; });
  expect_rejected(
      "target NULL", SOFTCHECK_ERR_NULL_POINTER, [](Call &c) { c.null_target = true; },
      has_class_targets);
  expect_rejected(
      "options NULL", SOFTCHECK_ERR_NULL_POINTER, [](Call &c) { c.null_options = true; }, is_loss);
}

TEST_CASE("bad loss options", "[bad-input]") {
  for (int32_t r : {3, -1, 1 << 30})
    expect_rejected(
        "unknown reduction", SOFTCHECK_ERR_BAD_REDUCTION, [r](Call &c) { c.options.reduction = r; },
        is_loss);
  for (double eps : {-0.1, 1.5, std::nan(""), std::numeric_limits<double>::infinity()})
    expect_rejected(
        "label_smoothing", SOFTCHECK_ERR_BAD_SMOOTHING,
        [eps](Call &c) { c.options.label_smoothing = eps; }, is_loss);
  for (double w : {std::nan(""), std::numeric_limits<double>::infinity(), -1e300 * 1e300})
    expect_rejected(
        "non-finite weight", SOFTCHECK_ERR_BAD_WEIGHT, [w](Call &c) { c.use_weights(w); }, is_loss);
}

TEST_CASE("targets out of range", "[bad-input]") {
  for (int64_t t : {int64_t(-1), int64_t(3), INT64_MAX, INT64_MIN})
    expect_rejected(
        "target", SOFTCHECK_ERR_TARGET_RANGE, [t](Call &c) { c.target[1] = t; }, has_class_targets);
  // ignore_index moved away from -100: -100 is now an ordinary bad target.
  expect_rejected(
      "target -100 with ignore_index 5", SOFTCHECK_ERR_TARGET_RANGE,
      [](Call &c) {
        c.options.ignore_index = 5;
        c.target[0] = -100;
      },
      has_class_targets);
}
