// Elementwise op layers (see elementwise_op.h). A broadcast operand's gradient is computed in
// the result's shape into a scratch buffer, then summed over the axes it was broadcast along
// (op_reduce Sum, in a fixed order); an operand of the result's shape gets it directly.
#include "layers/ops/elementwise_op.h"

#include <unordered_map>

#include "backend/op_rules.h"
#include "core/errors.h"
#include "layers/ops/broadcast.h"

namespace ff {
namespace {

// Scratch slots: one result-shaped buffer per input operand (from `first`) whose shape is not
// the result's; -1 for the others.
std::vector<int> reduce_slots(const std::vector<OpOperand>& operands,
                              const std::vector<Shape>& shapes, const Shape& out, size_t first) {
  std::vector<int> slots(operands.size(), -1);
  int next = 0;
  for (size_t k = first; k < operands.size(); ++k)
    if (operands[k].kind == OpOperand::Kind::Input && shapes[k] != out) slots[k] = next++;
  return slots;
}

void zero(Backend& be, Tensor* t) {
  if (t) be.fill(t->data<float>(), t->numel(), 0.0f);
}

}  // namespace

// ---- UnaryOp ----

UnaryOp::UnaryOp(std::string name, std::string op, uint64_t seed, float p0, float p1)
    : OpLayer(std::move(name), op, seed, {OpOperand::input()}), p0_(p0), p1_(p1) {
  static const std::unordered_map<std::string, UnaryKind> math = {
      {"negative", UnaryKind::Negative}, {"exp", UnaryKind::Exp},   {"log", UnaryKind::Log},
      {"sqrt", UnaryKind::Sqrt},         {"square", UnaryKind::Square}, {"abs", UnaryKind::Abs},
      {"sign", UnaryKind::Sign},         {"trunc", UnaryKind::Trunc},
      {"not_zero", UnaryKind::NotZero},  {"clip", UnaryKind::Clip}};
  static const std::unordered_map<std::string, Activation> acts = {
      {"relu", Activation::Relu},   {"sigmoid", Activation::Sigmoid},
      {"tanh", Activation::Tanh},   {"gelu", Activation::Gelu},
      {"silu", Activation::Swish},  {"leaky_relu", Activation::LeakyRelu},
      {"elu", Activation::Elu}};
  if (auto m = math.find(op); m != math.end()) {
    kind_ = m->second;
  } else if (auto a = acts.find(op); a != acts.end()) {
    path_ = Path::Activation;
    act_ = a->second;
  } else if (op == "stop_gradient") {
    path_ = Path::StopGradient;
  } else {
    throw ValueError("internal: unknown unary op \"" + op + "\"");
  }
}

void UnaryOp::forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>&,
                            const StepContext& ctx) {
  Backend& be = *ctx.backend;
  const Tensor& x = xs[0];
  switch (path_) {
    case Path::Math:
      be.op_unary(kind_, p0_, p1_, x.data<float>(), y.data<float>(), x.numel());
      return;
    case Path::Activation:
      be.activation_forward(act_, p0_, x.data<float>(), y.data<float>(), 1, x.numel());
      return;
    case Path::StopGradient:
      be.copy(y.raw(), x.raw(), x.nbytes());
      return;
  }
}

void UnaryOp::backward_multi(const std::vector<Tensor>& xs, const Tensor& y, const Tensor& dy,
                             const std::vector<Tensor*>& dxs, std::vector<Tensor>&,
                             const StepContext& ctx) {
  Tensor* dx = dxs[0];
  if (!dx) return;
  Backend& be = *ctx.backend;
  switch (path_) {
    case Path::Math:
      be.op_unary_backward(kind_, p0_, p1_, xs[0].data<float>(), y.data<float>(),
                           dy.data<float>(), dx->data<float>(), dy.numel());
      return;
    case Path::Activation:
      be.activation_backward(act_, p0_, xs[0].data<float>(), y.data<float>(), dy.data<float>(),
                             dx->data<float>(), 1, dy.numel());
      return;
    case Path::StopGradient:
      zero(be, dx);
      return;
  }
}

// ---- BinaryOp ----

BinaryOp::BinaryOp(std::string name, std::string op, uint64_t seed,
                   std::vector<OpOperand> operands)
    : OpLayer(std::move(name), op, seed, std::move(operands)) {
  static const std::unordered_map<std::string, BinaryKind> kinds = {
      {"add", BinaryKind::Add},           {"subtract", BinaryKind::Subtract},
      {"multiply", BinaryKind::Multiply}, {"divide", BinaryKind::Divide},
      {"power", BinaryKind::Power},       {"maximum", BinaryKind::Maximum},
      {"minimum", BinaryKind::Minimum},   {"equal", BinaryKind::Equal},
      {"not_equal", BinaryKind::NotEqual}, {"less", BinaryKind::Less},
      {"less_equal", BinaryKind::LessEqual}, {"greater", BinaryKind::Greater},
      {"greater_equal", BinaryKind::GreaterEqual}};
  auto k = kinds.find(op);
  if (k == kinds.end()) throw ValueError("internal: unknown binary op \"" + op + "\"");
  if (this->operands().size() != 2) throw ValueError("internal: " + label() + " takes 2 operands");
  kind_ = k->second;
}

