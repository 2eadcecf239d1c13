// Bindings of the structured-data preprocessing: vocabulary lookup tables, the adapt() token
// counter and the lookup map transform (data/transforms/lookup.h, in _core.data), and the
// CategoryEncoding / IndexLookup layers (layers/category_encoding.h, layers/index_lookup.h, in
// _core). Arguments arrive validated by python/forgeflow/layers/{lookup,category_encoding}.py.
// Lookups and counting run with the GIL released.
#include <utility>

#include "bindings.h"
#include "core/errors.h"
#include "data/ops.h"
#include "data/transforms/lookup.h"
#include "layers/category_encoding.h"
#include "layers/index_lookup.h"

namespace ff::bindings {
namespace {

using data::Component;
using data::DatasetPtr;
using data::ValueType;
using data::transforms::LookupSpec;
using data::transforms::LookupTable;
using data::transforms::TokenCounter;

// A NumPy array of tokens (str/bytes/object for strings, integers otherwise) or indices as a
// Component. Floats are refused: nothing is truncated silently.
Component tokens_from_py(const py::handle& obj, const std::string& what) {
  py::array a = py::array::ensure(obj);
  if (!a) throw TypeError(what + ": expected an array-like value");
  Shape shape(a.shape(), a.shape() + a.ndim());
  const char kind = a.dtype().kind();
  if (kind == 'U' || kind == 'S' || kind == 'O') {
    // Read straight from the array's buffer (no Python list, no temporary str objects): this
    // conversion is most of the cost of a lookup, so it matters for big columns.
    auto arr = py::array::ensure(a, py::array::c_style);
    const int64_t n = static_cast<int64_t>(arr.size());
    const auto width = static_cast<size_t>(arr.dtype().itemsize());
    std::vector<std::string> values(static_cast<size_t>(n));
    const char* base = static_cast<const char*>(arr.data());
    for (int64_t i = 0; i < n; ++i) {
      std::string& out = values[static_cast<size_t>(i)];
      const char* item = base + static_cast<size_t>(i) * width;
      if (kind == 'O') {
        PyObject* o = *reinterpret_cast<PyObject* const*>(item);
        Py_ssize_t size = 0;
        if (PyUnicode_Check(o)) {
          const char* utf8 = PyUnicode_AsUTF8AndSize(o, &size);
          if (!utf8) throw py::error_already_set();
          out.assign(utf8, static_cast<size_t>(size));
        } else if (PyBytes_Check(o)) {
          char* bytes = nullptr;
          PyBytes_AsStringAndSize(o, &bytes, &size);
          out.assign(bytes, static_cast<size_t>(size));
        } else {
          throw TypeError(what + ": an object array must hold only str or bytes; found " +
                          py::str(py::type::of(py::handle(o))).cast<std::string>() + " (" +
                          py::repr(py::handle(o)).cast<std::string>() + ") at flat position " +
                          std::to_string(i));
        }
      } else if (kind == 'S') {
        size_t len = width;
        while (len > 0 && item[len - 1] == '\0') --len;  // NumPy strips trailing NULs
        out.assign(item, len);
      } else {  // 'U': UCS-4 code points, NUL-padded, to UTF-8
        const auto* cp = reinterpret_cast<const uint32_t*>(item);
        size_t len = width / 4;
        while (len > 0 && cp[len - 1] == 0) --len;
        out.reserve(len);
        for (size_t k = 0; k < len; ++k) {
          const uint32_t c = cp[k];
          if (c < 0x80) {
            out.push_back(static_cast<char>(c));
          } else if (c < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (c >> 6)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
          } else if (c < 0x10000) {
            out.push_back(static_cast<char>(0xE0 | (c >> 12)));
            out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
          } else {
            out.push_back(static_cast<char>(0xF0 | (c >> 18)));
            out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
          }
        }
      }
    }
    return Component::make_strings(shape, std::move(values));
  }
  ValueType type;
  if (kind == 'i' && a.dtype().itemsize() == 8)
    type = ValueType::Int64;
  else if (kind == 'i' && a.dtype().itemsize() == 4)
    type = ValueType::Int32;
  else if (kind == 'u' && a.dtype().itemsize() == 1)
    type = ValueType::UInt8;
  else if (kind == 'i' || kind == 'u') {
    a = py::array::ensure(a.attr("astype")("int64"));
    type = ValueType::Int64;
  } else {
    throw TypeError(what + " is an array of dtype " + py::str(a.dtype()).cast<std::string>() +
                    "; expected strings or integers (floats are not truncated silently)");
  }
  auto contiguous = py::array::ensure(a, py::array::c_style);
  void* dst = nullptr;
  Component c = Component::make(type, shape, &dst);
  if (c.nbytes()) std::memcpy(dst, contiguous.data(), c.nbytes());
  return c;
}

std::shared_ptr<LookupTable> make_table(const LookupSpec& spec, const py::list& tokens) {
  if (spec.string_keys) {
    std::vector<std::string> values;
    for (auto t : tokens) {
      if (!py::isinstance<py::str>(t) && !py::isinstance<py::bytes>(t))
        throw TypeError("StringLookup \"" + spec.layer_name +
                        "\": vocabulary terms must be "
                        "strings; found " +
                        py::repr(t).cast<std::string>());
      values.push_back(t.cast<std::string>());
    }
    py::gil_scoped_release release;
    return LookupTable::from_strings(spec, std::move(values));
  }
  std::vector<int64_t> values;
  py::object index = py::module_::import("operator").attr("index");
  for (auto t : tokens) {
    py::object v;
    if (!py::isinstance<py::bool_>(t)) {
      try {
        v = index(t);
      } catch (py::error_already_set&) {
      }
    }
    if (!v)
      throw TypeError("IntegerLookup \"" + spec.layer_name +
                      "\": vocabulary terms must be "
                      "integers; found " +
                      py::repr(t).cast<std::string>());
    values.push_back(v.cast<int64_t>());
  }
  py::gil_scoped_release release;
  return LookupTable::from_ints(spec, std::move(values));
}

py::list table_tokens(const LookupTable& t) {
  py::list out;
  if (t.spec().string_keys) {
    for (const auto& s : t.string_tokens()) out.append(py::str(s));
  } else {
    for (int64_t v : t.int_tokens()) out.append(py::int_(v));
  }
  return out;
}

}  // namespace

void init_lookup(py::module_& m) {
  py::module_ d = m.attr("data");

  py::class_<LookupSpec>(d, "LookupSpec")
      .def(py::init<>())
      .def_readwrite("layer_name", &LookupSpec::layer_name)
      .def_readwrite("string_keys", &LookupSpec::string_keys)
      .def_readwrite("num_oov_indices", &LookupSpec::num_oov_indices)
      .def_readwrite("has_mask", &LookupSpec::has_mask)
      .def_readwrite("mask_string", &LookupSpec::mask_string)
      .def_readwrite("mask_int", &LookupSpec::mask_int)
      .def_readwrite("oov_string", &LookupSpec::oov_string)
      .def_readwrite("oov_int", &LookupSpec::oov_int)
      .def_readwrite("mask_in_vocabulary", &LookupSpec::mask_in_vocabulary);

  py::class_<LookupTable, std::shared_ptr<LookupTable>>(d, "LookupTable")
      .def(py::init(&make_table), py::arg("spec"), py::arg("tokens"),
           "A table over the vocabulary `tokens` (no mask/OOV tokens), indices laid out as Keras.")
      .def_property_readonly("vocabulary_size", &LookupTable::vocabulary_size)
      .def_property_readonly("token_start", &LookupTable::token_start)
      .def_property_readonly("tokens", &table_tokens)
      .def(
          "lookup",
          [](const LookupTable& t, const py::object& values, const std::string& what) {
            Component in = tokens_from_py(values, what);
            Component out;
            {
              py::gil_scoped_release release;
              out = t.lookup(in, what);
            }
            return component_to_py(out);
          },
          py::arg("values"), py::arg("what"), "Tokens to int64 indices (same shape).")
      .def(
          "invert",
          [](const LookupTable& t, const py::object& values, const std::string& what) {
            Component in = tokens_from_py(values, what);
            Component out;
            {
              py::gil_scoped_release release;
              out = t.invert(in, what);
            }
            return component_to_py(out);
          },
          py::arg("values"), py::arg("what"), "Indices back to tokens (same shape).");

  py::class_<TokenCounter>(d, "TokenCounter")
      .def(py::init<std::string, bool>(), py::arg("layer_name"), py::arg("string_keys"))
      .def(
          "add",
          [](TokenCounter& c, const py::object& values) {
            Component in = tokens_from_py(values, "the adapt() data");
            py::gil_scoped_release release;
            c.add(in);
          },
          py::arg("values"))
      .def(
          "add_dataset",
          [](TokenCounter& c, const DatasetPtr& ds, size_t component, int64_t steps) {
            // Streams the dataset batch by batch in C++ (GIL released: worker threads that
            // call back into Python cannot deadlock against this wait).
            py::gil_scoped_release release;
            auto it = ds->make_iterator();
            data::Element e;
            for (int64_t i = 0; (steps < 0 || i < steps) && it->next(e); ++i) {
              if (component >= e.size())
                throw ValueError("adapt(): the dataset's elements have " +
                                 std::to_string(e.size()) + " components, no component " +
                                 std::to_string(component));
              c.add(e[component]);
            }
          },
          py::arg("dataset"), py::arg("component"), py::arg("steps"))
      .def_property_readonly("distinct", &TokenCounter::distinct)
      .def(
          "top",
          [](const TokenCounter& c, const LookupSpec& spec, int64_t max_tokens) {
            py::list out;
            if (spec.string_keys) {
              for (const auto& s : c.top_strings(spec, max_tokens)) out.append(py::str(s));
            } else {
              for (int64_t v : c.top_ints(spec, max_tokens)) out.append(py::int_(v));
            }
            return out;
          },
          py::arg("spec"), py::arg("max_tokens"),
          "The vocabulary by count (ties: highest token first), special tokens left out.");

  d.def(
      "map_lookup",
      [](DatasetPtr in, size_t component, std::shared_ptr<LookupTable> table, std::string what,
         int64_t parallel) {
        return data::map(std::move(in), data::transforms::lookup(component, table, std::move(what)),
                         parallel, table->spec().string_keys ? "StringLookup" : "IntegerLookup");
      },
      py::arg("dataset"), py::arg("component"), py::arg("table"), py::arg("what"),
      py::arg("parallel"));

  py::class_<CategoryEncoding, Layer, std::shared_ptr<CategoryEncoding>>(m, "CategoryEncoding")
      .def(py::init<std::string, uint64_t, int64_t, std::string>(), py::arg("name"),
           py::arg("seed"), py::arg("num_tokens"), py::arg("output_mode"))
      .def_property_readonly("num_tokens", &CategoryEncoding::num_tokens);

  py::class_<IndexLookup, Layer, std::shared_ptr<IndexLookup>>(m, "IndexLookup")
      .def(py::init<std::string, uint64_t, std::string, std::string, int64_t>(), py::arg("name"),
           py::arg("seed"), py::arg("class_name"), py::arg("output_mode"), py::arg("depth"))
      .def_property("depth", &IndexLookup::depth, &IndexLookup::set_depth)
      .def_property_readonly("encodes", &IndexLookup::encodes);

  m.def(
      "category_encode",
      [](const py::array& x, int64_t num_tokens, const std::string& mode, bool skip_negative,
         const std::string& layer) {
        auto arr = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(x);
        if (!arr) throw TypeError("category_encode: expected a numeric array");
        Shape in(arr.shape(), arr.shape() + arr.ndim());
        const CategoryMode kind = category_mode(mode);
        Shape out_shape = category_output_shape(in, num_tokens, kind);
        py::array_t<float> out(std::vector<py::ssize_t>(out_shape.begin(), out_shape.end()));
        const float* src = arr.data();
        float* dst = out.mutable_data();
        {
          py::gil_scoped_release release;
          encode_categories(src, in, num_tokens, kind, skip_negative, dst, layer);
        }
        return out;
      },
      py::arg("x"), py::arg("num_tokens"), py::arg("output_mode"), py::arg("skip_negative"),
      py::arg("layer"), "Host-side categorical encoding (eager calls of the layers).");
}

}  // namespace ff::bindings
