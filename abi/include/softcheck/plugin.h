/*
 * softcheck plugin ABI, version 1.
 *
 * The one door every kernel comes through. A shared library that wants its
 * kernels verified exports one C function,
 *
 *     const softcheck_plugin *softcheck_plugin_v1(void);
 *
 * which returns a static description of the kernel sets it provides. Each
 * kernel set is a table of function pointers, one table per dtype. A NULL
 * entry means "not provided" and is reported as skipped, never as passed.
 * Plain C99: no C++ types, no exceptions cross this boundary; every kernel
 * returns a softcheck_status.
 *
 * ---------------------------------------------------------------------------
 * Layout
 *
 * Every tensor is contiguous with shape [outer, classes, inner]; ops reduce
 * over `classes`. Element (o, c, i) is at offset (o * classes + c) * inner + i.
 * inner = 1 is the usual last-dimension case; inner > 1 is a reduction over a
 * middle dimension (PyTorch's `dim`), or N-d cross-entropy with spatial dims.
 * A "row" is the `classes` elements that share (o, i); there are
 * outer * inner rows. Per-row outputs (logsumexp, unreduced losses, targets)
 * have shape [outer, inner], element (o, i) at offset o * inner + i.
 *
 * Data pointers are float * in the `f32` table and double * in the `f64`
 * table; loss weights have the table's dtype too. Targets are int64_t.
 *
 * The `bf16` and `f16` tables take the two 16-bit formats, each element a
 * uint16_t bit pattern: bfloat16 (sign, 8 exponent bits, 7 stored
 * significand bits: float32's range, precision 8) and IEEE 754 binary16
 * (sign, 5 exponent bits, 10 stored: largest finite 65504, smallest normal
 * 2^-14, subnormals down to 2^-24). Every floating-point array of a call
 * is in the table's format: inputs, outputs, weights, probability targets
 * and dout; label_smoothing stays a double. This is the form PyTorch's ops
 * take and give (F.cross_entropy on float16 logits returns a float16 loss
 * and wants float16 weights) and oneDNN's bf16 softmax; a library that
 * computes in float32 rounds each output once to the format. A kernel
 * whose outputs stay float32 for half inputs (a loss kept in float32) is
 * not a form of this version: putting it in the half table would judge
 * its float32 answers as half ones, and in the f32 table it would be
 * judged on inputs that are not half. Outputs are judged against the
 * exact result with the half contract below.
 * An output may alias an input of the same shape exactly (in-place); partial
 * overlap is undefined.
 *
 * ---------------------------------------------------------------------------
 * Semantics (softcheck's definitions; the built-in kernels are held to them,
 * and the suite reports any other kernel's departures as findings)
 *
 * softmax(x)_c      = exp(x_c - lse(x))
 * log_softmax(x)_c  = x_c - lse(x)
 * logsumexp(x)      = lse(x) = log(sum_c exp(x_c))
 *
 *   A row with a NaN           : softmax, log_softmax and logsumexp are NaN
 *                                for the whole row, and only for that row.
 *   A row with +inf (no NaN)   : logsumexp = +inf; softmax and log_softmax
 *                                are NaN for the whole row (inf - inf).
 *   A row that is all -inf     : ("fully masked") logsumexp = -inf,
 *                                softmax = 0, log_softmax = -inf everywhere.
 *                                -inf entries of any other row give exactly 0
 *                                and -inf.
 *   classes = 1                : softmax = 1, log_softmax = 0 (exactly), and
 *                                logsumexp = x, for finite x.
 *   One finite entry, the rest -inf: logsumexp = that entry exactly, so
 *                                logsumexp([-0]) = -0 (any other row's lse
 *                                is rounded as usual: [-0, -200] gives +0).
 *   A zero softmax output is +0, never -0. The sign of other zero outputs
 *   (log_softmax at the max, a cancelled logsumexp) is not judged: -0 and
 *   +0 compare equal, and libraries compute (x - max) - log(sum) = +0.
 *   classes = 0                : softmax/log_softmax write nothing;
 *                                logsumexp = -inf (the log of an empty sum).
 *   outer = 0 or inner = 0     : nothing to compute; status OK.
 *
 * softmax_backward(y, dy)      dx_c = y_c * (dy_c - sum_k dy_k y_k)
 *   y is the softmax output; dx is the gradient w.r.t. the logits.
 * log_softmax_backward(y, dy)  dx_c = dy_c - exp(y_c) * sum_k dy_k
 *   y is the log_softmax output. A row with an infinite dy is undefined
 *   (NaN): exp(y_c) may be a nonzero too small for any format, and an
 *   infinity times it has no answer a kernel can round. A row whose
 *   sum_k dy_k is exactly 0 gives dx_c = dy_c for finite or -inf y_c, even
 *   where exp(y_c) overflows (it is a finite real times 0), and NaN for a
 *   NaN or +inf y_c (IEEE: NaN * 0 and inf * 0 are NaN).
 *
 * Losses (class-index targets t[o, i], PyTorch's definitions, with
 * softcheck's fix for label smoothing with ignored targets):
 *   K = classes, eps = label_smoothing, w = weight (all ones when NULL).
 *   For a row r with t_r != ignore_index:
 *     l_r = (1 - eps) * (-w[t_r] * logp[r, t_r])
 *           + (eps / K) * sum_k (-w[k] * logp[r, k])
 *   and for an ignored row l_r = 0: an ignored row contributes nothing to
 *   the loss, the smoothing term, the gradient or the mean's denominator.
 *   reduction none: out[o, i] = l_r.
 *   reduction sum : out[0] = sum_r l_r  (0 for no rows).
 *   reduction mean: out[0] = sum_r l_r / sum_{r not ignored} w[t_r].
 *                   All targets ignored (or no rows): 0 / 0 = NaN, as in
 *                   PyTorch. A zero or negative weight sum is divided by as
 *                   written (IEEE division).
 *   nll_loss takes logp = log-probabilities (typically log_softmax output);
 *   cross_entropy takes logits and uses logp = log_softmax(logits), so
 *   cross_entropy(x) == nll_loss(log_softmax(x)) for every option.
 *   Targets must be in [0, K) or equal ignore_index.
 *   Weights must be finite; negative weights are used as written.
 *   A term whose coefficient is zero by construction is omitted, not
 *   evaluated: the target term when eps = 1 or w[t_r] = 0, the smoothing
 *   term of class k when eps = 0 or w[k] = 0 (and, for probability
 *   targets, the term of class k when w[k] = 0, or target = 0 and eps = 0).
 *   So a zero-weight class does not count even where its log-probability
 *   is -inf or NaN, and eps = 0 or 1 never turns an infinite term into
 *   0 * inf = NaN.
 *
 * Probability targets (cross_entropy_prob): target has the logits' shape;
 *   p'_{r,k} = (1 - eps) * target_{r,k} + eps / K
 *   l_r = -sum_k w[k] * p'_{r,k} * logp[r, k]
 *   Targets that are negative or do not sum to 1 are used as written (no
 *   normalisation, no error); a NaN target gives a NaN loss for its row,
 *   and so does an infinite one (with a coefficient): logp_k may be a
 *   nonzero too small for any format, and an infinity times it has no
 *   answer a kernel can round.
 *   reduction mean divides by the number of rows outer * inner (PyTorch).
 *   ignore_index does not apply.
 *
 * Loss backward ops take `dout`, the gradient of the loss output: shape
 * [outer, inner] for reduction none, a single element otherwise.
 *   nll_loss_backward            : dlogp[r, k] = -g_r * a_{r,k}
 *   cross_entropy_backward       : dx[r, k] = g_r * (s_r * softmax(x_r)_k - a_{r,k})
 *   cross_entropy_prob_backward  : same, with a_{r,k} = w[k] * p'_{r,k}
 *   where a_{r,k} = (1 - eps) w[t_r] [k == t_r] + (eps / K) w[k] for
 *   class-index targets (0 for an ignored row), s_r = sum_k a_{r,k}, and
 *   g_r = dout[r] (none), dout[0] (sum) or dout[0] / denominator (mean).
 *   A zero coefficient a_{r,k} (and a row with all a_{r,k} = 0) gives
 *   exactly 0, as in the forward pass; an ignored row's gradient is 0.
 *   An infinite g_r or coefficient in the logits' gradient
 *   (cross_entropy_backward, cross_entropy_prob_backward): an infinite
 *   dout, a mean whose denominator is 0 (every counted weight 0,
 *   g_r = dout / 0), or an infinite probability target. Then s_r p_k - a_k
 *   may be a nonzero too small for any format, and an infinity times it
 *   has no answer a kernel can round, so the row's gradient is undefined:
 *   NaN in every row with a coefficient (0 in ignored rows, as always).
 *
 * Accuracy contracts (softcheck_contract), against the exact result:
 *   max_ulp       bounds every output element in ulps, against the
 *                 correctly rounded result (for losses: the per-row values
 *                 of reduction none, when no weight or target is negative).
 *   max_scaled_u  bounds ops whose outputs are sums of signed terms, which
 *                 may cancel: |got - exact| <= max_scaled_u * u * M + 1 ulp
 *                 elementwise, u the dtype's unit roundoff and M the
 *                 element's magnitude scale, the size of the terms it is
 *                 made of:
 *                   softmax_backward      M_c = |y_c| (|dy_c| + sum_k |dy_k y_k|)
 *                   log_softmax_backward  M_c = |dy_c| + exp(y_c) sum_k |dy_k|
 *                   loss backward ops     M_k = |g_r| (s_r p_k + |a_{r,k}|)
 *                   per-row losses        M_r = sum_k |a_{r,k} logp_{r,k}|
 *                   mean / sum            M = sum_r M_r (/ |denominator|)
 *                 This is the normwise-in-the-terms bound of error analysis;
 *                 it stays meaningful where the result itself cancels to
 *                 nearly 0, where a relative bound cannot hold.
 *
 * Declined cases (SOFTCHECK_ERR_UNSUPPORTED): a kernel whose library lacks
 *   a layout, a size or an option (strided rows, inner > 1; classes = 0;
 *   weights; label smoothing; a reduction) returns SOFTCHECK_ERR_UNSUPPORTED
 *   for a valid case that needs it, and leaves the outputs untouched.
 *   softcheck treats it alike in check, report and fuzz: the case is
 *   counted as declined and shown as such, never as passed and never as a
 *   mismatch (check draws another case; a property whose every case is
 *   declined is skipped). Bad input is not a declined case: it must get
 *   the status below, and SOFTCHECK_ERR_UNSUPPORTED there is a mismatch.
 *
 * Bad input (each is an error status; outputs are left untouched):
 *   negative sizes, outer * classes * inner past INT64_MAX or past what
 *   size_t can address, NULL data pointers with a non-empty shape, a NULL
 *   options pointer, an unknown reduction, label_smoothing outside [0, 1] or
 *   NaN, a non-finite weight, a target outside [0, K) that is not
 *   ignore_index.
 */
