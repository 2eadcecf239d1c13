// Bindings for the normalization and preprocessing layers: BatchNormalization, Normalization,
// LayerNormalization, Rescaling, RandomFlip, RandomTranslation, RandomZoom, RandomRotation. Arguments arrive parsed
// and validated by python/forgeflow/layers/{normalization,preprocessing}.py; the C++
// constructors check them again.
#include <optional>
#include <utility>

#include "bindings.h"
#include "layers/batch_normalization.h"
#include "layers/layer_normalization.h"
#include "layers/normalization.h"
#include "layers/random_flip.h"
#include "layers/random_rotation.h"
#include "layers/random_translation.h"
#include "layers/random_zoom.h"
#include "layers/rescaling.h"

namespace ff::bindings {
namespace {

using Range = std::pair<double, double>;

FactorRange factor(const Range& r) { return {r.first, r.second}; }
py::tuple range_to_py(const FactorRange& f) { return py::make_tuple(f.lower, f.upper); }

std::vector<float> floats(const py::array& a) {
  auto arr = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(a);
  if (!arr) throw TypeError("expected an array of floats");
  return std::vector<float>(arr.data(), arr.data() + arr.size());
}

}  // namespace

void init_preprocessing_layers(py::module_& m) {
  py::class_<BatchNormalization, Layer, std::shared_ptr<BatchNormalization>>(m, "BatchNormalization")
      .def(py::init<std::string, uint64_t, int64_t, float, float, bool, bool, std::string,
                    std::string, std::string, std::string>(),
           py::arg("name"), py::arg("seed"), py::arg("axis"), py::arg("momentum"),
           py::arg("epsilon"), py::arg("center"), py::arg("scale"), py::arg("beta_initializer"),
           py::arg("gamma_initializer"), py::arg("moving_mean_initializer"),
           py::arg("moving_variance_initializer"))
      .def_property_readonly("axis", &BatchNormalization::axis)
      .def_property_readonly("momentum", &BatchNormalization::momentum)
      .def_property_readonly("epsilon", &BatchNormalization::epsilon);

  py::class_<Normalization, Layer, std::shared_ptr<Normalization>>(m, "Normalization")
      .def(py::init<std::string, uint64_t, bool, int64_t, bool>(), py::arg("name"),
           py::arg("seed"), py::arg("per_feature"), py::arg("axis"), py::arg("invert"))
      .def("set_statistics",
           [](Normalization& n, const py::array& mean, const py::array& variance) {
             n.set_statistics(floats(mean), floats(variance));
           },
           py::arg("mean"), py::arg("variance"),
           "Sets mean and variance (1 value, broadcast, or one per feature); written into the "
           "weights now or when the model builds the layer.")
      .def_property_readonly("has_statistics", &Normalization::has_statistics)
      .def_property_readonly("features", &Normalization::features);

  py::class_<Rescaling, Layer, std::shared_ptr<Rescaling>>(m, "Rescaling")
      .def(py::init<std::string, uint64_t, float, float>(), py::arg("name"), py::arg("seed"),
           py::arg("scale"), py::arg("offset"))
      .def_property_readonly("scale", &Rescaling::scale)
      .def_property_readonly("offset", &Rescaling::offset);

  py::class_<RandomFlip, Layer, std::shared_ptr<RandomFlip>>(m, "RandomFlip")
      .def(py::init<std::string, uint64_t, const std::string&>(), py::arg("name"),
           py::arg("seed"), py::arg("mode"))
      .def_property_readonly("mode", &RandomFlip::mode);

  py::class_<RandomAffineLayer, Layer, std::shared_ptr<RandomAffineLayer>>(m, "RandomAffineLayer")
      .def_property_readonly("fill_mode", &RandomAffineLayer::fill_mode)
      .def_property_readonly("interpolation", &RandomAffineLayer::interpolation)
      .def_property_readonly("fill_value", &RandomAffineLayer::fill_value)
      .def("transform_for", &RandomAffineLayer::transform_for, py::arg("step"), py::arg("sample"),
           py::arg("height"), py::arg("width"),
           "The 2x3 matrix [a0 a1 a2 b0 b1 b2] drawn for one sample at one training step.");

  py::class_<RandomTranslation, RandomAffineLayer, std::shared_ptr<RandomTranslation>>(
      m, "RandomTranslation")
      .def(py::init([](std::string name, uint64_t seed, const Range& height, const Range& width,
                       const std::string& fill_mode, const std::string& interpolation,
                       float fill_value) {
             return std::make_shared<RandomTranslation>(std::move(name), seed, factor(height),
                                                        factor(width), fill_mode, interpolation,
                                                        fill_value);
           }),
           py::arg("name"), py::arg("seed"), py::arg("height_factor"), py::arg("width_factor"),
           py::arg("fill_mode"), py::arg("interpolation"), py::arg("fill_value"))
      .def_property_readonly("height_factor", [](const RandomTranslation& l) { return range_to_py(l.height_factor()); })
      .def_property_readonly("width_factor", [](const RandomTranslation& l) { return range_to_py(l.width_factor()); });

  py::class_<RandomZoom, RandomAffineLayer, std::shared_ptr<RandomZoom>>(m, "RandomZoom")
      .def(py::init([](std::string name, uint64_t seed, const Range& height,
                       const std::optional<Range>& width, const std::string& fill_mode,
                       const std::string& interpolation, float fill_value) {
             return std::make_shared<RandomZoom>(std::move(name), seed, factor(height),
                                                 width.has_value(),
                                                 width ? factor(*width) : FactorRange{},
                                                 fill_mode, interpolation, fill_value);
           }),
           py::arg("name"), py::arg("seed"), py::arg("height_factor"), py::arg("width_factor"),
           py::arg("fill_mode"), py::arg("interpolation"), py::arg("fill_value"))
      .def_property_readonly("height_factor", [](const RandomZoom& l) { return range_to_py(l.height_factor()); })
      .def_property_readonly("width_factor", [](const RandomZoom& l) -> py::object {
        if (!l.has_width_factor()) return py::none();
        return range_to_py(l.width_factor());
      });

  py::class_<RandomRotation, RandomAffineLayer, std::shared_ptr<RandomRotation>>(m, "RandomRotation")
      .def(py::init([](std::string name, uint64_t seed, const Range& f,
                       const std::string& fill_mode, const std::string& interpolation,
                       float fill_value) {
             return std::make_shared<RandomRotation>(std::move(name), seed, factor(f), fill_mode,
                                                     interpolation, fill_value);
           }),
           py::arg("name"), py::arg("seed"), py::arg("factor"), py::arg("fill_mode"),
           py::arg("interpolation"), py::arg("fill_value"))
      .def_property_readonly("factor", [](const RandomRotation& l) { return range_to_py(l.factor()); });
  py::class_<LayerNormalization, Layer, std::shared_ptr<LayerNormalization>>(m,
                                                                           "LayerNormalization")
      .def(py::init<std::string, uint64_t, std::vector<int64_t>, float, bool, bool, std::string,
                    std::string>(),
           py::arg("name"), py::arg("seed"), py::arg("axes"), py::arg("epsilon"),
           py::arg("center"), py::arg("scale"), py::arg("beta_initializer"),
           py::arg("gamma_initializer"))
      .def_property_readonly("axes", &LayerNormalization::axes)
      .def_property_readonly("epsilon", &LayerNormalization::epsilon);
}

}  // namespace ff::bindings
