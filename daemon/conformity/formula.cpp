#include "conformity/formula.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace labtrace::conformity {

namespace {

using Node = Formula::Node;
using Kind = Formula::Node::Kind;

// Parentheses and minus signs nested deeper than this are refused: no lab formula comes
// near it, and the parser recurses once per level.
constexpr int kMaxDepth = 100;

bool IsNameStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsNameChar(char c) { return IsNameStart(c) || IsDigit(c); }

// Characters before byte `pos`, plus one: a UTF-8 continuation byte does not start one.
size_t Column(std::string_view text, size_t pos) {
  size_t column = 1;
  for (size_t i = 0; i < pos && i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++column;
  }
  return column;
}

// What stands at `pos`, for an error message: the character in quotes (a whole UTF-8
// sequence), a byte in hex when it is not printable, or the end.
std::string Found(std::string_view text, size_t pos) {
  if (pos >= text.size()) return "the end of the formula";
  const auto byte = static_cast<unsigned char>(text[pos]);
  if (byte >= 0x20 && byte < 0x7F) return fmt::format("\"{}\"", text[pos]);
  size_t length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 0;
  if (length > 0 && pos + length <= text.size() &&
      std::all_of(text.begin() + pos + 1, text.begin() + pos + length,
                  [](char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; })) {
    return fmt::format("\"{}\"", text.substr(pos, length));
  }
  return fmt::format("byte 0x{:02X}", byte);
}

// How tightly a node binds: operands and negation most, then * and /, then + and -.
int Precedence(const Node& node) {
  switch (node.kind) {
    case Kind::kAdd:
    case Kind::kSubtract:
      return 1;
    case Kind::kMultiply:
    case Kind::kDivide:
      return 2;
    default:
      return 3;
  }
}

std::string NumberText(double number) {
  // Shortest fixed notation that reads back to the same double; the grammar has no
  // exponent, so "1e+20" would not parse.
  char buffer[400];
  const auto [end, ec] =
      std::to_chars(buffer, buffer + sizeof buffer, number, std::chars_format::fixed);
  return ec == std::errc() ? std::string(buffer, end) : fmt::format("{}", number);
}

// Each node's text, children first, with the parentheses its structure needs and no
// others: a left operand binding less tightly than its operation, a right one binding no
// more tightly (a − (b − c) is not a − b − c), a negated operation. So the text nests no
// deeper than any text that parses to the same formula, and reads as a person writes it.
std::vector<std::string> Texts(const std::vector<Node>& nodes, size_t last) {
  std::vector<std::string> texts(last + 1);
  auto wrap = [&](size_t i, bool needed) { return needed ? "(" + texts[i] + ")" : texts[i]; };
  for (size_t i = 0; i <= last; ++i) {
    const Node& node = nodes[i];
    const int p = Precedence(node);
    auto binary = [&](std::string_view op) {
      return wrap(node.left, Precedence(nodes[node.left]) < p) + " " + std::string(op) + " " +
             wrap(node.right, Precedence(nodes[node.right]) <= p);
    };
    switch (node.kind) {
      case Kind::kNumber:
        texts[i] = NumberText(node.number);
        break;
      case Kind::kName:
        texts[i] = node.name;
        break;
      case Kind::kNegate:
        texts[i] = "-" + wrap(node.left, Precedence(nodes[node.left]) < p);
        break;
      case Kind::kAdd:
        texts[i] = binary("+");
        break;
      case Kind::kSubtract:
        texts[i] = binary("-");
        break;
      case Kind::kMultiply:
        texts[i] = binary("*");
        break;
      case Kind::kDivide:
        texts[i] = binary("/");
        break;
    }
  }
  return texts;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<std::vector<Node>> Parse() {
    SkipBlanks();
    if (pos_ == text_.size()) return Error(InvalidArgument("the formula is empty"));
    auto root = Sum(0);
    if (!root) return Error(root.error());
    SkipBlanks();
    if (pos_ != text_.size())
      return Error(Expected("an operator (+ - * /) or the end of the formula"));
    return std::move(nodes_);
  }

 private:
  void SkipBlanks() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  }

