// The per-element and per-output rules of the ff.ops kernels (backend.h, "ff.ops" section) as
// FF_HD functions that the CPU backend's loops (cpu/ops.cpp) and the CUDA kernels
// (cuda/cuda_ops.cu) both run, so the two compute from one source: the same expressions in the
// same order, and reductions that walk each output's values in the same fixed order (one output
// per thread on the GPU: deterministic, no atomics). NaN in gives NaN out (no fmaxf/fminf;
// comparisons written so that NaN takes the propagating branch). Gradients follow TensorFlow's
// choices where the derivative is undefined (noted per rule).
#pragma once
#include <cmath>
#include <cstdint>

#include "backend/op_geometry.h"
#include "core/host_device.h"

namespace ff {

// ---- index arithmetic ----
// The offset in operand k of output element i.
FF_HD inline int64_t broadcast_offset(const BroadcastGeometry& g, int k, int64_t i) {
  int64_t off = 0;
  for (int32_t d = g.rank - 1; d >= 0; --d) {
    const int64_t q = i / g.dims[d];
    off += (i - q * g.dims[d]) * g.strides[k][d];
    i = q;
  }
  return off;
}
// The offset in x of output element j's first value, and of reduced position r from it.
FF_HD inline int64_t reduce_base(const ReduceGeometry& g, int64_t j) {
  int64_t off = 0;
  for (int32_t d = g.kept_rank - 1; d >= 0; --d) {
    const int64_t q = j / g.kept_dims[d];
    off += (j - q * g.kept_dims[d]) * g.kept_strides[d];
    j = q;
  }
  return off;
}
FF_HD inline int64_t reduce_step(const ReduceGeometry& g, int64_t r) {
  int64_t off = 0;
  for (int32_t d = g.red_rank - 1; d >= 0; --d) {
    const int64_t q = r / g.red_dims[d];
    off += (r - q * g.red_dims[d]) * g.red_strides[d];
    r = q;
  }
  return off;
}

// ---- unary ----
FF_HD inline float unary_rule(UnaryKind op, float p0, float p1, float x) {
  switch (op) {
    case UnaryKind::Negative: return -x;
    case UnaryKind::Exp: return std::exp(x);
    case UnaryKind::Log: return std::log(x);
    case UnaryKind::Sqrt: return std::sqrt(x);
    case UnaryKind::Square: return x * x;
    case UnaryKind::Abs: return std::fabs(x);
    case UnaryKind::Sign: return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : x);  // 0 and NaN kept
    case UnaryKind::Trunc: return std::trunc(x);
    case UnaryKind::NotZero: return x != 0.0f ? 1.0f : 0.0f;
    case UnaryKind::Clip: {  // NumPy's min(max(x, lo), hi): hi wins when lo > hi
      const float m = x < p0 ? p0 : x;
      return m > p1 ? p1 : m;
    }
    case UnaryKind::Identity: return x;
  }
  return x;
}

// dx = dy * f'(x), from x or y = f(x). Sqrt at 0 gives Inf (TensorFlow's); Abs at 0 gives 0;
// Clip passes dy where the value was kept; Sign, Trunc and NotZero have none.
FF_HD inline float unary_grad_rule(UnaryKind op, float p0, float p1, float x, float y, float dy) {
  switch (op) {
    case UnaryKind::Negative: return -dy;
    case UnaryKind::Exp: return dy * y;
    case UnaryKind::Log: return dy / x;
    case UnaryKind::Sqrt: return dy * 0.5f / y;
    case UnaryKind::Square: return dy * 2.0f * x;
    case UnaryKind::Abs: return x > 0.0f ? dy : (x < 0.0f ? -dy : 0.0f);
    case UnaryKind::Sign:
    case UnaryKind::Trunc:
    case UnaryKind::NotZero: return 0.0f;
    case UnaryKind::Clip: {
      const float m = x < p0 ? p0 : x;
      return (x < p0 || m > p1) ? 0.0f : dy;
    }
    case UnaryKind::Identity: return dy;
  }
  return dy;
}

// ---- binary ----
FF_HD inline float binary_rule(BinaryKind op, float a, float b) {
  switch (op) {
    case BinaryKind::Add: return a + b;
    case BinaryKind::Subtract: return a - b;
    case BinaryKind::Multiply: return a * b;
    case BinaryKind::Divide: return a / b;
    case BinaryKind::Power: return std::pow(a, b);
    case BinaryKind::Maximum: return a != a ? a : (b != b ? b : (a < b ? b : a));
    case BinaryKind::Minimum: return a != a ? a : (b != b ? b : (b < a ? b : a));
    case BinaryKind::Equal: return a == b ? 1.0f : 0.0f;
    case BinaryKind::NotEqual: return a != b ? 1.0f : 0.0f;
    case BinaryKind::Less: return a < b ? 1.0f : 0.0f;
    case BinaryKind::LessEqual: return a <= b ? 1.0f : 0.0f;
    case BinaryKind::Greater: return a > b ? 1.0f : 0.0f;
    case BinaryKind::GreaterEqual: return a >= b ? 1.0f : 0.0f;
  }
  return a;
}

FF_HD inline bool binary_is_comparison(BinaryKind op) {
  return op == BinaryKind::Equal || op == BinaryKind::NotEqual || op == BinaryKind::Less ||
         op == BinaryKind::LessEqual || op == BinaryKind::Greater ||
         op == BinaryKind::GreaterEqual;
}

