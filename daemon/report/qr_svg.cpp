#include "report/qr_svg.h"

#include <fmt/format.h>
#include <qrencode.h>

#include <memory>

#include "report/report_template.h"

namespace labtrace::report {

namespace {
constexpr int kQuietZone = 4;  // modules of white around the symbol (ISO/IEC 18004 §6.3.8)
}

Result<std::string> QrSvg(std::string_view text) {
  if (text.empty()) return Error(InvalidArgument("a QR code needs something to encode"));
  const std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
      QRcode_encodeData(static_cast<int>(text.size()),
                        reinterpret_cast<const unsigned char*>(text.data()), 0, QR_ECLEVEL_M),
      &QRcode_free);
  if (!code) {
    return Error(InvalidArgument(
        fmt::format("\"{}\" does not fit in a QR code ({} bytes)", text, text.size())));
  }
  const int width = code->width;
  const int size = width + 2 * kQuietZone;
  // One path: each run of dark modules on a row is one rectangle.
  std::string path;
  for (int y = 0; y < width; ++y) {
    for (int x = 0; x < width;) {
      if ((code->data[y * width + x] & 1) == 0) {
        ++x;
        continue;
      }
      int run = 1;
      while (x + run < width && (code->data[y * width + x + run] & 1) != 0) ++run;
      path += fmt::format("M{} {}h{}v1h-{}z", x + kQuietZone, y + kQuietZone, run, run);
      x += run;
    }
  }
  return fmt::format(
      "<svg class=\"qr\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {0} {0}\" "
      "shape-rendering=\"crispEdges\" "
      "role=\"img\" aria-label=\"{1}\"><rect width=\"{0}\" height=\"{0}\" fill=\"#fff\"/>"
      "<path fill=\"#000\" d=\"{2}\"/></svg>",
      size, EscapeHtml(text), path);
}

}  // namespace labtrace::report
