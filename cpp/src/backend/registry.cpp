// The backend registry and the placement rules (see registry.h).
#include "backend/registry.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <stdexcept>

#include "backend/cpu/cpu_backend.h"
#include "backend/cuda_loader.h"
#include "core/errors.h"

namespace ff {
namespace {

std::string list_str(const std::vector<DeviceId>& ids) {
  std::string s;
  for (const auto& id : ids) s += (s.empty() ? "" : ", ") + device_id_str(id);
  return s.empty() ? "none" : s;
}

// The loader's reason on one line (a library that failed to load lists its candidates on
// lines of their own).
std::string one_line(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') {
      while (!out.empty() && out.back() == ' ') out.pop_back();
      out += !out.empty() && out.back() == ':' ? " " : "; ";
    } else if (!(c == ' ' && !out.empty() && out.back() == ' ')) {
      out += c;
    }
  }
  return out;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string device_id_str(const DeviceId& id) {
  return id.device_type + ":" + std::to_string(id.index);
}

Placement::Placement(int gpu_count, std::string why_no_gpu, bool built_with_cuda)
    : gpu_count_(std::max(gpu_count, 0)),
      why_no_gpu_(one_line(std::move(why_no_gpu))),
      built_with_cuda_(built_with_cuda),
      visible_(physical_devices()) {}

std::vector<DeviceId> Placement::physical_devices() const {
  std::vector<DeviceId> ids{{"CPU", 0}};
  for (int i = 0; i < gpu_count_; ++i) ids.push_back({"GPU", i});
  return ids;
}

std::vector<DeviceId> Placement::visible_devices() const { return visible_; }

void Placement::set_visible_devices(const std::vector<DeviceId>& devices,
                                    const std::string& device_type) {
  if (!device_type.empty() && device_type != "CPU" && device_type != "GPU")
    throw ValueError("device_type must be \"CPU\", \"GPU\" or None; received \"" + device_type +
                     "\"");
  const std::vector<DeviceId> physical = physical_devices();
  for (const auto& d : devices) {
    const bool known = std::find(physical.begin(), physical.end(), d) != physical.end();
    if (!known || (!device_type.empty() && d.device_type != device_type))
      throw ValueError("Unrecognized device: " + device_id_str(d) +
                       (known ? " is not a " + device_type + " device" : "") +
                       "; the physical devices are " + list_str(physical));
  }
  // The devices of other types stay as they are; the new list keeps the physical order.
  std::vector<DeviceId> next;
  for (const auto& d : physical) {
    const bool of_type = device_type.empty() || d.device_type == device_type;
    const bool listed = std::find(devices.begin(), devices.end(), d) != devices.end();
    const bool was = std::find(visible_.begin(), visible_.end(), d) != visible_.end();
    if (of_type ? listed : was) next.push_back(d);
  }
  if (std::find(next.begin(), next.end(), DeviceId{"CPU", 0}) == next.end())
    throw ValueError("The CPU cannot be hidden: the visible devices must include CPU:0 "
                     "(received " + list_str(devices) + " for device_type " +
                     (device_type.empty() ? std::string("None") : "\"" + device_type + "\"") + ")");
  // Saying which GPUs to use (none, on a machine without any) is a choice: no notice then.
  if (device_type != "CPU") gpus_chosen_ = true;
  if (next == visible_) return;
  if (initialised_)
    throw std::runtime_error(
        "Visible devices cannot be modified after being initialized: the first model (or "
        "memory query) placed work on " + list_str(visible_) + ". Call "
        "ff.config.set_visible_devices before creating any model, or set FORGEFLOW_DEVICE=cpu "
        "(or CUDA_VISIBLE_DEVICES) before starting the process.");
  visible_ = std::move(next);
}

int Placement::physical_gpu(int logical) const {
  int seen = 0;
  for (const auto& d : visible_)
    if (d.device_type == "GPU" && seen++ == logical) return d.index;
  throw ValueError("No matching devices found for 'GPU:" + std::to_string(logical) +
                   "': the visible devices are " + list_str(visible_) +
                   (gpu_count_ == 0 ? " (no GPU: " + why_no_gpu_ + ")" : std::string()));
}

Placement::Choice Placement::choose(const char* env) {
  Choice c;
  const std::string name = env ? env : "";
  bool visible_gpu = false;
  for (const auto& d : visible_) visible_gpu = visible_gpu || d.device_type == "GPU";
  if (name == "cpu") {
    // an explicit choice: no notice
  } else if (name == "cuda" || name == "gpu") {
    if (!visible_gpu)
      throw ValueError("FORGEFLOW_DEVICE=" + name + " but " +
                       (gpu_count_ == 0 ? "no GPU can be used: " + why_no_gpu_
                                        : std::string("the GPUs are hidden (ff.config."
                                                      "set_visible_devices)")) +
                       ". Unset FORGEFLOW_DEVICE (or set it to cpu) to train on the CPU.");
    c.type = DeviceType::CUDA;
    c.gpu = physical_gpu(0);
  } else if (!name.empty()) {
    throw ValueError("FORGEFLOW_DEVICE must be \"cpu\" or \"cuda\"; received \"" + name + "\"");
  } else if (visible_gpu) {
    c.type = DeviceType::CUDA;
    c.gpu = physical_gpu(0);
  } else if (built_with_cuda_ && gpu_count_ == 0 && !gpus_chosen_ && !notice_given_) {
    // Hidden GPUs are a choice; a CPU-only build expects no GPU. Only this case is news, and
    // only once.
    notice_given_ = true;
    c.notice = "forgeflow: no GPU will be used, running on the CPU: " + why_no_gpu_ +
               ". (FORGEFLOW_DEVICE=cpu chooses the CPU without this notice.)";
  }
  initialised_ = true;
  return c;
}

DeviceId Placement::resolve(const std::string& name) const {
  std::string rest = name;
  bool physical = false;
  const auto fail = [&]() {
    return ValueError("Failed parsing device name: '" + name +
                      "'; expected a device name like 'GPU:0', '/device:GPU:0' or 'CPU:0'");
  };
  const std::string up = upper(name);
  if (up.rfind("/PHYSICAL_DEVICE:", 0) == 0) {
    physical = true;
    rest = name.substr(17);
  } else if (const auto at = up.rfind("DEVICE:"); at != std::string::npos) {
    rest = name.substr(at + 7);  // "/device:GPU:0", "/job:localhost/.../device:GPU:0"
  } else if (!rest.empty() && rest[0] == '/') {
    rest = rest.substr(1);
  }
  const auto colon = rest.find(':');
  std::string type = upper(rest.substr(0, colon));
  if (type == "CUDA") type = "GPU";
  if (type != "CPU" && type != "GPU") throw fail();
  int index = 0;
  if (colon != std::string::npos) {
    const std::string digits = rest.substr(colon + 1);
    if (digits.empty() || digits.size() > 6 ||
        !std::all_of(digits.begin(), digits.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
      throw fail();
    index = std::stoi(digits);
  }
  const auto absent = [&]() {
    return ValueError("No matching devices found for '" + name + "': the " +
                      (physical ? "physical" : "visible") + " devices are " +
                      list_str(physical ? physical_devices() : visible_) +
                      (type == "GPU" && gpu_count_ == 0 ? " (no GPU: " + why_no_gpu_ + ")"
                                                         : std::string()));
  };
  if (physical) {
    const DeviceId id{type, index};
    const auto all = physical_devices();
    if (std::find(all.begin(), all.end(), id) == all.end()) throw absent();
    return id;
  }
  if (type == "CPU") {
    if (index != 0) throw absent();
    return {"CPU", 0};
  }
  int seen = 0;
  for (const auto& d : visible_)
    if (d.device_type == "GPU" && seen++ == index) return d;
  throw absent();
}

// ---- the process's placement ----

namespace {

#ifdef FORGEFLOW_WITH_CUDA
constexpr bool kBuiltWithCuda = true;
#else
constexpr bool kBuiltWithCuda = false;
#endif

std::mutex& placement_mutex() {
  static std::mutex mu;
  return mu;
}

Placement& placement() {
  static Placement p(load_cuda().device_count, load_cuda().why_none, kBuiltWithCuda);
  return p;
}

struct Notice {
  std::string text;
  std::function<void(const std::string&)> sink;
};

Notice& notice() {
  static Notice n;
  return n;
}

void emit_notice(const std::string& text) {
  std::function<void(const std::string&)> sink;
  {
    std::lock_guard<std::mutex> lock(placement_mutex());
    notice().text = text;
    sink = notice().sink;
  }
  if (sink) {
    sink(text);
  } else {
    std::fprintf(stderr, "%s\n", text.c_str());
    std::fflush(stderr);
  }
}

}  // namespace

std::string device_type_name(DeviceType type) {
  return type == DeviceType::CUDA ? "cuda" : "cpu";
}

std::vector<DeviceType> available_device_types() {
  std::lock_guard<std::mutex> lock(placement_mutex());
  for (const auto& d : placement().visible_devices())
    if (d.device_type == "GPU") return {DeviceType::CUDA, DeviceType::CPU};
  return {DeviceType::CPU};
}

Backend& backend_for(DeviceType type) {
  int gpu = -1;
  {
    std::lock_guard<std::mutex> lock(placement_mutex());
    Placement& p = placement();
    if (type == DeviceType::CUDA) {
      if (load_cuda().device_count == 0)
        throw ValueError("no cuda device: " + one_line(load_cuda().why_none) + "; use the CPU");
      gpu = p.physical_gpu(0);
    }
    p.mark_initialised();
  }
  return type == DeviceType::CPU ? cpu_backend() : cuda_backend(gpu);
}

int first_visible_gpu() {
  std::lock_guard<std::mutex> lock(placement_mutex());
  if (load_cuda().device_count == 0)
    throw ValueError("no cuda device: " + one_line(load_cuda().why_none));
  Placement& p = placement();
  const int gpu = p.physical_gpu(0);
  p.mark_initialised();
  return gpu;
}

Backend& default_backend() {
  Placement::Choice c;
  {
    std::lock_guard<std::mutex> lock(placement_mutex());
    c = placement().choose(std::getenv("FORGEFLOW_DEVICE"));
  }
  // Emitted outside the lock: the Python sink takes the GIL.
  if (!c.notice.empty()) emit_notice(c.notice);
  return c.type == DeviceType::CPU ? cpu_backend() : cuda_backend(c.gpu);
}

std::vector<DeviceId> physical_devices() {
  std::lock_guard<std::mutex> lock(placement_mutex());
  return placement().physical_devices();
}

std::vector<DeviceId> visible_devices() {
  std::lock_guard<std::mutex> lock(placement_mutex());
  return placement().visible_devices();
}

void set_visible_devices(const std::vector<DeviceId>& devices, const std::string& device_type) {
  std::lock_guard<std::mutex> lock(placement_mutex());
  placement().set_visible_devices(devices, device_type);
}

Device& device_by_name(const std::string& name) {
  DeviceId id;
  {
    std::lock_guard<std::mutex> lock(placement_mutex());
    id = placement().resolve(name);
    placement().mark_initialised();
  }
  return id.device_type == "CPU" ? cpu_device() : cuda_backend(id.index).device();
}

bool built_with_cuda() { return kBuiltWithCuda; }

std::string placement_notice() {
  std::lock_guard<std::mutex> lock(placement_mutex());
  return notice().text;
}

void set_notice_sink(std::function<void(const std::string&)> sink) {
  std::lock_guard<std::mutex> lock(placement_mutex());
  notice().sink = std::move(sink);
}

}  // namespace ff
