// The API's lists of records (docs/API.md), each a page at a time:
//   GET /v1/readings       readings by instrument, channel, time and sequence
//   GET /v1/audit          the audit trail by actor, action, entity and time
//   GET /v1/uploads        stored uploads: key, readings, when received, whose
//   GET /v1/calibrations   calibration and verification records: number, instrument, verdict
// The query string is parsed into the endpoint's query message, field by field; a store
// query runs here, on the query worker, never on the io_context.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "api/api_server.h"
#include "api/http_util.h"

namespace labtrace::api {

namespace asio = boost::asio;

namespace {

// Parses the query, asks the store, and answers what it says.
template <typename Query, typename Ask>
Response Listed(const Request& request, std::string_view target, Ask ask) {
  Query query;
  if (Status parsed = ParseQueryInto(target, query); !parsed.ok()) return ErrorReply(request, parsed);
  auto answer = ask(query);
  if (!answer) return ErrorReply(request, answer.error());
  return Reply(request, http::status::ok, *answer);
}

}  // namespace

bool ApiServer::IsRecordList(std::string_view path) {
  return path == "/v1/readings" || path == "/v1/audit" || path == "/v1/uploads" || path == "/v1/calibrations";
}

asio::awaitable<Response> ApiServer::AnswerRecordList(Request request) {
  const std::string_view target(request.target().data(), request.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  if (path == "/v1/readings") {
    co_return Listed<ReadingsQuery>(request, target, [this](const ReadingsQuery& q) { return store_.Query(q); });
  }
  if (path == "/v1/audit") {
    co_return Listed<AuditQuery>(request, target, [this](const AuditQuery& q) { return store_.QueryAudit(q); });
  }
  if (path == "/v1/uploads") {
    co_return Listed<UploadsQuery>(request, target, [this](const UploadsQuery& q) { return store_.ListUploads(q); });
  }
  if (path == "/v1/calibrations") {
    co_return Listed<CalibrationsQuery>(request, target,
                                        [this](const CalibrationsQuery& q) { return store_.ListCalibrations(q); });
  }
  co_return ErrorReply(request, http::status::not_found, fmt::format("no such endpoint {}; see docs/API.md", path));
}

}  // namespace labtrace::api
