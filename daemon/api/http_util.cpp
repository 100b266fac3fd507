#include "api/http_util.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <google/protobuf/util/json_util.h>

#include "labtrace/api.pb.h"

namespace labtrace::api {

namespace beast = boost::beast;

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%') {
      if (i + 2 >= text.size()) {
        return Error(InvalidArgument("truncated %-escape in query"));
      }
      const int hi = HexValue(text[i + 1]), lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return Error(InvalidArgument("bad %-escape in query"));
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

Result<std::map<std::string, std::string>> ParseQueryString(std::string_view target) {
  std::map<std::string, std::string> params;
  const size_t question = target.find('?');
  if (question == std::string_view::npos) return params;
  std::string_view rest = target.substr(question + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq));
    auto value = PercentDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!key) return Error(key.error());
    if (!value) return Error(value.error());
    params[*key] = *value;
  }
  return params;
}

Status OnlyKnownParameters(const std::map<std::string, std::string>& params, std::string_view known) {
  for (const auto& [key, value] : params) {
    bool listed = false;
    for (std::string_view rest = known; !rest.empty() && !listed;) {
      const size_t comma = rest.find(", ");
      listed = rest.substr(0, comma) == key;
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 2);
    }
    if (!listed) {
      return InvalidArgument(fmt::format("unknown query parameter \"{}\"; known: {}", key, known));
    }
  }
  return OkStatus();
}

namespace {
bool WantsProtobuf(const Request& request) {
  return request[http::field::accept].find("application/x-protobuf") != beast::string_view::npos;
}

}  // namespace

Response Reply(const Request& request, http::status status, const google::protobuf::Message& message) {
  Response response(status, request.version());
  response.set(http::field::server, "labtraced");
  if (WantsProtobuf(request)) {
    response.set(http::field::content_type, "application/x-protobuf");
    response.body() = message.SerializeAsString();
  } else {
    google::protobuf::util::JsonPrintOptions options;
    options.add_whitespace = false;
    options.preserve_proto_field_names = true;
    std::string json;
    (void)google::protobuf::util::MessageToJsonString(message, &json, options);
    response.set(http::field::content_type, "application/json");
    response.body() = std::move(json) + "\n";
  }
  response.keep_alive(request.keep_alive());
  response.prepare_payload();
  return response;
}

Response ErrorReply(const Request& request, http::status status, std::string text) {
  ErrorResponse error;
  error.set_error(std::move(text));
  return Reply(request, status, error);
}


Response ErrorReply(const Request& request, const Status& error) {
  http::status status = http::status::service_unavailable;
  switch (error.code()) {
    case StatusCode::kInvalidArgument:
      status = http::status::bad_request;
      break;
    case StatusCode::kNotFound:
      status = http::status::not_found;
      break;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      status = http::status::conflict;
      break;
    case StatusCode::kResourceExhausted:
      status = http::status::insufficient_storage;
      break;
    case StatusCode::kUnauthenticated:
      status = http::status::unauthorized;
      break;
    case StatusCode::kPermissionDenied:
      status = http::status::forbidden;
      break;
    default:
      break;
  }
  Response response = ErrorReply(request, status, error.message());
  // RFC 6750: a 401 names the scheme the client should use.
  if (status == http::status::unauthorized) response.set(http::field::www_authenticate, "Bearer realm=\"labtrace\"");
  return response;
}

Status TakeActor(const auth::Caller& caller, std::string_view field, std::string& value) {
  if (!value.empty() && value != caller.user) {
    return PermissionDenied(fmt::format("{} \"{}\" is not the caller: the daemon records the logged-in user ({}) "
                                        "as {}; leave it out",
                                        field, value, caller.user, field));
  }
  value = caller.user;
  return OkStatus();
}

bool SentProtobuf(const Request& request) {
  return request[http::field::content_type].find("application/x-protobuf") != beast::string_view::npos;
}

Status ParseBody(const Request& request, google::protobuf::Message& message) {
  const std::string name = message.GetDescriptor()->name();
  if (SentProtobuf(request)) {
    if (!message.ParseFromString(request.body())) return InvalidArgument(fmt::format("body is not a {} (protobuf)", name));
    return OkStatus();
  }
  const auto parsed = google::protobuf::util::JsonStringToMessage(request.body(), &message);
  if (!parsed.ok()) return InvalidArgument(fmt::format("body is not a {}: {}", name, std::string(parsed.message())));
  return OkStatus();
}

}  // namespace labtrace::api
