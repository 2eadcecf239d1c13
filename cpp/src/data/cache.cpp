// cache: the first complete pass over the input is recorded (in memory, or in a file) and every
// later pass replays it. A pass abandoned before the end records nothing (a partial cache would
// silently drop data); with a file, elements go to "<filename>.tmp-<pid>-<n>" which is renamed
// onto <filename> only when the pass completes. An existing <filename> is read as the cache, as
// tf.data does; it is checked while reading (sizes against the file, a trailing end marker).
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>

#include "core/errors.h"
#include "data/ops.h"

namespace ff::data {
namespace {

constexpr char kMagic[8] = {'F', 'F', 'C', 'A', 'C', 'H', 'E', '1'};
constexpr uint32_t kElementTag = 0x454c454du;  // "MELE"
constexpr uint32_t kEndTag = 0x444e4521u;      // "!END"

template <typename T> void put(std::ofstream& f, T v) { f.write(reinterpret_cast<const char*>(&v), sizeof(T)); }

void write_element(std::ofstream& f, const Element& e) {
  put<uint32_t>(f, kElementTag);
  put<uint32_t>(f, static_cast<uint32_t>(e.size()));
  for (const Component& c : e) {
    put<uint8_t>(f, static_cast<uint8_t>(c.type));
    put<uint32_t>(f, static_cast<uint32_t>(c.shape.size()));
    for (int64_t d : c.shape) put<int64_t>(f, d);
    if (c.type == ValueType::String) {
      for (int64_t i = 0; i < c.numel(); ++i) {
        const std::string& s = c.string_at(i);
        put<uint64_t>(f, s.size());
        f.write(s.data(), static_cast<std::streamsize>(s.size()));
      }
    } else {
      f.write(static_cast<const char*>(c.data()), static_cast<std::streamsize>(c.nbytes()));
    }
  }
}

class CacheReader {
 public:
  explicit CacheReader(const std::string& path) : path_(path), f_(path, std::ios::binary) {
    if (!f_) throw ValueError("cache: cannot open the cache file " + path);
    f_.seekg(0, std::ios::end);
    size_ = static_cast<uint64_t>(f_.tellg());
    f_.seekg(0);
    char magic[8];
    read(magic, 8, "header");
    if (std::string(magic, 8) != std::string(kMagic, 8))
      fail("it does not start with the forgeflow cache header");
  }
  // False at the end marker.
  bool next(Element& out) {
    const uint32_t tag = get<uint32_t>("element tag");
    if (tag == kEndTag) return false;
    if (tag != kElementTag) fail("an element tag is damaged");
    const uint32_t n = get<uint32_t>("component count");
    if (n > 4096) fail("an element claims " + std::to_string(n) + " components");
    out.clear();
    for (uint32_t i = 0; i < n; ++i) {
      const uint8_t type = get<uint8_t>("dtype");
      if (type > static_cast<uint8_t>(ValueType::String)) fail("unknown dtype code " + std::to_string(type));
      const uint32_t ndim = get<uint32_t>("rank");
      if (ndim > 32) fail("a component claims rank " + std::to_string(ndim));
      Shape shape;
      uint64_t numel = 1;
      for (uint32_t d = 0; d < ndim; ++d) {
        const int64_t dim = get<int64_t>("dimension");
        if (dim < 0 || static_cast<uint64_t>(dim) > remaining() + 1) fail("a dimension is out of range");
        numel *= static_cast<uint64_t>(dim);
        if (numel > remaining() * 8 + 1) fail("a component is larger than the file");
        shape.push_back(dim);
      }
      const auto vt = static_cast<ValueType>(type);
      if (vt == ValueType::String) {
        std::vector<std::string> values;
        for (uint64_t k = 0; k < numel; ++k) {
          const uint64_t len = get<uint64_t>("string length");
          if (len > remaining()) fail("a string runs past the end of the file");
          std::string s(len, '\0');
          read(s.data(), len, "string");
          values.push_back(std::move(s));
        }
        out.push_back(Component::make_strings(shape, std::move(values)));
      } else {
        const uint64_t bytes = numel * value_size(vt);
        if (bytes > remaining()) fail("a component runs past the end of the file");
        void* dst = nullptr;
        out.push_back(Component::make(vt, shape, &dst));
        read(dst, bytes, "values");
      }
    }
    return true;
  }

