// Where in a lab-config file a field is, for messages that say file:line:column and the
// field's path. Internal to the config library.
#pragma once

#include <cassert>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include "labtrace/config.pb.h"
#include "labtrace/status.h"

namespace labtrace::config {

namespace pb = google::protobuf;

// Collects the text parser's first error with its position (line and column 0-based).
class FirstError : public pb::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (!message_.empty()) return;
    line_ = line;
    column_ = column;
    message_ = message;
  }
  bool has_error() const { return !message_.empty(); }
  std::string Format(std::string_view file) const {
    return fmt::format("{}:{}:{}: {}", file, line_ + 1, column_ + 1, message_);
  }

 private:
  int line_ = 0, column_ = 0;
  std::string message_;
};

// One step of a path into the Lab message: a field and, for repeated fields, an index.
struct Step {
  std::string_view field;
  int index = -1;
};

// Turns a path like {{"instruments", 1}, {"modbus"}, {"register_map"}} into the
// "file:line:column: instruments[1].modbus.register_map" prefix of a message. When the
// field itself is absent from the file, points at the nearest enclosing field that is.
class Locator {
 public:
  Locator(std::string_view file, const pb::TextFormat::ParseInfoTree& root)
      : file_(file), root_(root) {}

  std::string At(const std::vector<Step>& path) const {
    const pb::Descriptor* descriptor = Lab::descriptor();
    const pb::TextFormat::ParseInfoTree* tree = &root_;
    pb::TextFormat::ParseLocation best{0, 0};
    std::string name;
    for (const Step& step : path) {
      const pb::FieldDescriptor* field = descriptor->FindFieldByName(std::string(step.field));
      assert(field != nullptr && "validation names a field the schema does not have");
      if (!name.empty()) name += '.';
      name += step.field;
      if (step.index >= 0) name += fmt::format("[{}]", step.index);
      if (tree != nullptr) {
        const auto location = tree->GetLocation(field, step.index);
        if (location.line >= 0) best = location;
        tree = field->message_type() ? tree->GetTreeForNested(field, step.index) : nullptr;
      }
      descriptor = field->message_type();
    }
    return fmt::format("{}:{}:{}: {}", file_, best.line + 1, best.column + 1, name);
  }

 private:
  std::string_view file_;
  const pb::TextFormat::ParseInfoTree& root_;
};

inline Status Invalid(const std::string& where, std::string_view what) {
  return InvalidArgument(fmt::format("{}: {}", where, what));
}

// Validation of the lab's metrology: reference standards, procedures, MPE tables and
// environment sensors (metrology_config.cpp).
Status ValidateMetrology(const Lab& lab, const Locator& at);

// Validation of conformity testing: test methods, signatories, review policy, support
// lines (conformity_config.cpp).
Status ValidateConformity(const Lab& lab, const Locator& at);

// Validation and defaults of the text drivers' blocks (mt_sics, sbi, scpi, line) of one
// instrument (text_driver_config.cpp). `here` turns a path below the instrument into
// the "file:line:column: instruments[i].…" prefix.
using PlaceInInstrument = std::function<std::string(std::initializer_list<Step>)>;
Status ValidateTextDriver(const Instrument& instrument, const PlaceInInstrument& here);
void FillTextDriverDefaults(Instrument& instrument);

// Validation of an instrument the daemon does not read (driver "upload"), with its result
// file profile, and the profile's defaults (upload_config.cpp).
Status ValidateUploadInstrument(const Lab& lab, const Instrument& instrument, const PlaceInInstrument& here);
void FillResultFileDefaults(const Lab& lab, Instrument& instrument);

}  // namespace labtrace::config
