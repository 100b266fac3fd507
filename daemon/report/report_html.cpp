#include "report/report_html.h"

#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include "metrology/units.h"
#include "report/number_text.h"
#include "report/qr_svg.h"

namespace labtrace::report {

namespace {

using metrology::DecisionRuleKind;

// Keys the code itself prints, beyond those the template names: the template's are
// checked by rendering a specimen, these by this list.
// clang-format off
constexpr std::string_view kCodeLabels[] = {
    "statement_pass", "statement_conditional_pass", "statement_conditional_fail",
    "statement_fail", "statement_none",
    "rule_simple", "rule_guarded", "rule_non_binary", "rule_none",
    "limits_inclusive", "limits_exclusive",
    "meaning_reviewed", "meaning_approved", "meaning_other",
    "limit_at_most", "limit_below", "limit_at_least", "limit_above", "limit_from", "limit_to",
};
// clang-format on

constexpr std::string_view kNothing =
    "—";  // an empty field, printed so a blank is not mistaken for an omission

std::string OrNothing(const std::string& text) {
  return text.empty() ? std::string(kNothing) : text;
}

// "2026-04-02" → "02/04/2026": day/month/year, as both Vietnamese and international
// English write it (the labels say which date it is).
std::string DateText(const std::string& iso) {
  if (iso.empty()) return std::string(kNothing);
  if (iso.size() != 10 || iso[4] != '-' || iso[7] != '-')
    return iso;  // printed as stored, never dropped
  return fmt::format("{}/{}/{}", iso.substr(8, 2), iso.substr(5, 2), iso.substr(0, 4));
}

// A signature's instant in the lab's zone, with the offset so that it is unambiguous:
// "02/04/2026 09:15 (UTC+07:00)".
std::string LocalTimeText(int64_t ns, const date::time_zone* zone) {
  const date::sys_time<std::chrono::seconds> instant = date::floor<std::chrono::seconds>(
      date::sys_time<std::chrono::nanoseconds>{std::chrono::nanoseconds{ns}});
  const auto zoned = date::make_zoned(zone, instant);
  return date::format("%d/%m/%Y %H:%M (UTC%Ez)", zoned);
}

struct Bilingual {
  std::string vi, en;
};

Bilingual Number(double value, int decimals) {
  return {FormatFixed(value, decimals, DecimalSign::kComma),
          FormatFixed(value, decimals, DecimalSign::kPoint)};
}
Bilingual Trimmed(double value, int max_decimals) {
  return {FormatTrimmed(value, max_decimals, DecimalSign::kComma),
          FormatTrimmed(value, max_decimals, DecimalSign::kPoint)};
}

void SetBoth(TemplateData& data, const std::string& name, const Bilingual& text) {
  data.Text(name + "_vi", text.vi);
  data.Text(name + "_en", text.en);
}

Bilingual Label(const ReportForm& form, std::string_view key) {
  return {form.vi[key], form.en[key]};
}

// The specification in words, as TCVN requirement tables write it: "không lớn hơn 14"
// / "not more than 14"; "nhỏ hơn" / "less than" when the rule puts a value on the limit
// outside it; "từ 5 đến 14" / "from 5 to 14" for both limits (the rule's sentence says
// whether the ends are in).
Bilingual LimitText(const ReportForm& form, const std::optional<double>& lower,
                    const std::optional<double>& upper, bool inclusive, int decimals,
                    bool trimmed) {
  auto number = [&](double v) { return trimmed ? Trimmed(v, 6) : Number(v, decimals); };
  auto words = [&](std::string_view key, const Bilingual& n) {
    return Bilingual{form.vi[key] + " " + n.vi, form.en[key] + " " + n.en};
  };
  if (lower && upper) {
    const Bilingual from = words("limit_from", number(*lower)),
                    to = words("limit_to", number(*upper));
    return {from.vi + " " + to.vi, from.en + " " + to.en};
  }
  if (upper) return words(inclusive ? "limit_at_most" : "limit_below", number(*upper));
  if (lower) return words(inclusive ? "limit_at_least" : "limit_above", number(*lower));
  return {std::string(kNothing), std::string(kNothing)};
}

std::string_view StatementKey(metrology::Statement statement) {
  switch (statement) {
    case metrology::PASS:
      return "statement_pass";
    case metrology::CONDITIONAL_PASS:
      return "statement_conditional_pass";
    case metrology::CONDITIONAL_FAIL:
      return "statement_conditional_fail";
    case metrology::FAIL:
      return "statement_fail";
    default:
      return "statement_none";
  }
}

// A CSS class for the statement's cell, so the template can set it apart.
std::string_view StatementClass(metrology::Statement statement) {
  switch (statement) {
    case metrology::PASS:
      return "pass";
    case metrology::CONDITIONAL_PASS:
    case metrology::CONDITIONAL_FAIL:
      return "conditional";
    case metrology::FAIL:
      return "fail";
    default:
      return "none";
  }
}

std::string_view RuleKey(const metrology::DecisionRule& rule) {
  switch (rule.kind()) {
    case metrology::SIMPLE_ACCEPTANCE:
      return "rule_simple";
    case metrology::GUARDED_ACCEPTANCE:
      return "rule_guarded";
    case metrology::NON_BINARY:
      return "rule_non_binary";
    default:
      return "rule_none";
  }
}

std::string_view MeaningKey(SignatureMeaning meaning) {
  switch (meaning) {
    case SIGNATURE_MEANING_REVIEWED:
      return "meaning_reviewed";
    case SIGNATURE_MEANING_APPROVED:
      return "meaning_approved";
    default:
      return "meaning_other";
  }
}

// How many decimals a result's value and U print with: U to two significant digits
// (GUM §7.2.6), the value to U's last digit (as BudgetResult rounded it), converted when
// U is stated in another unit (a mass in g with U in mg). Without an uncertainty, the
// method's own number of decimals.
struct Digits {
  bool has_uncertainty = false;
  int value = 0, uncertainty = 0;
  std::string uncertainty_unit;
};

Digits DigitsOf(const TestResult& result, const config::TestMethod& method) {
  Digits d;
  const metrology::BudgetResult& budget = result.budget();
  d.has_uncertainty = result.has_budget() && budget.expanded_uncertainty_rounded() > 0;
  if (!d.has_uncertainty) {
    d.value = static_cast<int>(method.result_decimals());
    return d;
  }
  d.uncertainty = DecimalsOfTwoDigitUncertainty(budget.expanded_uncertainty_rounded());
  d.value = d.uncertainty;
  const std::string& value_unit = budget.unit().empty() ? result.unit() : budget.unit();
  d.uncertainty_unit = budget.report_unit().empty() ? value_unit : budget.report_unit();
  if (d.uncertainty_unit != value_unit) {
    if (auto one = metrology::ConvertDifference(1, d.uncertainty_unit, value_unit);
        one && *one > 0) {
      d.value = std::max(0, d.uncertainty - static_cast<int>(std::lround(std::log10(*one))));
    }
  }
  return d;
}

void AddResult(TemplateData& row, const TestResult& result, const config::TestMethod& method,
               const ReportForm& form) {
  const Digits digits = DigitsOf(result, method);
  const metrology::BudgetResult& budget = result.budget();
  const bool inclusive = method.decision_rule().limits_inclusive();
  row.Text("characteristic_vi", OrNothing(result.characteristic_vi()));
  row.Text("characteristic_en", OrNothing(result.characteristic_en()));
  row.Text("unit", OrNothing(result.unit()));
  SetBoth(
      row, "value",
      Number(digits.has_uncertainty ? budget.estimate_rounded() : result.value(), digits.value));
  row.Flag("has_uncertainty", digits.has_uncertainty);
  if (digits.has_uncertainty) {
    Bilingual u = Number(budget.expanded_uncertainty_rounded(), digits.uncertainty);
    if (digits.uncertainty_unit != result.unit()) {
      u.vi += " " + digits.uncertainty_unit;
      u.en += " " + digits.uncertainty_unit;
    }
    SetBoth(row, "uncertainty", u);
    SetBoth(row, "coverage_factor", Trimmed(budget.coverage_factor(), 2));
  } else {
    SetBoth(row, "uncertainty", {std::string(kNothing), std::string(kNothing)});
    SetBoth(row, "coverage_factor", {std::string(kNothing), std::string(kNothing)});
  }
  const std::optional<double> lower =
      result.has_lower_limit() ? std::optional<double>(result.lower_limit()) : std::nullopt;
  const std::optional<double> upper =
      result.has_upper_limit() ? std::optional<double>(result.upper_limit()) : std::nullopt;
  SetBoth(row, "requirement", LimitText(form, lower, upper, inclusive, 0, /*trimmed=*/true));
  // Acceptance limits moved inside the tolerance by the guard band (ILAC-G8 §4.2.2).
  const metrology::Decision& decision = result.decision();
  const bool guarded = decision.guard_band() > 0 && (lower || upper);
  row.Flag("has_acceptance_limits", guarded);
  // Printed rounded inwards, never looser than the limit the decision used: a value
  // printed at the acceptance limit is on the side the statement says.
  const double scale = std::pow(10.0, digits.value);
  const auto inwards = [&](double limit, bool is_upper) {
    return is_upper ? std::floor(limit * scale + 1e-9) / scale
                    : std::ceil(limit * scale - 1e-9) / scale;
  };
  SetBoth(row, "acceptance_limits",
          guarded
              ? LimitText(
                    form,
                    lower ? std::optional<double>(inwards(decision.lower_acceptance_limit(), false))
                          : std::nullopt,
                    upper ? std::optional<double>(inwards(decision.upper_acceptance_limit(), true))
                          : std::nullopt,
                    inclusive, digits.value, /*trimmed=*/false)
              : Bilingual{std::string(kNothing), std::string(kNothing)});
  SetBoth(row, "statement", Label(form, StatementKey(decision.statement())));
  row.Text("statement_class", std::string(StatementClass(decision.statement())));
  row.Flag("has_note", !result.note_vi().empty() || !result.note_en().empty());
  row.Text("note_vi", OrNothing(result.note_vi()));
  row.Text("note_en", OrNothing(result.note_en()));
}

void AddRun(TemplateData& item, const ReportedRun& run, const ReportForm& form) {
  const config::TestMethod& method = run.method();
  item.Text("run", run.run());
  item.Text("method.id", OrNothing(method.id()));
  item.Text("method.version", std::to_string(method.version()));
  item.Text("method.title_vi", OrNothing(method.title_vi()));
  item.Text("method.title_en", OrNothing(method.title_en()));
  item.Text("method.standard", OrNothing(method.standard()));
  item.Text("method.clause", OrNothing(method.clause()));
  item.Text("tested_on", DateText(run.tested_on()));
  const metrology::DecisionRule& rule = method.decision_rule();
  SetBoth(item, "rule", Label(form, RuleKey(rule)));
  const bool has_rule = rule.kind() != metrology::DECISION_RULE_UNSPECIFIED;
  item.Flag("has_rule", has_rule);
  SetBoth(item, "limits_on_the_limit",
          Label(form, rule.limits_inclusive() ? "limits_inclusive" : "limits_exclusive"));
  const bool guarded =
      rule.kind() == metrology::GUARDED_ACCEPTANCE || rule.kind() == metrology::NON_BINARY;
  item.Flag("guarded", guarded);
  SetBoth(item, "guard_factor", Trimmed(rule.has_guard_factor() ? rule.guard_factor() : 1.0, 3));
  item.List("results");
  for (const TestResult& result : run.results())
    AddResult(item.AddItem("results"), result, method, form);
}

// The dates the runs were tested on, as one date or a first–last span.
std::string TestDatesText(const TestReport& report) {
  std::vector<std::string> dates;
  for (const ReportedRun& run : report.runs()) {
    if (!run.tested_on().empty()) dates.push_back(run.tested_on());
  }
  if (dates.empty()) return std::string(kNothing);
  const auto [first, last] = std::minmax_element(dates.begin(), dates.end());
  return *first == *last ? DateText(*first) : DateText(*first) + " – " + DateText(*last);
}

Result<TemplateData> ReportData(const TestReport& report, const ReportForm& form,
                                const date::time_zone* zone) {
  TemplateData data;
  for (const auto& [key, text] : form.vi.texts()) data.Text("vi." + key, text);
  for (const auto& [key, text] : form.en.texts()) data.Text("en." + key, text);

  data.Text("number", OrNothing(report.number()));
  data.Text("version", std::to_string(report.version()));
  const bool draft =
      report.state() == REPORT_STATE_DRAFT || report.state() == REPORT_STATE_UNSPECIFIED;
  data.Flag("draft", draft);
  data.Flag("superseded", report.state() == REPORT_STATE_SUPERSEDED);
  data.Text("superseded_by", OrNothing(report.superseded_by()));
  data.Flag("revoked", report.state() == REPORT_STATE_REVOKED);
  data.Text("issued_on", DateText(report.issued_on()));

  const config::LabIdentity& lab = report.lab();
  data.Text("lab.name_vi", OrNothing(lab.name_vi()));
  data.Text("lab.name_en", OrNothing(lab.name_en()));
  data.Text("lab.address", OrNothing(lab.address()));
  data.Text("lab.phone", OrNothing(lab.phone()));
  data.Flag("lab.accredited", !lab.accreditation().empty());
  data.Text("lab.accreditation", OrNothing(lab.accreditation()));

  data.Text("customer.name", OrNothing(report.customer().name()));
  data.Text("customer.address", OrNothing(report.customer().address()));
  data.Text("customer.tax_code", OrNothing(report.customer().tax_code()));
  data.Text("product.name", OrNothing(report.product().name()));
  data.Text("product.brand", OrNothing(report.product().brand()));
  const Sample& sample = report.sample();
  data.Text("sample.code", OrNothing(sample.code()));
  data.Text("sample.description", OrNothing(sample.description()));
  data.Text("sample.quantity", OrNothing(sample.quantity()));
  data.Text("sample.lot", OrNothing(sample.lot()));
  data.Text("sample.condition", OrNothing(sample.condition()));
  data.Text("sample.received_on", DateText(sample.received_on()));
  data.Text("tested_on", TestDatesText(report));

  // §7.8.8: an amended report says what it replaces and why.
  data.Flag("amended", !report.replaces().empty());
  data.Text("replaces", OrNothing(report.replaces()));
  data.Text("amendment_reason", OrNothing(report.amendment_reason()));

  const bool verifiable = !report.verification_code().empty();
  data.Flag("verifiable", verifiable);
  data.Text("verification.code", OrNothing(report.verification_code()));
  const std::string link =
      lab.verify_url().empty() ? "" : lab.verify_url() + report.verification_code();
  data.Flag("verification.has_link", verifiable && !link.empty());
  data.Text("verification.link", OrNothing(link));
  if (verifiable) {
    auto svg = QrSvg(link.empty() ? report.verification_code() : link);
    if (!svg) return Error(svg.error().Annotate("the verification QR code"));
    data.Markup("verification.qr", *svg);
  } else {
    data.Text("verification.qr", "");
  }

  data.List("runs");
  for (const ReportedRun& run : report.runs()) AddRun(data.AddItem("runs"), run, form);

  data.Flag("signed", report.signatures_size() > 0);
  data.List("signatures");
  for (const ElectronicSignature& signature : report.signatures()) {
    const SignatureStatement& statement = signature.statement();
    TemplateData& item = data.AddItem("signatures");
    SetBoth(item, "meaning", Label(form, MeaningKey(statement.meaning())));
    item.Text("name", OrNothing(statement.signer_full_name()));
    item.Text("user", OrNothing(statement.signer_user()));
    item.Text("signed_at", LocalTimeText(statement.signed_at_ns(), zone));
  }
  return data;
}

// A report with every part present, to check a form's template against at load.
TestReport Specimen() {
  TestReport r;
  r.set_number("PKQ-0000-00000");
  r.set_state(REPORT_STATE_ISSUED);
  r.set_verification_code("AAAAAAAAAAAA");
  r.set_replaces("PKQ-0000-00000");
  r.set_amendment_reason("specimen");
  ReportedRun* run = r.add_runs();
  run->mutable_method()->mutable_decision_rule()->set_kind(metrology::GUARDED_ACCEPTANCE);
  TestResult* result = run->add_results();
  result->set_upper_limit(1);
  result->mutable_budget()->set_expanded_uncertainty_rounded(0.1);
  result->mutable_decision()->set_guard_band(0.1);
  result->set_note_vi("specimen");
  r.add_signatures()->mutable_statement()->set_meaning(SIGNATURE_MEANING_APPROVED);
  return r;
}

// date::locate_zone throws on a name the database lacks; errors here are values.
Result<const date::time_zone*> FindZone(std::string_view name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return Error(InvalidArgument(fmt::format(
        "\"{}\" is not a time zone in the system's database (Debian's tzdata); the lab's zone is "
        "named like \"Asia/Ho_Chi_Minh\"",
        name)));
  }
}

}  // namespace

Status CheckTestReportForm(const ReportForm& form) {
  for (const std::string_view key : kCodeLabels) {
    if (!form.vi.Has(key)) {
      return InvalidArgument(
          fmt::format("{}: {} is missing; the report prints it", form.vi.origin(), key));
    }
  }
  auto utc = FindZone("UTC");
  if (!utc) return utc.error();
  auto specimen = ReportData(Specimen(), form, *utc);
  if (!specimen) return specimen.error();
  return form.page.Check(*specimen);
}

Result<std::string> ReportHtml(const TestReport& report, const ReportForm& form,
                               std::string_view time_zone) {
  auto zone = FindZone(time_zone);
  if (!zone) return Error(zone.error());
  auto data = ReportData(report, form, *zone);
  if (!data) return Error(data.error().Annotate(fmt::format("report {}", report.number())));
  auto html = form.page.Render(*data);
  if (!html) return Error(html.error().Annotate(fmt::format("report {}", report.number())));
  return html;
}

}  // namespace labtrace::report