#ifndef SOFTCHECK_PLUGIN_H
#define SOFTCHECK_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SOFTCHECK_ABI_VERSION 1u
#define SOFTCHECK_PLUGIN_ENTRY "softcheck_plugin_v1"

#if defined(_WIN32)
#define SOFTCHECK_EXPORT __declspec(dllexport)
#else
#define SOFTCHECK_EXPORT __attribute__((visibility("default")))
#endif

typedef enum softcheck_status {
  SOFTCHECK_OK = 0,
  SOFTCHECK_ERR_NEGATIVE_SIZE = 1, /* outer, classes or inner < 0 */
  SOFTCHECK_ERR_SIZE_OVERFLOW = 2, /* element count past int64 / size_t */
  SOFTCHECK_ERR_NULL_POINTER = 3,  /* NULL data with a non-empty shape */
  SOFTCHECK_ERR_BAD_REDUCTION = 4, /* reduction not none/mean/sum */
  SOFTCHECK_ERR_BAD_SMOOTHING = 5, /* label_smoothing NaN or outside [0,1] */
  SOFTCHECK_ERR_BAD_WEIGHT = 6,    /* a weight is NaN or infinite */
  SOFTCHECK_ERR_TARGET_RANGE = 7,  /* target outside [0, K), not ignored */
  SOFTCHECK_ERR_UNSUPPORTED = 8,   /* a valid case the kernel declines (see above) */
  SOFTCHECK_ERR_INTERNAL = 9,      /* anything else (allocation, ...) */
  /* Never returned by a kernel: softcheck's isolation reports with it that
   * the kernel crashed, hung, exited or stopped, read or wrote past an
   * array, changed an input, left an output unwritten, or left a thread or
   * a process running after it returned (the fault log says which). */
  SOFTCHECK_HOST_FAULT = 100
} softcheck_status;

