// The daemon's HTTP API (docs/API.md): protobuf messages, as canonical JSON by default
// or binary protobuf when the client sends `Accept: application/x-protobuf`.
//
// Runs on the daemon's io_context; each connection is a coroutine. Store queries run on
// a worker thread so a slow query never stalls acquisition or other clients.
//
// Every request names its caller with a bearer token (or none), and the one role ×
// endpoint table (auth/endpoint_table.h) decides before any route runs; a refusal is an
// audit event. Routes take the caller's name as the actor of what they record.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/string_body.hpp>

#include "api/live_readings.h"
#include "api/request_guard.h"
#include "auth/access_token.h"
#include "auth/endpoint_table.h"
#include "auth/lockout.h"
#include "labtrace/api.pb.h"
#include "labtrace/config.pb.h"
#include "labtrace/status.h"
#include "report/pdf_printer.h"
#include "report/report_form.h"
#include "store/record_store.h"

namespace labtrace::api {

class ApiServer {
 public:
  // Binds and listens at once, so a port conflict is reported before anything starts.
  static Result<std::unique_ptr<ApiServer>> Create(boost::asio::io_context& io, const std::string& host,
                                                   uint16_t port, store::RecordStore& store,
                                                   const config::Lab& lab);
  ~ApiServer();

  // The bound address: with port 0, the port the kernel chose.
  boost::asio::ip::tcp::endpoint endpoint() const { return acceptor_.local_endpoint(); }

  void Start();
  void Stop();
  // Where GET /v1/health gets the instruments' health (thread-safe); none: no instruments.
  void SetHealthSource(std::function<HealthResponse()> source) { health_ = std::move(source); }
  // Who carries out POST /v1/modbus/writes (thread-safe; `done` may run on any thread and
  // says "written", "sent …", or why not); none: writes are refused.
  using ModbusWriter = std::function<void(const ModbusWriteRequest&, std::function<void(Result<std::string>)> done)>;
  void SetModbusWriter(ModbusWriter writer) { modbus_writer_ = std::move(writer); }
  // Where GET /v1/readings/stream gets committed readings; none: the stream is refused.
  void SetLiveReadings(std::shared_ptr<LiveReadings> live) { live_ = std::move(live); }
  // The lab's test report form (lab-config/report) and how its reports are printed; none:
  // reports are drafted and shown as JSON, but not issued, shown as HTML or printed.
  void SetReportForm(std::shared_ptr<const report::ReportForm> form, report::PdfPrinterOptions printer);

 private:
  ApiServer(boost::asio::io_context& io, store::RecordStore& store, const config::Lab& lab)
      : io_(io), acceptor_(io), store_(store), lab_(lab) {}

  using Response = boost::beast::http::response<boost::beast::http::string_body>;
  using Request = boost::beast::http::request<boost::beast::http::string_body>;

  boost::asio::awaitable<void> Accept();
  boost::asio::awaitable<void> Serve(boost::asio::ip::tcp::socket socket);
  boost::asio::awaitable<boost::beast::http::response<boost::beast::http::string_body>> Answer(
      const boost::beast::http::request<boost::beast::http::string_body>& request);
  // Who the request's bearer token proves (a Caller with ROLE_UNSPECIFIED without one);
  // an unknown, expired or revoked token is refused.
  boost::asio::awaitable<Result<auth::Caller>> Identify(const Request& request);
  boost::asio::awaitable<Result<std::optional<AccessToken>>> LookUpToken(std::string text_sha256);
  // The route the table matched, for a caller it allowed.
  boost::asio::awaitable<Response> Route(const Request& request, const auth::Caller& caller,
                                         const auth::Endpoint& endpoint);
  void AuditRefusal(const auth::Caller& caller, const Request& request, std::string_view reason);
  void ForgetToken(std::string_view token_id);