Shape BinaryOp::infer(const std::vector<Shape>& shapes) {
  return ops::broadcast_shapes(label(), shapes);
}

std::vector<Shape> BinaryOp::op_scratch(const std::vector<Shape>& shapes, const Shape& out) const {
  if (binary_is_comparison(kind_)) return {};
  std::vector<Shape> s;
  for (int slot : reduce_slots(operands(), shapes, out, 0))
    if (slot >= 0) s.push_back(out);
  return s;
}

void BinaryOp::forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>&,
                             const StepContext& ctx) {
  Backend& be = *ctx.backend;
  const std::vector<Shape> shapes = operand_shapes(xs);
  const auto g = ops::broadcast_geometry(y.shape(), shapes);
  const auto& o = operands();
  be.op_binary(kind_, operand_data(0, xs, be), o[0].scalar, operand_data(1, xs, be), o[1].scalar,
               y.data<float>(), g);
}

void BinaryOp::backward_multi(const std::vector<Tensor>& xs, const Tensor&, const Tensor& dy,
                              const std::vector<Tensor*>& dxs, std::vector<Tensor>& scratch,
                              const StepContext& ctx) {
  Backend& be = *ctx.backend;
  const auto& o = operands();
  if (binary_is_comparison(kind_)) {  // no gradient
    for (Tensor* dx : dxs) zero(be, dx);
    return;
  }
  const std::vector<Shape> shapes = operand_shapes(xs);
  const Shape& out = dy.shape();
  const std::vector<int> slots = reduce_slots(o, shapes, out, 0);
  float* full[2] = {nullptr, nullptr};
  Tensor* dx_of[2] = {nullptr, nullptr};
  for (size_t k = 0; k < 2; ++k) {
    if (input_index(k) < 0 || !dxs[input_index(k)]) continue;
    dx_of[k] = dxs[input_index(k)];
    full[k] = slots[k] < 0 ? dx_of[k]->data<float>() : scratch.at(slots[k]).data<float>();
  }
  if (!full[0] && !full[1]) return;
  const auto g = ops::broadcast_geometry(out, shapes);
  be.op_binary_backward(kind_, operand_data(0, xs, be), o[0].scalar, operand_data(1, xs, be),
                        o[1].scalar, dy.data<float>(), full[0], full[1], g);
  for (size_t k = 0; k < 2; ++k)
    if (dx_of[k] && slots[k] >= 0)
      be.op_reduce(ReduceKind::Sum, full[k], dx_of[k]->data<float>(),
                   ops::reduce_to_operand(out, shapes[k]));
}

// ---- WhereOp ----

WhereOp::WhereOp(std::string name, uint64_t seed, std::vector<OpOperand> operands)
    : OpLayer(std::move(name), "where", seed, std::move(operands)) {
  if (this->operands().size() != 3) throw ValueError("internal: ff.ops.where takes 3 operands");
}

Shape WhereOp::infer(const std::vector<Shape>& shapes) {
  return ops::broadcast_shapes(label(), shapes);
}

std::vector<Shape> WhereOp::op_scratch(const std::vector<Shape>& shapes, const Shape& out) const {
  std::vector<Shape> s;
  for (int slot : reduce_slots(operands(), shapes, out, 1))
    if (slot >= 0) s.push_back(out);
  return s;
}

void WhereOp::forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>&,
                            const StepContext& ctx) {
  Backend& be = *ctx.backend;
  const auto& o = operands();
  const auto g = ops::broadcast_geometry(y.shape(), operand_shapes(xs));
  be.op_where(operand_data(0, xs, be), o[0].scalar, operand_data(1, xs, be), o[1].scalar,
              operand_data(2, xs, be), o[2].scalar, y.data<float>(), g);
}

void WhereOp::backward_multi(const std::vector<Tensor>& xs, const Tensor&, const Tensor& dy,
                             const std::vector<Tensor*>& dxs, std::vector<Tensor>& scratch,
                             const StepContext& ctx) {
  Backend& be = *ctx.backend;
  const auto& o = operands();
  if (input_index(0) >= 0) zero(be, dxs[input_index(0)]);  // the condition has no gradient
  const std::vector<Shape> shapes = operand_shapes(xs);
  const Shape& out = dy.shape();
  const std::vector<int> slots = reduce_slots(o, shapes, out, 1);
  float* full[3] = {nullptr, nullptr, nullptr};
  Tensor* dx_of[3] = {nullptr, nullptr, nullptr};
  for (size_t k = 1; k < 3; ++k) {
    if (input_index(k) < 0 || !dxs[input_index(k)]) continue;
    dx_of[k] = dxs[input_index(k)];
    full[k] = slots[k] < 0 ? dx_of[k]->data<float>() : scratch.at(slots[k]).data<float>();
  }
  if (!full[1] && !full[2]) return;
  const auto g = ops::broadcast_geometry(out, shapes);
  be.op_where_backward(operand_data(0, xs, be), o[0].scalar, dy.data<float>(), full[1], full[2],
                       g);
  for (size_t k = 1; k < 3; ++k)
    if (dx_of[k] && slots[k] >= 0)
      be.op_reduce(ReduceKind::Sum, full[k], dx_of[k]->data<float>(),
                   ops::reduce_to_operand(out, shapes[k]));
}

}  // namespace ff
