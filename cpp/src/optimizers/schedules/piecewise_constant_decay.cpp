// PiecewiseConstantDecay (Keras 3): values[0] while step <= boundaries[0], values[i] while
// boundaries[i-1] < step <= boundaries[i], values.back() once step > boundaries.back().
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/errors.h"
#include "optimizers/schedules/learning_rate_schedule.h"

namespace ff {
namespace {

class PiecewiseConstantDecay final : public LearningRateSchedule {
 public:
  PiecewiseConstantDecay(std::vector<double> boundaries, std::vector<float> values)
      : boundaries_(std::move(boundaries)), values_(std::move(values)) {}
  ScheduleSpec spec() const override {
    ScheduleSpec s;
    s.kind = ScheduleKind::Piecewise;
    s.pieces = static_cast<int32_t>(values_.size());
    s.boundaries = boundaries_.data();
    s.values = values_.data();
    return s;
  }
  std::string class_name() const override { return "PiecewiseConstantDecay"; }

 private:
  std::vector<double> boundaries_;
  std::vector<float> values_;
};

std::string list_text(const std::vector<double>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ", ";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v[i]);
    out += buf;
  }
  return out + "]";
}

}  // namespace

std::shared_ptr<LearningRateSchedule> make_piecewise_constant_decay(
    const std::vector<double>& boundaries, const std::vector<double>& values) {
  if (values.size() != boundaries.size() + 1)
    throw ValueError(
        "PiecewiseConstantDecay: the length of boundaries should be 1 less than the length of "
        "values. Received: boundaries=" + list_text(boundaries) + " of length " +
        std::to_string(boundaries.size()) + ", and values=" + list_text(values) + " of length " +
        std::to_string(values.size()) + ".");
  for (size_t i = 0; i < boundaries.size(); ++i) {
    if (std::isnan(boundaries[i]))
      throw ValueError("PiecewiseConstantDecay: boundaries must be numbers; received NaN at index " +
                       std::to_string(i));
    if (i && !(boundaries[i] > boundaries[i - 1]))
      throw ValueError("PiecewiseConstantDecay: boundaries must be strictly increasing; received " +
                       list_text(boundaries));
  }
  std::vector<float> v(values.begin(), values.end());
  return std::make_shared<PiecewiseConstantDecay>(boundaries, std::move(v));
}

}  // namespace ff