  // access_routes.cpp: sessions, passwords, users and tokens. The password work runs on
  // `accounts_`, one change at a time.
  boost::asio::awaitable<Response> AnswerLogin(const Request& request);
  boost::asio::awaitable<Response> AnswerLogout(const Request& request, const auth::Caller& caller);
  boost::asio::awaitable<Response> AnswerPasswordChange(const Request& request, const auth::Caller& caller);
  boost::asio::awaitable<Response> AnswerUsers(const Request& request);
  boost::asio::awaitable<Response> AnswerEnrol(const Request& request, const auth::Caller& caller);
  boost::asio::awaitable<Response> AnswerUnlock(const Request& request, const auth::Caller& caller,
                                                std::string name);
  boost::asio::awaitable<Response> AnswerTokens(const Request& request);
  boost::asio::awaitable<Response> AnswerNewToken(const Request& request, const auth::Caller& caller);
  boost::asio::awaitable<Response> AnswerRevokeToken(const Request& request, const auth::Caller& caller,
                                                     std::string token_id);
  // These run on `accounts_` and block it until the store has the change.
  boost::asio::awaitable<Result<SessionResponse>> LogIn(LoginRequest login);
  boost::asio::awaitable<Result<UserSummary>> Enrol(EnrolRequest enrolment, std::string admin);
  boost::asio::awaitable<Result<UserSummary>> Unlock(std::string name, std::string admin);
  boost::asio::awaitable<Status> ChangePassword(PasswordChangeRequest change, std::string user);
  // On the query worker.
  boost::asio::awaitable<Result<std::vector<UserAccount>>> ListAccounts();
  boost::asio::awaitable<Result<std::vector<AccessToken>>> ListTokens();

  boost::asio::awaitable<Response> AnswerUpload(const Request& request, const auth::Caller& caller);
  boost::asio::awaitable<Response> AnswerCorrection(const Request& request, const auth::Caller& caller,
                                                    std::string_view sequence);
  // GET /v1/readings, /v1/audit, /v1/uploads, /v1/calibrations (query_routes.cpp); on the
  // query worker.
  static bool IsRecordList(std::string_view path);
  boost::asio::awaitable<boost::beast::http::response<boost::beast::http::string_body>> AnswerRecordList(
      boost::beast::http::request<boost::beast::http::string_body> request);

  // GET /v1/readings/stream (stream_routes.cpp): the route answers an event-stream header,
  // which Serve recognises and hands, with the connection, to StreamReadings.
  boost::beast::http::response<boost::beast::http::string_body> AnswerStreamRequest(
      const boost::beast::http::request<boost::beast::http::string_body>& request);
  static bool IsEventStream(const boost::beast::http::response<boost::beast::http::string_body>& response);
  boost::asio::awaitable<void> StreamReadings(boost::beast::tcp_stream& stream,
                                              const boost::beast::http::request<boost::beast::http::string_body>& request,
                                              boost::beast::http::response<boost::beast::http::string_body> header);

  // POST /v1/modbus/writes (write_routes.cpp).
  boost::asio::awaitable<Response> AnswerModbusWrite(const Request& request, const auth::Caller& caller);

  // Runs on the query worker: waits until the store has committed what it was handed.
  boost::asio::awaitable<void> FlushStore();

  // POST /v1/calibrations[?preview=true] (calibration_routes.cpp).
  boost::asio::awaitable<Response> AnswerCalibration(const Request& request, const auth::Caller& caller);
  // Runs on the query worker: builds the record from the stored evidence.
  boost::asio::awaitable<Result<CalibrationRecord>> BuildCalibration(CalibrationRequest request, bool preview);
  // GET /v1/calibrations/{number}, /v1/trace/chain, /v1/trace/reverse; on the query worker.
  boost::asio::awaitable<boost::beast::http::response<boost::beast::http::string_body>> AnswerTraceQuery(
      boost::beast::http::request<boost::beast::http::string_body> request);

