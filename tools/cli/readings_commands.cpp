#include "cli/readings_commands.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include "cli/csv_text.h"
#include "cli/event_stream.h"
#include "cli/http_client.h"
#include "cli/record_pages.h"
#include "cli/time_text.h"
#include "labtrace/api.pb.h"
#include "labtrace/clock.h"

namespace labtrace::cli {

namespace {

bool HasValue(const Reading& reading) { return reading.quality() == GOOD || reading.quality() == UNSTABLE; }

// As the instrument showed it: its decimals, or six significant digits for a binary value.
std::string ValueText(const Reading& reading) {
  if (!HasValue(reading)) return "";
  if (!reading.text().empty()) return reading.text();
  if (reading.decimals() >= 0) return fmt::format("{:.{}f}", reading.value(), reading.decimals());
  return fmt::format("{:.6g}", reading.value());
}

std::string QualityWord(Quality quality) {
  std::string name = Quality_Name(quality);
  for (char& c : name) c = static_cast<char>(c == '_' ? ' ' : std::tolower(static_cast<unsigned char>(c)));
  return name;
}

// How a reading came, in a word, for the FROM column; `--json` has the whole provenance.
std::string_view FromWord(const Provenance& provenance) {
  switch (provenance.source()) {
    case Provenance::POLLED: return "polled";
    case Provenance::PUSHED: return "pushed";
    case Provenance::UPLOADED: return "uploaded";
    case Provenance::IMPORTED: return "file";
    case Provenance::TYPED: return "typed";
    default: return "-";  // stored before labtrace recorded provenance
  }
}

// Prints readings as a table, CSV or JSON, page by page or event by event.
class ReadingsPrinter {
 public:
  ReadingsPrinter(const ReadingsOptions& options) : options_(options) {}

  void Begin() {
    if (options_.json) {
      // Stored readings as one ReadingsResponse; live ones (--follow alone) as JSON lines.
      if (!options_.follow) json_.emplace(*api::ReadingsResponse::descriptor(), stdout);
    } else if (options_.format == "csv") {
      std::fputs(CsvRecord({"sequence", "requested_at_utc", "requested_at_ns", "instrument", "channel", "value", "unit",
                            "quality", "decimals", "supersedes_sequence", "calibration_certificate", "detail"})
                     .c_str(),
                 stdout);
    } else {
      std::printf("%-24s  %-16s  %-20s  %14s  %-5s  %-12s  %-8s  %s\n", "TIME (UTC)", "INSTRUMENT", "CHANNEL",
                  "VALUE", "UNIT", "QUALITY", "FROM", "SEQUENCE");
    }
  }

  void Page(const api::ReadingsResponse& page) {
    if (json_) {
      json_->Add(page);
      for (const Reading& reading : page.readings()) Note(reading);
      return;
    }
    for (const Reading& reading : page.readings()) Row(reading);
  }

  // A reading from the live stream; one already printed from the store is left out.
  void Live(const Reading& reading) {
    if (reading.sequence() <= last_sequence_) return;
    if (options_.json) {
      std::puts(ToJson(reading).c_str());
      Note(reading);
    } else {
      Row(reading);
    }
    std::fflush(stdout);
  }

  void End() {
    if (json_) {
      json_->Finish();
    } else if (options_.format != "csv" && printed_ == 0 && !options_.follow) {
      std::puts("(no readings match)");
    }
  }

 private:
  void Note(const Reading& reading) {
    last_sequence_ = std::max(last_sequence_, reading.sequence());
    ++printed_;
  }

  void Row(const Reading& reading) {
    Note(reading);
    if (options_.format == "csv") {
      std::fputs(CsvRecord({std::to_string(reading.sequence()), FormatUtc(reading.requested_at_ns()),
                            std::to_string(reading.requested_at_ns()), reading.instrument(), reading.channel(),
                            ValueText(reading), reading.unit(), QualityWord(reading.quality()),
                            reading.decimals() >= 0 ? std::to_string(reading.decimals()) : "",
                            reading.supersedes_sequence() ? std::to_string(reading.supersedes_sequence()) : "",
                            reading.calibration_certificate(), reading.detail()})
                     .c_str(),
                 stdout);
      return;
    }
    std::string value = ValueText(reading);
    if (value.empty()) value = "-";
    else if (!reading.text().empty()) value = "\"" + value + "\"";
    std::string line = fmt::format("{:<24}  {:<16}  {:<20}  {:>14}  {:<5}  {:<12}  {:<8}  {}",
                                   FormatUtc(reading.requested_at_ns()), reading.instrument(), reading.channel(), value,
                                   reading.unit(), QualityWord(reading.quality()), FromWord(reading.provenance()),
                                   reading.sequence());
    if (reading.supersedes_sequence() != 0) line += fmt::format("  (corrects {})", reading.supersedes_sequence());
    if (!reading.detail().empty() && reading.quality() != GOOD) line += "  " + reading.detail();
    std::puts(line.c_str());
  }

