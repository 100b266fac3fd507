// The API cannot be used by a web page open in the lab PC's browser, nor held by a client
// that sends too much: requests are driven with curl exactly as a browser would send them
// (a cross-site form POST is text/plain with the attacker's Origin; a DNS-rebound page
// sends its own name as Host), and nothing they carry is stored.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cli/http_client.h"
#include "support/child_process.h"
#include "support/daemon_process.h"

namespace labtrace {
namespace {

namespace fs = std::filesystem;
using testing::ChildProcess;
using namespace std::chrono_literals;

constexpr auto kDeadline = 15s;
constexpr char kUpload[] =
    R"({"idempotency_key": "form-1", "readings": [{"instrument": "lab-pc-7", "channel": "mass",
        "value": 1.5, "unit": "g", "quality": "GOOD", "requested_at_ns": "1798759800000000000"}]})";

struct CurlReply {
  int status = 0;
  std::string body;
};

class ApiGuard : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("labtrace-guard-{}", getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const std::string config = (dir_ / "lab.textproto").string();
    std::ofstream(config) << "name: \"guarded lab\"\napi { max_connections: 3 max_body_bytes: 4096 }\n"
                             "instruments { name: \"lab-pc-7\" driver: \"upload\" }\n";
    auto daemon = testing::StartDaemon(config, (dir_ / "data").string(), kDeadline);
    daemon_ = std::move(daemon.process);
    uploader_ = "Authorization: Bearer " + daemon.callers.uploader;
    server_ = daemon.server;
    ASSERT_FALSE(server_.empty());
    port_ = server_.substr(server_.rfind(':') + 1);
  }
  void TearDown() override {
    daemon_.reset();
    fs::remove_all(dir_);
  }

  // curl with `arguments`, against `path`; the reply's status and body.
  CurlReply Curl(std::vector<std::string> arguments, const std::string& path) {
    std::vector<std::string> argv = {"/usr/bin/curl", "-sS", "--max-time", "10", "-w", "\n%{http_code}"};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    argv.push_back(server_ + path);
    ChildProcess curl(argv);
    EXPECT_EQ(curl.WaitForExit(kDeadline), 0) << curl.output();
    std::string out = curl.output();
    while (!out.empty() && out.back() == '\n') out.pop_back();
    const size_t last = out.rfind('\n');
    CurlReply reply;
    reply.status = std::stoi(out.substr(last + 1));
    reply.body = last == std::string::npos ? "" : out.substr(0, last);
    return reply;
  }

  size_t StoredReadings() {
    auto reply = cli::HttpGet(server_, "/v1/readings?instrument=lab-pc-7");
    EXPECT_TRUE(reply && reply->status == 200);
    // One "sequence" per reading (a reading's provenance is an object of its own).
    size_t count = 0;
    for (size_t at = 0; reply && (at = reply->body.find("\"sequence\"", at)) != std::string::npos; ++at) ++count;
    return count;
  }

  fs::path dir_;
  std::unique_ptr<ChildProcess> daemon_;
  std::string server_, port_;
  std::string uploader_;  // the header a lab PC's uploader sends
};

TEST_F(ApiGuard, ACrossSiteFormPostIsRefusedAndNothingIsStored) {
  // What <form enctype="text/plain" action="http://127.0.0.1:8470/v1/uploads"> sends; even
  // with a good token (which a form cannot send) it is refused.
  const auto reply = Curl({"-X", "POST", "-H", "Content-Type: text/plain", "-H", "Origin: http://evil.example",
                           "-H", uploader_, "--data-binary", kUpload},
                          "/v1/uploads");
  EXPECT_EQ(reply.status, 415) << reply.body;
  EXPECT_NE(reply.body.find("Content-Type \\\"text/plain\\\" is not accepted"), std::string::npos) << reply.body;
  // And urlencoded, a form's default.
  EXPECT_EQ(Curl({"-X", "POST", "-H", "Origin: http://evil.example", "-H", uploader_, "--data", kUpload}, "/v1/uploads")
                .status,
            415);
  EXPECT_EQ(StoredReadings(), 0u);
}

TEST_F(ApiGuard, AForeignOriginMayNotChangeRecordsEvenWithJson) {
  const auto reply = Curl({"-X", "POST", "-H", "Content-Type: application/json", "-H",
                           "Origin: http://evil.example", "-H", uploader_, "--data-binary", kUpload},
                          "/v1/uploads");
  EXPECT_EQ(reply.status, 403) << reply.body;
  EXPECT_NE(reply.body.find("http://evil.example"), std::string::npos) << reply.body;
  EXPECT_EQ(StoredReadings(), 0u);

  // The daemon's own origin (its console) may, and so may a client that sends no Origin.
  const auto own = Curl({"-X", "POST", "-H", "Content-Type: application/json", "-H",
                         "Origin: http://127.0.0.1:" + port_, "-H", uploader_, "--data-binary", kUpload},
                        "/v1/uploads");
  EXPECT_EQ(own.status, 200) << own.body;
  EXPECT_EQ(StoredReadings(), 1u);
}

TEST_F(ApiGuard, AForeignHostIsRefusedSoARebindingPageReadsNothing) {
  const auto rebound = Curl({"-H", "Host: evil.example:" + port_, "-H", uploader_}, "/v1/readings");
  EXPECT_EQ(rebound.status, 421) << rebound.body;
  EXPECT_NE(rebound.body.find("api.host_names"), std::string::npos) << rebound.body;
  EXPECT_EQ(Curl({"-H", "Host: localhost:" + port_}, "/v1/health").status, 200);
  EXPECT_EQ(Curl({}, "/v1/health").status, 200);
}

TEST_F(ApiGuard, ABodyOverTheLimitIsRefusedWithTheLimitNamed) {
  const std::string big = std::string(R"({"actor": "x", "reason": ")") + std::string(8192, 'a') + "\"}";
  const auto reply =
      Curl({"-X", "POST", "-H", "Content-Type: application/json", "--data-binary", big}, "/v1/readings/1/corrections");
  EXPECT_EQ(reply.status, 413) << reply.body;
  EXPECT_NE(reply.body.find("over 4096 bytes"), std::string::npos) << reply.body;
  EXPECT_EQ(Curl({}, "/v1/health").status, 200);  // the daemon serves on
}

TEST_F(ApiGuard, ConnectionsBeyondTheCapGetAnExplicit503) {
  // Three idle clients hold the three connections the lab allows (accepted in order).
  std::vector<int> held;
  for (int i = 0; i < 3; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(std::stoi(port_)));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    held.push_back(fd);
  }
  const auto refused = Curl({}, "/v1/health");
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_NE(refused.body.find("api.max_connections"), std::string::npos) << refused.body;
  for (int fd : held) close(fd);
  // Once they are gone, the next client is served (the count is given back as each ends).
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (Curl({}, "/v1/health").status == 200) return;
  }
  ADD_FAILURE() << "never served again after the held connections closed";
}

}  // namespace
}  // namespace labtrace
