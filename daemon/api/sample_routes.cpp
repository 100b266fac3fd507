// The API's reference data for conformity testing (docs/API.md), each record versioned
// in the store, never overwritten:
//   POST /v1/enterprises, GET /v1/enterprises
//   POST /v1/products,    GET /v1/products?enterprise=DN-…
//   POST /v1/samples,     GET /v1/samples?enterprise=DN-…, GET /v1/samples/{code}
// A body without an id makes a new record, which the store numbers; with an id and
// `based_on`, the next version of it.
#include <cctype>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <sodium.h>

#include "api/api_server.h"
#include "api/http_util.h"
#include "config/lab_calendar.h"
#include "labtrace/clock.h"

namespace labtrace::api {

namespace asio = boost::asio;

namespace {

Status Required(std::string_view field, const std::string& value) {
  if (!value.empty()) return OkStatus();
  return InvalidArgument(fmt::format("{} is required", field));
}

// Mã số thuế: 10 digits, or 10 digits, a dash and 3 for a branch.
Status CheckTaxCode(const std::string& code) {
  auto digits = [&](size_t from, size_t count) {
    for (size_t i = from; i < from + count; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(code[i]))) return false;
    }
    return true;
  };
  const bool ok = (code.size() == 10 && digits(0, 10)) || (code.size() == 14 && digits(0, 10) && code[10] == '-' && digits(11, 3));
  if (ok) return OkStatus();
  return InvalidArgument(fmt::format("tax_code \"{}\" is not a Vietnamese tax code: 10 digits, or 10-3 for a branch", code));
}

AuditEvent Event(const auth::Caller& caller, uint64_t based_on, std::string new_value) {
  AuditEvent event;
  event.set_actor(caller.user);
  event.set_action(based_on == 0 ? "create" : "amend");
  event.set_new_value(std::move(new_value));
  return event;
}

}  // namespace

std::string ApiServer::ChangeKeyOr(const std::string& sent) {
  if (!sent.empty()) return sent;
  // No key sent: the change cannot be recognised if it is sent again; a fresh one.
  unsigned char bytes[16];
  randombytes_buf(bytes, sizeof bytes);
  std::string key = "server-";
  for (unsigned char b : bytes) key += fmt::format("{:02x}", b);
  return key;
}

asio::awaitable<Result<ConformityRecord>> ApiServer::SaveRecord(store::ConformityChange change) {
  if (change.year.empty()) change.year = std::to_string(config::LabCalendar::Of(lab_).YearOf(NowNs()));
  co_return co_await AsyncStore<ConformityRecord>(
      [this, &change](auto done) { store_.SaveConformity(std::move(change), std::move(done)); }, asio::use_awaitable);
}

asio::awaitable<Result<std::optional<ConformityRecord>>> ApiServer::FindRecord(std::string kind, std::string key,
                                                                          uint64_t version) {
  co_return store_.FindConformity(kind, key, version);
}

asio::awaitable<Result<std::vector<ConformityRecord>>> ApiServer::ListRecords(std::string kind, std::string parent,
                                                                             std::string state) {
  co_return store_.ListConformity(kind, parent, state);
}

asio::awaitable<Result<std::vector<ConformityRecord>>> ApiServer::RecordVersions(std::string kind, std::string key) {
  co_return store_.ConformityVersions(kind, key);
}

asio::awaitable<Result<ConformityRecord>> ApiServer::LatestRecord(std::string kind, std::string key) {
  auto found = co_await asio::co_spawn(
      queries_, FindRecord(kind, key, 0),
      asio::use_awaitable);
  if (!found) co_return Error(found.error());
  if (!*found) co_return Error(NotFound(fmt::format("there is no {} {}", kind, key)));
  co_return std::move(**found);
}

