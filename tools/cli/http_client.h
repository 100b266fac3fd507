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

}  // namespace labtrace::cli
