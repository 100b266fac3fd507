#include "cli/record_pages.h"

#include <cassert>
#include <vector>

#include <fmt/format.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>

namespace labtrace::cli {

namespace {

std::string FieldText(const google::protobuf::Message& message, const google::protobuf::FieldDescriptor& field) {
  const google::protobuf::Reflection& reflection = *message.GetReflection();
  using Field = google::protobuf::FieldDescriptor;
  switch (field.cpp_type()) {
    case Field::CPPTYPE_STRING:
      return reflection.GetString(message, &field);
    case Field::CPPTYPE_INT64:
      return std::to_string(reflection.GetInt64(message, &field));
    case Field::CPPTYPE_UINT64:
      return std::to_string(reflection.GetUInt64(message, &field));
    case Field::CPPTYPE_UINT32:
      return std::to_string(reflection.GetUInt32(message, &field));
    case Field::CPPTYPE_BOOL:
      return reflection.GetBool(message, &field) ? "true" : "false";
    default:
      assert(false && "query messages hold strings, whole numbers and bools only");
      return "";
  }
}

}  // namespace

std::string QueryString(const google::protobuf::Message& query) {
  std::vector<const google::protobuf::FieldDescriptor*> set;
  query.GetReflection()->ListFields(query, &set);
  std::string text;
  for (const google::protobuf::FieldDescriptor* field : set) {
    text += fmt::format("{}{}={}", text.empty() ? "?" : "&", field->name(), PercentEncode(FieldText(query, *field)));
  }
  return text;
}

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

JsonPages::JsonPages(const google::protobuf::Descriptor& page, std::FILE* out) : list_(nullptr), out_(out) {
  for (int i = 0; i < page.field_count() && list_ == nullptr; ++i) {
    if (page.field(i)->is_repeated()) list_ = page.field(i);
  }
  assert(list_ != nullptr && "a page holds its records in a repeated field");
  std::fprintf(out_, "{\"%s\":[", list_->name().c_str());
}

void JsonPages::Add(const google::protobuf::Message& page) {
  const google::protobuf::Reflection& reflection = *page.GetReflection();
  for (int i = 0; i < reflection.FieldSize(page, list_); ++i) {
    std::fprintf(out_, "%s%s", first_ ? "" : ",", ToJson(reflection.GetRepeatedMessage(page, list_, i)).c_str());
    first_ = false;
  }
}

void JsonPages::Finish() { std::fputs("]}\n", out_); }

}  // namespace labtrace::cli
