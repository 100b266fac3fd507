// The words of a document in one language, from one language file per language
// (lab-config/report/vi.labels, en.labels): lines of `key = text`, # comments, blank
// lines. The quality manager edits the words without touching the template or the code.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "labtrace/status.h"

namespace labtrace::report {

class ReportLabels {
 public:
  // `origin` names the file in errors. A key twice, a line without "=", a key that is not
  // [a-z0-9_]+, an empty text or text that is not UTF-8 are refused with file:line.
  static Result<ReportLabels> Parse(std::string_view text, std::string origin);
  static Result<ReportLabels> Load(const std::string& path);

  // The text of `key`; the key must exist (the form checks every key it uses at load).
  const std::string& operator[](std::string_view key) const;
  bool Has(std::string_view key) const { return texts_.find(key) != texts_.end(); }
  const std::map<std::string, std::string, std::less<>>& texts() const { return texts_; }
  const std::string& origin() const { return origin_; }

 private:
  std::string origin_;
  std::map<std::string, std::string, std::less<>> texts_;
};

// Valid UTF-8 (no overlong forms, no surrogates), as every text on a report must be.
bool IsUtf8(std::string_view text);

}  // namespace labtrace::report
