// Phiếu kết quả thử nghiệm — the test report as one self-contained HTML page (ISO/IEC
// 17025 §7.8.2.1, §7.8.6, §7.8.8), Vietnamese first and English alongside. The same page
// is shown on screen and printed to PDF (pdf_printer.h), so the two never differ.
//
// The layout is the form's template, lab-config/report/test-report.html, and its words
// are the form's language files (vi.labels, en.labels): the lab owns its form and edits
// it as a controlled document without a rebuild. The code only turns a TestReport into
// named, escaped values: numbers with a decimal comma for the Vietnamese side and a
// decimal point for the English side, dates and signature times in the lab's time zone,
// statements and decision rules in words, and the verification code's QR code.
//
// Pure; safe on any thread.
#pragma once

#include <string>
#include <string_view>

#include "labtrace/conformity.pb.h"
#include "labtrace/status.h"
#include "report/report_form.h"

namespace labtrace::report {

// Checks a loaded form against what this code prints: its own words (statements, rules,
// meanings, limits) are in the language files, and every name in every branch of the
// template is a value a report provides (rendered against a specimen report that has
// every part). LoadTestReportForm calls it.
Status CheckTestReportForm(const ReportForm& form);

// `report` as HTML. `time_zone` is the lab's IANA zone ("Asia/Ho_Chi_Minh"), in which
// signature times are shown. Fails on an unknown zone, a verification link too long for a
// QR code, or a report whose figures cannot be printed.
Result<std::string> ReportHtml(const TestReport& report, const ReportForm& form,
                               std::string_view time_zone);

}  // namespace labtrace::report
