// Fuzzes the lab-config loader: any text is either accepted whole or refused with a
// message. A lab it accepts, with its defaults filled in, is printed back as text and must
// be accepted again unchanged: the loader's validation and its defaults agree, and
// nothing it accepts is lost or altered in the protobuf text form an operator edits.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <google/protobuf/text_format.h>
#include <google/protobuf/util/message_differencer.h>

#include "config/lab_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto lab = labtrace::config::ParseLab(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.textproto");
  if (!lab) {
    if (lab.error().message().empty()) __builtin_trap();
    return 0;
  }
  // The tables of MPE files were merged into the lab; printed, they are its own tables.
  labtrace::config::Lab completed = *lab;
  completed.clear_mpe_table_files();
  std::string text;
  if (!google::protobuf::TextFormat::PrintToString(completed, &text)) __builtin_trap();
  auto again = labtrace::config::ParseLab(text, "fuzz.textproto");
  if (!again || !google::protobuf::util::MessageDifferencer::Equals(*again, completed)) __builtin_trap();
  return 0;
}
