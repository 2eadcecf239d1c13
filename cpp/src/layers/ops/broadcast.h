// Shape rules of the op layers (layers/ops/): NumPy broadcasting with forgeflow's one rule on
// top, axis normalisation, and the kernel geometries (backend/op_geometry.h) built from concrete
// shapes, with neighbouring axes merged where every operand walks them the same way.
//
// Broadcasting follows NumPy (shapes aligned on the right, a missing axis or a size of 1
// stretches to the other size), except that the result must have the shape of one of the
// operands: an op where no operand has the result's shape (two operands that would both grow,
// such as (N, 1) with (N,) giving (N, N)) raises ValueError naming both shapes and the fix. The
// batch dimension None (a model's symbolic shapes) is one unknown size: None meets None or 1
// (the 1 stretches), never a known size above 1 (it cannot be known to match: an error).
#pragma once
#include <string>
#include <vector>

#include "backend/op_geometry.h"
#include "core/shape.h"

namespace ff::ops {

// The result shape of an elementwise op over operands of `shapes` (a scalar is {}), or the
// ValueError: `label` names the op ("ff.ops.add").
Shape broadcast_shapes(const std::string& label, const std::vector<Shape>& shapes);

// How to read each operand (concrete shapes, at most 3) at every element of the concrete result
// `out`; axes merged, at most kMaxOpRank left (ValueError otherwise).
BroadcastGeometry broadcast_geometry(const Shape& out, const std::vector<Shape>& shapes);

// A strided read of x (row-major, concrete): out axis d reads x's axis perm[d] (transpose).
BroadcastGeometry permute_geometry(const Shape& x, const std::vector<int>& perm);

// The reduction of x (concrete) over `axes` (distinct, in [0, rank)).
ReduceGeometry reduce_geometry(const Shape& x, const std::vector<int>& axes);

// The sum of a result-shaped gradient back to an operand's shape: the axes `operand` was
// broadcast along (missing, or 1 where `out` is not) are reduced.
ReduceGeometry reduce_to_operand(const Shape& out, const Shape& operand);

// `axis` (negative counts from the end) as an index in [0, rank), or ValueError naming `label`.
int normalize_axis(int64_t axis, int64_t rank, const std::string& label);

// The product of dimensions [from, to) of `s` (those that exist), overflow-checked.
int64_t dims_product(const Shape& s, size_t from, size_t to);

}  // namespace ff::ops
