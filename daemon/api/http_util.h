// HTTP plumbing shared by the API's routes: query strings, protobuf-or-JSON bodies and
// replies, the HTTP status for a Status, and awaiting a store operation that answers on
// the writer thread.
#pragma once

#include <charconv>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <fmt/format.h>
#include <google/protobuf/message.h>

#include "auth/access_token.h"
#include "labtrace/status.h"

namespace labtrace::api {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

Result<std::map<std::string, std::string>> ParseQueryString(std::string_view target);

// Refuses parameters other than `known` ("instrument, channel"), naming them.
Status OnlyKnownParameters(const std::map<std::string, std::string>& params, std::string_view known);

template <typename Int>
Result<Int> ParseInteger(const std::map<std::string, std::string>& params, const std::string& name) {
  auto found = params.find(name);
  if (found == params.end()) return Int{0};
  Int value{};
  const std::string& text = found->second;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Error(InvalidArgument(fmt::format("query parameter {}=\"{}\" is not a whole number", name, text)));
  }
  return value;
}


// The body as message M: binary protobuf when the client says so, JSON otherwise.
Status ParseBody(const Request& request, google::protobuf::Message& message);

// The message as the client asked: binary protobuf with `Accept: application/x-protobuf`,
// canonical JSON otherwise.
Response Reply(const Request& request, http::status status, const google::protobuf::Message& message);
Response ErrorReply(const Request& request, http::status status, std::string text);
// An error reply whose HTTP status follows the Status code.
Response ErrorReply(const Request& request, const Status& error);

// Fills a request's actor field (`actor`, `performed_by`) from the caller's login. The
// request may leave it out or repeat the caller's own name; naming anyone else is
// refused, so that no record says a person did what another did.
Status TakeActor(const auth::Caller& caller, std::string_view field, std::string& value);

// Awaits a store operation that takes a completion callback (run on the store's writer
// thread) and resumes on the caller's executor with its result:
//   co_await AsyncStore<UploadReceipt>([&](auto done) { store.Upload(request, done); }, use_awaitable)
template <typename Receipt, typename Start, typename Token>
auto AsyncStore(Start start, Token&& token) {
  namespace asio = boost::asio;
  return asio::async_initiate<Token, void(Result<Receipt>)>(
      [](auto handler, Start start) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        start([shared](Result<Receipt> result) {
          auto executor = asio::get_associated_executor(*shared);
          asio::post(executor, [shared, result = std::move(result)]() mutable { (*shared)(std::move(result)); });
        });
      },
      token, std::move(start));
}

}  // namespace labtrace::api
