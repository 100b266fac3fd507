#include "cli/record_commands.h"

#include <cstdio>

#include <fmt/format.h>

#include "cli/readings_commands.h"
#include "cli/record_pages.h"
#include "cli/time_text.h"
#include "labtrace/api.pb.h"
#include "labtrace/clock.h"

namespace labtrace::cli {

namespace {

void AddCommonOptions(CLI::App& command, ListOptions& options) {
  options.server = DefaultServer();
  command.add_option("--since", options.since, "from this UTC time (RFC 3339) or this long ago (15m, 2h, 1d)");
  command.add_option("--until", options.until, "before this UTC time (RFC 3339) or this long ago");
  command.add_option("--server", options.server, "daemon API URL (env LABTRACE_SERVER)")->capture_default_str();
  command.add_flag("--json", options.json, "print the API's JSON answer, every page in one");
}

// The --since and --until of `options` as ns since the epoch (0: not given); false, with
// the reason printed, when one is not a time.
bool TimeRange(const ListOptions& options, int64_t& since_ns, int64_t& until_ns) {
  const int64_t now = NowNs();
  since_ns = until_ns = 0;
  for (const auto& [text, ns] : {std::pair{&options.since, &since_ns}, std::pair{&options.until, &until_ns}}) {
    if (text->empty()) continue;
    auto time = ParseSince(*text, now);
    if (!time) {
      std::fprintf(stderr, "labtrace: %s\n", time.error().message().c_str());
      return false;
    }
    *ns = *time;
  }
  return true;
}

// Every page of a list, as one JSON answer or as lines under a header.
template <typename Query, typename Page>
int PrintList(const ListOptions& options, const std::string& path, Query query,
              const std::function<bool(const Page&, Query&)>& next, const char* header,
              const std::function<void(const Page&)>& print, const char* none) {
  if (options.json) {
    JsonPages json(*Page::descriptor(), stdout);
    const int code = FollowPages<Query, Page>(options.server, path, query, next,
                                              [&json](const Page& page) { json.Add(page); });
    if (code == 0) json.Finish();
    return code;
  }
  std::puts(header);
  bool any = false;
  const int code = FollowPages<Query, Page>(options.server, path, query, next, [&](const Page& page) {
    print(page);
    any = any || page.ByteSizeLong() > 0;
  });
  if (code == 0 && !any) std::puts(none);
  return code;
}

}  // namespace

CLI::App* AddAuditCommand(CLI::App& app, ListOptions& options) {
  auto* command = app.add_subcommand("audit", "the audit trail: who did what to which record, when and why");
  command->add_option("--actor", options.actor, "only what this person or program did");
  command->add_option("--action,--kind", options.action, "only this kind: create, amend, write, override, configure …");
  command->add_option("--entity", options.entity,
                      "only this record (reading:17, instrument:climate-1), or those it begins with a * "
                      "(\"reading:*\")");
  AddCommonOptions(*command, options);
  return command;
}

int AuditCommand(const ListOptions& options) {
  api::AuditQuery query;
  int64_t since = 0, until = 0;
  if (!TimeRange(options, since, until)) return 2;
  query.set_since_ns(since);
  query.set_until_ns(until);
  query.set_actor(options.actor);
  query.set_action(options.action);
  query.set_entity(options.entity);
  return PrintList<api::AuditQuery, api::AuditResponse>(
      options, "/v1/audit", query,
      [](const api::AuditResponse& page, api::AuditQuery& next) {
        if (!page.truncated() || page.events().empty()) return false;
        next.set_after_sequence(page.events(page.events_size() - 1).sequence());
        return true;
      },
      "TIME (UTC)                 EVENT  ACTOR               ACTION     ENTITY",
      [](const api::AuditResponse& page) {
        for (const AuditEvent& event : page.events()) {
          std::printf("%-24s  %6llu  %-18s  %-9s  %s\n", FormatUtc(event.time_ns()).c_str(),
                      static_cast<unsigned long long>(event.sequence()), event.actor().c_str(), event.action().c_str(),
                      event.entity().c_str());
          if (!event.old_value().empty() || !event.new_value().empty()) {
            std::printf("%34s%s%s%s\n", "", event.old_value().c_str(), event.old_value().empty() ? "" : " → ",
                        event.new_value().c_str());
          }
          if (!event.reason().empty()) std::printf("%34swhy: %s\n", "", event.reason().c_str());
        }
      },
      "(no audit events match)");
}

CLI::App* AddUploadsCommand(CLI::App& app, ListOptions& options) {
  auto* command = app.add_subcommand("uploads", "readings uploaded by instruments' software: key, count, sequences");
  command->add_option("--instrument", options.instrument, "only uploads holding readings of this instrument");
  AddCommonOptions(*command, options);
  return command;
}

int UploadsCommand(const ListOptions& options) {
  api::UploadsQuery query;
  int64_t since = 0, until = 0;
  if (!TimeRange(options, since, until)) return 2;
  query.set_since_ns(since);
  query.set_until_ns(until);
  query.set_instrument(options.instrument);
  return PrintList<api::UploadsQuery, api::UploadsResponse>(
      options, "/v1/uploads", query,
      [](const api::UploadsResponse& page, api::UploadsQuery& next) {
        if (!page.truncated() || page.uploads().empty()) return false;
        next.set_after_sequence(page.uploads(page.uploads_size() - 1).first_sequence());
        return true;
      },
      "RECEIVED (UTC)            READINGS  SEQUENCES          INSTRUMENTS         KEY",
      [](const api::UploadsResponse& page) {
        for (const api::UploadSummary& upload : page.uploads()) {
          std::string instruments;
          for (const std::string& instrument : upload.instruments()) {
            instruments += (instruments.empty() ? "" : ", ") + instrument;
          }
          std::printf("%-24s  %8u  %-17s  %-18s  %s\n", FormatUtc(upload.received_at_ns()).c_str(), upload.count(),
                      fmt::format("{}..{}", upload.first_sequence(), upload.last_sequence()).c_str(),
                      instruments.c_str(), upload.idempotency_key().c_str());
        }
      },
      "(no uploads match)");
}

CLI::App* AddCalibrationListCommand(CLI::App& calibration, ListOptions& options) {
  auto* command = calibration.add_subcommand("list", "calibration and verification records: number, date, verdict");
  command->add_option("--instrument", options.instrument, "only records of this unit under test");
  AddCommonOptions(*command, options);
  return command;
}

int CalibrationListCommand(const ListOptions& options) {
  api::CalibrationsQuery query;
  int64_t since = 0, until = 0;
  if (!TimeRange(options, since, until)) return 2;
  query.set_since_ns(since);
  query.set_until_ns(until);
  query.set_unit_under_test(options.instrument);
  return PrintList<api::CalibrationsQuery, api::CalibrationList>(
      options, "/v1/calibrations", query,
      [](const api::CalibrationList& page, api::CalibrationsQuery& next) {
        if (!page.truncated() || page.records().empty()) return false;
        next.set_after_record_id(page.records(page.records_size() - 1).record_id());
        return true;
      },
      "NUMBER          DATE        KIND          PROCEDURE     UNIT UNDER TEST       VERDICT           BY",
      [](const api::CalibrationList& page) {
        for (const api::CalibrationSummary& record : page.records()) {
          // The lab's date, as on the certificate; the UTC date for records made before it was kept.
          const std::string date =
              record.performed_on().empty() ? FormatUtc(record.performed_at_ns()).substr(0, 10) : record.performed_on();
          std::string verdict = metrology::Statement_Name(record.verdict());
          for (char& c : verdict) c = static_cast<char>(c == '_' ? ' ' : std::tolower(static_cast<unsigned char>(c)));
          if (!record.stamp_number().empty()) verdict += ", stamp " + record.stamp_number();
          std::printf("%-14s  %-10s  %-12s  %-12s  %-20s  %-16s  %s\n", record.certificate_number().c_str(),
                      date.c_str(), record.kind() == config::VERIFICATION ? "verification" : "calibration",
                      record.procedure().c_str(), record.unit_under_test().c_str(), verdict.c_str(),
                      record.performed_by().c_str());
        }
      },
      "(no calibration records match)");
}

}  // namespace labtrace::cli
