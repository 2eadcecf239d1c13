// Bindings of ff.data (submodule _core.data): the Dataset class (an opaque pipeline node), its
// operations, iterators that hand elements to Python as NumPy arrays, Python functions as map /
// interleave functions (run under the GIL), and the Feed that the model's loops read batches
// from. Waiting on a pipeline always releases the GIL, so worker threads that call back into
// Python cannot deadlock against the thread that waits for them.
#include <cstdio>
#include <map>

#include "backend/registry.h"
#include "bindings.h"
#include "core/errors.h"
#include "data/pinned_buffers.h"
#include "data/ops.h"
#include "data/transforms/transforms.h"
#include "model/dataset_feed.h"

namespace ff::bindings {
namespace {

using data::Component;
using data::DatasetPtr;
using data::Element;
using data::ValueType;

ValueType value_type_of(const py::array& a) {
  const char kind = a.dtype().kind();
  const auto size = a.dtype().itemsize();
  if (kind == 'f' && size == 4) return ValueType::Float32;
  if (kind == 'f' && size == 8) return ValueType::Float64;
  if (kind == 'i' && size == 4) return ValueType::Int32;
  if (kind == 'i' && size == 8) return ValueType::Int64;
  if (kind == 'u' && size == 1) return ValueType::UInt8;
  if (kind == 'b') return ValueType::Bool;
  if (kind == 'U' || kind == 'O' || kind == 'S') return ValueType::String;
  throw TypeError("ff.data takes arrays of float32, float64, int32, int64, uint8, bool or str; "
                  "received dtype " + py::str(a.dtype()).cast<std::string>() +
                  ". Convert it explicitly (e.g. .astype('int32')); nothing is cast silently.");
}

// A copy of a NumPy array (any contiguity) as a Component.
Component component_from_py(const py::handle& obj) {
  py::array a = py::array::ensure(obj);
  if (!a) throw TypeError("ff.data expected an array-like value, received " +
                          py::str(py::type::of(obj)).cast<std::string>());
  const ValueType type = value_type_of(a);
  Shape shape(a.shape(), a.shape() + a.ndim());
  if (type == ValueType::String) {
    std::vector<std::string> values;
    py::list flat = a.attr("ravel")().attr("tolist")();
    for (auto item : flat) {
      if (py::isinstance<py::bytes>(item)) values.push_back(item.cast<std::string>());
      else if (py::isinstance<py::str>(item)) values.push_back(item.cast<std::string>());
      else
        throw TypeError("ff.data: an object array must hold only str or bytes; found " +
                        py::str(py::type::of(item)).cast<std::string>());
    }
    return Component::make_strings(shape, std::move(values));
  }
  auto contiguous = py::array::ensure(a, py::array::c_style);
  void* dst = nullptr;
  Component c = Component::make(type, shape, &dst);
  if (c.nbytes()) std::memcpy(dst, contiguous.data(), c.nbytes());
  return c;
}

// A pinned pool's counters as a dict (PinnedBufferPool.stats and the tests' pinned passes).
py::dict pool_stats_dict(const data::PinnedBufferPool::Stats& s) {
  py::dict stats;
  stats["allocations"] = s.allocations;
  stats["takes"] = s.takes;
  stats["blocks"] = s.blocks;
  stats["lent"] = s.lent;
  stats["misses"] = s.misses;
  stats["max_per_size"] = s.max_per_size;
  return stats;
}

py::list element_to_py(const Element& e) {
  py::list out;
  for (const Component& c : e) out.append(component_to_py(c));
  return out;
}

Element element_from_py(const py::handle& seq) {
  Element e;
  for (auto item : seq) e.push_back(component_from_py(item));
  return e;
}

// A Python callable held safely by std::functions that worker threads copy and destroy: the
// reference is dropped under the GIL.
std::shared_ptr<py::object> hold(py::object fn) {
  return std::shared_ptr<py::object>(new py::object(std::move(fn)), [](py::object* o) {
    py::gil_scoped_acquire gil;
    delete o;
  });
}

// Iterating from Python: next() returns the flat list of components, or None at the end. With
// `pinned` (a model's input_batch_pool()), the pass is opened as that model's Feed opens one
// (DatasetFeed::begin: the pool, `queued` 0), so its batches are written into pinned memory: fit
// looks at the first batch of such a pass and then resumes it as the epoch's source.
class PyIterator {
 public:
  explicit PyIterator(const DatasetPtr& d,
                      const std::shared_ptr<data::PinnedBufferPool>& pinned = nullptr)
      : dataset_(d) {
    py::gil_scoped_release release;
    data::IterationOptions options;
    options.pinned = pinned;
    it_ = d->make_iterator_for(options);
  }
  ~PyIterator() { close(); }
  py::object next() {
    if (!it_) return py::none();
    Element e;
    bool got;
    {
      py::gil_scoped_release release;
      got = it_->next(e);
    }
    if (!got) {
      close();
      return py::none();
    }
    return element_to_py(e);
  }
  // The first element of this pass, kept: resume_dataset() then hands out the whole pass.
  py::object peek() {
    if (!peeked_) {
      if (!it_) throw ValueError("internal: peek() on a finished iterator");
      Element e;
      bool got;
      {
        py::gil_scoped_release release;
        got = it_->next(e);
      }
      if (!got) return py::none();
      first_ = std::move(e);
      peeked_ = true;
    }
    return element_to_py(first_);
  }
  // Drops the next n elements of the pass (the peeked one first).
  void skip(int64_t n) {
    if (n > 0 && peeked_) {
      peeked_ = false;
      first_.clear();
      --n;
    }
    py::gil_scoped_release release;
    Element dropped;
    for (; n > 0 && it_ && it_->next(dropped); --n) {}
  }
  // The rest of this pass (the peeked element first) as a one-pass dataset.
  DatasetPtr resume_dataset() {
    if (!it_) throw ValueError("internal: resume_dataset() on a finished iterator");
    const bool had_first = peeked_;
    peeked_ = false;
    return data::resume(std::move(it_), had_first, std::move(first_), dataset_->cardinality());
  }
  void close() {
    if (!it_) return;
    py::gil_scoped_release release;  // worker threads may be waiting for the GIL
    it_.reset();
  }

