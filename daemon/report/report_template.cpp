#include "report/report_template.h"

#include <fmt/format.h>

#include <cctype>

namespace labtrace::report {

void TemplateData::Text(std::string name, std::string text) {
  TemplateValue& v = values_[std::move(name)];
  v.kind = TemplateValue::Kind::kText;
  v.text = std::move(text);
}

void TemplateData::Markup(std::string name, std::string html) {
  TemplateValue& v = values_[std::move(name)];
  v.kind = TemplateValue::Kind::kMarkup;
  v.text = std::move(html);
}

void TemplateData::Flag(std::string name, bool on) {
  TemplateValue& v = values_[std::move(name)];
  v.kind = TemplateValue::Kind::kFlag;
  v.on = on;
}

void TemplateData::List(std::string name) {
  TemplateValue& v = values_[std::move(name)];
  v.kind = TemplateValue::Kind::kList;
}

TemplateData& TemplateData::AddItem(const std::string& list) {
  TemplateValue& v = values_[list];
  v.kind = TemplateValue::Kind::kList;
  v.items.push_back(std::make_unique<TemplateData>());
  return *v.items.back();
}

const TemplateValue* TemplateData::Find(std::string_view name) const {
  const auto it = values_.find(name);
  return it == values_.end() ? nullptr : &it->second;
}

std::string EscapeHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string EscapeCssString(std::string_view utf8) {
  std::string out;
  for (const char c : utf8) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x80 || std::isalnum(byte) ||
        std::string_view(" -_.,:/()").find(c) != std::string_view::npos) {
      out += c;
    } else {
      // The space after the hex digits ends the escape; CSS swallows it.
      out += fmt::format("\\{:x} ", byte);
    }
  }
  return out;
}

