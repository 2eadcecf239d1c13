// Bindings for the convolution (plain, transposed, depthwise, separable), pooling and padding
// layers (the Python wrappers in forgeflow/layers/convolutional.py, conv_transpose.py,
// depthwise_conv.py and pooling.py validate and normalise the arguments first).
#include "bindings.h"
#include "layers/average_pooling2d.h"
#include "layers/conv1d.h"
#include "layers/conv2d.h"
#include "layers/conv2d_transpose.h"
#include "layers/depthwise_conv2d.h"
#include "layers/separable_conv2d.h"
#include "layers/global_average_pooling2d.h"
#include "layers/global_max_pooling2d.h"
#include "layers/max_pooling2d.h"
#include "layers/zero_padding2d.h"

namespace ff::bindings {

void init_conv_layers(py::module_& m) {
  using V = std::vector<int64_t>;
  py::class_<ConvolutionBase, Layer, std::shared_ptr<ConvolutionBase>>(m, "ConvolutionBase")
      .def_property_readonly("filters", &ConvolutionBase::filters)
      .def_property_readonly("activation", [](const ConvolutionBase& c) { return c.activation().name; })
      .def_property_readonly("padding", [](const ConvolutionBase& c) { return padding_name(c.padding()); });
  py::class_<Conv2D, ConvolutionBase, std::shared_ptr<Conv2D>>(m, "Conv2D")
      .def(py::init<std::string, uint64_t, int64_t, V, V, const std::string&, V, const std::string&,
                    bool, std::string, std::string>(),
           py::arg("name"), py::arg("seed"), py::arg("filters"), py::arg("kernel_size"),
           py::arg("strides"), py::arg("padding"), py::arg("dilation_rate"), py::arg("activation"),
           py::arg("use_bias"), py::arg("kernel_initializer"), py::arg("bias_initializer"))
      .def_property_readonly("kernel_size", &Conv2D::kernel_size)
      .def_property_readonly("strides", &Conv2D::strides)
      .def_property_readonly("dilation_rate", &Conv2D::dilation_rate);
  py::class_<Conv1D, ConvolutionBase, std::shared_ptr<Conv1D>>(m, "Conv1D")
      .def(py::init<std::string, uint64_t, int64_t, int64_t, int64_t, const std::string&, int64_t,
                    const std::string&, bool, std::string, std::string>(),
           py::arg("name"), py::arg("seed"), py::arg("filters"), py::arg("kernel_size"),
           py::arg("strides"), py::arg("padding"), py::arg("dilation_rate"), py::arg("activation"),
           py::arg("use_bias"), py::arg("kernel_initializer"), py::arg("bias_initializer"));

  py::class_<Pooling2D, Layer, std::shared_ptr<Pooling2D>>(m, "Pooling2D")
      .def_property_readonly("pool_size", &Pooling2D::pool_size)
      .def_property_readonly("strides", &Pooling2D::strides)
      .def_property_readonly("padding", [](const Pooling2D& p) { return padding_name(p.padding()); });
  py::class_<MaxPooling2D, Pooling2D, std::shared_ptr<MaxPooling2D>>(m, "MaxPooling2D")
      .def(py::init<std::string, uint64_t, V, V, const std::string&>(), py::arg("name"),
           py::arg("seed"), py::arg("pool_size"), py::arg("strides"), py::arg("padding"));
  py::class_<AveragePooling2D, Pooling2D, std::shared_ptr<AveragePooling2D>>(m, "AveragePooling2D")
      .def(py::init<std::string, uint64_t, V, V, const std::string&>(), py::arg("name"),
           py::arg("seed"), py::arg("pool_size"), py::arg("strides"), py::arg("padding"));
  py::class_<GlobalPooling2D, Layer, std::shared_ptr<GlobalPooling2D>>(m, "GlobalPooling2D")
      .def_property_readonly("keepdims", &GlobalPooling2D::keepdims);
  py::class_<GlobalAveragePooling2D, GlobalPooling2D, std::shared_ptr<GlobalAveragePooling2D>>(
      m, "GlobalAveragePooling2D")
      .def(py::init<std::string, uint64_t, bool>(), py::arg("name"), py::arg("seed"),
           py::arg("keepdims"));
  py::class_<GlobalMaxPooling2D, GlobalPooling2D, std::shared_ptr<GlobalMaxPooling2D>>(
      m, "GlobalMaxPooling2D")
      .def(py::init<std::string, uint64_t, bool>(), py::arg("name"), py::arg("seed"),
           py::arg("keepdims"));
  py::class_<ZeroPadding2D, Layer, std::shared_ptr<ZeroPadding2D>>(m, "ZeroPadding2D")
      .def(py::init<std::string, uint64_t, V>(), py::arg("name"), py::arg("seed"),
           py::arg("padding"))
      .def_property_readonly("padding", &ZeroPadding2D::padding);
  py::class_<Conv2DTranspose, ConvolutionBase, std::shared_ptr<Conv2DTranspose>>(
      m, "Conv2DTranspose")
      .def(py::init<std::string, uint64_t, int64_t, V, V, const std::string&, V, V,
                    const std::string&, bool, std::string, std::string>(),
           py::arg("name"), py::arg("seed"), py::arg("filters"), py::arg("kernel_size"),
           py::arg("strides"), py::arg("padding"), py::arg("output_padding"),
           py::arg("dilation_rate"), py::arg("activation"), py::arg("use_bias"),
           py::arg("kernel_initializer"), py::arg("bias_initializer"));
  py::class_<DepthwiseConv2D, Layer, std::shared_ptr<DepthwiseConv2D>>(m, "DepthwiseConv2D")
      .def(py::init<std::string, uint64_t, V, V, const std::string&, int64_t, V,
                    const std::string&, bool, std::string, std::string>(),
           py::arg("name"), py::arg("seed"), py::arg("kernel_size"), py::arg("strides"),
           py::arg("padding"), py::arg("depth_multiplier"), py::arg("dilation_rate"),
           py::arg("activation"), py::arg("use_bias"), py::arg("depthwise_initializer"),
           py::arg("bias_initializer"))
      .def_property_readonly("activation", [](const DepthwiseConv2D& c) { return c.activation().name; });
  py::class_<SeparableConv2D, Layer, std::shared_ptr<SeparableConv2D>>(m, "SeparableConv2D")
      .def(py::init<std::string, uint64_t, int64_t, V, V, const std::string&, int64_t, V,
                    const std::string&, bool, std::string, std::string, std::string>(),
           py::arg("name"), py::arg("seed"), py::arg("filters"), py::arg("kernel_size"),
           py::arg("strides"), py::arg("padding"), py::arg("depth_multiplier"),
           py::arg("dilation_rate"), py::arg("activation"), py::arg("use_bias"),
           py::arg("depthwise_initializer"), py::arg("pointwise_initializer"),
           py::arg("bias_initializer"))
      .def_property_readonly("filters", &SeparableConv2D::filters)
      .def_property_readonly("activation", [](const SeparableConv2D& c) { return c.activation().name; });
}

}  // namespace ff::bindings
