#include "sim/lab_dates.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>

namespace {

using namespace std::chrono;

std::optional<sys_days> DayOf(const std::string& text) {
  int y = 0;
  unsigned m = 0, d = 0;
  char dash1 = 0, dash2 = 0;
  std::istringstream in(text);
  in >> y >> dash1 >> m >> dash2 >> d;
  const year_month_day ymd{year{y}, month{m}, day{d}};
  if (!in || dash1 != '-' || dash2 != '-' || !ymd.ok()) return std::nullopt;
  return sys_days{ymd};
}

std::string TextOf(sys_days day) {
  const year_month_day ymd{day};
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return text;
}

}  // namespace

int RunLabAsOf(const std::string& config_path, const std::string& out_path, const std::string& today_text) {
  std::ifstream file(config_path);
  if (!file) {
    std::fprintf(stderr, "labtrace-sim lab: cannot read %s\n", config_path.c_str());
    return 2;
  }
  std::stringstream buffer;
  buffer << file.rdbuf();
  const std::string text = buffer.str();

  std::smatch as_of_match;
  if (!std::regex_search(text, as_of_match, std::regex(R"(Dates as of (\d{4}-\d{2}-\d{2}))"))) {
    std::fprintf(stderr,
                 "labtrace-sim lab: %s does not say which day its dates are as of; add a comment line "
                 "\"# Dates as of YYYY-MM-DD\"\n",
                 config_path.c_str());
    return 2;
  }
  const auto as_of = DayOf(as_of_match[1]);
  const auto today = today_text.empty() ? std::optional(floor<days>(system_clock::now())) : DayOf(today_text);
  if (!as_of || !today) {
    std::fprintf(stderr, "labtrace-sim lab: \"%s\" is not a date like 2026-12-02\n",
                 (!as_of ? as_of_match[1].str() : today_text).c_str());
    return 2;
  }
  const days shift = *today - *as_of;

  // Every quoted date moves; certificate numbers ("HC-2026-00388") are not dates and stay.
  std::string moved;
  const std::regex date(R"#("(\d{4}-\d{2}-\d{2})")#");
  auto copied_to = text.cbegin();
  for (std::sregex_iterator it(text.begin(), text.end(), date), end; it != end; ++it) {
    const auto day = DayOf((*it)[1]);
    moved.append(copied_to, (*it)[0].first);
    moved += day ? "\"" + TextOf(*day + shift) + "\"" : (*it)[0].str();
    copied_to = (*it)[0].second;
  }
  moved.append(copied_to, text.cend());
  moved = std::regex_replace(moved, std::regex(R"(Dates as of \d{4}-\d{2}-\d{2})"), "Dates as of " + TextOf(*today));

  const std::string folder = std::filesystem::absolute(config_path).parent_path().string();
  moved = std::regex_replace(moved, std::regex(R"#(mpe_table_files:\s*"([^"/][^"]*)")#"),
                             "mpe_table_files: \"" + folder + "/$1\"");

  std::ofstream out(out_path, std::ios::trunc);
  out << moved;
  if (!out.flush()) {
    std::fprintf(stderr, "labtrace-sim lab: cannot write %s\n", out_path.c_str());
    return 1;
  }
  std::printf("wrote %s: the dates of %s moved by %d day(s), as of %s\n", out_path.c_str(), config_path.c_str(),
              static_cast<int>(shift.count()), TextOf(*today).c_str());
  return 0;
}
