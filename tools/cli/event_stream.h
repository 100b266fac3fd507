// A client of a server-sent event stream (GET /v1/readings/stream): one blocking
// connection, read event by event, for `labtrace readings --follow` and the tests.
#pragma once

#include <memory>
#include <string>

#include "labtrace/status.h"

namespace labtrace::cli {

struct ServerEvent {
  std::string event = "message";  // "reading", "dropped"
  std::string id;
  std::string data;  // the data lines, joined by "\n"
};

class EventStream {
 public:
  // Connects to `server` and asks for `target`; refused (the daemon's reason in the
  // message) unless it answers 200 with an event stream.
  static Result<EventStream> Open(const std::string& server, const std::string& target);
  EventStream(EventStream&&) noexcept;
  EventStream& operator=(EventStream&&) noexcept;
  ~EventStream();

  // The next event, comments skipped; Unavailable once the server closes the stream.
  Result<ServerEvent> Next();

 private:
  struct Connection;
  explicit EventStream(std::unique_ptr<Connection> connection);
  std::unique_ptr<Connection> connection_;
};

}  // namespace labtrace::cli