 private:
  DatasetPtr dataset_;
  std::unique_ptr<data::Iterator> it_;
  Element first_;
  bool peeked_ = false;
};

class PyFeed {
 public:
  PyFeed(const DatasetPtr& d, FeedSpec spec) {
    py::gil_scoped_release release;
    feed_ = std::make_unique<DatasetFeed>(d, std::move(spec));
  }
  ~PyFeed() {
    py::gil_scoped_release release;
    feed_.reset();
  }
  DatasetFeed& feed() { return *feed_; }

 private:
  std::unique_ptr<DatasetFeed> feed_;
};

TargetKind target_kind(const std::string& s) {
  if (s == "none") return TargetKind::None;
  if (s == "float32") return TargetKind::Float32;
  if (s == "int64") return TargetKind::ClassIndex;
  throw ValueError("internal: unknown target kind " + s);
}

}  // namespace

py::object component_to_py(const Component& c) {
  std::vector<py::ssize_t> shape(c.shape.begin(), c.shape.end());
  if (c.type == ValueType::String) {
    py::list values;
    for (int64_t i = 0; i < c.numel(); ++i) values.append(py::str(c.string_at(i)));
    py::module_ np = py::module_::import("numpy");
    return np.attr("array")(values, py::arg("dtype") = "str").attr("reshape")(py::tuple(py::cast(shape)));
  }
  py::array out(py::dtype(data::value_type_name(c.type)), shape);
  if (c.nbytes()) std::memcpy(out.mutable_data(), c.data(), c.nbytes());
  return std::move(out);
}

namespace {

struct PendingCall {
  std::string module, function, message;
};

int run_pending_call(void* arg) {
  std::unique_ptr<PendingCall> call(static_cast<PendingCall*>(arg));
  try {
    py::module_::import(call->module.c_str()).attr(call->function.c_str())(call->message);
  } catch (py::error_already_set& e) {
    e.restore();
    return -1;
  }
  return 0;
}

}  // namespace

void post_python_call(std::string module, std::string function, std::string message) {
  auto* call = new PendingCall{std::move(module), std::move(function), std::move(message)};
  if (Py_AddPendingCall(&run_pending_call, call) != 0) {  // the queue is full: say it anyway
    std::fprintf(stderr, "forgeflow warning: %s\n", call->message.c_str());
    delete call;
  }
}

DatasetFeed& feed_of(py::handle feed) { return feed.cast<PyFeed&>().feed(); }

void init_data(py::module_& m) {
  py::module_ d = m.def_submodule("data", "forgeflow's input pipeline (ff.data)");
  d.attr("AUTOTUNE") = data::kAutotune;
  d.def("live_buffers", &data::HostBuffer::live_count,
        "Pipeline host buffers alive in the process (for leak checks).");
  d.attr("INFINITE_CARDINALITY") = data::kInfiniteCardinality;
  d.attr("UNKNOWN_CARDINALITY") = data::kUnknownCardinality;

  py::class_<data::Dataset, DatasetPtr>(d, "Dataset")
      .def("cardinality", &data::Dataset::cardinality)
      .def_property_readonly("name", &data::Dataset::name);

  py::class_<data::PinnedBufferPool, std::shared_ptr<data::PinnedBufferPool>>(
      d, "PinnedBufferPool",
      "Page-locked blocks a pipeline writes its batches into for a model on a GPU "
      "(model._core.input_batch_pool(); data/pinned_buffers.h)")
      .def_property_readonly("stats", [](const data::PinnedBufferPool& pool) {
        return pool_stats_dict(pool.stats());
      });

  py::class_<PyIterator>(d, "Iterator")
      .def(py::init<const DatasetPtr&, const std::shared_ptr<data::PinnedBufferPool>&>(),
           py::arg("dataset"), py::arg("pinned") = nullptr)
      .def("next", &PyIterator::next)
      .def("peek", &PyIterator::peek)
      .def("resume_dataset", &PyIterator::resume_dataset)
      .def("skip", &PyIterator::skip)
      .def("close", &PyIterator::close);

  py::class_<PyFeed>(d, "Feed")
      .def(py::init([](const DatasetPtr& ds, std::vector<int> inputs, std::vector<bool> as_column,
                       std::vector<std::string> input_names, const py::list& input_shapes,
                       std::vector<int> targets,
                       const std::vector<std::string>& kinds, std::vector<std::string> target_names,
                       std::vector<std::string> loss_names, bool sharded) {
        FeedSpec spec;
        spec.sharded = sharded;
        spec.inputs = std::move(inputs);
        spec.input_as_column = std::move(as_column);
        spec.input_names = std::move(input_names);
        for (auto shape : input_shapes) spec.input_shapes.push_back(shape_from_py(shape));
        spec.targets = std::move(targets);
        for (const auto& k : kinds) spec.target_kinds.push_back(target_kind(k));
        spec.target_names = std::move(target_names);
        spec.loss_names = std::move(loss_names);
        return std::make_unique<PyFeed>(ds, std::move(spec));
      }), py::arg("dataset"), py::arg("inputs"), py::arg("as_column"), py::arg("input_names"),
         py::arg("input_shapes"), py::arg("targets"), py::arg("kinds"), py::arg("target_names"),
         py::arg("loss_names"), py::arg("sharded") = false,
         "sharded: the dataset is this worker's shard already (by file): a data-parallel loop "
         "leaves its batches whole instead of taking this worker's rows of each")
      .def_property_readonly("batches", [](PyFeed& f) { return f.feed().batches(); });

  d.def("from_tensor_slices", [](const py::list& arrays) {
    return data::from_tensor_slices(element_from_py(arrays));
  }, "Slices a list of arrays along their first axis (the arrays are copied).");
  d.def("map_py", [](DatasetPtr in, py::object fn, int64_t parallel, std::string name) {
    auto held = hold(std::move(fn));
    data::MapFn call = [held](const Element& e, int64_t, uint64_t) {
      py::gil_scoped_acquire gil;
      py::object out = (*held)(element_to_py(e));
      // Copied once, on this worker thread, into new components: into the pinned pool of a pass
      // that feeds a GPU (the map op's OutputPoolScope, data/element.h).
      return element_from_py(out);
    };
    // Every result is a copy (element_from_py): the input batches need not be pinned.
    return data::map(std::move(in), std::move(call), parallel, std::move(name),
                     data::MapResults::AllNew);
  }, "map with a Python function of the flat component list, returning a flat list.");
  d.def("pinned_pool_for_testing", [] {
    return std::make_shared<data::PinnedBufferPool>(device_by_name("CPU:0"));
  }, "TESTS ONLY: a PinnedBufferPool over the CPU's memory (its allocate_pinned), standing in "
     "for a GPU model's input_batch_pool().");
  d.def("pinned_passes_for_testing", [](const DatasetPtr& ds, int64_t passes,
                                        std::shared_ptr<data::PinnedBufferPool> pool) {
    // A consumer that asks for pinned batches, as the model on a GPU does (DatasetFeed::begin),
    // from a pool over the CPU's memory (its allocate_pinned, or `pool`), refilled after every
    // element (as the model's loop refills it before every batch).
    if (!pool) pool = std::make_shared<data::PinnedBufferPool>(device_by_name("CPU:0"));
    data::IterationOptions options;
    options.pinned = pool;
    py::list out;
    for (int64_t p = 0; p < passes; ++p) {
      std::unique_ptr<data::Iterator> it;
      {
        py::gil_scoped_release release;  // a Python map function's workers take the GIL
        it = ds->make_iterator_for(options);
      }
      py::list pass;
      while (true) {
        Element e;
        bool got;
        {
          py::gil_scoped_release release;
          got = it->next(e);
          if (got) pool->refill();
        }
        if (!got) break;
        py::list pinned;
        for (const Component& c : e) pinned.append(c.bytes && c.bytes->pinned());
        pass.append(py::make_tuple(element_to_py(e), pinned));
      }
      {
        py::gil_scoped_release release;
        it.reset();
      }
      out.append(pass);
    }
    return py::make_tuple(out, pool_stats_dict(pool->stats()));
  }, py::arg("dataset"), py::arg("passes"), py::arg("pool") = nullptr,
     "TESTS ONLY: `passes` passes over the dataset for a consumer that asks for pinned batches "
     "(data::IterationOptions) from a pool over the CPU's memory (a new one, or `pool`): per "
     "pass a list of (the element's arrays, whether each is in a pool block), and the pool's "
     "stats. (A resumed pass keeps the options it was opened with.)");
  d.def("interleave_py", [](DatasetPtr in, py::object fn, int64_t cycle, int64_t block, int64_t parallel) {
    auto held = hold(std::move(fn));
    data::InterleaveFn make = [held](const Element& e, int64_t) {
      py::gil_scoped_acquire gil;
      return (*held)(element_to_py(e)).cast<DatasetPtr>();
    };
    return data::interleave(std::move(in), std::move(make), cycle, block, parallel);
  });
  // Built-in transforms (ff.data.transforms): C++ map functions, run on worker threads.
  d.def("map_rescale", [](DatasetPtr in, size_t component, float scale, float offset, int64_t parallel) {
    return data::map(std::move(in), data::transforms::rescale(component, scale, offset), parallel, "Rescale");
  });
  d.def("map_cast", [](DatasetPtr in, size_t component, const std::string& to, int64_t parallel) {
    static const std::map<std::string, ValueType> types{
        {"float32", ValueType::Float32}, {"float64", ValueType::Float64}, {"int32", ValueType::Int32},
        {"int64", ValueType::Int64}, {"uint8", ValueType::UInt8}, {"bool", ValueType::Bool}};
    auto t = types.find(to);
    if (t == types.end())
      throw ValueError("Cast: dtype must be one of float32, float64, int32, int64, uint8, bool; "
                       "received " + to);
    return data::map(std::move(in), data::transforms::cast(component, t->second), parallel, "Cast");
  });
  d.def("map_one_hot", [](DatasetPtr in, size_t component, int64_t depth, int64_t parallel) {
    return data::map(std::move(in), data::transforms::one_hot(component, depth), parallel, "OneHot");
  });
  d.def("shuffle", &data::shuffle);
  d.def("batch", &data::batch);
  d.def("repeat", &data::repeat);
  d.def("take", &data::take);
  d.def("skip", &data::skip);
  d.def("shard", &data::shard, py::arg("dataset"), py::arg("num_shards"), py::arg("index"),
        "tf.data's shard: the elements at positions p with p % num_shards == index");
  d.def("prefetch", &data::prefetch);
  d.def("cache", &data::cache);
}

}  // namespace ff::bindings
