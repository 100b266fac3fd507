// A QR code (ISO/IEC 18004) as inline SVG, drawn from libqrencode's module matrix, so a
// report's verification link needs no image file and no network to show.
#pragma once

#include <string>
#include <string_view>

#include "labtrace/status.h"

namespace labtrace::report {

// `text` (8-bit mode, error correction level M: a smudged or stamped-over code still
// reads) as an <svg> of square modules with the standard four-module quiet zone.
// Its size on paper is the stylesheet's business (class "qr").
Result<std::string> QrSvg(std::string_view text);

}  // namespace labtrace::report