  // sample_routes.cpp: enterprises, products, samples (reference data of conformity tests).
  boost::asio::awaitable<Response> AnswerReferenceData(const Request& request, const auth::Caller& caller,
                                                       std::string_view route, std::string code);
  // run_routes.cpp: test runs, from start to signatures.
  boost::asio::awaitable<Response> AnswerRuns(const Request& request, const auth::Caller& caller,
                                              std::string_view route, std::string id);
  // The next GOOD reading of a channel requested after the call, or DeadlineExceeded.
  boost::asio::awaitable<Result<Reading>> NextStableReading(std::string instrument, std::string channel,
                                                            std::chrono::seconds wait);
  // The latest version of a run; refused when `based_on` is given and is not it.
  boost::asio::awaitable<Result<TestRun>> LatestRun(const std::string& id, uint64_t based_on);
  boost::asio::awaitable<Response> StoreRun(const Request& request, const auth::Caller& caller, TestRun run,
                                            uint64_t based_on, std::string change_key, std::string action,
                                            std::string what);
  // report_routes.cpp: test reports, from draft to issue and amendment, and the public
  // verification of a report's code.
  boost::asio::awaitable<Response> AnswerReports(const Request& request, const auth::Caller& caller,
                                                 std::string_view route, std::string number);
  boost::asio::awaitable<Response> AnswerReportDocument(const Request& request, std::string number);
  boost::asio::awaitable<Response> AnswerVerification(const Request& request, std::string code);
  // The latest version of a report; refused when `based_on` is given and is not it.
  boost::asio::awaitable<Result<TestReport>> LatestReport(const std::string& number, uint64_t based_on);
  // A draft on the latest versions of the sample, its enterprise and product, and the runs.
  boost::asio::awaitable<Result<TestReport>> DraftFromRecords(const std::string& sample_code,
                                                              std::vector<std::string> run_ids,
                                                              const std::string& user);
  // On `printer_` (co_spawned there, like the query helpers below): the report as HTML
  // printed to PDF, which takes chromium a few seconds.
  boost::asio::awaitable<Result<std::string>> PrintReport(TestReport report);
  // On the accounts thread: opens the caller's signing key and issues the report.
  boost::asio::awaitable<Result<TestReport>> SignReportAsCaller(TestReport report, std::string user,
                                                                std::string password);
  // On the query worker: a report's version (the latest when 0) and, for `format` "pdf",
  // its issued PDF, or for "html", the page.
  struct ReportDocument {
    std::optional<ConformityRecord> record;
    std::optional<store::IssuedDocument> document;
    std::string html;
  };
  boost::asio::awaitable<Result<ReportDocument>> FindReportDocument(std::string number, uint64_t version,
                                                                    std::string format);
  // On the query worker: what an issued report's code answers; `unknown` when none has it.
  boost::asio::awaitable<Result<ReportVerification>> ResolveCode(std::string code, Status unknown);
  // The report an issued amendment replaces, marked superseded by it.
  boost::asio::awaitable<Status> Supersede(const auth::Caller& caller, TestReport replacement);
  Status ReportFormLoaded() const;
  std::string LabTimeZone() const { return lab_.time_zone().empty() ? "UTC" : lab_.time_zone(); }

  // A conformity record's next version stored with its audit events (the lab's year
  // filled in for a new record's number); the latest version of one, found on the worker.
  boost::asio::awaitable<Result<ConformityRecord>> SaveRecord(store::ConformityChange change);
  boost::asio::awaitable<Result<ConformityRecord>> LatestRecord(std::string kind, std::string key);
  // On the query worker (co_spawned there): plain member coroutines with their arguments
  // copied into the frame. A coroutine lambda, or a lambda capturing a coroutine's
  // parameters, miscopied its strings under GCC 12 (a double free, found by valgrind).
  boost::asio::awaitable<Result<std::optional<ConformityRecord>>> FindRecord(std::string kind, std::string key,
                                                                          uint64_t version);
  boost::asio::awaitable<Result<std::vector<ConformityRecord>>> ListRecords(std::string kind, std::string parent,
                                                                           std::string state);
  boost::asio::awaitable<Result<std::vector<ConformityRecord>>> RecordVersions(std::string kind, std::string key);
  boost::asio::awaitable<Result<std::map<uint64_t, Reading>>> ReadingsNamed(std::vector<uint64_t> sequences);
  // On the accounts thread: opens the caller's signing key with the password (Argon2id)
  // and signs the run.
  boost::asio::awaitable<Result<TestRun>> SignRunAsCaller(TestRun run, std::string user, std::string password);
  // The client's change key, or a fresh one when it sent none.
  static std::string ChangeKeyOr(const std::string& sent);

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  store::RecordStore& store_;
  const config::Lab& lab_;
  std::optional<RequestGuard> guard_;  // set by Create once the address is bound
  uint32_t connections_ = 0;           // being served; touched on the io_context only
  std::function<HealthResponse()> health_;
  ModbusWriter modbus_writer_;
  // Tokens the store has shown, by text_sha256, so that a busy client costs no query per
  // call; touched on the io_context only. Revoking through the API forgets the token at
  // once, and no other process can revoke one while the daemon holds the data directory.
  std::unordered_map<std::string, AccessToken> tokens_seen_;
  int64_t session_lifetime_ns_ = auth::kDefaultSessionLifetimeNs;
  auth::LockoutPolicy lockout_;
  std::shared_ptr<LiveReadings> live_;
  std::shared_ptr<const report::ReportForm> report_form_;
  report::PdfPrinterOptions printer_options_;
  boost::asio::thread_pool queries_{1};
  boost::asio::thread_pool accounts_{1};
  // Prints reports to PDF: chromium takes seconds, so not on the query worker.
  boost::asio::thread_pool printer_{1};
};

}  // namespace labtrace::api
