// A blocking HTTP GET to the daemon's API, for the CLI.
#pragma once

#include <string>

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

}  // namespace labtrace::cli
