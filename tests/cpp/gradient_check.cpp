// The shared finite-difference gradient check (see gradient_check.h).
#include "gradient_check.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#include "layers/ops/op_layer.h"
#include "test_util.h"

namespace fftest {

GradCheckResult check_gradient(const std::string& what, float* x, int64_t n,
                               const std::vector<float>& analytic,
                               const std::function<double()>& f, const GradCheckOptions& opts) {
  GradCheckResult r;
  r.what = what;
  if (static_cast<int64_t>(analytic.size()) != n) {
    r.failures = 1;
    r.details = "analytic gradient has " + std::to_string(analytic.size()) + " elements, expected " +
                std::to_string(n);
    return r;
  }
  std::ostringstream log;
  int logged = 0;
  // x is backend memory: read and written through the device (the host may not address it).
  ff::Device& device = fftest::device();
  auto set = [&](int64_t i, float v) { device.copy_from_host(x + i, &v, sizeof v); };
  for (int64_t i = 0; i < n; ++i) {
    float saved;
    device.copy_to_host(&saved, x + i, sizeof saved);
    const float xp = static_cast<float>(saved + opts.step);
    const float xm = static_cast<float>(saved - opts.step);
    set(i, xp);
    const double fp = f();
    set(i, xm);
    const double fm = f();
    set(i, saved);
    // Divide by the step the float32 values actually took.
    const double numeric = (fp - fm) / (static_cast<double>(xp) - static_cast<double>(xm));
    const double a = analytic[i];
    const double err = std::fabs(a - numeric);
    ++r.checked;
    r.max_abs_numeric = std::max(r.max_abs_numeric, std::fabs(numeric));
    r.max_abs_error = std::max(r.max_abs_error, std::isnan(err) ? INFINITY : err);
    const bool ok = err <= opts.atol + opts.rtol * std::max(std::fabs(a), std::fabs(numeric));
    if (!ok) {
      ++r.failures;
      if (logged++ < 8)
        log << "  [" << i << "] at x=" << saved << ": analytic " << a << ", numeric " << numeric
            << "\n";
    }
  }
  r.details = log.str();
  return r;
}

namespace {

// y = layer(x), as Sequential::forward runs it.
void run_forward(ff::Layer& layer, const ff::Tensor& x, ff::Tensor& y,
                 std::vector<ff::Tensor>& scratch, const ff::StepContext& ctx) {
  if (layer.aliases_input(ctx.training)) {
    ctx.backend->copy(y.raw(), x.raw(), x.nbytes());
    return;
  }
  layer.forward(x, y, scratch, ctx);
}

double weighted_sum(const ff::Tensor& y, const std::vector<float>& r) {
  const std::vector<float> p = to_vector(y);
  double s = 0.0;
  for (int64_t i = 0; i < y.numel(); ++i) s += static_cast<double>(p[i]) * r[i];
  return s;
}

}  // namespace

LayerCheckResult check_layer_gradients(ff::Layer& layer, const LayerCheckSpec& spec) {
  ff::Backend& be = fftest::backend();
  const int64_t batch = spec.input_shape.at(0);
  const ff::Shape out_shape = ff::with_batch(layer.build(spec.input_shape), batch);

  std::vector<ff::Tensor> params, grads;
  for (const auto& ps : layer.param_specs()) {
    params.push_back(ff::Tensor::zeros(be.device(), ps.shape));
    grads.push_back(ff::Tensor::zeros(be.device(), ps.shape));
  }
  layer.bind(params, grads);
  std::vector<ff::Tensor> scratch;
  for (const auto& s : layer.scratch_shapes(batch)) scratch.push_back(ff::Tensor::zeros(be.device(), s));

  ff::Tensor x = ff::Tensor::zeros(be.device(), spec.input_shape);
  const double h = spec.options.step;
  uint64_t seed = spec.seed;
  for (int attempt = 0;; ++attempt, seed += 1000003) {
    fill(x, signed_values(x.numel(), seed, spec.input_min, spec.input_max));
    for (size_t i = 0; i < params.size(); ++i)
      fill(params[i], uniform_values(params[i].numel(), ff::mix_seed(seed, i + 1),
                                     -spec.param_scale, spec.param_scale));
    if (!spec.accept || spec.accept(x, params, h)) break;
    if (attempt == 63) FAIL("check_layer_gradients: no data seed accepted after 64 draws");
  }
  const std::vector<float> r = uniform_values(ff::shape_numel(out_shape), ff::mix_seed(seed, 99),
                                              -1.0f, 1.0f);

  fftest::TestContext test_ctx(spec.training, spec.step);
  const ff::StepContext& ctx = test_ctx.ctx;
  ff::Tensor y = ff::Tensor::zeros(be.device(), out_shape);
  run_forward(layer, x, y, scratch, ctx);

  // Analytic: dL/dy = R.
  ff::Tensor dy = make_tensor(out_shape, r);
  ff::Tensor dx = ff::Tensor::zeros(be.device(), spec.input_shape);
  for (auto& g : grads) be.fill(g.data<float>(), g.numel(), std::nanf(""));  // must be overwritten
  if (layer.aliases_input(spec.training))
    be.copy(dx.raw(), dy.raw(), dy.nbytes());
  else
    layer.backward(x, y, dy, &dx, scratch, ctx);

  LayerCheckResult res;
  res.output_shape = out_shape;
  res.x = to_vector(x);
  res.y = to_vector(y);
  for (auto& p : params) res.params.push_back(to_vector(p));

  ff::Tensor y_probe = ff::Tensor::zeros(be.device(), out_shape);
  auto loss = [&]() {
    run_forward(layer, x, y_probe, scratch, ctx);
    return weighted_sum(y_probe, r);
  };
  const std::string name = "layer \"" + layer.name() + "\"";
  res.dx = check_gradient(name + " dL/dx", x.data<float>(), x.numel(), to_vector(dx), loss,
                          spec.options);
  const auto specs = layer.param_specs();
  for (size_t i = 0; i < params.size(); ++i)
    res.dparams.push_back(check_gradient(name + " dL/d" + specs[i].name, params[i].data<float>(),
                                         params[i].numel(), to_vector(grads[i]), loss,
                                         spec.options));
  return res;
}

MultiCheckResult check_multi_input_gradients(ff::Layer& layer, const MultiCheckSpec& spec) {
  ff::Backend& be = fftest::backend();
  const size_t n_in = spec.input_shapes.size();
  const int64_t batch = spec.input_shapes.at(0).at(0);
  std::vector<ff::Shape> graph_shapes;
  for (const auto& s : spec.input_shapes) graph_shapes.push_back(ff::with_batch(s, ff::kNone));
  ff::Shape out_shape;
  if (spec.eager) {
    auto* op = dynamic_cast<ff::OpLayer*>(&layer);
    if (!op) throw std::logic_error("check_multi_input_gradients: eager needs an op layer");
    out_shape = op->build_eager(spec.input_shapes);
  } else {
    const ff::Shape built = layer.num_inputs() == 1 ? layer.build(graph_shapes[0])
                                                   : layer.build_multi(graph_shapes);
    out_shape = ff::with_batch(built, batch);
  }
  std::vector<ff::Tensor> scratch;
  for (const auto& s : layer.scratch_shapes(batch)) scratch.push_back(ff::Tensor::zeros(be.device(), s));

  std::vector<ff::Tensor> xs;
  for (size_t i = 0; i < n_in; ++i) {
    xs.push_back(ff::Tensor::zeros(be.device(), spec.input_shapes[i]));
    if (i < spec.inputs.size() && !spec.inputs[i].empty())
      fill(xs[i], spec.inputs[i]);
    else
      fill(xs[i], signed_values(xs[i].numel(), ff::mix_seed(spec.seed, i + 1), spec.input_min,
                                spec.input_max));
  }
  const std::vector<float> r =
      uniform_values(ff::shape_numel(out_shape), ff::mix_seed(spec.seed, 99), -1.0f, 1.0f);
  fftest::TestContext test_ctx(true, 0);
  const ff::StepContext& ctx = test_ctx.ctx;
  ff::Tensor y = ff::Tensor::zeros(be.device(), out_shape);
  layer.forward_multi(xs, y, scratch, ctx);

  ff::Tensor dy = make_tensor(out_shape, r);
  std::vector<ff::Tensor> dx_store;
  std::vector<ff::Tensor*> dxs(n_in, nullptr);
  for (size_t i = 0; i < n_in; ++i) {
    dx_store.push_back(ff::Tensor::zeros(be.device(), spec.input_shapes[i]));
    be.fill(dx_store[i].data<float>(), dx_store[i].numel(), std::nanf(""));  // must be overwritten
  }
  for (size_t i = 0; i < n_in; ++i) dxs[i] = &dx_store[i];
  layer.backward_multi(xs, y, dy, dxs, scratch, ctx);

  MultiCheckResult res;
  res.output_shape = out_shape;
  res.y = to_vector(y);
  ff::Tensor y_probe = ff::Tensor::zeros(be.device(), out_shape);
  auto loss = [&]() {
    layer.forward_multi(xs, y_probe, scratch, ctx);
    return weighted_sum(y_probe, r);
  };
  for (size_t i = 0; i < n_in; ++i) {
    if (i < spec.skip.size() && spec.skip[i]) continue;
    res.dxs.push_back(check_gradient("layer \"" + layer.name() + "\" dL/dx" + std::to_string(i),
                                     xs[i].data<float>(), xs[i].numel(), to_vector(dx_store[i]),
                                     loss, spec.options));
  }
  return res;
}

GradCheckResult check_loss_gradient(ff::Loss& loss, ff::Tensor pred, const ff::Tensor& target,
                                    const GradCheckOptions& opts) {
  ff::Backend& be = fftest::backend();
  const int64_t n = pred.shape().at(0);
  const float scale = 1.0f / static_cast<float>(n);
  ff::Tensor grad = ff::Tensor::zeros(be.device(), pred.shape());
  be.fill(grad.data<float>(), grad.numel(), std::nanf(""));  // must be overwritten
  fftest::StateBlock block(1);
  loss.compute(be, pred, target, block.step_sum(0), &grad, scale, block.get(), 0);
  if (block.read().halted) {
    GradCheckResult r;
    r.what = "loss \"" + loss.name() + "\"";
    r.failures = 1;
    r.details = "compute recorded an error in the step state";
    return r;
  }
  auto value = [&]() {
    block.write_step_sum(0, 0.0);
    loss.compute(be, pred, target, block.step_sum(0), nullptr, scale, block.get(), 0);
    return block.read_step_sum(0) / static_cast<double>(n);
  };
  return check_gradient("loss \"" + loss.name() + "\" dL/dpred", pred.data<float>(), pred.numel(),
                        to_vector(grad), value, opts);
}

}  // namespace fftest