// d(a op b)/da * dy and d(a op b)/db * dy. Power: d/da is 0 where b == 0, d/db is 0 where
// a <= 0 (TensorFlow's choices); Maximum/Minimum give a tie to a (TensorFlow's); comparisons
// have none.
FF_HD inline float binary_grad_a(BinaryKind op, float a, float b, float dy) {
  switch (op) {
    case BinaryKind::Add:
    case BinaryKind::Subtract: return dy;
    case BinaryKind::Multiply: return dy * b;
    case BinaryKind::Divide: return dy / b;
    case BinaryKind::Power: return b == 0.0f ? 0.0f : dy * b * std::pow(a, b - 1.0f);
    case BinaryKind::Maximum: return a < b ? 0.0f : dy;
    case BinaryKind::Minimum: return b < a ? 0.0f : dy;
    default: return 0.0f;
  }
}
FF_HD inline float binary_grad_b(BinaryKind op, float a, float b, float dy) {
  switch (op) {
    case BinaryKind::Add: return dy;
    case BinaryKind::Subtract: return -dy;
    case BinaryKind::Multiply: return dy * a;
    case BinaryKind::Divide: return -dy * a / (b * b);
    case BinaryKind::Power: return a > 0.0f ? dy * std::pow(a, b) * std::log(a) : 0.0f;
    case BinaryKind::Maximum: return a < b ? dy : 0.0f;
    case BinaryKind::Minimum: return b < a ? dy : 0.0f;
    default: return 0.0f;
  }
}

// ---- reductions: one output element from its values x[base + reduce_step(g, r)] ----
FF_HD inline float reduce_rule(ReduceKind op, const float* x, const ReduceGeometry& g,
                               int64_t base) {
  const int64_t n = g.red_numel();
  switch (op) {
    case ReduceKind::Sum:
    case ReduceKind::Mean: {
      double s = 0.0;
      for (int64_t r = 0; r < n; ++r) s += static_cast<double>(x[base + reduce_step(g, r)]);
      if (op == ReduceKind::Mean) {
        if (n == 0) return NAN;
        s /= static_cast<double>(n);
      }
      return static_cast<float>(s);
    }
    case ReduceKind::Max:
    case ReduceKind::Min:
    case ReduceKind::ArgMax:
    case ReduceKind::ArgMin: {
      const bool is_max = op == ReduceKind::Max || op == ReduceKind::ArgMax;
      float best = is_max ? -INFINITY : INFINITY;
      int64_t at = 0;
      for (int64_t r = 0; r < n; ++r) {
        const float v = x[base + reduce_step(g, r)];
        if (v != v) {  // the first NaN decides, as NumPy
          best = v;
          at = r;
          break;
        }
        if (r == 0 || (is_max ? best < v : v < best)) {
          best = v;
          at = r;
        }
      }
      if (op == ReduceKind::ArgMax || op == ReduceKind::ArgMin) return static_cast<float>(at);
      return best;
    }
    case ReduceKind::LogSumExp: {
      float mx = -INFINITY;
      for (int64_t r = 0; r < n; ++r) {
        const float v = x[base + reduce_step(g, r)];
        if (v != v) return v;
        mx = mx < v ? v : mx;
      }
      if (mx == INFINITY || mx == -INFINITY) return mx;
      double s = 0.0;
      for (int64_t r = 0; r < n; ++r)
        s += static_cast<double>(std::exp(x[base + reduce_step(g, r)] - mx));
      return mx + static_cast<float>(std::log(s));
    }
  }
  return 0.0f;
}

// dx at every value of output element j (value y, gradient dy). Max/Min share dy equally among
// the values equal to the extreme (TensorFlow's); ArgMax/ArgMin have no gradient.
FF_HD inline void reduce_grad_rule(ReduceKind op, const float* x, float y, float dy, float* dx,
                                   const ReduceGeometry& g, int64_t base) {
  const int64_t n = g.red_numel();
  switch (op) {
    case ReduceKind::Sum:
      for (int64_t r = 0; r < n; ++r) dx[base + reduce_step(g, r)] = dy;
      return;
    case ReduceKind::Mean: {
      const float v = dy / static_cast<float>(n);
      for (int64_t r = 0; r < n; ++r) dx[base + reduce_step(g, r)] = v;
      return;
    }
    case ReduceKind::Max:
    case ReduceKind::Min: {
      int64_t ties = 0;
      for (int64_t r = 0; r < n; ++r) ties += x[base + reduce_step(g, r)] == y ? 1 : 0;
      const float share = ties > 0 ? dy / static_cast<float>(ties) : 0.0f;
      for (int64_t r = 0; r < n; ++r) {
        const int64_t o = base + reduce_step(g, r);
        dx[o] = x[o] == y ? share : 0.0f;
      }
      return;
    }
    case ReduceKind::LogSumExp:
      for (int64_t r = 0; r < n; ++r) {
        const int64_t o = base + reduce_step(g, r);
        dx[o] = dy * std::exp(x[o] - y);
      }
      return;
    case ReduceKind::ArgMax:
    case ReduceKind::ArgMin:
      for (int64_t r = 0; r < n; ++r) dx[base + reduce_step(g, r)] = 0.0f;
      return;
  }
}

}  // namespace ff
