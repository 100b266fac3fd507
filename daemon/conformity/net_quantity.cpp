#include "conformity/net_quantity.h"

#include <array>
#include <cmath>
#include <numeric>
#include <string>

#include <fmt/format.h>

#include "conformity/note_text.h"
#include "metrology/uncertainty.h"
#include "metrology/units.h"

namespace labtrace::conformity {

namespace {

// OIML R87:2016 Table 1, tolerable deficiencies T for a nominal quantity Qn in g or mL:
// a band applies to Qn above the previous band's bound and up to its own. The same table
// stands in New Zealand's Weights and Measures Regulations 1999, Schedule 7A Table 2, and
// as the in-service MPE of OIML R61 in the UK's SI 2006/1258 Schedule 5, Table 2.
struct DeficiencyBand {
  double up_to;    // g or mL, inclusive
  double percent;  // of Qn, when the band states T as a percentage …
  double fixed;    // … or T itself, in g or mL
};
constexpr std::array<DeficiencyBand, 9> kDeficiencies{{
    {50, 9, 0},
    {100, 0, 4.5},
    {200, 4.5, 0},
    {300, 0, 9},
    {500, 3, 0},
    {1000, 0, 15},
    {10000, 1.5, 0},
    {15000, 0, 150},
    {50000, 1, 0},
}};

// OIML R87:2016 Table 2, sampling plans: the sample size, the number of packages allowed
// to have a T1 error, and the correction factor λ = t(0.995; n − 1)/√n of the mean
// requirement x̄ ≥ Qn − λ·s. (The lot sizes they serve: 100–500, 501–3200, above 3200.)
struct R87Plan {
  uint32_t sample_size;
  uint32_t acceptance_number;
  double correction_factor;
};
constexpr std::array<R87Plan, 3> kR87Table2{{{50, 3, 0.379}, {80, 5, 0.295}, {125, 7, 0.234}}};

// Rounds up to a multiple of `step`, ignoring the last bits of a product like 330·3/100.
double RoundUp(double value, double step) { return std::ceil(value / step - 1e-9) * step; }

// The unit R87's table is written in for `unit`'s dimension: g or mL.
Result<std::string_view> BaseUnit(std::string_view unit) {
  auto info = metrology::FindUnit(unit);
  if (!info) return Error(info.error());
  if (info->dimension == "mass") return std::string_view("g");
  if (info->dimension == "volume") return std::string_view("mL");
  return Error(InvalidArgument(fmt::format(
      "a net quantity is a mass or a volume; \"{}\" is a unit of {}", unit, info->dimension)));
}

}  // namespace

Result<double> TolerableNegativeError(double nominal, std::string_view unit) {
  auto base = BaseUnit(unit);
  if (!base) return Error(base.error());
  auto qn = metrology::ConvertValue(nominal, unit, *base);
  if (!qn) return Error(qn.error());
  if (!(*qn > 0))
    return Error(
        InvalidArgument(fmt::format("nominal quantity {} {} is not above 0", nominal, unit)));
  for (const DeficiencyBand& band : kDeficiencies) {
    if (*qn > band.up_to) continue;
    double t = band.fixed;
    if (band.percent > 0) {
      // R87 Table 1, footnote: T computed from a percentage is rounded up to the next
      // 0.1 g or mL for Qn ≤ 1000 g or mL, to the next whole g or mL above.
      t = RoundUp(*qn * band.percent / 100, *qn <= 1000 ? 0.1 : 1.0);
    }
    return metrology::ConvertDifference(t, *base, unit);
  }
  return Error(
      InvalidArgument(fmt::format("nominal quantity {} {} is above 50 000 {}, where OIML R87's "
                                  "table of tolerable deficiencies ends",
                                  nominal, unit, *base)));
}

// A sample that is not one of R87's sizes (a type test of a few packages brought to the
// lab, say) is judged by the same three requirements on the packages tested, with the
// statement covering them and not a lot: no package may have a T1 error (c = 0, as R87
// allows none beyond its tabled numbers), and λ comes from the formula R87's factors
// follow, t(0.995; n − 1)/√n. One package gives no s: its content must then be at
// least Qn, as EU Directive 76/211/EEC asks of the mean of a batch measured whole.
Result<SamplingPlan> SamplingPlanFor(uint32_t sample_size) {
  if (sample_size == 0) return Error(InvalidArgument("a sample of 0 packages"));
  for (const R87Plan& row : kR87Table2) {
    if (row.sample_size == sample_size) {
      return SamplingPlan{row.sample_size, row.acceptance_number, row.correction_factor, true};
    }
  }
  SamplingPlan plan{sample_size, 0, 0.0, false};
  if (sample_size >= 2) {
    // Two-sided coverage 0.99 is the one-sided 0.995 quantile.
    auto t = metrology::CoverageFactor(0.99, sample_size - 1.0);
    if (!t) return Error(t.error());
    plan.correction_factor = *t / std::sqrt(static_cast<double>(sample_size));
  }
  return plan;
}

Status JudgePackages(const config::TestMethod& method, const std::vector<double>& contents,
                     TestResult& result) {
  const double qn = method.net_quantity().nominal_quantity();
  const std::string& unit = method.unit();
  auto t = TolerableNegativeError(qn, unit);
  if (!t) return t.error();
  auto plan = SamplingPlanFor(static_cast<uint32_t>(contents.size()));
  if (!plan) return plan.error();

  const size_t n = contents.size();
  const double mean = std::accumulate(contents.begin(), contents.end(), 0.0) / n;
  double sum_sq = 0;
  for (double x : contents) sum_sq += (x - mean) * (x - mean);
  const double s = n > 1 ? std::sqrt(sum_sq / (n - 1)) : 0.0;
  const double mean_floor = qn - plan->correction_factor * s;

  uint32_t t1 = 0, t2 = 0;
  result.clear_packages();
  for (size_t i = 0; i < n; ++i) {
    PackageCheck* package = result.add_packages();
    package->set_package(static_cast<uint32_t>(i + 1));
    package->set_content(contents[i]);
    package->set_error(contents[i] - qn);
    package->set_t1_defective(package->error() < -*t);
    package->set_t2_defective(package->error() < -2 * *t);
    t1 += package->t1_defective();
    t2 += package->t2_defective();
  }
  const bool too_many_t1 = t1 > plan->acceptance_number;
  const bool mean_short = mean < mean_floor;
  const bool pass = t2 == 0 && !too_many_t1 && !mean_short;

  result.set_tolerable_negative_error(*t);
  result.set_value(mean);
  metrology::Decision* decision = result.mutable_decision();
  decision->set_statement(pass ? metrology::PASS : metrology::FAIL);
  decision->set_lower_acceptance_limit(mean_floor);

  const int d = static_cast<int>(method.result_decimals());
  auto en = [&](double v) { return WithUnit(NumberEn(v, d), unit); };
  auto vi = [&](double v) { return WithUnit(NumberVi(v, d), unit); };
  std::string rule_en, rule_vi;
  if (plan->r87_table) {
    rule_en = fmt::format("OIML R87 sampling plan for {} packages: at most {} with a T1 error", n,
                          plan->acceptance_number);
    rule_vi = fmt::format("Phương án lấy mẫu OIML R87 cho cỡ mẫu {}: tối đa {} đơn vị thiếu quá T",
                          n, plan->acceptance_number);
  } else {
    rule_en = fmt::format(
        "A sample of {} packages is not one of OIML R87's sampling plans (50, 80 or 125 packages), "
        "so this statement covers the packages tested, not their lot: none with a T1 error",
        n);
    rule_vi = fmt::format(
        "Cỡ mẫu {} không thuộc các phương án lấy mẫu của OIML R87 (50, 80 hoặc 125), nên kết luận "
        "chỉ áp dụng cho các đơn vị đã thử, không cho cả lô: không đơn vị nào thiếu quá T",
        n);
  }
  std::string failures_en, failures_vi;
  auto add = [](std::string& list, const std::string& item) {
    list += (list.empty() ? "" : "; ") + item;
  };
  if (t2 > 0) {
    add(failures_en, fmt::format("{} with a T2 error", t2));
    add(failures_vi, fmt::format("{} đơn vị thiếu quá 2T", t2));
  }
  if (too_many_t1) {
    add(failures_en, fmt::format("{} with a T1 error, more than {}", t1, plan->acceptance_number));
    add(failures_vi,
        fmt::format("{} đơn vị thiếu quá T, nhiều hơn {}", t1, plan->acceptance_number));
  }
  if (mean_short) {
    add(failures_en, fmt::format("mean content below {}", en(mean_floor)));
    add(failures_vi, fmt::format("lượng trung bình nhỏ hơn {}", vi(mean_floor)));
  }
  const std::string lambda_en = NumberEn(plan->correction_factor, 3);
  const std::string lambda_vi = NumberVi(plan->correction_factor, 3);
  result.set_note_en(fmt::format(
      "{} (content below Qn − T = {}), none with a T2 error (below Qn − 2T = {}), mean content at "
      "least Qn − {}·s = {}. Found {} with a T1 error, {} with a T2 error, mean {}: {}.",
      rule_en, en(qn - *t), en(qn - 2 * *t), lambda_en, en(mean_floor), t1, t2, en(mean),
      pass ? (plan->r87_table ? "the lot passes" : "the packages pass")
           : (plan->r87_table ? "the lot fails" : "the packages fail") + std::string(" (") +
                 failures_en + ")"));
  result.set_note_vi(fmt::format(
      "{} (T1, lượng dưới Qn − T = {}), không đơn vị nào thiếu quá 2T (T2, dưới Qn − 2T = {}), "
      "lượng trung bình "
      "không nhỏ hơn Qn − {}·s = {}. Kết quả: {} đơn vị T1, {} đơn vị T2, trung bình {}: {}.",
      rule_vi, vi(qn - *t), vi(qn - 2 * *t), lambda_vi, vi(mean_floor), t1, t2, vi(mean),
      pass ? (plan->r87_table ? "lô hàng đạt" : "mẫu đạt")
           : (plan->r87_table ? "lô hàng không đạt" : "mẫu không đạt") + std::string(" (") +
                 failures_vi + ")"));
  return OkStatus();
}

}  // namespace labtrace::conformity
