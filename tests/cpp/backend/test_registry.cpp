// Tests of the placement rules (backend/registry.cpp) on their own, for any number of GPUs on a
// machine without one: the physical and visible devices, set_visible_devices (unknown devices,
// the CPU that cannot be hidden, TensorFlow's RuntimeError after the first placement), where new
// models go (FORGEFLOW_DEVICE, hidden GPUs) and when the one-line fallback notice is given.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "backend/registry.h"
#include "core/errors.h"

namespace {

using ff::DeviceId;
using ff::Placement;

std::string ids(const std::vector<DeviceId>& list) {
  std::string s;
  for (const auto& d : list) s += (s.empty() ? "" : " ") + ff::device_id_str(d);
  return s;
}

}  // namespace

TEST_CASE("Placement: physical devices, the CPU first, all visible at start", "[placement]") {
  Placement two(2, "", true);
  CHECK(ids(two.physical_devices()) == "CPU:0 GPU:0 GPU:1");
  CHECK(ids(two.visible_devices()) == "CPU:0 GPU:0 GPU:1");
  Placement none(0, "no GPU is visible (CUDA reports 0 devices)", true);
  CHECK(ids(none.physical_devices()) == "CPU:0");
}

TEST_CASE("Placement: set_visible_devices by type, in physical order", "[placement]") {
  Placement p(3, "", true);
  p.set_visible_devices({{"GPU", 2}, {"GPU", 0}}, "GPU");
  CHECK(ids(p.visible_devices()) == "CPU:0 GPU:0 GPU:2");
  // Logical GPU 1 is the second visible one: physical GPU 2.
  CHECK(p.physical_gpu(1) == 2);
  CHECK(ff::device_id_str(p.resolve("GPU:1")) == "GPU:2");
  CHECK(ff::device_id_str(p.resolve("/physical_device:GPU:1")) == "GPU:1");
  CHECK_THROWS_WITH(p.physical_gpu(2), Catch::StartsWith("No matching devices found for 'GPU:2'"));
  p.set_visible_devices({}, "GPU");
  CHECK(ids(p.visible_devices()) == "CPU:0");
  // device_type None: the whole list.
  p.set_visible_devices({{"CPU", 0}, {"GPU", 1}}, "");
  CHECK(ids(p.visible_devices()) == "CPU:0 GPU:1");
}

TEST_CASE("Placement: set_visible_devices refuses unknown devices and hiding the CPU",
          "[placement]") {
  Placement p(1, "", true);
  CHECK_THROWS_AS(p.set_visible_devices({{"GPU", 1}}, "GPU"), ff::ValueError);
  CHECK_THROWS_WITH(p.set_visible_devices({{"GPU", 1}}, "GPU"),
                    Catch::StartsWith("Unrecognized device: GPU:1; the physical devices are "
                                      "CPU:0, GPU:0"));
  CHECK_THROWS_WITH(p.set_visible_devices({{"CPU", 0}}, "GPU"),
                    Catch::StartsWith("Unrecognized device: CPU:0 is not a GPU device"));
  CHECK_THROWS_WITH(p.set_visible_devices({}, "CPU"),
                    Catch::StartsWith("The CPU cannot be hidden"));
  CHECK_THROWS_WITH(p.set_visible_devices({{"GPU", 0}}, ""),
                    Catch::StartsWith("The CPU cannot be hidden"));
  CHECK_THROWS_WITH(p.set_visible_devices({}, "TPU"),
                    Catch::StartsWith("device_type must be \"CPU\", \"GPU\" or None"));
  CHECK(ids(p.visible_devices()) == "CPU:0 GPU:0");  // unchanged by the failures
}

TEST_CASE("Placement: the visible devices cannot change after the first placement",
          "[placement]") {
  Placement p(2, "", true);
  CHECK_FALSE(p.initialised());
  const auto c = p.choose(nullptr);
  CHECK(p.initialised());
  CHECK(c.type == ff::DeviceType::CUDA);
  CHECK(c.gpu == 0);
  CHECK_THROWS_AS(p.set_visible_devices({}, "GPU"), std::runtime_error);
  CHECK_THROWS_WITH(p.set_visible_devices({}, "GPU"),
                    Catch::StartsWith("Visible devices cannot be modified after being "
                                      "initialized"));
  CHECK(ids(p.visible_devices()) == "CPU:0 GPU:0 GPU:1");
  // Setting what is already visible is no change (as in TensorFlow).
  p.set_visible_devices({{"GPU", 0}, {"GPU", 1}}, "GPU");
  p.set_visible_devices({{"CPU", 0}}, "CPU");
  // Without GPUs, hiding "all GPUs" changes nothing either.
  Placement cpu_only(0, "this build of forgeflow has no CUDA backend", false);
  cpu_only.choose(nullptr);
  cpu_only.set_visible_devices({}, "GPU");
}

