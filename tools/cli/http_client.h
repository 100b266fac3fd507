// Blocking HTTP calls to the daemon's API, for the CLI, with the logged-in user's token.
#pragma once

#include <string>
#include <string_view>

#include <google/protobuf/message.h>

#include "labtrace/status.h"

namespace labtrace::cli {

struct HttpReply {
  int status = 0;
  std::string body;
};

// The token the CLI sends as `Authorization: Bearer …`: $LABTRACE_TOKEN when set, else
// the one `labtrace login` kept in TokenFilePath(); empty when there is none (the daemon
// then answers only what needs no login, and says so).
std::string SavedToken();
// $XDG_CONFIG_HOME/labtrace/token, or ~/.config/labtrace/token.
std::string TokenFilePath();

// `server` is "http://host:port"; `target` is the path and query ("/v1/readings?last=5").
// Each sends SavedToken(), or the `token` given ("" for none).
Result<HttpReply> HttpGet(const std::string& server, const std::string& target);
Result<HttpReply> HttpGet(const std::string& server, const std::string& target, const std::string& token);
// POSTs `body` (JSON unless `content_type` says otherwise).
Result<HttpReply> HttpPost(const std::string& server, const std::string& target, const std::string& body,
                           const std::string& content_type = "application/json");
Result<HttpReply> HttpPostAs(const std::string& server, const std::string& target, const std::string& body,
                             const std::string& token, const std::string& content_type = "application/json");
Result<HttpReply> HttpDelete(const std::string& server, const std::string& target, const std::string& token);

// Exit code when the daemon refused the caller: not logged in, a token it no longer
// takes (401), or a role that may not do this (403).
inline constexpr int kNotAllowed = 4;

// Asks the daemon and decodes its JSON answer into `answer`. Returns the CLI's exit code:
// 0 done, 1 the daemon could not be reached or failed, 2 it refused the request as wrong,
// 4 it refused the caller (its reason printed on stderr). `json`, when given, receives
// the answer as sent.
int CallApi(const std::string& server, const std::string& target, const std::string* post_body,
            google::protobuf::Message& answer, std::string* json = nullptr);
// The same for a reply already received.
int ReadAnswer(const std::string& server, const Result<HttpReply>& reply, google::protobuf::Message& answer,
               std::string* json = nullptr);

// Percent-encodes one query-string value.
std::string PercentEncode(std::string_view text);

}  // namespace labtrace::cli