  Status Expected(std::string_view what) const {
    std::string message = fmt::format("column {}: expected {}, found {}", Column(text_, pos_), what,
                                      Found(text_, pos_));
    if (pos_ < text_.size() && text_[pos_] == ',')
      message += " (a formula writes decimals with \".\": 0.5)";
    return InvalidArgument(std::move(message));
  }

  size_t Add(Node node) {
    nodes_.push_back(std::move(node));
    return nodes_.size() - 1;
  }

  size_t AddOperation(Kind kind, size_t left, size_t right) {
    Node node;
    node.kind = kind;
    node.left = left;
    node.right = right;
    return Add(std::move(node));
  }

  Result<size_t> Sum(int depth) {
    auto left = Product(depth);
    if (!left) return left;
    for (;;) {
      SkipBlanks();
      if (pos_ == text_.size() || (text_[pos_] != '+' && text_[pos_] != '-')) return left;
      const Kind kind = text_[pos_++] == '+' ? Kind::kAdd : Kind::kSubtract;
      auto right = Product(depth);
      if (!right) return right;
      left = AddOperation(kind, *left, *right);
    }
  }

  Result<size_t> Product(int depth) {
    auto left = Factor(depth);
    if (!left) return left;
    for (;;) {
      SkipBlanks();
      if (pos_ == text_.size() || (text_[pos_] != '*' && text_[pos_] != '/')) return left;
      const Kind kind = text_[pos_++] == '*' ? Kind::kMultiply : Kind::kDivide;
      auto right = Factor(depth);
      if (!right) return right;
      left = AddOperation(kind, *left, *right);
    }
  }

  Result<size_t> Factor(int depth) {
    SkipBlanks();
    if (depth > kMaxDepth) {
      return Error(InvalidArgument(
          fmt::format("column {}: parentheses and minus signs nest more than {} deep",
                      Column(text_, pos_), kMaxDepth)));
    }
    if (pos_ == text_.size()) return Error(Expected("a number, a step name or \"(\""));
    const char c = text_[pos_];
    if (c == '-') {
      ++pos_;
      auto operand = Factor(depth + 1);
      if (!operand) return operand;
      return AddOperation(Kind::kNegate, *operand, 0);
    }
    if (c == '(') {
      const size_t open = pos_++;
      auto inner = Sum(depth + 1);
      if (!inner) return inner;
      SkipBlanks();
      if (pos_ == text_.size() || text_[pos_] != ')') {
        return Error(
            Expected(fmt::format("\")\" to close the \"(\" of column {}", Column(text_, open))));
      }
      ++pos_;
      return inner;
    }
    if (IsDigit(c)) return Number();
    if (IsNameStart(c)) {
      const size_t start = pos_;
      while (pos_ < text_.size() && IsNameChar(text_[pos_])) ++pos_;
      Node node;
      node.kind = Kind::kName;
      node.name = std::string(text_.substr(start, pos_ - start));
      return Add(std::move(node));
    }
    if (c == '.' && pos_ + 1 < text_.size() && IsDigit(text_[pos_ + 1])) {
      return Error(
          Expected("a number, a step name or \"(\" (a number starts with a digit: 0.5, not .5)"));
    }
    return Error(Expected("a number, a step name or \"(\""));
  }

  Result<size_t> Number() {
    const size_t start = pos_;
    while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      if (pos_ == text_.size() || !IsDigit(text_[pos_]))
        return Error(Expected("a digit after the decimal point"));
      while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    }
    Node node;
    const auto [end, ec] = std::from_chars(text_.data() + start, text_.data() + pos_, node.number);
    if (ec != std::errc() || end != text_.data() + pos_ || !std::isfinite(node.number)) {
      return Error(
          InvalidArgument(fmt::format("column {}: the number {} is out of range",
                                      Column(text_, start), text_.substr(start, pos_ - start))));
    }
    return Add(std::move(node));
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::vector<Node> nodes_;
};

}  // namespace

Result<Formula> ParseFormula(std::string_view text) {
  auto nodes = Parser(text).Parse();
  if (!nodes) return Error(nodes.error());
  Formula formula;
  formula.nodes_ = std::move(*nodes);
  return formula;
}