typedef enum softcheck_reduction {
  SOFTCHECK_REDUCTION_NONE = 0,
  SOFTCHECK_REDUCTION_MEAN = 1,
  SOFTCHECK_REDUCTION_SUM = 2
} softcheck_reduction;

typedef enum softcheck_dtype {
  SOFTCHECK_F32 = 0,
  SOFTCHECK_F64 = 1,
  SOFTCHECK_BF16 = 2, /* bfloat16, as uint16_t bit patterns */
  SOFTCHECK_F16 = 3   /* IEEE binary16, as uint16_t bit patterns */
} softcheck_dtype;
#define SOFTCHECK_DTYPE_COUNT 4

/* Index of each op; the order of the function pointers in softcheck_ops. */
typedef enum softcheck_op {
  SOFTCHECK_OP_SOFTMAX = 0,
  SOFTCHECK_OP_LOG_SOFTMAX,
  SOFTCHECK_OP_LOGSUMEXP,
  SOFTCHECK_OP_SOFTMAX_BACKWARD,
  SOFTCHECK_OP_LOG_SOFTMAX_BACKWARD,
  SOFTCHECK_OP_NLL_LOSS,
  SOFTCHECK_OP_NLL_LOSS_BACKWARD,
  SOFTCHECK_OP_CROSS_ENTROPY,
  SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD,
  SOFTCHECK_OP_CROSS_ENTROPY_PROB,
  SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD,
  SOFTCHECK_OP_COUNT
} softcheck_op;

