// The API's test runs (docs/API.md, "A conformity test"):
//   POST /v1/runs                      start a run of a method on a sample
//   GET  /v1/runs?sample=…&state=…     runs, the latest version of each
//   GET  /v1/runs/{id}[?version=N]     one run
//   POST /v1/runs/{id}/captures        bind the next stable reading (or a named one) to a step
//   POST /v1/runs/{id}/submission      compute the results and freeze the run for review
//   POST /v1/runs/{id}/reviews         sign it, re-entering one's password
//   POST /v1/runs/{id}/amendments      retest or amend: a new draft with its reason
// The rules live in workflow/test_runs.h; here the run is fetched, waited for, and stored.
#include <chrono>
#include <memory>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "api/api_server.h"
#include "api/http_util.h"
#include "labtrace/clock.h"
#include "workflow/test_runs.h"

namespace labtrace::api {

namespace asio = boost::asio;

namespace {

constexpr auto kDefaultCaptureWait = std::chrono::seconds(60);
constexpr uint32_t kLongestCaptureWaitS = 600;

std::string Hex(std::string_view bytes) {
  std::string hex;
  for (unsigned char b : bytes) hex += fmt::format("{:02x}", b);
  return hex;
}

}  // namespace

asio::awaitable<Result<Reading>> ApiServer::NextStableReading(std::string instrument, std::string channel,
                                                              std::chrono::seconds wait) {
  if (!live_) co_return Error(Unavailable("this daemon has no live readings to capture from"));
  auto timer = std::make_shared<asio::steady_timer>(io_);
  auto subscribed = live_->Subscribe(instrument, channel, [timer, &io = io_] {
    asio::post(io, [timer] { timer->cancel(); });
  });
  if (!subscribed) co_return Error(subscribed.error());
  struct Unsubscribe {
    std::shared_ptr<LiveReadings> live;
    std::shared_ptr<LiveReadings::Subscription> subscription;
    ~Unsubscribe() { live->Unsubscribe(subscription); }
  } unsubscribe{live_, *subscribed};
  const auto deadline = std::chrono::steady_clock::now() + wait;
  // A poll asked before the capture was (committed after it) may show the pan as it was.
  const int64_t asked_at_ns = NowNs();
  for (;;) {
    bool overflowed = false;
    for (Reading& reading : live_->Take(**subscribed, overflowed)) {
      if (reading.quality() == GOOD && reading.requested_at_ns() >= asked_at_ns) co_return std::move(reading);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      co_return Error(DeadlineExceeded(fmt::format(
          "no stable reading of {}/{} came in {} s: is the load on the pan and the display settled? Capture again, "
          "or name a stored reading with reading_sequence",
          instrument, channel, wait.count())));
    }
    // A wake from now on is posted to this thread, so it reaches the wait begun here.
    timer->expires_at(deadline);
    co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<Result<std::map<uint64_t, Reading>>> ApiServer::ReadingsNamed(std::vector<uint64_t> sequences) {
  co_return store_.ReadingsBySequence(sequences);
}

asio::awaitable<Result<TestRun>> ApiServer::SignRunAsCaller(TestRun run, std::string user, std::string password) {
  auto account = store_.FindAccount(user);
  if (!account) co_return Error(account.error());
  if (!*account) co_return Error(PermissionDenied(fmt::format("{} is no user of this lab", user)));
  auto signer = auth::Signatory::Unseal(**account, password);
  if (!signer) {
    co_return Error(PermissionDenied(fmt::format(
        "the password given does not open {}'s signing key: nothing was signed; type the password again", user)));
  }
  co_return workflow::SignRun(lab_, run, *signer, NowNs());
}

asio::awaitable<Result<TestRun>> ApiServer::LatestRun(const std::string& id, uint64_t based_on) {
  auto record = co_await LatestRecord(std::string(workflow::kRunKind), id);
  if (!record) co_return Error(record.error());
  if (based_on != 0 && based_on != record->test_run().version()) {
    co_return Error(FailedPrecondition(fmt::format("{} is at version {}, the change was made from version {}; look "
                                                   "at it again and redo the change",
                                                   id, record->test_run().version(), based_on)));
  }
  co_return std::move(*record->mutable_test_run());
}

asio::awaitable<Response> ApiServer::StoreRun(const Request& request, const auth::Caller& caller, TestRun run,
                                              uint64_t based_on, std::string change_key, std::string action,
                                              std::string what) {
  store::ConformityChange change;
  *change.record.mutable_test_run() = std::move(run);
  change.based_on = based_on;
  change.change_key = ChangeKeyOr(change_key);
  AuditEvent event;
  event.set_actor(caller.user);
  event.set_action(std::move(action));
  event.set_new_value(std::move(what));
  change.events.push_back(std::move(event));
  auto saved = co_await SaveRecord(std::move(change));
  if (!saved) co_return ErrorReply(request, saved.error());
  co_return Reply(request, http::status::ok, saved->test_run());
}

asio::awaitable<Response> ApiServer::AnswerRuns(const Request& request, const auth::Caller& caller,
                                                std::string_view route, std::string id) {
  const std::string_view target(request.target().data(), request.target().size());
  const int64_t now_ns = NowNs();

  if (route == "GET /v1/runs") {
    RunsQuery query;
    if (Status parsed = ParseQueryInto(target, query); !parsed.ok()) co_return ErrorReply(request, parsed);
    auto runs = co_await asio::co_spawn(
        queries_, ListRecords(std::string(workflow::kRunKind), query.sample(), query.state()),
        asio::use_awaitable);
    if (!runs) co_return ErrorReply(request, runs.error());
    RunList list;
    for (ConformityRecord& record : *runs) *list.add_runs() = std::move(*record.mutable_test_run());
    co_return Reply(request, http::status::ok, list);
  }
  if (route == "GET /v1/runs/{id}") {
    auto params = ParseQueryString(target);
    if (!params) co_return ErrorReply(request, params.error());
    if (Status known = OnlyKnownParameters(*params, "version"); !known.ok()) co_return ErrorReply(request, known);
    uint64_t version = 0;
    if (params->count("version")) {
      auto parsed = ParseInteger<uint64_t>(*params, "version");
      if (!parsed) co_return ErrorReply(request, parsed.error());
      version = *parsed;
    }
    auto found = co_await asio::co_spawn(
        queries_, FindRecord(std::string(workflow::kRunKind), id, version),
        asio::use_awaitable);
    if (!found) co_return ErrorReply(request, found.error());
    if (!*found) co_return ErrorReply(request, NotFound(fmt::format("there is no test run {}{}", id,
                                                                    version ? fmt::format(" version {}", version) : "")));
    co_return Reply(request, http::status::ok, (*found)->test_run());
  }
  if (route == "POST /v1/runs") {
    RunStart start;
    if (Status parsed = ParseBody(request, start); !parsed.ok()) co_return ErrorReply(request, parsed);
    auto sample = co_await LatestRecord("sample", start.sample());
    if (!sample) co_return ErrorReply(request, sample.error().Annotate("sample"));
    auto run = workflow::StartRun(lab_, start, sample->sample(), caller.user, now_ns);
    if (!run) co_return ErrorReply(request, run.error());
    const std::string what = fmt::format("run of {} v{} on sample {}", run->method().id(), run->method().version(),
                                         run->sample());
    co_return co_await StoreRun(request, caller, std::move(*run), 0, start.change_key(), "create", what);
  }

  if (route == "POST /v1/runs/{id}/captures") {
    CaptureRequest capture;
    if (Status parsed = ParseBody(request, capture); !parsed.ok()) co_return ErrorReply(request, parsed);
    auto run = co_await LatestRun(id, capture.based_on());
    if (!run) co_return ErrorReply(request, run.error());
    auto source = workflow::SourceOfStep(*run, capture.step());
    if (!source) co_return ErrorReply(request, source.error());
    std::optional<Reading> reading;
    if (capture.reading_sequence() != 0) {
      const uint64_t sequence = capture.reading_sequence();
      auto readings = co_await asio::co_spawn(
          queries_, ReadingsNamed(std::vector<uint64_t>(1, sequence)),
          asio::use_awaitable);
      if (!readings) co_return ErrorReply(request, readings.error());
      if (readings->empty()) co_return ErrorReply(request, NotFound(fmt::format("no reading has sequence {}", sequence)));
      reading = std::move(readings->begin()->second);
    } else if (!capture.has_typed_value()) {
      if (capture.wait_s() > kLongestCaptureWaitS) {
        co_return ErrorReply(request, InvalidArgument(fmt::format("wait_s: at most {}", kLongestCaptureWaitS)));
      }
      const auto wait = capture.wait_s() == 0 ? kDefaultCaptureWait : std::chrono::seconds(capture.wait_s());
      auto next = co_await NextStableReading(source->instrument, source->channel, wait);
      if (!next) co_return ErrorReply(request, next.error());
      reading = std::move(*next);
      // The run may have changed while the balance settled: bind to the newest version.
      run = co_await LatestRun(id, capture.based_on());
      if (!run) co_return ErrorReply(request, run.error());
    }
    auto next = workflow::AddCapture(lab_, *run, capture, reading ? &*reading : nullptr, caller.user, NowNs());
    if (!next) co_return ErrorReply(request, next.error());
    const Capture& made = next->captures(next->captures_size() - 1);
    const std::string what =
        made.reading_sequence() != 0
            ? fmt::format("{} #{} = {} {} from reading {}", made.step(), made.replicate(), made.value(), made.unit(),
                          made.reading_sequence())
            : fmt::format("{} #{} = {} {} typed", made.step(), made.replicate(), made.value(), made.unit());
    const uint64_t based_on = run->version();
    co_return co_await StoreRun(request, caller, std::move(*next), based_on, capture.change_key(), "capture", what);
  }

  if (route == "POST /v1/runs/{id}/submission") {
    RunSubmission submission;
    if (Status parsed = ParseBody(request, submission); !parsed.ok()) co_return ErrorReply(request, parsed);
    auto run = co_await LatestRun(id, submission.based_on());
    if (!run) co_return ErrorReply(request, run.error());
    auto next = workflow::SubmitRun(*run, caller.user, now_ns);
    if (!next) co_return ErrorReply(request, next.error());
    std::string what = "submitted for review:";
    for (const TestResult& result : next->results()) {
      what += fmt::format(" {} = {} {} ({})", result.characteristic_en(), result.value(), result.unit(),
                          metrology::Statement_Name(result.decision().statement()));
    }
    const uint64_t based_on = run->version();
    co_return co_await StoreRun(request, caller, std::move(*next), based_on, submission.change_key(), "submit", what);
  }

  if (route == "POST /v1/runs/{id}/reviews") {
    RunReview review;
    if (Status parsed = ParseBody(request, review); !parsed.ok()) co_return ErrorReply(request, parsed);
    auto run = co_await LatestRun(id, review.based_on());
    if (!run) co_return ErrorReply(request, run.error());
    // Opening the signing key is Argon2id's work: on the accounts thread, one at a time.
    auto signed_run = co_await asio::co_spawn(
        accounts_,
        SignRunAsCaller(*run, caller.user, review.password()),
        asio::use_awaitable);
    if (!signed_run) {
      if (signed_run.error().code() == StatusCode::kPermissionDenied) {
        AuditEvent refused;
        refused.set_actor(caller.user);
        refused.set_action("refuse");
        refused.set_entity(fmt::format("test_run:{}", id));
        refused.set_reason(signed_run.error().message());
        store_.RecordAudit(std::move(refused));
      }
      co_return ErrorReply(request, signed_run.error());
    }
    const ElectronicSignature& signature = signed_run->signatures(signed_run->signatures_size() - 1);
    const std::string what =
        fmt::format("{} by {} ({}): version {}, sha256 {}", auth::MeaningWord(signature.statement().meaning()),
                    signature.statement().signer_full_name(), signature.statement().signer_user(),
                    signature.statement().record_version(), Hex(signature.statement().record_sha256()));
    const uint64_t based_on = run->version();
    co_return co_await StoreRun(request, caller, std::move(*signed_run), based_on, review.change_key(), "sign", what);
  }

  // POST /v1/runs/{id}/amendments
  RunAmendment amendment;
  if (Status parsed = ParseBody(request, amendment); !parsed.ok()) co_return ErrorReply(request, parsed);
  auto run = co_await LatestRun(id, amendment.based_on());
  if (!run) co_return ErrorReply(request, run.error());
  auto next = workflow::AmendRun(*run, amendment.reason());
  if (!next) co_return ErrorReply(request, next.error());
  const uint64_t based_on = run->version();
  co_return co_await StoreRun(request, caller, std::move(*next), based_on, amendment.change_key(), "amend",
                              fmt::format("reopened version {} as a draft: {}", based_on, amendment.reason()));
}

}  // namespace labtrace::api
