// Tests of model/dataset_feed.cpp: components picked and converted at the model boundary
// (uint8 inputs to float32, int32 labels to int64), the strict refusals (float labels for a
// sparse loss, strings, unbatched scalars), and the end of the data.
#include <catch2/catch.hpp>

#include "core/errors.h"
#include "data/ops.h"
#include "model/dataset_feed.h"

using namespace ff;
using data::Component;
using data::ValueType;

namespace {

Component bytes_component(ValueType t, const Shape& shape, const std::vector<double>& values) {
  void* dst = nullptr;
  Component c = Component::make(t, shape, &dst);
  for (size_t i = 0; i < values.size(); ++i) {
    switch (t) {
      case ValueType::UInt8: static_cast<uint8_t*>(dst)[i] = static_cast<uint8_t>(values[i]); break;
      case ValueType::Int32: static_cast<int32_t*>(dst)[i] = static_cast<int32_t>(values[i]); break;
      case ValueType::Float32: static_cast<float*>(dst)[i] = static_cast<float>(values[i]); break;
      default: throw std::logic_error("test helper: type");
    }
  }
  return c;
}

FeedSpec spec(TargetKind kind) {
  FeedSpec s;
  s.inputs = {0};
  s.input_as_column = {false};
  s.input_names = {"x"};
  s.targets = {1};
  s.target_kinds = {kind};
  s.target_names = {"y"};
  s.loss_names = {"sparse_categorical_crossentropy"};
  return s;
}

}  // namespace

TEST_CASE("DatasetFeed converts uint8 inputs to float32 and int32 labels to int64", "[data]") {
  auto ds = data::batch(data::from_tensor_slices({
      bytes_component(ValueType::UInt8, {3, 2}, {0, 255, 1, 2, 3, 4}),
      bytes_component(ValueType::Int32, {3}, {2, 0, 1})}), 2, false);
  DatasetFeed feed(ds, spec(TargetKind::ClassIndex));
  Batch batch;
  auto& xs = batch.xs;
  auto& ys = batch.ys;
  REQUIRE(feed.next(batch));
  REQUIRE(xs[0].dtype == DType::Float32);
  REQUIRE(xs[0].shape == Shape{2, 2});
  REQUIRE(static_cast<const float*>(xs[0].data)[1] == 255.0f);
  REQUIRE(ys[0].dtype == DType::Int64);
  REQUIRE(static_cast<const int64_t*>(ys[0].data)[0] == 2);
  REQUIRE(feed.next(batch));
  REQUIRE(xs[0].shape == Shape{1, 2});
  REQUIRE_FALSE(feed.next(batch));
  REQUIRE_FALSE(feed.next(batch));  // stays ended
  REQUIRE(feed.batches() == 2);
}

TEST_CASE("DatasetFeed refuses float labels for a sparse loss, strings and unbatched data", "[data]") {
  auto floats = data::batch(data::from_tensor_slices({
      bytes_component(ValueType::Float32, {2, 1}, {0, 1}),
      bytes_component(ValueType::Float32, {2}, {1, 0})}), 2, false);
  Batch batch;
  auto& xs = batch.xs;
  auto& ys = batch.ys;
  DatasetFeed a(floats, spec(TargetKind::ClassIndex));
  REQUIRE_THROWS_WITH(a.next(batch), Catch::Contains("expects integer class indices") &&
                                          Catch::Contains("float32") &&
                                          Catch::Contains("not cast silently"));
  DatasetFeed b(floats, spec(TargetKind::Float32));  // a dense loss takes them
  REQUIRE(b.next(batch));

  auto strings = data::batch(data::from_tensor_slices({
      Component::make_strings({2}, {"a", "b"}),
      bytes_component(ValueType::Int32, {2}, {1, 0})}), 2, false);
  DatasetFeed c(strings, spec(TargetKind::ClassIndex));
  REQUIRE_THROWS_WITH(c.next(batch), Catch::Contains("holds strings"));

  auto unbatched = data::from_tensor_slices({bytes_component(ValueType::Float32, {2}, {0, 1}),
                                             bytes_component(ValueType::Int32, {2}, {1, 0})});
  DatasetFeed d(unbatched, spec(TargetKind::ClassIndex));
  REQUIRE_THROWS_WITH(d.next(batch), Catch::Contains(".batch(batch_size)"));
}

TEST_CASE("DatasetFeed gives a data-parallel worker its rows of every global batch", "[data]") {
  // 5 rows in batches of 3: global batches of 3 and 2 rows; worker 1 of 2 takes rows [2, 3) of
  // the first and [1, 2) of the second (the core's split: the first workers one row more).
  auto ds = data::batch(data::from_tensor_slices({
      bytes_component(ValueType::Float32, {5, 1}, {10, 11, 12, 13, 14}),
      bytes_component(ValueType::Int32, {5}, {0, 1, 2, 0, 1})}), 3, false);
  DatasetFeed feed(ds, spec(TargetKind::ClassIndex));
  feed.set_replica(1, 2);
  Batch batch;
  REQUIRE(feed.next(batch));
  REQUIRE(batch.count == 1);
  REQUIRE(batch.global_count == 3);
  REQUIRE(batch.position == 2);
  REQUIRE(batch.xs[0].shape == Shape{1, 1});
  REQUIRE(static_cast<const float*>(batch.xs[0].data)[0] == 12.0f);
  REQUIRE(static_cast<const int64_t*>(batch.ys[0].data)[0] == 2);
  const uint64_t first = feed.split_fingerprint();
  REQUIRE(first != 0);  // the pass's first global batch, for the workers to compare
  REQUIRE(feed.next(batch));
  REQUIRE(feed.split_fingerprint() == 0);
  REQUIRE(batch.count == 1);
  REQUIRE(batch.global_count == 2);
  REQUIRE(batch.position == 4);
  REQUIRE(static_cast<const float*>(batch.xs[0].data)[0] == 14.0f);
  REQUIRE_FALSE(feed.next(batch));

  // Worker 0 of 2 hashes the same first global batch.
  DatasetFeed zero(ds, spec(TargetKind::ClassIndex));
  zero.set_replica(0, 2);
  REQUIRE(zero.next(batch));
  REQUIRE(batch.count == 2);
  REQUIRE(zero.split_fingerprint() == first);

  // A dataset sharded by file already: its batches stay whole.
  FeedSpec own = spec(TargetKind::ClassIndex);
  own.sharded = true;
  DatasetFeed whole(ds, own);
  whole.set_replica(1, 2);
  REQUIRE(whole.next(batch));
  REQUIRE(batch.count == 3);
  REQUIRE(batch.global_count == -1);
  REQUIRE(whole.split_fingerprint() == 0);
}