typedef struct softcheck_shape {
  int64_t outer;
  int64_t classes;
  int64_t inner;
} softcheck_shape;

typedef struct softcheck_loss_options {
  int32_t reduction;      /* softcheck_reduction */
  int64_t ignore_index;   /* PyTorch's default is -100 */
  const void *weight;     /* NULL or [classes] of the table's dtype */
  double label_smoothing; /* in [0, 1] */
} softcheck_loss_options;

typedef softcheck_status (*softcheck_unary_fn)(softcheck_shape shape, const void *x, void *y);
typedef softcheck_status (*softcheck_backward_fn)(softcheck_shape shape, const void *y,
                                                  const void *dy, void *dx);
typedef softcheck_status (*softcheck_loss_fn)(softcheck_shape shape, const void *input,
                                              const int64_t *target,
                                              const softcheck_loss_options *options, void *out);
typedef softcheck_status (*softcheck_nll_backward_fn)(softcheck_shape shape, const int64_t *target,
                                                      const softcheck_loss_options *options,
                                                      const void *dout, void *dinput);
typedef softcheck_status (*softcheck_loss_backward_fn)(softcheck_shape shape, const void *logits,
                                                       const int64_t *target,
                                                       const softcheck_loss_options *options,
                                                       const void *dout, void *dlogits);
typedef softcheck_status (*softcheck_prob_loss_fn)(softcheck_shape shape, const void *logits,
                                                   const void *target,
                                                   const softcheck_loss_options *options,
                                                   void *out);
typedef softcheck_status (*softcheck_prob_loss_backward_fn)(softcheck_shape shape,
                                                            const void *logits, const void *target,
                                                            const softcheck_loss_options *options,
                                                            const void *dout, void *dlogits);

/* One dtype's kernels, in softcheck_op order. NULL = not provided. */
typedef struct softcheck_ops {
  softcheck_unary_fn softmax;
  softcheck_unary_fn log_softmax;
  softcheck_unary_fn logsumexp; /* out: [outer, inner] */
  softcheck_backward_fn softmax_backward;
  softcheck_backward_fn log_softmax_backward;
  softcheck_loss_fn nll_loss; /* input: log-probabilities */
  softcheck_nll_backward_fn nll_loss_backward;
  softcheck_loss_fn cross_entropy; /* input: logits */
  softcheck_loss_backward_fn cross_entropy_backward;
  softcheck_prob_loss_fn cross_entropy_prob;
  softcheck_prob_loss_backward_fn cross_entropy_prob_backward;
} softcheck_ops;

/* A declared accuracy bound; a negative field means "not declared", and the
 * suite's default bound (derived by error analysis) applies instead. */
typedef struct softcheck_bound {
  double max_ulp;      /* elementwise, against the correctly rounded result */
  double max_scaled_u; /* scaled by the terms' magnitude, in units of u */
} softcheck_bound;

typedef struct softcheck_contract {
  softcheck_bound f32[SOFTCHECK_OP_COUNT];
  softcheck_bound f64[SOFTCHECK_OP_COUNT];
} softcheck_contract;

