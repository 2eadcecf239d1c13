// Bindings of the image-folder pipeline (submodule _core.data): load_images (the decode + resize
// map stage behind ff.utils.image_dataset_from_directory, with its skip report), and single-file
// helpers behind ff.utils.load_img (decode_image_file, load_image), and the process-wide decode
// memory budget. Files skipped under on_decode_error="skip" are reported as one Python warning
// per pass, posted with post_python_call (bind_data.cpp) because the pass ends on a pipeline
// thread that may not hold the GIL. File names are bytes in C++ (os.fsencode on the way in,
// os.fsdecode, i.e. surrogateescape, on the way out), so names that are not UTF-8 work.
#include <cstring>
#include <memory>

#include "bindings.h"
#include "core/errors.h"
#include "data/image/image.h"
#include "data/image/gpu_jpeg.h"
#include "data/image/load_images.h"
#include "data/image/resize.h"

namespace ff::bindings {
namespace {

namespace img = data::image;

img::PassEndHook python_warning_hook() {
  return [](const img::DecodePass& pass) {
    post_python_call("forgeflow.utils.image_dataset", "_warn_skipped_files",
                     img::skip_warning_message(pass));
  };
}

// A path argument (str, bytes or os.PathLike) as the bytes the OS uses (os.fsencode).
std::string fs_path(const py::handle& path) {
  py::object encoded = py::module_::import("os").attr("fsencode")(path);
  return encoded.cast<std::string>();
}

// File-name bytes as Python's os.fsdecode gives them (undecodable bytes as surrogates).
py::str fs_str(const std::string& bytes) {
  PyObject* s =
      PyUnicode_DecodeFSDefaultAndSize(bytes.data(), static_cast<Py_ssize_t>(bytes.size()));
  if (!s) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(s);
}

img::AspectMode aspect_of(bool crop, bool pad) {
  if (crop && pad)
    throw ValueError("Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be set to "
                     "`True`.");
  return crop ? img::AspectMode::Crop : pad ? img::AspectMode::Pad : img::AspectMode::Stretch;
}

// The decode-and-resize settings load_images and load_image share.
img::LoadOptions load_options(int64_t height, int64_t width, int channels,
                              const std::string& interpolation, bool crop, bool pad) {
  img::LoadOptions o;
  o.height = height;
  o.width = width;
  o.channels = channels;
  o.interpolation = img::parse_interpolation(interpolation);
  o.aspect = aspect_of(crop, pad);
  return o;
}

}  // namespace

void init_data_image(py::module_& m) {
  py::module_ d = m.attr("data").cast<py::module_>();

  py::class_<img::DecodeReport, std::shared_ptr<img::DecodeReport>>(
      d, "ImageDecodeReport",
      "Files read and skipped in the last complete pass of an image dataset built with "
      "on_decode_error=\"skip\" (read + skipped = files in the pass).")
      .def_property_readonly("passes", &img::DecodeReport::passes,
                             "Number of complete passes so far.")
      .def_property_readonly("read", [](const img::DecodeReport& r) { return r.last().read; })
      .def_property_readonly("skipped", [](const img::DecodeReport& r) { return r.last().skipped; })
      .def_property_readonly("total", [](const img::DecodeReport& r) {
        auto p = r.last();
        return p.read + p.skipped;
      })
      .def_property_readonly("skipped_files", [](const img::DecodeReport& r) {
        py::list out;
        for (const auto& [path, reason] : r.last().skipped_files)
          out.append(py::make_tuple(fs_str(path), py::str(reason)));
        return out;
      }, "List of (path, reason) for the files skipped in the last complete pass (paths as "
         "in file_paths: str, undecodable bytes as surrogates).");

  d.def("load_images",
        [](data::DatasetPtr input, int64_t height, int64_t width, int channels,
           const std::string& interpolation, bool crop, bool pad, bool channels_first,
           bool skip_errors, int64_t num_parallel_calls, bool decode_on_gpu) {
          img::LoadOptions o = load_options(height, width, channels, interpolation, crop, pad);
          o.channels_first = channels_first;
          o.skip_errors = skip_errors;
          o.decode_on_gpu = decode_on_gpu;
          std::shared_ptr<img::DecodeReport> report;
          img::PassEndHook hook;
          if (skip_errors) {
            report = std::make_shared<img::DecodeReport>();
            hook = python_warning_hook();
          }
          data::DatasetPtr out = img::load_images(std::move(input), o, num_parallel_calls, report, hook);
          return py::make_tuple(out, report ? py::cast(report) : py::none());
        },
        py::arg("input"), py::arg("height"), py::arg("width"), py::arg("channels"),
        py::arg("interpolation"), py::arg("crop_to_aspect_ratio"), py::arg("pad_to_aspect_ratio"),
        py::arg("channels_first"), py::arg("skip_errors"), py::arg("num_parallel_calls"),
        py::arg("decode_on_gpu") = false,
        "Maps component 0 (file paths) to decoded, resized float32 images on worker threads "
        "(JPEGs decoded by nvJPEG on the GPU when decode_on_gpu); returns (dataset, report) where "
        "report is None unless skip_errors.");

  d.def("decode_image_file",
        [](const py::object& path_arg, int channels) {
          const std::string path = fs_path(path_arg);
          img::DecodeOptions o;
          o.channels = channels;
          img::DecodedImage im;
          {
            py::gil_scoped_release release;
            im = img::decode_image_file(path, o);
          }
          py::array_t<uint8_t> out({static_cast<py::ssize_t>(im.height),
                                    static_cast<py::ssize_t>(im.width),
                                    static_cast<py::ssize_t>(im.channels)});
          std::memcpy(out.mutable_data(), im.pixels.data(), im.pixels.size());
          return out;
        },
        py::arg("path"), py::arg("channels"),
        "Decodes one image file (format from its bytes) to a uint8 (H, W, channels) array.");

  d.def("load_image",
        [](const py::object& path_arg, int64_t height, int64_t width, int channels,
           const std::string& interpolation, bool crop, bool pad, bool decode_on_gpu) {
          const std::string path = fs_path(path_arg);
          img::LoadOptions o = load_options(height, width, channels, interpolation, crop, pad);
          o.decode_on_gpu = decode_on_gpu;
          img::check_load_options(o);
          data::Component c;
          {
            py::gil_scoped_release release;
            c = img::load_image(path, o);
          }
          return component_to_py(c);
        },
        py::arg("path"), py::arg("height"), py::arg("width"), py::arg("channels"),
        py::arg("interpolation"), py::arg("crop_to_aspect_ratio") = false,
        py::arg("pad_to_aspect_ratio") = false, py::arg("decode_on_gpu") = false,
        "Decodes and resizes one file exactly as image_dataset_from_directory does; float32 "
        "(height, width, channels).");

  d.def("check_gpu_jpeg", [] { return img::gpu_jpeg_device(); },
        "The GPU nvJPEG would decode on; ValueError saying why decode_device=\"gpu\" cannot be "
        "used here.");

  d.def("gpu_jpeg_counts", [] {
          const img::GpuJpegCounts c = img::gpu_jpeg_counts();
          py::dict out;
          out["decoded"] = c.decoded;
          out["to_cpu"] = c.to_cpu;
          return out;
        },
        "JPEGs decoded by nvJPEG (decode_device=\"gpu\") and those it passed to the CPU decoder, "
        "in this process.");

  d.def("image_decode_budget", [] {
          data::ByteBudget& b = img::image_decode_budget();
          py::dict out;
          out["capacity"] = b.capacity();
          out["in_use"] = b.in_use();
          out["peak"] = b.peak();
          return out;
        },
        "The decode memory budget shared by every image pipeline: capacity, bytes reserved now, "
        "and the most reserved at once since the last reset_image_decode_budget_peak().");
  d.def("set_image_decode_budget", [](int64_t capacity) {
          img::image_decode_budget().set_capacity(capacity);
        },
        py::arg("capacity"), "Sets the capacity of the decode memory budget, in bytes.");
  d.def("reset_image_decode_budget_peak", [] { img::image_decode_budget().reset_peak(); });
}

}  // namespace ff::bindings