  const ReadingsOptions& options_;
  std::optional<JsonPages> json_;
  uint64_t last_sequence_ = 0;
  uint64_t printed_ = 0;
};

// Prints live readings until the stream ends; 1 when it ends, which only a dropped
// client or a stopped daemon makes it do.
int FollowStream(EventStream& stream, ReadingsPrinter& printer) {
  for (;;) {
    auto event = stream.Next();
    if (!event) {
      std::fprintf(stderr, "labtrace: %s\n", event.error().message().c_str());
      return 1;
    }
    if (event->event == "dropped") {
      api::ErrorResponse error;
      (void)google::protobuf::util::JsonStringToMessage(event->data, &error);
      std::fprintf(stderr, "labtrace: the daemon ended the stream: %s\n", error.error().c_str());
      return 1;
    }
    if (event->event != "reading") continue;
    Reading reading;
    if (!google::protobuf::util::JsonStringToMessage(event->data, &reading).ok()) {
      std::fprintf(stderr, "labtrace: the stream sent a reading that is not one: %s\n", event->data.c_str());
      return 1;
    }
    printer.Live(reading);
  }
}

}  // namespace

std::string DefaultServer() {
  const char* env_server = std::getenv("LABTRACE_SERVER");
  return env_server ? env_server : "http://127.0.0.1:8470";
}

CLI::App* AddReadingsCommand(CLI::App& app, ReadingsOptions& options) {
  options.server = DefaultServer();
  auto* command = app.add_subcommand("readings", "show stored readings, or follow them live");
  command->add_option("--server", options.server, "daemon API URL (env LABTRACE_SERVER)")->capture_default_str();
  command->add_option("--instrument", options.instrument, "only this instrument");
  command->add_option("--channel", options.channel, "only this channel");
  command->add_option("--since", options.since, "from this UTC time (RFC 3339) or this long ago (15m, 2h)");
  command->add_option("--until", options.until, "before this UTC time (RFC 3339) or this long ago (15m, 2h)");
  command->add_option("--last", options.last, "the newest N readings of each channel");
  command->add_option("--after", options.after, "only readings stored after this sequence number");
  command->add_flag("--all-versions", options.all_versions,
                    "every version of a corrected reading, not only the current one");
  command->add_option("--format", options.format, "table or csv (RFC 4180)")
      ->check(CLI::IsMember({"table", "csv"}))
      ->capture_default_str();
  command->add_flag("--follow", options.follow, "then print readings as the daemon commits them, until interrupted");
  command->add_flag("--json", options.json,
                    "print the API's JSON (ReadingsResponse); with --follow, one reading per line");
  return command;
}

int ReadingsCommand(const ReadingsOptions& options) {
  if (options.json && options.format != "table") {
    std::fprintf(stderr, "labtrace: --json and --format csv are two outputs; choose one\n");
    return 2;
  }
  if (options.follow && (!options.until.empty() || options.all_versions)) {
    std::fprintf(stderr, "labtrace: --follow prints readings as they come: --until and --all-versions do not apply\n");
    return 2;
  }
  api::ReadingsQuery query;
  query.set_instrument(options.instrument);
  query.set_channel(options.channel);
  const int64_t now = NowNs();
  for (const auto& [text, set] : {std::pair{&options.since, &api::ReadingsQuery::set_since_ns},
                                 std::pair{&options.until, &api::ReadingsQuery::set_until_ns}}) {
    if (text->empty()) continue;
    auto time = ParseSince(*text, now);
    if (!time) {
      std::fprintf(stderr, "labtrace: %s\n", time.error().message().c_str());
      return 2;
    }
    (query.*set)(*time);
  }
  query.set_last(options.last);
  query.set_after_sequence(options.after);
  query.set_all_versions(options.all_versions);

  // The stream is opened first, so that nothing committed while the stored readings are
  // printed is missed; what both give is printed once.
  std::optional<EventStream> stream;
  if (options.follow) {
    api::ReadingsStreamQuery live;
    live.set_instrument(options.instrument);
    live.set_channel(options.channel);
    auto opened = EventStream::Open(options.server, "/v1/readings/stream" + QueryString(live));
    if (!opened) {
      std::fprintf(stderr, "labtrace: %s\n", opened.error().message().c_str());
      return 1;
    }
    stream.emplace(std::move(*opened));
  }
  ReadingsPrinter printer(options);
  printer.Begin();
  const bool stored = !options.follow || options.last > 0 || !options.since.empty() || options.after > 0;
  if (stored) {
    const int code = FollowPages<api::ReadingsQuery, api::ReadingsResponse>(
        options.server, "/v1/readings", query,
        [](const api::ReadingsResponse& page, api::ReadingsQuery& next) {
          next.set_cursor(page.next_cursor());
          return page.truncated();
        },
        [&printer](const api::ReadingsResponse& page) { printer.Page(page); });
    if (code != 0) return code;
  }
  if (stream) return FollowStream(*stream, printer);
  printer.End();
  return 0;
}

CLI::App* AddCorrectCommand(CLI::App& app, CorrectOptions& options) {
  options.server = DefaultServer();
  auto* command = app.add_subcommand("correct", "correct a stored reading: a new version, with its reason");
  command->add_option("SEQUENCE", options.sequence, "the reading's sequence number")->required();
  command->add_option("--value", options.value, "the corrected value, with the decimals it is shown with (none for a quality without one)");
  command->add_option("--unit", options.unit, "its unit (default: the reading's own)");
  command->add_option("--quality", options.quality, "GOOD, UNSTABLE …")->capture_default_str();
  command->add_option("--detail", options.detail, "a note kept with the new version");
  command->add_option("--actor", options.actor, "who corrects; default and only allowed value: the logged-in user");
  command->add_option("--reason", options.reason, "why (audit trail)")->required();
  command->add_option("--server", options.server, "daemon API URL (env LABTRACE_SERVER)")->capture_default_str();
  command->add_flag("--json", options.json, "print the API's JSON answer (CorrectionReceipt)");
  return command;
}

int CorrectCommand(const CorrectOptions& options) {
  api::CorrectionRequest request;
  request.set_actor(options.actor);
  request.set_reason(options.reason);
  Reading& corrected = *request.mutable_corrected();
  Quality quality = QUALITY_UNSPECIFIED;
  if (!Quality_Parse(options.quality, &quality) || quality == QUALITY_UNSPECIFIED) {
    std::fprintf(stderr, "labtrace: --quality %s is not a quality: GOOD, UNSTABLE, NO_REPLY …\n",
                 options.quality.c_str());
    return 2;
  }
  const bool has_value = quality == GOOD || quality == UNSTABLE;
  if (has_value == options.value.empty()) {
    std::fprintf(stderr, "labtrace: a %s reading %s; %s --value\n", options.quality.c_str(),
                 has_value ? "has a value" : "has no value", has_value ? "give it with" : "leave out");
    return 2;
  }
  corrected.set_quality(quality);
  corrected.set_decimals(-1);
  if (has_value) {
    // The value as typed: its decimals are those it is shown and reported with.
    double value = 0;
    const char* end = options.value.data() + options.value.size();
    auto [stop, ec] = std::from_chars(options.value.data(), end, value);
    if (ec != std::errc() || stop != end || !std::isfinite(value)) {
      std::fprintf(stderr, "labtrace: --value %s is not a number\n", options.value.c_str());
      return 2;
    }
    corrected.set_value(value);
    const size_t point = options.value.find('.');
    if (options.value.find_first_of("eE") == std::string::npos) {
      corrected.set_decimals(point == std::string::npos ? 0 : static_cast<int>(options.value.size() - point - 1));
    }
  }
  corrected.set_unit(options.unit);
  corrected.set_detail(options.detail);
  const std::string body = ToJson(request);
  api::CorrectionReceipt receipt;
  std::string json;
  if (int code = CallApi(options.server, fmt::format("/v1/readings/{}/corrections", options.sequence), &body, receipt,
                         &json);
      code != 0) {
    return code;
  }
  if (options.json) {
    std::fputs(json.c_str(), stdout);
    return 0;
  }
  std::printf("reading %llu corrected: the current version is reading %llu (audit event %llu)\n",
              static_cast<unsigned long long>(receipt.supersedes_sequence()),
              static_cast<unsigned long long>(receipt.sequence()),
              static_cast<unsigned long long>(receipt.audit_sequence()));
  return 0;
}

}  // namespace labtrace::cli
