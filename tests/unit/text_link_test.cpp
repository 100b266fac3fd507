// The text link's framing, over a real TCP socket: lines are framed by their end, never
// by read; noise without a line end is dropped to its end; a closed peer is reported.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "text_link/text_link.h"

namespace labtrace::text {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// A peer on 127.0.0.1 that accepts one connection, waits for the client's "go" (what an
// instrument sends before the link is open is dropped by design), sends `bytes`, and
// closes.
class Peer {
 public:
  explicit Peer(std::string bytes) {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    listen(listener_, 1);
    socklen_t size = sizeof address;
    getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this, bytes = std::move(bytes)] {
      const int client = accept(listener_, nullptr, nullptr);
      char go = 0;
      while (client >= 0 && go != '\n' && read(client, &go, 1) == 1) {
      }
      for (size_t done = 0; client >= 0 && done < bytes.size();) {
        const ssize_t n = write(client, bytes.data() + done, bytes.size() - done);
        if (n <= 0) break;
        done += static_cast<size_t>(n);
      }
      if (client >= 0) close(client);
    });
  }
  ~Peer() {
    thread_.join();
    close(listener_);
  }
  uint16_t port() const { return port_; }

 private:
  int listener_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

struct Outcome {
  std::vector<std::string> lines;   // texts of the lines read, in order
  std::vector<StatusCode> errors;   // and the error codes, in order
};

// Reads until the link reports it closed (or 10 results), recording what came.
Outcome ReadAll(uint16_t port) {
  asio::io_context io;
  Outcome outcome;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        TextLink link(io.get_executor(), TcpPort{"127.0.0.1", port});
        const Status opened = co_await link.Open(2000ms);
        EXPECT_TRUE(opened.ok()) << opened.message();
        const Status sent = co_await link.Send("go\n");
        EXPECT_TRUE(sent.ok()) << sent.message();
        for (int i = 0; i < 10; ++i) {
          auto line = co_await link.ReadLine(5000ms);
          if (line) {
            outcome.lines.push_back(line->text);
            EXPECT_GT(line->received_at_ns, 0);
            continue;
          }
          outcome.errors.push_back(line.error().code());
          if (line.error().code() == StatusCode::kUnavailable) break;
        }
      },
      asio::detached);
  io.run();
  return outcome;
}

TEST(TextLink, LinesAreFramedByTheirEndNotByRead) {
  // Two lines in one write, a CR before an LF dropped, a bare LF accepted.
  Peer peer("S S    100.00 g\r\nS D    100.01 g\nlast");
  const Outcome outcome = ReadAll(peer.port());
  EXPECT_EQ(outcome.lines, (std::vector<std::string>{"S S    100.00 g", "S D    100.01 g"}));
  // "last" never ended: it is not a line; the peer's close is reported.
  ASSERT_EQ(outcome.errors.size(), 1u);
  EXPECT_EQ(outcome.errors[0], StatusCode::kUnavailable);
}

TEST(TextLink, NoiseWithoutALineEndIsDroppedToItsEnd) {
  // 5 000 bytes of noise, its tail up to the line end, then a true line. The tail once
  // came back as a line of its own, which a pattern could have read as a value.
  Peer peer(std::string(5000, 'x') + "T1= 23.45 C\r\n" + "T1= 23.46 C\r\n");
  const Outcome outcome = ReadAll(peer.port());
  EXPECT_EQ(outcome.lines, (std::vector<std::string>{"T1= 23.46 C"}));
  ASSERT_EQ(outcome.errors.size(), 2u);
  EXPECT_EQ(outcome.errors[0], StatusCode::kInvalidArgument);
  EXPECT_EQ(outcome.errors[1], StatusCode::kUnavailable);
}

}  // namespace
}  // namespace labtrace::text
