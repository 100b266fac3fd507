// What every request must pass before a route sees it.
//
// The API listens on the lab PC's loopback, where a web page open in that PC's browser can
// reach it too: a cross-site form can POST to it (text/plain, urlencoded or multipart,
// which need no CORS preflight), and a page on a name the attacker controls can rebind
// that name to 127.0.0.1 and read the replies. So a request is refused unless
//   - its Host is one the daemon listens as (its address, localhost on loopback, or a
//     name in api.host_names): a rebound name is not;
//   - a request that changes anything says Content-Type: application/json or
//     application/x-protobuf, which no form can send without a preflight;
//   - a request that changes anything and carries an Origin comes from the daemon's own
//     origin (the console), not from another site.
// And no client may make the daemon hold more than it should: headers at most 16 KiB,
// bodies at most api.max_body_bytes (uploads api.max_upload_bytes), and at most
// api.max_connections connections at once.
//
// Pure: the server asks it about each request; it touches no socket.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>

#include "api/http_util.h"
#include "labtrace/config.pb.h"

namespace labtrace::api {

inline constexpr uint64_t kDefaultMaxBodyBytes = 1024 * 1024;
inline constexpr uint64_t kDefaultMaxUploadBytes = 8 * 1024 * 1024;
inline constexpr uint32_t kDefaultMaxConnections = 256;
inline constexpr uint32_t kMostConnections = 512;
inline constexpr uint32_t kMaxHeaderBytes = 16 * 1024;

class RequestGuard {
 public:
  // For a daemon bound at `bound` with the lab's api settings.
  RequestGuard(const boost::asio::ip::tcp::endpoint& bound, const config::Api& api);

  // The refusal for a request whose header has been read, or nothing when it may go on.
  std::optional<Response> Screen(const Request& request) const;

  // The largest body the request's target may carry.
  uint64_t BodyLimit(std::string_view target) const;
  uint32_t max_connections() const { return max_connections_; }

  // The Host values and origins accepted ("127.0.0.1:8470", "http://127.0.0.1:8470").
  const std::set<std::string, std::less<>>& hosts() const { return hosts_; }

 private:
  std::set<std::string, std::less<>> hosts_;
  uint64_t max_body_bytes_;
  uint64_t max_upload_bytes_;
  uint32_t max_connections_;
};

}  // namespace labtrace::api