asio::awaitable<Response> ApiServer::AnswerReferenceData(const Request& request, const auth::Caller& caller,
                                                         std::string_view route, std::string code) {
  const std::string_view target(request.target().data(), request.target().size());
  const int64_t now_ns = NowNs();
  if (route.starts_with("GET ")) {
    auto params = ParseQueryString(target);
    if (!params) co_return ErrorReply(request, params.error());
    if (route == "GET /v1/samples/{code}") {
      auto versions = co_await asio::co_spawn(
          queries_, RecordVersions("sample", code),
          asio::use_awaitable);
      if (!versions) co_return ErrorReply(request, versions.error());
      if (versions->empty()) co_return ErrorReply(request, NotFound(fmt::format("there is no sample {}", code)));
      SampleList list;
      for (const ConformityRecord& record : *versions) *list.add_samples() = record.sample();
      co_return Reply(request, http::status::ok, list);
    }
    if (Status known = OnlyKnownParameters(*params, "enterprise"); !known.ok()) co_return ErrorReply(request, known);
    const std::string kind = route == "GET /v1/enterprises" ? "enterprise" : route == "GET /v1/products" ? "product" : "sample";
    const std::string parent = params->count("enterprise") ? params->at("enterprise") : "";
    auto records = co_await asio::co_spawn(
        queries_, ListRecords(kind, parent, ""),
        asio::use_awaitable);
    if (!records) co_return ErrorReply(request, records.error());
    ConformityRecords list;
    for (ConformityRecord& record : *records) *list.add_records() = std::move(record);
    co_return Reply(request, http::status::ok, list);
  }

  store::ConformityChange change;
  std::string summary;
  if (route == "POST /v1/enterprises") {
    EnterpriseChange body;
    if (Status parsed = ParseBody(request, body); !parsed.ok()) co_return ErrorReply(request, parsed);
    Enterprise& enterprise = *change.record.mutable_enterprise();
    enterprise = body.enterprise();
    for (Status s : {Required("enterprise.name", enterprise.name()), CheckTaxCode(enterprise.tax_code())}) {
      if (!s.ok()) co_return ErrorReply(request, s.Annotate("enterprise"));
    }
    enterprise.set_saved_by(caller.user);
    enterprise.set_saved_at_ns(now_ns);
    change.based_on = body.based_on();
    change.change_key = ChangeKeyOr(body.change_key());
    summary = fmt::format("{} (tax code {})", enterprise.name(), enterprise.tax_code());
  } else if (route == "POST /v1/products") {
    ProductChange body;
    if (Status parsed = ParseBody(request, body); !parsed.ok()) co_return ErrorReply(request, parsed);
    Product& product = *change.record.mutable_product();
    product = body.product();
    if (Status s = Required("product.name", product.name()); !s.ok()) co_return ErrorReply(request, s);
    auto enterprise = co_await LatestRecord("enterprise", product.enterprise());
    if (!enterprise) co_return ErrorReply(request, enterprise.error().Annotate("product.enterprise"));
    product.set_saved_by(caller.user);
    product.set_saved_at_ns(now_ns);
    change.based_on = body.based_on();
    change.change_key = ChangeKeyOr(body.change_key());
    summary = fmt::format("{} of {}", product.name(), product.enterprise());
  } else {  // POST /v1/samples
    SampleChange body;
    if (Status parsed = ParseBody(request, body); !parsed.ok()) co_return ErrorReply(request, parsed);
    Sample& sample = *change.record.mutable_sample();
    if (body.based_on() == 0) {
      sample = body.sample();
      if (!sample.code().empty()) {
        co_return ErrorReply(request, InvalidArgument("sample.code is given by the lab when the sample is received; "
                                                      "leave it out, or give based_on to change a sample"));
      }
      for (Status s : {Required("sample.description", sample.description()), Required("sample.quantity", sample.quantity()),
                       Required("sample.condition", sample.condition())}) {
        if (!s.ok()) co_return ErrorReply(request, s);
      }
      auto product = co_await LatestRecord("product", sample.product());
      if (!product) co_return ErrorReply(request, product.error().Annotate("sample.product"));
      if (product->product().enterprise() != sample.enterprise()) {
        co_return ErrorReply(request, InvalidArgument(fmt::format("sample.product {} is a product of {}, not of {}",
                                                                  sample.product(), product->product().enterprise(),
                                                                  sample.enterprise())));
      }
      if (Status by = TakeActor(caller, "sample.received_by", *sample.mutable_received_by()); !by.ok()) {
        co_return ErrorReply(request, by);
      }
      sample.set_received_at_ns(now_ns);
      sample.set_received_on(config::LabCalendar::Of(lab_).DateOf(now_ns));
      summary = fmt::format("received: {} ({}) of {}", sample.description(), sample.quantity(), sample.product());
    } else {
      // A later version: where it is kept, and its disposal. What was received stays as
      // it was received.
      auto current = co_await LatestRecord("sample", body.sample().code());
      if (!current) co_return ErrorReply(request, current.error());
      sample = current->sample();
      if (!body.sample().storage().empty()) sample.set_storage(body.sample().storage());
      if (!body.sample().disposal().empty() && sample.disposal().empty()) {
        sample.set_disposal(body.sample().disposal());
        sample.set_disposed_by(caller.user);
        sample.set_disposed_at_ns(now_ns);
      }
      summary = sample.disposal().empty() ? "stored in " + sample.storage() : "disposed of: " + sample.disposal();
    }
    change.based_on = body.based_on();
    change.change_key = ChangeKeyOr(body.change_key());
  }
  change.events.push_back(Event(caller, change.based_on, summary));
  auto saved = co_await SaveRecord(std::move(change));
  if (!saved) co_return ErrorReply(request, saved.error());
  co_return Reply(request, http::status::ok, *saved);
}

}  // namespace labtrace::api