namespace {

using Node = Template::Node;

bool IsName(std::string_view name) {
  if (name.empty()) return false;
  for (const char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.') return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

struct Renderer {
  const std::string& origin;
  std::vector<const TemplateData*> scopes;  // outermost first
  bool every_branch = false;                // Check(): visit what a render would skip
  std::string out;

  Status Fail(const Node& node, std::string_view what) const {
    return InvalidArgument(
        fmt::format("{}:{}:{}: {{{{{}}}}}: {}", origin, node.line, node.column, node.text, what));
  }

  const TemplateValue* Lookup(std::string_view name) const {
    for (auto it = scopes.rbegin(); it != scopes.rend(); ++it) {
      if (const TemplateValue* v = (*it)->Find(name)) return v;
    }
    return nullptr;
  }

  Status Render(const std::vector<Node>& nodes) {
    using Kind = TemplateValue::Kind;
    for (const Node& node : nodes) {
      if (node.kind == Node::Kind::kLiteral) {
        out += node.text;
        continue;
      }
      const TemplateValue* value = Lookup(node.text);
      if (value == nullptr) return Fail(node, "the document provides no value of this name");
      switch (node.kind) {
        case Node::Kind::kText:
          if (value->kind == Kind::kText) {
            out += EscapeHtml(value->text);
          } else if (value->kind == Kind::kMarkup) {
            out += value->text;
          } else {
            return Fail(node, "is a list or a flag: use it as a section, {{#…}}");
          }
          break;
        case Node::Kind::kCss:
          if (value->kind != Kind::kText) return Fail(node, "only a text can go into a CSS string");
          out += EscapeCssString(value->text);
          break;
        case Node::Kind::kSection:
        case Node::Kind::kInverted: {
          if (value->kind != Kind::kList && value->kind != Kind::kFlag) {
            return Fail(node, "is a text: a section needs a list or a flag");
          }
          const bool present = value->kind == Kind::kFlag ? value->on : !value->items.empty();
          if (every_branch) {
            if (value->kind == Kind::kList && node.kind == Node::Kind::kSection) {
              if (value->items.empty())
                return Fail(node, "the specimen's list is empty, so it cannot be checked");
              scopes.push_back(value->items.front().get());
            } else {
              scopes.push_back(scopes.back());
            }
            Status s = Render(node.children);
            scopes.pop_back();
            if (!s.ok()) return s;
          } else if (node.kind == Node::Kind::kInverted) {
            if (!present) {
              if (Status s = Render(node.children); !s.ok()) return s;
            }
          } else if (value->kind == Kind::kFlag) {
            if (present) {
              if (Status s = Render(node.children); !s.ok()) return s;
            }
          } else {
            for (const auto& item : value->items) {
              scopes.push_back(item.get());
              Status s = Render(node.children);
              scopes.pop_back();
              if (!s.ok()) return s;
            }
          }
          break;
        }
        case Node::Kind::kLiteral:
          break;
      }
    }
    return OkStatus();
  }
};

}  // namespace

Result<Template> Template::Parse(std::string_view text, std::string origin) {
  Template parsed;
  parsed.origin_ = std::move(origin);
  // Open sections, innermost last; the bottom is the document itself.
  std::vector<std::vector<Node>*> open{&parsed.nodes_};
  std::vector<const Node*> open_tags;
  unsigned line = 1, column = 1;
  auto advance = [&](std::string_view consumed) {
    for (const char c : consumed) {
      if (c == '\n') {
        ++line;
        column = 1;
      } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
        ++column;  // columns count characters, not UTF-8 bytes
      }
    }
  };
  auto fail = [&](unsigned l, unsigned c, std::string_view what) {
    return Error(InvalidArgument(fmt::format("{}:{}:{}: {}", parsed.origin_, l, c, what)));
  };
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t open_at = text.find("{{", pos);
    const std::string_view literal =
        text.substr(pos, open_at == std::string_view::npos ? text.npos : open_at - pos);
    if (!literal.empty())
      open.back()->push_back(Node{Node::Kind::kLiteral, std::string(literal), line, column, {}});
    advance(literal);
    if (open_at == std::string_view::npos) break;
    const size_t close_at = text.find("}}", open_at + 2);
    if (close_at == std::string_view::npos)
      return fail(line, column, "\"{{\" is never closed by \"}}\"");
    const std::string_view tag = Trim(text.substr(open_at + 2, close_at - open_at - 2));
    const unsigned tag_line = line, tag_column = column;
    advance(text.substr(open_at, close_at + 2 - open_at));
    pos = close_at + 2;

    Node node{Node::Kind::kText, "", tag_line, tag_column, {}};
    std::string_view name = tag;
    const char sigil = tag.empty() ? '\0' : tag.front();
    if (sigil == '!') continue;  // a comment
    if (sigil == '{' || sigil == '&') {
      return fail(
          tag_line, tag_column,
          "unescaped output is not part of this template language: values are always escaped");
    }
    if (sigil == '#' || sigil == '^' || sigil == '/') name = Trim(tag.substr(1));
    if (name.substr(0, 4) == "css:") {
      node.kind = Node::Kind::kCss;
      name = Trim(name.substr(4));
    }
    if (!IsName(name)) {
      return fail(tag_line, tag_column,
                  fmt::format("\"{}\" is not a name (letters, digits, _ and .)", name));
    }
    node.text = std::string(name);
    if (sigil == '/') {
      if (open_tags.empty())
        return fail(tag_line, tag_column, fmt::format("{{{{/{}}}}} closes no section", name));
      if (open_tags.back()->text != name) {
        return fail(tag_line, tag_column,
                    fmt::format("{{{{/{}}}}} closes {{{{#{}}}}} of line {}", name,
                                open_tags.back()->text, open_tags.back()->line));
      }
      open.pop_back();
      open_tags.pop_back();
      continue;
    }
    if (sigil == '#' || sigil == '^') {
      node.kind = sigil == '#' ? Node::Kind::kSection : Node::Kind::kInverted;
      open.back()->push_back(std::move(node));
      open_tags.push_back(&open.back()->back());
      open.push_back(&open.back()->back().children);
      continue;
    }
    open.back()->push_back(std::move(node));
  }
  if (!open_tags.empty()) {
    return fail(open_tags.back()->line, open_tags.back()->column,
                fmt::format("{{{{#{}}}}} is never closed", open_tags.back()->text));
  }
  return parsed;
}

Status Template::Check(const TemplateData& specimen) const {
  Renderer renderer{origin_, {&specimen}, true, {}};
  return renderer.Render(nodes_);
}

Result<std::string> Template::Render(const TemplateData& data) const {
  Renderer renderer{origin_, {&data}, false, {}};
  if (Status s = renderer.Render(nodes_); !s.ok()) return Error(s);
  return std::move(renderer.out);
}

}  // namespace labtrace::report
