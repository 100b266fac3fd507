#include "config/proto_file.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

namespace labtrace::config {

namespace {
class FirstTextError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (text_.empty()) text_ = fmt::format("{}:{}: {}", line + 1, column + 1, message);
  }
  std::string text_;
};
}  // namespace

Status ReadProtoFile(const std::string& path, google::protobuf::Message& message) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return NotFound(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  std::stringstream text;
  text << file.rdbuf();
  if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0) {
    const auto status = google::protobuf::util::JsonStringToMessage(text.str(), &message);
    if (!status.ok()) return InvalidArgument(fmt::format("{}: {}", path, std::string(status.message())));
    return OkStatus();
  }
  FirstTextError errors;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text.str(), &message)) {
    return InvalidArgument(fmt::format("{}:{}", path, errors.text_));
  }
  return OkStatus();
}

}  // namespace labtrace::config
