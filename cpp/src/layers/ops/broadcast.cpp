// Shape rules and kernel geometries of the op layers (see broadcast.h).
#include "layers/ops/broadcast.h"

#include <algorithm>

#include "core/errors.h"

namespace ff::ops {
namespace {

// "x[:, 0]" (take index 0 of the last axis of a rank-`rank` array) or "y[:, None]" (add one).
std::string index_expr(const std::string& name, size_t rank, const std::string& last) {
  std::string s = name + "[";
  for (size_t i = 0; i + 1 < rank; ++i) s += ":, ";
  return s + last + "]";
}

Shape drop_last(const Shape& s) { return Shape(s.begin(), s.end() - 1); }

// The fix for two operands that would both grow.
std::string grow_hint(const Shape& x, const Shape& y) {
  auto one = [](const Shape& a, const Shape& b, const std::string& an, const std::string& bn) {
    // a = (..., 1) and b = a without its last axis: drop a's axis or add b's.
    return "Reshape one of them: " + index_expr(an, a.size(), "0") + " (ff.ops.squeeze(" + an +
           ", axis=-1)) or " + index_expr(bn, b.size() + 1, "None") + " (ff.ops.expand_dims(" +
           bn + ", axis=-1)).";
  };
  if (!x.empty() && x.back() == 1 && drop_last(x) == y) return one(x, y, "x", "y");
  if (!y.empty() && y.back() == 1 && drop_last(y) == x) return one(y, x, "y", "x");
  return "Make the shapes agree explicitly with ff.ops.reshape, expand_dims or squeeze; for an "
         "outer product use ff.ops.matmul on (..., K, 1) and (..., 1, M).";
}

std::string shapes_str(const std::vector<Shape>& shapes) {
  std::string s;
  for (size_t i = 0; i < shapes.size(); ++i) {
    if (i) s += i + 1 == shapes.size() ? " and " : ", ";
    s += shape_str(shapes[i]);
  }
  return s;
}

// Row-major strides of a concrete shape.
Shape strides_of(const Shape& s) {
  Shape st(s.size(), 1);
  for (size_t d = s.size(); d-- > 1;) st[d - 1] = st[d] * s[d];
  return st;
}

[[noreturn]] void too_many_axes(size_t rank) {
  throw ValueError("ff.ops: an op over " + std::to_string(rank) + " axes that cannot be merged; "
                   "at most " + std::to_string(kMaxOpRank) + " are supported");
}

}  // namespace

Shape broadcast_shapes(const std::string& label, const std::vector<Shape>& shapes) {
  size_t rank = 0;
  for (const Shape& s : shapes) rank = std::max(rank, s.size());
  Shape out(rank, 1);
  for (size_t d = 0; d < rank; ++d) {
    for (size_t k = 0; k < shapes.size(); ++k) {
      const Shape& s = shapes[k];
      if (d + s.size() < rank) continue;  // a missing axis stretches
      const int64_t v = s[d + s.size() - rank];
      int64_t& o = out[d];
      if (v == o || v == 1) continue;
      if (o == 1) {
        o = v;
        continue;
      }
      const bool batch = v == kNone || o == kNone;
      throw ValueError(
          label + ": operands of shapes " + shapes_str(shapes) + " cannot be broadcast together: "
          "axis " + std::to_string(d) + " of the result would be " +
          (o == kNone ? std::string("None") : std::to_string(o)) + " for one operand and " +
          (v == kNone ? std::string("None") : std::to_string(v)) + " for another" +
          (batch ? " (None is the batch size, which is not known to match a fixed size)"
                 : " (sizes must be equal, or 1)"));
    }
  }
  if (shapes.size() >= 2 &&
      std::none_of(shapes.begin(), shapes.end(), [&](const Shape& s) { return s == out; })) {
    std::string msg = label + ": broadcasting operands of shapes " + shapes_str(shapes) +
                      " would grow ";
    msg += shapes.size() == 2 ? std::string("both") : std::string("more than one of them");
    msg += " into the shape " + shape_str(out) +
           ". forgeflow refuses this implicit broadcast: it is how a (N, 1) prediction against "
           "(N,) targets silently becomes an (N, N) result. ";
    if (shapes.size() == 2) msg += grow_hint(shapes[0], shapes[1]);
    else msg += "Make one operand the shape of the result explicitly (ff.ops.reshape, "
                "expand_dims or squeeze).";
    throw ValueError(msg);
  }
  return out;
}

BroadcastGeometry broadcast_geometry(const Shape& out, const std::vector<Shape>& shapes) {
  const size_t rank = out.size();
  // Per output axis: its size and each operand's stride (0 where broadcast).
  std::vector<int64_t> dims;
  std::vector<std::vector<int64_t>> strides(3);
  std::vector<Shape> op_strides;
  for (const Shape& s : shapes) op_strides.push_back(strides_of(s));
  for (size_t d = 0; d < rank; ++d) {
    if (out[d] == 1) continue;  // a size-1 axis moves nothing
    dims.push_back(out[d]);
    for (size_t k = 0; k < 3; ++k) {
      int64_t st = 0;
      if (k < shapes.size()) {
        const Shape& s = shapes[k];
        if (d + s.size() >= rank) {
          const size_t a = d + s.size() - rank;
          st = s[a] == 1 ? 0 : op_strides[k][a];
        }
      }
      strides[k].push_back(st);
    }
  }
  // Merge axis i into i - 1 where every operand steps over both as over one axis.
  std::vector<int64_t> mdims;
  std::vector<std::vector<int64_t>> mstrides(3);
  for (size_t i = 0; i < dims.size(); ++i) {
    bool merge = !mdims.empty();
    for (size_t k = 0; k < 3 && merge; ++k)
      merge = mstrides[k].back() == strides[k][i] * dims[i];
    if (merge) {
      mdims.back() *= dims[i];
      for (size_t k = 0; k < 3; ++k) mstrides[k].back() = strides[k][i];
    } else {
      mdims.push_back(dims[i]);
      for (size_t k = 0; k < 3; ++k) mstrides[k].push_back(strides[k][i]);
    }
  }
  if (mdims.size() > static_cast<size_t>(kMaxOpRank)) too_many_axes(mdims.size());
  BroadcastGeometry g;
  g.rank = static_cast<int32_t>(mdims.size());
  for (size_t d = 0; d < mdims.size(); ++d) {
    g.dims[d] = mdims[d];
    for (size_t k = 0; k < 3; ++k) g.strides[k][d] = mstrides[k][d];
  }
  return g;
}

BroadcastGeometry permute_geometry(const Shape& x, const std::vector<int>& perm) {
  const Shape st = strides_of(x);
  std::vector<int64_t> dims, strides;
  for (int p : perm) {
    if (x[p] == 1) continue;
    if (!dims.empty() && strides.back() == st[p] * x[p]) {
      dims.back() *= x[p];
      strides.back() = st[p];
    } else {
      dims.push_back(x[p]);
      strides.push_back(st[p]);
    }
  }
  if (dims.size() > static_cast<size_t>(kMaxOpRank)) too_many_axes(dims.size());
  BroadcastGeometry g;
  g.rank = static_cast<int32_t>(dims.size());
  for (size_t d = 0; d < dims.size(); ++d) {
    g.dims[d] = dims[d];
    g.strides[0][d] = strides[d];
  }
  return g;
}

ReduceGeometry reduce_geometry(const Shape& x, const std::vector<int>& axes) {
  const Shape st = strides_of(x);
  std::vector<int64_t> kd, ks, rd, rs;
  auto push = [](std::vector<int64_t>& dims, std::vector<int64_t>& strides, int64_t d,
                 int64_t s) {
    if (d == 1) return;
    if (!dims.empty() && strides.back() == s * d) {
      dims.back() *= d;
      strides.back() = s;
    } else {
      dims.push_back(d);
      strides.push_back(s);
    }
  };
  for (size_t d = 0; d < x.size(); ++d) {
    const bool reduced = std::find(axes.begin(), axes.end(), static_cast<int>(d)) != axes.end();
    if (reduced) push(rd, rs, x[d], st[d]);
    else push(kd, ks, x[d], st[d]);
  }
  if (kd.size() > static_cast<size_t>(kMaxOpRank)) too_many_axes(kd.size());
  if (rd.size() > static_cast<size_t>(kMaxOpRank)) too_many_axes(rd.size());
  ReduceGeometry g;
  g.kept_rank = static_cast<int32_t>(kd.size());
  g.red_rank = static_cast<int32_t>(rd.size());
  for (size_t d = 0; d < kd.size(); ++d) {
    g.kept_dims[d] = kd[d];
    g.kept_strides[d] = ks[d];
  }
  for (size_t d = 0; d < rd.size(); ++d) {
    g.red_dims[d] = rd[d];
    g.red_strides[d] = rs[d];
  }
  return g;
}

ReduceGeometry reduce_to_operand(const Shape& out, const Shape& operand) {
  std::vector<int> axes;
  const size_t rank = out.size();
  for (size_t d = 0; d < rank; ++d) {
    const bool missing = d + operand.size() < rank;
    if (missing || (operand[d + operand.size() - rank] == 1 && out[d] != 1))
      axes.push_back(static_cast<int>(d));
  }
  return reduce_geometry(out, axes);
}

int normalize_axis(int64_t axis, int64_t rank, const std::string& label) {
  const int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    throw ValueError(label + ": axis " + std::to_string(axis) + " is out of range for a tensor "
                     "of rank " + std::to_string(rank) + " (valid: " + std::to_string(-rank) +
                     " to " + std::to_string(rank - 1) + ")");
  return static_cast<int>(a);
}

int64_t dims_product(const Shape& s, size_t from, size_t to) {
  int64_t n = 1;
  for (size_t d = from; d < to && d < s.size(); ++d) n = size_mul(n, s[d], "a shape's size");
  return n;
}

}  // namespace ff::ops
