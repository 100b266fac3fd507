// Fuzzes a test method's formula parser and evaluator. Oracles:
//   - parsing agrees with a second parser written here differently (operator precedence
//     by a shunting-yard, numbers by strtod): the same text is refused by both or read by
//     both, and where the formula evaluates, the two values are the same double;
//   - where the formula does not evaluate, the second parser met a zero divisor or a
//     value that is not finite: Evaluate refuses only what it says it refuses;
//   - the formula printed back (Text) parses again to the same text and the same value,
//     and names the same steps (the text nests no deeper than the input, so it parses).
// Names get values from their spelling, so every input is evaluated.
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conformity/formula.h"

namespace {

using labtrace::conformity::StepValues;

double ValueOf(std::string_view name) {
  double value = 0.5;
  for (const char c : name) value = value * 1.5 + (c % 7) - 2;
  return value;
}

// The reference reading: tokens, then Dijkstra's shunting-yard with unary minus as a
// prefix operator binding tighter than * and /, then evaluation of the postfix. It does
// not limit nesting; inputs nested deeper than the parser allows are left out.
struct Reference {
  bool parsed = false;
  bool huge_number = false;        // a number strtod cannot hold (ERANGE)
  std::optional<double> value;     // set when nothing went wrong in evaluation
  std::vector<std::string> names;  // as written, with repeats
};

Reference Read(std::string_view text) {
  Reference ref;
  std::vector<std::string> output;  // postfix: numbers "#text", operators "@op", names
  std::vector<char> ops;            // '(' '+' '-' '*' '/' 'n' (negate)
  auto precedence = [](char op) { return op == 'n' ? 3 : (op == '*' || op == '/') ? 2 : 1; };
  bool expect_operand = true;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == ' ' || c == '\t') {
      ++i;
    } else if (expect_operand && c == '-') {
      ops.push_back('n');
      ++i;
    } else if (expect_operand && c == '(') {
      ops.push_back('(');
      ++i;
    } else if (expect_operand && c >= '0' && c <= '9') {
      size_t j = i;
      while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
      if (j < text.size() && text[j] == '.') {
        ++j;
        if (j == text.size() || text[j] < '0' || text[j] > '9') return ref;
        while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
      }
      output.push_back("#" + std::string(text.substr(i, j - i)));
      errno = 0;
      std::strtod(output.back().c_str() + 1, nullptr);
      ref.huge_number = ref.huge_number || errno == ERANGE;
      i = j;
      expect_operand = false;
    } else if (expect_operand && (std::isalpha(static_cast<unsigned char>(c)) || c == '_') &&
               static_cast<unsigned char>(c) < 0x80) {
      size_t j = i;
      while (j < text.size() && static_cast<unsigned char>(text[j]) < 0x80 &&
             (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '_')) {
        ++j;
      }
      output.emplace_back(text.substr(i, j - i));
      ref.names.emplace_back(text.substr(i, j - i));
      i = j;
      expect_operand = false;
    } else if (!expect_operand && (c == '+' || c == '-' || c == '*' || c == '/')) {
      while (!ops.empty() && ops.back() != '(' && precedence(ops.back()) >= precedence(c)) {
        output.push_back(std::string("@") + ops.back());
        ops.pop_back();
      }
      ops.push_back(c);
      ++i;
      expect_operand = true;
    } else if (!expect_operand && c == ')') {
      while (!ops.empty() && ops.back() != '(') {
        output.push_back(std::string("@") + ops.back());
        ops.pop_back();
      }
      if (ops.empty()) return ref;
      ops.pop_back();
      ++i;
    } else {
      return ref;
    }
  }
  if (expect_operand) return ref;
  while (!ops.empty()) {
    if (ops.back() == '(') return ref;
    output.push_back(std::string("@") + ops.back());
    ops.pop_back();
  }
  ref.parsed = true;

  std::vector<double> stack;
  bool trouble = false;  // a zero divisor or a value that is not finite
  for (const std::string& token : output) {
    if (token[0] == '#') {
      stack.push_back(std::strtod(token.c_str() + 1, nullptr));
    } else if (token == "@n") {
      stack.back() = -stack.back();
    } else if (token[0] == '@') {
      const char op = token[1];
      const double b = stack.back();
      stack.pop_back();
      double& a = stack.back();
      if (op == '/' && b == 0) trouble = true;
      a = op == '+' ? a + b : op == '-' ? a - b : op == '*' ? a * b : a / b;
    } else {
      stack.push_back(ValueOf(token));
    }
    if (!std::isfinite(stack.back())) trouble = true;
  }
  if (!trouble) ref.value = stack.back();
  return ref;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const Reference reference = Read(text);
  auto formula = labtrace::conformity::ParseFormula(text);
  if (!formula) {
    // Two refusals the reference does not make: nesting deeper than the parser allows,
    // and a number out of a double's range.
    const std::string& message = formula.error().message();
    const bool too_deep = message.find("nest more than") != std::string::npos;
    const bool out_of_range =
        message.find("is out of range") != std::string::npos && reference.huge_number;
    if (reference.parsed && !too_deep && !out_of_range) __builtin_trap();
    return 0;
  }
  if (!reference.parsed) __builtin_trap();

  StepValues values;
  for (const std::string& name : reference.names) values[name] = ValueOf(name);
  const auto value = formula->Evaluate(values);
  if (value.has_value() != reference.value.has_value()) __builtin_trap();
  if (value && *value != *reference.value) __builtin_trap();

  const std::string printed = formula->Text();
  auto again = labtrace::conformity::ParseFormula(printed);
  if (!again || again->Text() != printed || again->Names() != formula->Names()) __builtin_trap();
  const auto value_again = again->Evaluate(values);
  if (value_again.has_value() != value.has_value() || (value && *value_again != *value))
    __builtin_trap();
  return 0;
}