TEST_CASE("Placement: new models go to the first visible GPU, else the CPU", "[placement]") {
  Placement p(2, "", true);
  p.set_visible_devices({{"GPU", 1}}, "GPU");
  auto c = p.choose(nullptr);
  CHECK(c.type == ff::DeviceType::CUDA);
  CHECK(c.gpu == 1);
  CHECK(c.notice.empty());
  c = p.choose("cpu");
  CHECK(c.type == ff::DeviceType::CPU);
  c = p.choose("cuda");
  CHECK(c.gpu == 1);
  CHECK_THROWS_WITH(p.choose("tpu"),
                    "FORGEFLOW_DEVICE must be \"cpu\" or \"cuda\"; received \"tpu\"");

  Placement hidden(1, "", true);
  hidden.set_visible_devices({}, "GPU");
  c = hidden.choose("");
  CHECK(c.type == ff::DeviceType::CPU);
  CHECK(c.notice.empty());  // hiding the GPUs is a choice: no notice
  CHECK_THROWS_WITH(hidden.choose("cuda"),
                    Catch::Contains("FORGEFLOW_DEVICE=cuda but the GPUs are hidden"));
}

TEST_CASE("Placement: the fallback notice, once, only where a GPU was expected",
          "[placement]") {
  SECTION("a CUDA build without a usable GPU: one line saying why, at the first placement") {
    Placement p(0, "the CUDA backend library could not be loaded:\n  /x/libforgeflow_cuda.so: "
                   "libcudart.so.13: cannot open shared object file",
                true);
    const auto first = p.choose(nullptr);
    CHECK(first.type == ff::DeviceType::CPU);
    CHECK(first.notice ==
          "forgeflow: no GPU will be used, running on the CPU: the CUDA backend library could "
          "not be loaded: /x/libforgeflow_cuda.so: libcudart.so.13: cannot open shared object "
          "file. (FORGEFLOW_DEVICE=cpu chooses the CPU without this notice.)");
    CHECK(first.notice.find('\n') == std::string::npos);
    CHECK(p.choose(nullptr).notice.empty());  // once
    CHECK_THROWS_WITH(p.choose("cuda"),
                      Catch::StartsWith("FORGEFLOW_DEVICE=cuda but no GPU can be used: the CUDA "
                                        "backend library could not be loaded"));
  }
  SECTION("no device") {
    Placement p(0, "no GPU is visible (CUDA reports 0 devices)", true);
    CHECK(p.choose(nullptr).notice ==
          "forgeflow: no GPU will be used, running on the CPU: no GPU is visible (CUDA reports 0 "
          "devices). (FORGEFLOW_DEVICE=cpu chooses the CPU without this notice.)");
  }
  SECTION("FORGEFLOW_DEVICE=cpu: an explicit choice, no notice (also not later)") {
    Placement p(0, "no usable GPU: CUDA driver version is insufficient", true);
    CHECK(p.choose("cpu").notice.empty());
    CHECK_FALSE(p.choose(nullptr).notice.empty());
  }
  SECTION("set_visible_devices([], \"GPU\") on a machine without GPUs: a choice, no notice") {
    Placement p(0, "no GPU is visible (CUDA reports 0 devices)", true);
    p.set_visible_devices({}, "GPU");
    CHECK(p.choose(nullptr).notice.empty());
  }
  SECTION("a CPU-only build expects no GPU: no notice") {
    Placement p(0, "this build of forgeflow has no CUDA backend", false);
    const auto c = p.choose(nullptr);
    CHECK(c.type == ff::DeviceType::CPU);
    CHECK(c.notice.empty());
  }
}

TEST_CASE("Placement: device names as TensorFlow writes them", "[placement]") {
  Placement p(1, "", true);
  for (const char* name : {"GPU:0", "gpu:0", "/GPU:0", "/device:GPU:0", "cuda:0", "GPU",
                           "/job:localhost/replica:0/task:0/device:GPU:0",
                           "/physical_device:GPU:0"})
    CHECK(ff::device_id_str(p.resolve(name)) == "GPU:0");
  for (const char* name : {"CPU:0", "cpu", "/device:CPU:0", "/physical_device:CPU:0"})
    CHECK(ff::device_id_str(p.resolve(name)) == "CPU:0");
  CHECK_THROWS_WITH(p.resolve("GPU:1"), "No matching devices found for 'GPU:1': the visible "
                                        "devices are CPU:0, GPU:0");
  CHECK_THROWS_WITH(p.resolve("CPU:1"), Catch::StartsWith("No matching devices found for 'CPU:1'"));
  for (const char* name : {"TPU:0", "GPU:x", "GPU:", "", "GPU:-1", "gpu0"})
    CHECK_THROWS_WITH(p.resolve(name), Catch::StartsWith(std::string("Failed parsing device name: '") +
                                                         name + "'"));
  Placement none(0, "no GPU is visible (CUDA reports 0 devices)", true);
  CHECK_THROWS_WITH(none.resolve("GPU:0"),
                    "No matching devices found for 'GPU:0': the visible devices are CPU:0 (no "
                    "GPU: no GPU is visible (CUDA reports 0 devices))");
  none.set_visible_devices({}, "GPU");
}
