// A document's printed form, as the lab keeps it in lab-config/report/: the template
// (test-report.html) and its words in each language (vi.labels, en.labels). The lab owns
// its form and edits it as a controlled document without a rebuild; the daemon loads and
// checks it once at start.
#pragma once

#include <string>
#include <string_view>

#include "labtrace/status.h"
#include "report/report_labels.h"
#include "report/report_template.h"

namespace labtrace::report {

// The file names of a test report form in its folder.
inline constexpr std::string_view kTestReportTemplateFile = "test-report.html";
inline constexpr std::string_view kVietnameseLabelsFile = "vi.labels";
inline constexpr std::string_view kEnglishLabelsFile = "en.labels";

struct ReportForm {
  Template page;
  ReportLabels vi;
  ReportLabels en;
};

// Loads a test report form from `dir` (lab-config/report) and checks it whole, so that a
// broken form stops the daemon at start, not the first report: the files are UTF-8, both
// languages have the same keys, and CheckTestReportForm (report_html.h) passes.
Result<ReportForm> LoadTestReportForm(const std::string& dir);

}  // namespace labtrace::report
