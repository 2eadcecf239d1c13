// DatasetFeed: picks and converts the model's inputs and targets from each dataset batch.
#include "model/dataset_feed.h"

#include "core/errors.h"
#include "distribute/collective.h"

namespace ff {
namespace {

using data::Component;
using data::ValueType;

template <typename Out, typename In>
void convert(const void* src, void* dst, int64_t n) {
  const In* s = static_cast<const In*>(src);
  Out* d = static_cast<Out*>(dst);
  for (int64_t i = 0; i < n; ++i) d[i] = static_cast<Out>(s[i]);
}

template <typename Out>
void convert_any(const Component& c, void* dst) {
  const int64_t n = c.numel();
  switch (c.type) {
    case ValueType::Float32: convert<Out, float>(c.data(), dst, n); break;
    case ValueType::Float64: convert<Out, double>(c.data(), dst, n); break;
    case ValueType::Int32: convert<Out, int32_t>(c.data(), dst, n); break;
    case ValueType::Int64: convert<Out, int64_t>(c.data(), dst, n); break;
    case ValueType::UInt8: convert<Out, uint8_t>(c.data(), dst, n); break;
    case ValueType::Bool: convert<Out, uint8_t>(c.data(), dst, n); break;
    case ValueType::String: throw TypeError("internal: convert_any on strings");
  }
}

bool is_integer(ValueType t) {
  return t == ValueType::Int32 || t == ValueType::Int64 || t == ValueType::UInt8;
}

}  // namespace

DatasetFeed::DatasetFeed(const data::DatasetPtr& dataset, FeedSpec spec)
    : dataset_(dataset), spec_(std::move(spec)) {}

void DatasetFeed::begin(const std::shared_ptr<data::PinnedBufferPool>& pinned) {
  if (started_) return;
  started_ = true;
  data::IterationOptions options;
  options.pinned = pinned;
  it_ = dataset_->make_iterator_for(options);
}

HostArray DatasetFeed::input_array(size_t i) {
  const Component& c = current_.at(static_cast<size_t>(spec_.inputs[i]));
  if (c.type == ValueType::String)
    throw TypeError(spec_.input_names[i] + " from the dataset holds strings (" + c.describe() +
                    "); the model takes numbers. Encode the strings first (e.g. a lookup table "
                    "in map(), or ff.data.csv_dataset, which encodes string columns).");
  const Shape* expected = i < spec_.input_shapes.size() ? &spec_.input_shapes[i] : nullptr;
  const bool single_sample =
      expected && c.shape.size() + 1 == expected->size() &&
      shape_compatible(Shape(expected->begin() + 1, expected->end()), c.shape);
  if (c.shape.empty() || single_sample)
    throw ValueError(spec_.input_names[i] + " from the dataset has shape " + shape_str(c.shape) +
                     (expected ? ", one sample of the model's " + shape_str(*expected) : "") +
                     ": the dataset must be batched (call .batch(batch_size)) before fit/"
                     "evaluate/predict");
  HostArray h;
  h.shape = c.shape;
  if (spec_.input_as_column[i] && h.shape.size() == 1) h.shape.push_back(1);
  h.dtype = DType::Float32;
  if (c.type == ValueType::Float32) {
    h.data = c.data();
    h.owner = c.bytes;
  } else {
    auto buffer = data::HostBuffer::allocate(static_cast<size_t>(c.numel()) * sizeof(float));
    convert_any<float>(c, buffer->data());
    h.data = buffer->data();
    converted_.push_back(std::move(buffer));
  }
  return h;
}

HostArray DatasetFeed::target_array(size_t o) {
  HostArray h;
  if (spec_.targets[o] < 0 || spec_.target_kinds[o] == TargetKind::None) return h;
  const Component& c = current_.at(static_cast<size_t>(spec_.targets[o]));
  const std::string& what = spec_.target_names[o];
  if (c.type == ValueType::String)
    throw TypeError(what + " from the dataset holds strings (" + c.describe() + "); the loss \"" +
                    spec_.loss_names[o] + "\" takes numbers. Encode the labels as integers first.");
  h.shape = c.shape;
  if (spec_.target_kinds[o] == TargetKind::ClassIndex) {
    if (!is_integer(c.type))
      throw TypeError("The loss \"" + spec_.loss_names[o] + "\" expects integer class indices; "
                      "received " + what + " of dtype " + data::value_type_name(c.type) +
                      " from the dataset. Labels are not cast silently: cast them in the "
                      "dataset (e.g. map to int64) if they are whole numbers.");
    h.dtype = DType::Int64;
    if (c.type == ValueType::Int64) {
      h.data = c.data();
      h.owner = c.bytes;
      return h;
    }
    auto buffer = data::HostBuffer::allocate(static_cast<size_t>(c.numel()) * sizeof(int64_t));
    convert_any<int64_t>(c, buffer->data());
    h.data = buffer->data();
    converted_.push_back(std::move(buffer));
    return h;
  }
  h.dtype = DType::Float32;
  if (c.type == ValueType::Float32) {
    h.data = c.data();
    h.owner = c.bytes;
    return h;
  }
  auto buffer = data::HostBuffer::allocate(static_cast<size_t>(c.numel()) * sizeof(float));
  convert_any<float>(c, buffer->data());
  h.data = buffer->data();
  converted_.push_back(std::move(buffer));
  return h;
}

bool DatasetFeed::next(Batch& batch) {
  if (!started_) begin(nullptr);
  if (!it_) return false;
  data::Element e;
  if (!it_->next(e)) {
    it_.reset();
    return false;
  }
  current_ = std::move(e);
  converted_.clear();
  int max_index = -1;
  for (int i : spec_.inputs) max_index = std::max(max_index, i);
  for (int i : spec_.targets) max_index = std::max(max_index, i);
  if (max_index >= static_cast<int>(current_.size()))
    throw ValueError("The dataset's elements have " + std::to_string(current_.size()) +
                     " components, fewer than the model's inputs and targets need");
  batch.xs.clear();
  batch.ys.clear();
  for (size_t i = 0; i < spec_.inputs.size(); ++i) batch.xs.push_back(input_array(i));
  for (size_t o = 0; o < spec_.targets.size(); ++o) batch.ys.push_back(target_array(o));
  batch.rows = nullptr;
  batch.resident = nullptr;
  batch.count = batch.xs.empty() ? 0 : batch.xs[0].rows();
  batch.global_count = -1;
  batch.position = 0;
  fingerprint_ = 0;
  if (replicas() > 1 && !spec_.sharded) {
    if (global_rows_ == 0) {  // the pass's first global batch: its hash (FNV-1a of its arrays)
      uint64_t h = 1469598103934665603ull;
      auto mix = [&](const void* data, size_t bytes) {
        const unsigned char* p = static_cast<const unsigned char*>(data);
        for (size_t k = 0; k < bytes; ++k) {
          h ^= p[k];
          h *= 1099511628211ull;
        }
      };
      for (auto* arrays : {&batch.xs, &batch.ys})
        for (const HostArray& a : *arrays)
          if (a.data) mix(a.data, static_cast<size_t>(a.rows()) * a.row_bytes());
      fingerprint_ = h ? h : 1;
    }
    // This worker's rows of the global batch: the arrays advanced to its first row.
    const int64_t global = batch.count;
    const Chunk share = chunk_of(global, replicas(), replica());
    for (auto* arrays : {&batch.xs, &batch.ys})
      for (HostArray& a : *arrays) {
        if (!a.data) continue;
        if (a.rows() != global)
          throw ValueError("The dataset's batch components have different numbers of rows (" +
                           std::to_string(a.rows()) + " and " + std::to_string(global) +
                           "): a batch cannot be split among the workers");
        a.data = static_cast<const char*>(a.data) +
                 share.begin * static_cast<int64_t>(a.row_bytes());
        a.shape[0] = share.count;
      }
    batch.count = share.count;
    batch.global_count = global;
    batch.position = global_rows_ + share.begin;
    global_rows_ += global;
  }
  ++batches_;
  return true;
}

}  // namespace ff
