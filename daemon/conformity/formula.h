// The formula of a test method (TestMethod.formula): how one determination's result is
// computed from the values of its steps, "(wet - dry) / (wet - dish) * 100".
//
// A deliberately small language, so that a quality manager can read every formula the
// lab uses and a reviewer can check it against the standard's clause:
//   formula := sum
//   sum     := product (('+' | '-') product)*          left to right
//   product := factor (('*' | '/') factor)*            left to right
//   factor  := '-' factor | '(' sum ')' | number | name
//   number  := digits ['.' digits]                     "100", "0.5"; no exponent
//   name    := [A-Za-z_][A-Za-z0-9_]*                  a step of the method
// Blanks (space, tab) may stand between tokens. Pure; any thread.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "labtrace/status.h"

namespace labtrace::conformity {

// Step values by name, as Evaluate takes them.
using StepValues = std::map<std::string, double, std::less<>>;

class Formula {
 public:
  // The names the formula uses, each once, in the order they first appear.
  std::vector<std::string> Names() const;

  // The formula's value. Fails naming the first unknown name, on a division by zero
  // (naming the divisor as written), and when a value is not a finite number.
  Result<double> Evaluate(const StepValues& values) const;

  // The formula written back with single spaces, only the parentheses it needs and
  // numbers in the shortest form that reads back exactly: "(wet - dry) / (wet - dish) *
  // 100". Parsing it again gives the same formula.
  std::string Text() const;

  // One operation or operand. Nodes are stored children first, so the last is the root
  // and every operand's index is below its operation's: evaluation is one loop, with no
  // recursion however long the formula.
  struct Node {
    enum class Kind { kNumber, kName, kNegate, kAdd, kSubtract, kMultiply, kDivide };
    Kind kind = Kind::kNumber;
    double number = 0;
    std::string name;
    size_t left = 0, right = 0;  // operand indexes (kNegate uses left only)
  };

 private:
  friend Result<Formula> ParseFormula(std::string_view text);
  std::vector<Node> nodes_;
};

// Parses a formula. An error names the column (1-based, counted in characters) and what
// was expected there: "column 7: expected a number, a step name or \"(\", found \"*\"".
Result<Formula> ParseFormula(std::string_view text);

// ∂f/∂x for the step `name` at `values`, by central difference (see formula.cpp for the
// step size and why): the sensitivity coefficient c_i of GUM §5.1.3.
Result<double> SensitivityCoefficient(const Formula& formula, const StepValues& values,
                                      std::string_view name);

}  // namespace labtrace::conformity
