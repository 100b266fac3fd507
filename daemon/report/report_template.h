// The document templates' language: a small, strict subset of Mustache.
//
//   {{name}}          the value, escaped as HTML text (& < > " ' become entities), so an
//                     enterprise called  A & B "<Co>"  prints exactly that
//   {{css:name}}      the value as the inside of a CSS string, for the @page margin boxes
//                     (HTML entities mean nothing inside <style>: " \ < are \hex escapes)
//   {{#name}}…{{/name}}  repeated once per item of a list, or once when a flag is set
//   {{^name}}…{{/name}}  shown when a list is empty or a flag is clear
//
// Unlike Mustache, a name the data does not provide is an error with its line and
// column, not a blank: a misspelt field must not vanish from a signed report. Only code
// can put markup into a document (TemplateData::Markup, for the QR code's SVG); a
// template cannot unescape a value.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "labtrace/status.h"

namespace labtrace::report {

class TemplateData;

struct TemplateValue {
  enum class Kind { kText, kMarkup, kFlag, kList } kind = Kind::kText;
  std::string text;
  bool on = false;
  std::vector<std::unique_ptr<TemplateData>> items;
};

// The values one template is rendered with: a tree of named texts, flags and lists,
// built by the code that knows the record. A name inside a section is looked up in the
// current item first, then outwards.
class TemplateData {
 public:
  void Text(std::string name, std::string text);
  // Markup made by code and trusted as it is: never text that came from a record.
  void Markup(std::string name, std::string html);
  void Flag(std::string name, bool on);
  // Declares a list, empty until AddItem appends to it.
  void List(std::string name);
  TemplateData& AddItem(const std::string& list);

  const TemplateValue* Find(std::string_view name) const;

 private:
  std::map<std::string, TemplateValue, std::less<>> values_;
};

// A parsed template. Parsing checks the syntax (balanced sections, known tags); the
// names are checked when it is rendered.
class Template {
 public:
  // `origin` names the template in errors: "lab-config/report/test-report.html".
  static Result<Template> Parse(std::string_view text, std::string origin);
  Result<std::string> Render(const TemplateData& data) const;
  // Checks every name of every branch against `specimen`: both sides of each flag, and
  // each list's section against the list's first item (so a specimen has one in each).
  // A form is checked so when it is loaded, before any report depends on it.
  Status Check(const TemplateData& specimen) const;

  struct Node;

 private:
  std::string origin_;
  std::vector<Node> nodes_;
};

struct Template::Node {
  enum class Kind { kLiteral, kText, kCss, kSection, kInverted } kind = Kind::kLiteral;
  std::string text;  // the literal, or the name
  unsigned line = 0, column = 0;
  std::vector<Node> children;
};

// HTML text and attribute escaping: & < > " ' as entities.
std::string EscapeHtml(std::string_view text);
// The inside of a double-quoted CSS string: letters, digits, spaces, - _ . , : / ( ) and
// every non-ASCII character kept (no byte of a UTF-8 sequence is ASCII), every other
// ASCII character as "\hex " (so no " ends the string and no </style> ends the sheet).
std::string EscapeCssString(std::string_view utf8);

}  // namespace labtrace::report
