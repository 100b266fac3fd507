#include "report/report_form.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>
#include <utility>

#include "report/report_html.h"

namespace labtrace::report {

namespace {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(NotFound(fmt::format("{}: cannot be read", path)));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Each word of the form is needed in both languages.
Status SameKeys(const ReportLabels& one, const ReportLabels& other) {
  for (const auto& [key, text] : one.texts()) {
    if (!other.Has(key)) {
      return InvalidArgument(fmt::format(
          "{} has {} but {} does not: each word of the form is needed in both languages",
          one.origin(), key, other.origin()));
    }
  }
  return OkStatus();
}

}  // namespace

Result<ReportForm> LoadTestReportForm(const std::string& dir) {
  const std::string template_path = fmt::format("{}/{}", dir, kTestReportTemplateFile);
  auto text = ReadFile(template_path);
  if (!text) return Error(text.error());
  if (!IsUtf8(*text)) {
    return Error(InvalidArgument(fmt::format("{}: is not UTF-8; save it as UTF-8", template_path)));
  }
  auto page = Template::Parse(*text, template_path);
  if (!page) return Error(page.error());
  auto vi = ReportLabels::Load(fmt::format("{}/{}", dir, kVietnameseLabelsFile));
  if (!vi) return Error(vi.error());
  auto en = ReportLabels::Load(fmt::format("{}/{}", dir, kEnglishLabelsFile));
  if (!en) return Error(en.error());
  if (Status s = SameKeys(*vi, *en); !s.ok()) return Error(s);
  if (Status s = SameKeys(*en, *vi); !s.ok()) return Error(s);
  ReportForm form{std::move(*page), std::move(*vi), std::move(*en)};
  if (Status s = CheckTestReportForm(form); !s.ok()) return Error(s);
  return form;
}

}  // namespace labtrace::report
