// Prints an HTML document to PDF with Debian's chromium, headless, as a bounded child
// process: its own temporary profile, home and font cache, deleted afterwards; the
// project's fontconfig file as its only fonts (lab-config/report/fonts.conf), so no
// font is substituted silently; no network (its own network namespace where the
// process may make one, and in any case name resolution mapped to nothing, a proxy to
// nowhere and no background services; the template's Content-Security-Policy forbids
// every fetch besides); and a deadline after which the whole process group is killed.
//
// Page numbers "Trang x/y" and the report number come from the page's CSS @page margin
// boxes, which chromium lays out itself (docs/DECISIONS.md, "Test reports").
//
// A print blocks for a few seconds: call it from a worker thread, never from the
// daemon's io_context. Each call is independent; calls may run in parallel.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "labtrace/status.h"

namespace labtrace::report {

struct PdfPrinterOptions {
  std::string chromium = "/usr/bin/chromium";
  // The fontconfig file the child gets as FONTCONFIG_FILE: lab-config/report/fonts.conf.
  std::string fontconfig_file;
  std::chrono::milliseconds timeout{30'000};
  // Where the print's temporary folder is made; empty: $TMPDIR, else /tmp.
  std::string temp_dir;
};

struct PrintedPdf {
  std::string pdf;                      // the file's bytes, "%PDF-…"
  std::chrono::milliseconds elapsed{};  // chromium's start to its exit
  bool own_network_namespace = false;   // chromium ran with no network interface at all
};

// Prints `html` (a whole document) to PDF. Fails with FailedPrecondition when chromium
// or the fontconfig file is missing, DeadlineExceeded when chromium overran (it is killed),
// Internal when it exited with an error or wrote no PDF (with the end of its log).
Result<PrintedPdf> PrintPdf(std::string_view html, const PdfPrinterOptions& options);

// The same for a document already in a file; the PDF is written to `pdf_path`.
Result<PrintedPdf> PrintHtmlFile(const std::string& html_path, const std::string& pdf_path,
                                 const PdfPrinterOptions& options);

}  // namespace labtrace::report