 private:
  uint64_t remaining() { return size_ - static_cast<uint64_t>(f_.tellg()); }
  template <typename T> T get(const char* what) {
    T v;
    read(&v, sizeof(T), what);
    return v;
  }
  void read(void* dst, uint64_t n, const char* what) {
    if (n > remaining()) fail(std::string("it ends inside a ") + what);
    f_.read(static_cast<char*>(dst), static_cast<std::streamsize>(n));
    if (!f_) fail(std::string("reading a ") + what + " failed");
  }
  [[noreturn]] void fail(const std::string& why) {
    throw ValueError("cache: the cache file " + path_ + " is damaged (" + why +
                     "); delete it to rebuild the cache");
  }
  std::string path_;
  std::ifstream f_;
  uint64_t size_ = 0;
};

bool file_exists(const std::string& path) { return std::ifstream(path).good(); }

class CacheDataset : public Dataset {
 public:
  CacheDataset(DatasetPtr input, std::string filename)
      : input_(std::move(input)), filename_(std::move(filename)) {}

  std::unique_ptr<Iterator> make_iterator() const override {
    if (filename_.empty()) {
      std::lock_guard<std::mutex> lock(mu_);
      if (memory_complete_) return std::make_unique<ReplayMemory>(memory_);
    } else if (file_exists(filename_)) {
      return std::make_unique<ReplayFile>(filename_);
    }
    return std::make_unique<Record>(this, input_->make_iterator());
  }
  int64_t cardinality() const override { return input_->cardinality(); }
  std::string name() const override { return "CacheDataset"; }

 private:
  class ReplayMemory : public Iterator {
   public:
    explicit ReplayMemory(std::shared_ptr<const std::vector<Element>> items) : items_(std::move(items)) {}
    bool next(Element& out) override {
      if (i_ >= items_->size()) return false;
      out = (*items_)[i_++];
      return true;
    }

   private:
    std::shared_ptr<const std::vector<Element>> items_;
    size_t i_ = 0;
  };
  class ReplayFile : public Iterator {
   public:
    explicit ReplayFile(const std::string& path) : reader_(path) {}
    bool next(Element& out) override { return reader_.next(out); }

   private:
    CacheReader reader_;
  };
  // The first pass: passes elements through and records them.
  class Record : public Iterator {
   public:
    Record(const CacheDataset* owner, std::unique_ptr<Iterator> in) : owner_(owner), in_(std::move(in)) {
      if (!owner_->filename_.empty()) {
        static std::atomic<uint64_t> serial{0};
        tmp_ = owner_->filename_ + ".tmp-" + std::to_string(getpid()) + "-" + std::to_string(serial++);
        file_.open(tmp_, std::ios::binary | std::ios::trunc);
        if (!file_) throw ValueError("cache: cannot write the cache file " + tmp_);
        file_.write(kMagic, 8);
      }
    }
    ~Record() override {
      if (file_.is_open()) file_.close();
      if (!tmp_.empty() && !finished_) std::remove(tmp_.c_str());
    }
    bool next(Element& out) override {
      if (!in_->next(out)) {
        finish();
        return false;
      }
      if (file_.is_open()) {
        write_element(file_, out);
        if (!file_) throw ValueError("cache: writing the cache file " + tmp_ + " failed (disk full?)");
      } else {
        items_.push_back(out);
      }
      return true;
    }

   private:
    void finish() {
      if (finished_) return;
      finished_ = true;
      if (file_.is_open()) {
        put<uint32_t>(file_, kEndTag);
        file_.close();
        if (!file_ || std::rename(tmp_.c_str(), owner_->filename_.c_str()) != 0) {
          std::remove(tmp_.c_str());
          throw ValueError("cache: could not complete the cache file " + owner_->filename_);
        }
        return;
      }
      std::lock_guard<std::mutex> lock(owner_->mu_);
      if (!owner_->memory_complete_) {
        owner_->memory_ = std::make_shared<const std::vector<Element>>(std::move(items_));
        owner_->memory_complete_ = true;
      }
    }
    const CacheDataset* owner_;
    std::unique_ptr<Iterator> in_;
    std::vector<Element> items_;
    std::string tmp_;
    std::ofstream file_;
    bool finished_ = false;
  };

  DatasetPtr input_;
  std::string filename_;
  mutable std::mutex mu_;
  mutable bool memory_complete_ = false;
  mutable std::shared_ptr<const std::vector<Element>> memory_;
};

}  // namespace

DatasetPtr cache(DatasetPtr input, std::string filename) {
  return std::make_shared<CacheDataset>(std::move(input), std::move(filename));
}

}  // namespace ff::data
