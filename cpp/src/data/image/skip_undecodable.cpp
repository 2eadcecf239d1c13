// skip_undecodable: drops the failure markers that load_images' map emits for files it could not
// decode under on_decode_error="skip", counting images read and files skipped. When a pass ends
// (the input is exhausted) the counts are published to the DecodeReport and, if anything was
// skipped, the pass-end hook is called once. A pass abandoned early publishes nothing, so the
// report always describes a complete pass: read + skipped = files in the pass.
#include "core/errors.h"
#include "data/image/load_images.h"

namespace ff::data::image {

namespace {

class SkipUndecodableDataset : public Dataset {
 public:
  SkipUndecodableDataset(DatasetPtr input, std::shared_ptr<DecodeReport> report, PassEndHook hook)
      : input_(std::move(input)), report_(std::move(report)), hook_(std::move(hook)) {}

  std::unique_ptr<Iterator> make_iterator() const override {
    return std::make_unique<Iter>(input_->make_iterator(), report_, hook_);
  }
  int64_t cardinality() const override {
    const int64_t n = input_->cardinality();
    if (n == kInfiniteCardinality || n == 0) return n;
    return kUnknownCardinality;  // how many files fail is known only after a pass
  }
  std::string name() const override { return "SkipUndecodableImagesDataset"; }

 private:
  class Iter : public Iterator {
   public:
    Iter(std::unique_ptr<Iterator> in, std::shared_ptr<DecodeReport> report, PassEndHook hook)
        : in_(std::move(in)), report_(std::move(report)), hook_(std::move(hook)) {}
    bool next(Element& out) override {
      if (done_) return false;
      Element e;
      while (in_->next(e)) {
        if (!e.empty() && e[0].type == ValueType::String) {  // failure marker [path, reason]
          ++pass_.skipped;
          if (e[0].numel() == 2) pass_.skipped_files.emplace_back(e[0].string_at(0), e[0].string_at(1));
          else pass_.skipped_files.emplace_back("?", "unknown");
          continue;
        }
        ++pass_.read;
        out = std::move(e);
        return true;
      }
      done_ = true;
      if (report_) report_->publish(pass_);
      if (hook_ && pass_.skipped > 0) hook_(pass_);
      return false;
    }

   private:
    std::unique_ptr<Iterator> in_;
    std::shared_ptr<DecodeReport> report_;
    PassEndHook hook_;
    DecodePass pass_;
    bool done_ = false;
  };

  DatasetPtr input_;
  std::shared_ptr<DecodeReport> report_;
  PassEndHook hook_;
};

}  // namespace

DatasetPtr skip_undecodable(DatasetPtr input, std::shared_ptr<DecodeReport> report,
                            PassEndHook on_pass_end) {
  if (!input) throw ValueError("skip_undecodable: no input dataset");
  return std::make_shared<SkipUndecodableDataset>(std::move(input), std::move(report),
                                                  std::move(on_pass_end));
}

}  // namespace ff::data::image