/* The contract of the half tables. A half format has so few bits that the
 * correctly rounded result is too coarse a yardstick (a kernel that
 * truncates is within one value of it), so here both bounds are against the
 * exact result, in the format's ulp at that result:
 *   max_ulp       |got - exact| <= max_ulp * ulp(exact) elementwise, with
 *                 ulp(x) = 2^(max(floor(log2 |x|), emin) - m), m the stored
 *                 significand bits (7 or 10) and emin the smallest normal
 *                 exponent (-126 or -14). A correctly rounded kernel has
 *                 0.5; one that computes in float32 and rounds once has
 *                 0.5 plus its float32 error in half ulps (2^(m-22) per
 *                 float32 ulp).
 *   max_scaled_u  as for float32, with u the format's unit roundoff 2^-(m+1)
 *                 and the 1 ulp in the format's ulp at the exact result.
 *   An infinite output for a finite exact result stands for every value at
 *   or past the overflow threshold (the largest finite value plus half its
 *   ulp: 65520 for f16): its error is the exact result's distance to that
 *   threshold on the same side, 0 beyond it.
 * Undeclared (negative) fields get the suite's default: the bound of a
 * kernel that computes in float32 within float32's default bound and
 * rounds once to the format. */
typedef struct softcheck_half_contract {
  softcheck_bound bf16[SOFTCHECK_OP_COUNT];
  softcheck_bound f16[SOFTCHECK_OP_COUNT];
} softcheck_half_contract;

/* Conventions. Where reasonable libraries give different answers for the
 * same special case (both defensible, both documented), a set declares
 * which one it follows, and softcheck judges it by that one: a departure
 * from the declared convention is a defect; the convention itself is listed
 * once, under "conventions of this set", never as a failed property.
 *
 *   SOFTCHECK_CLASS_MASKED_ROW: a row of logits that is all -inf.
 *     softcheck: softmax 0, log_softmax -inf, the row's losses +inf (with a
 *     coefficient) and its gradients as for any row (see above).
 *     nan: softmax, log_softmax, and the row's losses and gradients are
 *     NaN: exp(x - max) with max = -inf, as PyTorch, NumPy and oneDNN do.
 *     logsumexp stays -inf under both (the log of an empty sum).
 *   SOFTCHECK_CLASS_ZERO_COEFFICIENT: a loss term whose coefficient is zero
 *     (a zero weight; eps = 0 or 1; a zero probability target) times a
 *     log-probability that is not finite, or a zero coefficient times an
 *     infinite upstream gradient (reduction mean over a zero weight sum).
 *     softcheck: the term is omitted (0). nan: it is evaluated, 0 * inf =
 *     NaN, for the row (and a reduction over it), as PyTorch does.
 *
 * Under SOFTCHECK_CONVENTION_NAN, NaN is accepted for the outputs of the
 * class (as well as softcheck's answer); any other value is a defect. The
 * other properties leave such cases out for the set. `--convention
 * masked=nan` (or zero_coefficient=nan, or =softcheck) overrides a set's
 * declaration for one run. */
typedef enum softcheck_convention_class {
  SOFTCHECK_CLASS_MASKED_ROW = 0,
  SOFTCHECK_CLASS_ZERO_COEFFICIENT = 1,
  SOFTCHECK_CLASS_COUNT
} softcheck_convention_class;
typedef enum softcheck_convention {
  SOFTCHECK_CONVENTION_SOFTCHECK = 0, /* the semantics above */
  SOFTCHECK_CONVENTION_NAN = 1        /* the formula evaluated in IEEE: NaN */
} softcheck_convention;
#define SOFTCHECK_CONVENTION_SLOTS 8 /* room for classes to come; unused slots are 0 */

typedef struct softcheck_kernel_set {
  uint32_t struct_size;    /* sizeof(softcheck_kernel_set) */
  const char *name;        /* unique within the plugin; [A-Za-z0-9_.-]+ */
  const char *description; /* one line, may be NULL */
  const char *version;     /* may be NULL */
  softcheck_ops f32;
  softcheck_ops f64;
  const softcheck_contract *contract; /* NULL: no declared contract */
  /* NULL, or sets the number of threads the set's kernels may use (>= 1).
   * Hosts call it only while no kernel of the set is running. Kernels
   * themselves must be safe to call from several threads at once, each
   * call on its own buffers (`softcheck report` spreads cases over
   * threads). */
  softcheck_status (*set_num_threads)(int threads);
  /* Bytes past the end of each input array that the set's kernels may read
   * (never write), for libraries that document such over-reads (XNNPACK
   * reads up to 16, XNN_EXTRA_BYTES). 0: none; at most 4096. softcheck
   * makes that many bytes readable after every input and faults any read
   * beyond them ("read past the end of its input x"). This field came
   * after the first version of the struct: a set whose struct_size ends
   * before it (SOFTCHECK_KERNEL_SET_V1_SIZE) declares 0. */
  uint32_t input_padding_bytes;
  /* The convention the set follows for each class of special cases where
   * reasonable libraries differ, indexed by softcheck_convention_class; 0
   * (SOFTCHECK_CONVENTION_SOFTCHECK) everywhere is the semantics above.
   * Also after the first version: a set whose struct_size ends before it
   * declares 0 everywhere. */
  uint8_t conventions[SOFTCHECK_CONVENTION_SLOTS];
  /* The half tables and their contract (NULL: none declared). These came
   * after the second version of the struct: a set whose struct_size ends
   * before them (SOFTCHECK_KERNEL_SET_V2_SIZE) provides no half kernels. */
  softcheck_ops bf16;
  softcheck_ops f16;
  const softcheck_half_contract *half_contract;
} softcheck_kernel_set;

