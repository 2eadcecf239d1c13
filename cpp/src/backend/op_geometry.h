// Geometry and operation codes of the ff.ops kernels (backend.h, "ff.ops" section): NumPy-style
// broadcasting elementwise ops over up to three operands, axis reductions and strided copies
// (transpose), as plain structs of at most kMaxOpRank axes that the op layers (layers/ops/)
// resolve on the host and pass to the kernels by value (a captured CUDA graph keeps them). The
// per-element rules that both backends run are in backend/op_rules.h.
#pragma once
#include <cstdint>

#include "core/host_device.h"

namespace ff {

// Axes of an op's output after merging neighbours that every operand walks the same way
// (layers/ops/broadcast.h coalesces them); NumPy allows 32, Keras models use far fewer.
constexpr int kMaxOpRank = 8;

// y = f(x) elementwise. p0, p1 are the op's parameters (Clip: lo, hi).
enum class UnaryKind : int32_t {
  Negative,
  Exp,
  Log,
  Sqrt,
  Square,
  Abs,
  Sign,
  Trunc,  // toward zero (a cast to an integer type; no gradient)
  NotZero,  // 1 where x != 0 (a cast to bool; NaN counts as nonzero, as NumPy; no gradient)
  Clip,     // min(max(x, p0), p1), NaN kept
  Identity,  // a copy (stop_gradient's forward; its gradient is not this rule's)
};

// y = f(a, b) elementwise with broadcasting. Comparisons give 1.0f or 0.0f (no gradient).
enum class BinaryKind : int32_t {
  Add,
  Subtract,
  Multiply,
  Divide,
  Power,
  Maximum,
  Minimum,
  Equal,
  NotEqual,
  Less,
  LessEqual,
  Greater,
  GreaterEqual,
};

// Reductions over a set of axes. Mean divides by the reduced count; Max/Min/ArgMax/ArgMin give
// NaN (or the first NaN's index) when the reduced values hold one, as NumPy; LogSumExp is
// max + log(sum(exp(x - max))) (+-Inf when the max is infinite); ArgMax/ArgMin give the first
// extreme's flat index within the reduced axes, as a float. An empty reduction gives 0 (Sum),
// NaN (Mean), -Inf/+Inf (Max/Min), -Inf (LogSumExp), 0 (ArgMax/ArgMin).
enum class ReduceKind : int32_t { Sum, Mean, Max, Min, ArgMax, ArgMin, LogSumExp };

// An output of `numel()` elements, row-major over dims[0..rank), and for each operand k the
// stride (in that operand's elements) of every output axis: 0 where operand k is broadcast along
// it. Unused operands have all-zero strides. rank 0 is a single element.
struct BroadcastGeometry {
  int32_t rank = 0;
  int64_t dims[kMaxOpRank] = {};
  int64_t strides[3][kMaxOpRank] = {};
  FF_HD int64_t numel() const {
    int64_t n = 1;
    for (int32_t d = 0; d < rank; ++d) n *= dims[d];
    return n;
  }
};

// A reduction of x: the output is contiguous over the kept axes (kept_dims, rank kept_rank,
// each read from x with kept_strides); each output element combines the red_numel() values at
// its base offset plus the reduced axes (red_dims, red_strides), walked row-major: that order is
// the result's (sums add in it, ArgMax's "first" counts in it).
struct ReduceGeometry {
  int32_t kept_rank = 0, red_rank = 0;
  int64_t kept_dims[kMaxOpRank] = {}, kept_strides[kMaxOpRank] = {};
  int64_t red_dims[kMaxOpRank] = {}, red_strides[kMaxOpRank] = {};
  FF_HD int64_t out_numel() const {
    int64_t n = 1;
    for (int32_t d = 0; d < kept_rank; ++d) n *= kept_dims[d];
    return n;
  }
  FF_HD int64_t red_numel() const {
    int64_t n = 1;
    for (int32_t d = 0; d < red_rank; ++d) n *= red_dims[d];
    return n;
  }
};

}  // namespace ff
