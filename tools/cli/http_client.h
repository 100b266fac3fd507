// A blocking HTTP GET to the daemon's API, for the CLI.
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

// `server` is "http://host:port"; `target` is the path and query ("/v1/readings?last=5").
Result<HttpReply> HttpGet(const std::string& server, const std::string& target);
// POSTs `body` (JSON unless `content_type` says otherwise).
Result<HttpReply> HttpPost(const std::string& server, const std::string& target, const std::string& body,
                           const std::string& content_type = "application/json");

// Asks the daemon and decodes its JSON answer into `answer`. Returns the CLI's exit code:
// 0 done, 1 the daemon could not be reached or failed, 2 it refused the request as wrong
// (its reason printed on stderr). `json`, when given, receives the answer as sent.
int CallApi(const std::string& server, const std::string& target, const std::string* post_body,
            google::protobuf::Message& answer, std::string* json = nullptr);

// Percent-encodes one query-string value.
std::string PercentEncode(std::string_view text);

}  // namespace labtrace::cli