/* The struct_size of a kernel set built against the first version of this
 * header, the smallest a host accepts, and against the second (before the
 * half tables). */
#define SOFTCHECK_KERNEL_SET_V1_SIZE offsetof(softcheck_kernel_set, input_padding_bytes)
#define SOFTCHECK_KERNEL_SET_V2_SIZE offsetof(softcheck_kernel_set, bf16)

typedef struct softcheck_plugin {
  uint32_t abi_version; /* SOFTCHECK_ABI_VERSION */
  uint32_t struct_size; /* sizeof(softcheck_plugin) */
  const char *name;     /* the plugin's name, for messages */
  size_t set_count;
  const softcheck_kernel_set *sets;
} softcheck_plugin;

typedef const softcheck_plugin *(*softcheck_plugin_entry_fn)(void);

/* Human-readable names; never NULL. Inline so a plugin needs no library. */
static inline const char *softcheck_status_name(softcheck_status status) {
  switch (status) {
  case SOFTCHECK_OK: return "ok";
  case SOFTCHECK_ERR_NEGATIVE_SIZE: return "negative size";
  case SOFTCHECK_ERR_SIZE_OVERFLOW: return "size overflow";
  case SOFTCHECK_ERR_NULL_POINTER: return "null pointer";
  case SOFTCHECK_ERR_BAD_REDUCTION: return "unknown reduction";
  case SOFTCHECK_ERR_BAD_SMOOTHING: return "label_smoothing not in [0, 1]";
  case SOFTCHECK_ERR_BAD_WEIGHT: return "non-finite weight";
  case SOFTCHECK_ERR_TARGET_RANGE: return "target out of range";
  case SOFTCHECK_ERR_UNSUPPORTED: return "unsupported";
  case SOFTCHECK_ERR_INTERNAL: return "internal error";
  case SOFTCHECK_HOST_FAULT: return "kernel fault";
  }
  return "unknown status";
}

static inline const char *softcheck_dtype_name(softcheck_dtype dtype) {
  switch (dtype) {
  case SOFTCHECK_F32: return "f32";
  case SOFTCHECK_F64: return "f64";
  case SOFTCHECK_BF16: return "bf16";
  case SOFTCHECK_F16: return "f16";
  }
  return "unknown dtype";
}

static inline const char *softcheck_op_name(softcheck_op op) {
  switch (op) {
  case SOFTCHECK_OP_SOFTMAX: return "softmax";
  case SOFTCHECK_OP_LOG_SOFTMAX: return "log_softmax";
  case SOFTCHECK_OP_LOGSUMEXP: return "logsumexp";
  case SOFTCHECK_OP_SOFTMAX_BACKWARD: return "softmax_backward";
  case SOFTCHECK_OP_LOG_SOFTMAX_BACKWARD: return "log_softmax_backward";
  case SOFTCHECK_OP_NLL_LOSS: return "nll_loss";
  case SOFTCHECK_OP_NLL_LOSS_BACKWARD: return "nll_loss_backward";
  case SOFTCHECK_OP_CROSS_ENTROPY: return "cross_entropy";
  case SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD: return "cross_entropy_backward";
  case SOFTCHECK_OP_CROSS_ENTROPY_PROB: return "cross_entropy_prob";
  case SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD: return "cross_entropy_prob_backward";
  case SOFTCHECK_OP_COUNT: break;
  }
  return "unknown op";
}

#ifdef __cplusplus
}
#endif

#endif /* SOFTCHECK_PLUGIN_H */
