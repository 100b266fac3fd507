// Reading any schema message from a file the lab writes: protobuf text format, or JSON
// (protobuf's canonical mapping) when the file name ends in .json. Errors name the file
// and, for text format, the line and column.
#pragma once

#include <string>

#include <google/protobuf/message.h>

#include "labtrace/status.h"

namespace labtrace::config {

Status ReadProtoFile(const std::string& path, google::protobuf::Message& message);

}  // namespace labtrace::config
