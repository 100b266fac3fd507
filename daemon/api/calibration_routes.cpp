// The API's calibration and traceability routes (docs/API.md):
//   POST /v1/calibrations[?preview=true]   a calibration or verification record
//   GET  /v1/calibrations/{number}         the record, with the chain of each standard
//   GET  /v1/trace/chain?reading=N | instrument=ID | standard=ID
//   GET  /v1/trace/reverse?id=ID[&certificate=C][&since=YYYY-MM-DD]
#include <chrono>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "api/api_server.h"
#include "api/http_util.h"
#include "config/lab_calendar.h"
#include "config/lab_config.h"
#include "labtrace/clock.h"
#include "workflow/calibration.h"
#include "workflow/trace.h"

namespace labtrace::api {

namespace asio = boost::asio;

namespace {

std::string Param(const std::map<std::string, std::string>& params, const std::string& name) {
  const auto found = params.find(name);
  return found == params.end() ? "" : found->second;
}

}  // namespace

asio::awaitable<Response> ApiServer::AnswerCalibration(const Request& request, const auth::Caller& caller) {
  const std::string_view target(request.target().data(), request.target().size());
  auto params = ParseQueryString(target);
  if (!params) co_return ErrorReply(request, params.error());
  if (Status known = OnlyKnownParameters(*params, "preview"); !known.ok()) co_return ErrorReply(request, known);
  const bool preview = Param(*params, "preview") == "true";
  CalibrationRequest calibration;
  if (Status parsed = ParseBody(request, calibration); !parsed.ok()) co_return ErrorReply(request, parsed);
  if (Status actor = TakeActor(caller, "performed_by", *calibration.mutable_performed_by()); !actor.ok()) {
    co_return ErrorReply(request, actor);
  }
  // Reading the evidence queries the store: on the worker, like every query.
  auto record = co_await asio::co_spawn(queries_, BuildCalibration(std::move(calibration), preview), asio::use_awaitable);
  if (!record) co_return ErrorReply(request, record.error());
  if (preview) co_return Reply(request, http::status::ok, *record);
  auto receipt = co_await AsyncStore<CalibrationReceipt>(
      [this, &record](auto done) { store_.RecordCalibration(std::move(*record), std::move(done)); },
      asio::use_awaitable);
  if (!receipt) co_return ErrorReply(request, receipt.error());
  co_return Reply(request, http::status::ok, *receipt);
}

asio::awaitable<Result<CalibrationRecord>> ApiServer::BuildCalibration(CalibrationRequest request, bool preview) {
  if (!preview && !request.idempotency_key().empty()) {
    // A resent request gets its first receipt, even if the room or the standards have
    // changed since: the store answers a known key without storing anything.
    auto stored = store_.FindCalibrationByKey(request.idempotency_key());
    if (!stored) co_return Error(stored.error());
    if (*stored) co_return std::move(**stored);
  }
  workflow::CalibrationEvidence evidence;
  auto readings = store_.ReadingsBySequence(workflow::ReadingsNamed(request));
  if (!readings) co_return Error(readings.error());
  evidence.readings = std::move(*readings);
  for (const config::EnvironmentSensor& sensor : lab_.environment_sensors()) {
    ReadingsQuery newest;
    newest.set_instrument(sensor.instrument());
    newest.set_channel(sensor.channel());
    newest.set_last(1);
    auto answer = store_.Query(newest);
    if (!answer) co_return Error(answer.error());
    for (Reading& reading : *answer->mutable_readings()) evidence.environment.push_back(std::move(reading));
  }
  co_return workflow::BuildCalibrationRecord(lab_, request, evidence, NowNs(), preview);
}

asio::awaitable<Response> ApiServer::AnswerTraceQuery(Request request) {
  const std::string_view target(request.target().data(), request.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  auto params = ParseQueryString(target);
  if (!params) co_return ErrorReply(request, params.error());

  constexpr std::string_view kCalibrationsPrefix = "/v1/calibrations/";
  if (path.starts_with(kCalibrationsPrefix)) {
    auto record = store_.FindCalibration(std::string(path.substr(kCalibrationsPrefix.size())));
    if (!record) co_return ErrorReply(request, record.error());
    CalibrationReport report;
    *report.mutable_record() = *record;
    for (TraceChain& chain : workflow::ChainsOfRecord(lab_, *record)) *report.add_chains() = std::move(chain);
    co_return Reply(request, http::status::ok, report);
  }

  if (path == "/v1/trace/chain") {
    if (Status known = OnlyKnownParameters(*params, "reading, instrument, standard"); !known.ok() ||
        params->size() != 1) {
      co_return ErrorReply(request, http::status::bad_request,
                           "give exactly one of reading=N, instrument=ID or standard=ID");
    }
    if (params->count("standard")) co_return Reply(request, http::status::ok, workflow::ChainOfStandard(lab_, Param(*params, "standard")));
    if (params->count("instrument")) {
      co_return Reply(request, http::status::ok, workflow::ChainOfInstrument(lab_, Param(*params, "instrument")));
    }
    auto sequence = ParseInteger<uint64_t>(*params, "reading");
    if (!sequence) co_return ErrorReply(request, sequence.error());
    auto readings = store_.ReadingsBySequence({*sequence});
    if (!readings) co_return ErrorReply(request, readings.error());
    if (readings->empty()) {
      co_return ErrorReply(request, NotFound(fmt::format("no reading has sequence {}", *sequence)));
    }
    co_return Reply(request, http::status::ok, workflow::ChainOfReading(lab_, readings->begin()->second));
  }

  if (path == "/v1/trace/reverse") {
    if (Status known = OnlyKnownParameters(*params, "id, certificate, since"); !known.ok()) {
      co_return ErrorReply(request, known);
    }
    const std::string id = Param(*params, "id");
    if (id.empty()) co_return ErrorReply(request, http::status::bad_request, "id= names the standard or instrument");
    const bool known_id = workflow::FindStandard(lab_, id) != nullptr || config::FindInstrumentConfig(lab_, id) != nullptr;
    if (!known_id) {
      co_return ErrorReply(request, NotFound(fmt::format("\"{}\" is neither a standard nor an instrument of this lab", id)));
    }
    std::string certificate = Param(*params, "certificate");
    if (certificate.empty()) certificate = workflow::CurrentCertificate(lab_, id);
    if (certificate.empty()) {
      co_return ErrorReply(request, http::status::bad_request,
                           fmt::format("{} has no calibration in the lab-config; say which with certificate=", id));
    }
    int64_t since_ns = 0;
    const std::string since = Param(*params, "since");
    if (!since.empty()) {
      auto day_starts = config::LabCalendar::Of(lab_).StartOfDayNs(since);
      if (!day_starts) co_return ErrorReply(request, day_starts.error().Annotate("since"));
      since_ns = *day_starts;
    }
    auto records = store_.CalibrationsSince(since_ns);
    if (!records) co_return ErrorReply(request, records.error());
    auto groups = store_.ReadingGroupsSince(since_ns);
    if (!groups) co_return ErrorReply(request, groups.error());
    ReverseTrace trace = workflow::ReverseTraceOf(lab_, id, certificate, since, *records, *groups);
    co_return Reply(request, http::status::ok, trace);
  }
  co_return ErrorReply(request, http::status::not_found, fmt::format("no such endpoint {}; see docs/API.md", path));
}

}  // namespace labtrace::api