std::vector<std::string> Formula::Names() const {
  std::vector<std::string> names;
  // Nodes are children first, so a name's first node is not always its first appearance
  // in the text ("a * (b + a)" stores a, b, a); walk the text order instead.
  std::vector<size_t> stack;
  if (!nodes_.empty()) stack.push_back(nodes_.size() - 1);
  while (!stack.empty()) {
    const Node& node = nodes_[stack.back()];
    stack.pop_back();
    if (node.kind == Kind::kName) {
      if (std::find(names.begin(), names.end(), node.name) == names.end())
        names.push_back(node.name);
    } else if (node.kind == Kind::kNegate) {
      stack.push_back(node.left);
    } else if (node.kind != Kind::kNumber) {
      stack.push_back(node.right);
      stack.push_back(node.left);
    }
  }
  return names;
}

Result<double> Formula::Evaluate(const StepValues& values) const {
  std::vector<double> v(nodes_.size());
  auto text_of = [&](size_t i) { return Texts(nodes_, i)[i]; };
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& node = nodes_[i];
    switch (node.kind) {
      case Kind::kNumber:
        v[i] = node.number;
        continue;  // finite by construction
      case Kind::kName: {
        const auto found = values.find(node.name);
        if (found == values.end()) {
          return Error(InvalidArgument(
              fmt::format("the formula uses \"{}\", which has no value", node.name)));
        }
        if (!std::isfinite(found->second)) {
          return Error(InvalidArgument(
              fmt::format("\"{}\" is {}, not a finite number", node.name, found->second)));
        }
        v[i] = found->second;
        continue;
      }
      case Kind::kNegate:
        v[i] = -v[node.left];
        break;
      case Kind::kAdd:
        v[i] = v[node.left] + v[node.right];
        break;
      case Kind::kSubtract:
        v[i] = v[node.left] - v[node.right];
        break;
      case Kind::kMultiply:
        v[i] = v[node.left] * v[node.right];
        break;
      case Kind::kDivide:
        if (v[node.right] == 0) {
          return Error(
              InvalidArgument(fmt::format("division by zero: {} is 0", text_of(node.right))));
        }
        v[i] = v[node.left] / v[node.right];
        break;
    }
    if (!std::isfinite(v[i])) {
      return Error(InvalidArgument(fmt::format("{} is too large to compute", text_of(i))));
    }
  }
  if (v.empty()) return Error(InvalidArgument("the formula is empty"));
  return v.back();
}

std::string Formula::Text() const {
  if (nodes_.empty()) return "";
  return Texts(nodes_, nodes_.size() - 1).back();
}

// Central difference (f(x + h) − f(x − h)) / 2h. Its truncation error grows with h², its
// rounding error with ε/h; h = ε^(1/3)·|x| balances the two (Numerical Recipes, 3rd ed.,
// §5.7), about 6·10⁻⁶ of the value: for a 30 g weighing, 0.2 mg, far inside the region
// where a lab formula is smooth. h is made exactly representable (x + h − x) so the
// divisor is the step actually taken.
Result<double> SensitivityCoefficient(const Formula& formula, const StepValues& values,
                                      std::string_view name) {
  const auto found = values.find(name);
  if (found == values.end()) {
    return Error(
        InvalidArgument(fmt::format("no value for \"{}\" to take the sensitivity at", name)));
  }
  const double x = found->second;
  const double scale = x == 0 ? 1.0 : std::fabs(x);
  const double h = std::cbrt(std::numeric_limits<double>::epsilon()) * scale;
  StepValues shifted = values;
  auto& at = shifted.find(name)->second;
  const double up = x + h, down = x - h;
  at = up;
  auto f_up = formula.Evaluate(shifted);
  if (!f_up) return Error(f_up.error().Annotate(fmt::format("sensitivity to \"{}\"", name)));
  at = down;
  auto f_down = formula.Evaluate(shifted);
  if (!f_down) return Error(f_down.error().Annotate(fmt::format("sensitivity to \"{}\"", name)));
  return (*f_up - *f_down) / (up - down);
}

}  // namespace labtrace::conformity
