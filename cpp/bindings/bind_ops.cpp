// Bindings for ff.ops: the op layers (layers/ops/) that ff.ops calls on symbolic tensors become,
// and run_op, which runs one op eagerly on NumPy arrays (ff.ops called on arrays).
#include "backend/registry.h"
#include "bindings.h"
#include "layers/ops/elementwise_op.h"
#include "layers/ops/matmul_op.h"
#include "layers/ops/random_op.h"
#include "layers/ops/reduce_op.h"
#include "layers/ops/shape_op.h"
#include "layers/ops/take_op.h"

namespace ff::bindings {
namespace {

// Operands from Python: None is a graph input, a float a scalar, an array a constant.
std::vector<OpOperand> operands_from_py(const py::list& items) {
  std::vector<OpOperand> out;
  for (auto item : items) {
    if (item.is_none()) {
      out.push_back(OpOperand::input());
    } else if (py::isinstance<py::str>(item) && item.cast<std::string>() == "unbatched") {
      out.push_back(OpOperand::unbatched_input());  // a weight, or computed from weights alone
    } else if (py::isinstance<py::float_>(item) || py::isinstance<py::int_>(item)) {
      out.push_back(OpOperand::of_scalar(item.cast<float>()));
    } else {
      auto a = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(item);
      if (!a) throw TypeError("ff.ops: a constant operand must be a numeric array");
      Shape shape(a.shape(), a.shape() + a.ndim());
      out.push_back(OpOperand::constant(shape, std::vector<float>(a.data(), a.data() + a.size())));
    }
  }
  return out;
}

std::vector<int64_t> axes_from_py(const py::handle& axes) {
  std::vector<int64_t> out;
  if (!axes.is_none())
    for (auto a : axes) out.push_back(a.cast<int64_t>());
  return out;
}

}  // namespace

void init_ops(py::module_& m) {
  py::class_<OpLayer, Layer, std::shared_ptr<OpLayer>>(m, "OpLayer")
      .def_property_readonly("op", &OpLayer::op)
      .def("set_input_batched", &OpLayer::set_input_batched, py::arg("input"), py::arg("batched"),
           "Marks an input as a value without a batch axis (a weight), before the op is built.");
  py::class_<UnaryOp, OpLayer, std::shared_ptr<UnaryOp>>(m, "UnaryOp")
      .def(py::init<std::string, std::string, uint64_t, float, float>(), py::arg("name"),
           py::arg("op"), py::arg("seed"), py::arg("p0") = 0.0f, py::arg("p1") = 0.0f);
  py::class_<BinaryOp, OpLayer, std::shared_ptr<BinaryOp>>(m, "BinaryOp")
      .def(py::init([](std::string name, std::string op, uint64_t seed, const py::list& operands) {
             return std::make_shared<BinaryOp>(std::move(name), std::move(op), seed,
                                               operands_from_py(operands));
           }),
           py::arg("name"), py::arg("op"), py::arg("seed"), py::arg("operands"));
  py::class_<WhereOp, OpLayer, std::shared_ptr<WhereOp>>(m, "WhereOp")
      .def(py::init([](std::string name, uint64_t seed, const py::list& operands) {
             return std::make_shared<WhereOp>(std::move(name), seed, operands_from_py(operands));
           }),
           py::arg("name"), py::arg("seed"), py::arg("operands"));
  py::class_<ReduceOp, OpLayer, std::shared_ptr<ReduceOp>>(m, "ReduceOp")
      .def(py::init([](std::string name, std::string op, uint64_t seed, py::handle axes,
                       bool keepdims) {
             return std::make_shared<ReduceOp>(std::move(name), std::move(op), seed,
                                               axes_from_py(axes), axes.is_none(), keepdims);
           }),
           py::arg("name"), py::arg("op"), py::arg("seed"), py::arg("axes"), py::arg("keepdims"));
  py::class_<SoftmaxOp, OpLayer, std::shared_ptr<SoftmaxOp>>(m, "SoftmaxOp")
      .def(py::init<std::string, std::string, uint64_t, int64_t>(), py::arg("name"),
           py::arg("op"), py::arg("seed"), py::arg("axis"));
  py::class_<ReshapeOp, OpLayer, std::shared_ptr<ReshapeOp>>(m, "ReshapeOp")
      .def(py::init([](std::string name, std::string op, uint64_t seed, py::handle target,
                       py::handle axes) {
             return std::make_shared<ReshapeOp>(std::move(name), std::move(op), seed,
                                                axes_from_py(target), axes_from_py(axes),
                                                axes.is_none());
           }),
           py::arg("name"), py::arg("op"), py::arg("seed"), py::arg("target"), py::arg("axes"));
  py::class_<TransposeOp, OpLayer, std::shared_ptr<TransposeOp>>(m, "TransposeOp")
      .def(py::init([](std::string name, uint64_t seed, py::handle axes) {
             return std::make_shared<TransposeOp>(std::move(name), seed, axes_from_py(axes),
                                                  axes.is_none());
           }),
           py::arg("name"), py::arg("seed"), py::arg("axes"));
  py::class_<ConcatOp, OpLayer, std::shared_ptr<ConcatOp>>(m, "ConcatOp")
      .def(py::init([](std::string name, std::string op, uint64_t seed, const py::list& operands,
                       int64_t axis) {
             return std::make_shared<ConcatOp>(std::move(name), std::move(op), seed,
                                               operands_from_py(operands), axis);
           }),
           py::arg("name"), py::arg("op"), py::arg("seed"), py::arg("operands"), py::arg("axis"));
  py::class_<SliceOp, OpLayer, std::shared_ptr<SliceOp>>(m, "SliceOp")
      .def(py::init<std::string, uint64_t, int64_t, int64_t, int64_t>(), py::arg("name"),
           py::arg("seed"), py::arg("axis"), py::arg("start"), py::arg("stop"));
  py::class_<MatmulOp, OpLayer, std::shared_ptr<MatmulOp>>(m, "MatmulOp")
      .def(py::init([](std::string name, uint64_t seed, const py::list& operands) {
             return std::make_shared<MatmulOp>(std::move(name), seed, operands_from_py(operands));
           }),
           py::arg("name"), py::arg("seed"), py::arg("operands"));
  py::class_<TakeOp, OpLayer, std::shared_ptr<TakeOp>>(m, "TakeOp")
      .def(py::init([](std::string name, uint64_t seed, const py::list& operands,
                       py::handle axis) {
             return std::make_shared<TakeOp>(std::move(name), seed, operands_from_py(operands),
                                             axis.is_none() ? 0 : axis.cast<int64_t>(),
                                             axis.is_none());
           }),
           py::arg("name"), py::arg("seed"), py::arg("operands"), py::arg("axis"));
  py::class_<OneHotOp, OpLayer, std::shared_ptr<OneHotOp>>(m, "OneHotOp")
      .def(py::init<std::string, uint64_t, int64_t>(), py::arg("name"), py::arg("seed"),
           py::arg("num_classes"));

  py::class_<RandomOp, OpLayer, std::shared_ptr<RandomOp>>(m, "RandomOp")
      .def(py::init([](std::string name, std::string op, uint64_t seed, py::handle shape,
                       float a, float b) {
             std::vector<int64_t> dims;
             for (auto d : shape) dims.push_back(d.is_none() ? -1 : d.cast<int64_t>());
             return std::make_shared<RandomOp>(std::move(name), std::move(op), seed,
                                               Shape(dims.begin(), dims.end()), a, b);
           }),
           py::arg("name"), py::arg("op"), py::arg("seed"), py::arg("shape"), py::arg("a"),
           py::arg("b"));

  m.def(
      "run_op",
      [](OpLayer& op, const py::list& arrays) {
        Backend& be = default_backend();
        std::vector<Tensor> inputs;
        for (auto item : arrays) {
          auto a = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(item);
          if (!a) throw TypeError("ff.ops: expected a numeric array");
          Shape shape(a.shape(), a.shape() + a.ndim());
          inputs.push_back(Tensor::empty(be.device(), shape));
          be.device().copy_from_host(inputs.back().raw(), a.data(), inputs.back().nbytes());
        }
        return tensor_to_numpy(run_eager(op, be, inputs));
      },
      py::arg("op"), py::arg("arrays"),
      "Runs an op layer once on float32 arrays (ff.ops called on arrays); returns the result.");
}

}  // namespace ff::bindings
