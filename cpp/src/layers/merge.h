// Merge layers: Add, Multiply, Average (inputs of identical shapes, elementwise) and Concatenate
// (along one axis). Nothing broadcasts: inputs of different shapes are an error naming the
// shapes (the Python layer adds the names of the layers that produced them).
#pragma once
#include "layers/layer.h"

namespace ff {

// Base of the elementwise merges: checks that every input has the same shape.
class ElementwiseMerge : public Layer {
 public:
  using Layer::Layer;
  int num_inputs() const override { return 0; }
  Shape build_multi(const std::vector<Shape>& input_shapes) override;
  // Single-input forms are never used for merge layers.
  void forward(const Tensor&, Tensor&, std::vector<Tensor>&, const StepContext&) override;
  void backward(const Tensor&, const Tensor&, const Tensor&, Tensor*, std::vector<Tensor>&,
                const StepContext&) override;

 protected:
  Shape compute_output_shape(const Shape& in) override { return in; }
};

class Add final : public ElementwiseMerge {
 public:
  bool supports_half_io() const override { return true; }
  Add(std::string name, uint64_t seed) : ElementwiseMerge(std::move(name), "Add", seed) {}
  void forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>& scratch,
                     const StepContext& ctx) override;
  void backward_multi(const std::vector<Tensor>& xs, const Tensor& y, const Tensor& dy,
                      const std::vector<Tensor*>& dxs, std::vector<Tensor>& scratch,
                      const StepContext& ctx) override;
};

class Average final : public ElementwiseMerge {
 public:
  Average(std::string name, uint64_t seed) : ElementwiseMerge(std::move(name), "Average", seed) {}
  void forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>& scratch,
                     const StepContext& ctx) override;
  void backward_multi(const std::vector<Tensor>& xs, const Tensor& y, const Tensor& dy,
                      const std::vector<Tensor*>& dxs, std::vector<Tensor>& scratch,
                      const StepContext& ctx) override;
};

class Multiply final : public ElementwiseMerge {
 public:
  Multiply(std::string name, uint64_t seed) : ElementwiseMerge(std::move(name), "Multiply", seed) {}
  void forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>& scratch,
                     const StepContext& ctx) override;
  void backward_multi(const std::vector<Tensor>& xs, const Tensor& y, const Tensor& dy,
                      const std::vector<Tensor*>& dxs, std::vector<Tensor>& scratch,
                      const StepContext& ctx) override;
};

class Concatenate final : public Layer {
 public:
  Concatenate(std::string name, uint64_t seed, int axis);
  int axis() const { return axis_; }
  int num_inputs() const override { return 0; }
  Shape build_multi(const std::vector<Shape>& input_shapes) override;
  void forward(const Tensor&, Tensor&, std::vector<Tensor>&, const StepContext&) override;
  void backward(const Tensor&, const Tensor&, const Tensor&, Tensor*, std::vector<Tensor>&,
                const StepContext&) override;
  void forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>& scratch,
                     const StepContext& ctx) override;
  void backward_multi(const std::vector<Tensor>& xs, const Tensor& y, const Tensor& dy,
                      const std::vector<Tensor*>& dxs, std::vector<Tensor>& scratch,
                      const StepContext& ctx) override;

 protected:
  Shape compute_output_shape(const Shape& in) override { return in; }

 private:
  int axis_;  // as given (may be negative)
  size_t resolved_axis_ = 0;  // in [1, rank)
};

}  // namespace ff
