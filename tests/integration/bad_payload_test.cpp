// The bad-payload corpus (tests/bad_payloads/): every request a sender could get wrong is
// answered with a clear 4xx naming the field or limit, nothing of it is stored, and the
// daemon goes on polling its instrument throughout.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "cli/http_client.h"
#include "labtrace/api.pb.h"
#include "labtrace/clock.h"
#include "support/daemon_process.h"
#include "support/labtrace_cli.h"
#include "support/readings.h"

namespace labtrace {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::ChildProcess;

constexpr auto kDeadline = 20s;

struct BadPayload {
  std::string name, method, target, body;
  int status;
  std::string names;  // text the error must contain
  std::string content_type = "application/json";
};

std::vector<BadPayload> Corpus() {
  std::vector<BadPayload> corpus;
  for (const auto& entry : fs::directory_iterator(LABTRACE_BAD_PAYLOADS_DIR)) {
    if (entry.path().extension() != ".expect") continue;
    BadPayload payload;
    payload.name = entry.path().stem().string();
    std::ifstream expect(entry.path());
    expect >> payload.method >> payload.target >> payload.status;
    std::getline(expect >> std::ws, payload.names);
    std::ifstream body(fs::path(entry.path()).replace_extension(".body"), std::ios::binary);
    payload.body.assign(std::istreambuf_iterator<char>(body), {});
    corpus.push_back(std::move(payload));
  }
  std::sort(corpus.begin(), corpus.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return corpus;
}

std::string ReadingJson(size_t index) {
  return fmt::format(R"({{"instrument": "lab-pc-7", "channel": "mass", "value": {}, "unit": "g", "quality": "GOOD",
                          "requested_at_ns": "{}"}})",
                     1.5 + static_cast<double>(index) / 1000, 1798759800000000000LL + static_cast<int64_t>(index));
}

// The cases too large to keep as files, and the one in binary protobuf.
std::vector<BadPayload> BuiltCases() {
  std::vector<BadPayload> built;
  // 100 000 readings in one upload, in binary protobuf (about 4 MiB, under the body
  // limit): more readings than one upload may carry.
  api::UploadRequest many;
  many.set_idempotency_key("many-1");
  for (int i = 0; i < 100'000; ++i) {
    Reading* r = many.add_readings();
    r->set_instrument("lab-pc-7");
    r->set_channel("mass");
    r->set_value(1.5 + i / 1000.0);
    r->set_unit("g");
    r->set_quality(GOOD);
    r->set_requested_at_ns(1798759800000000000LL + i);
  }
  built.push_back({"100000-readings", "POST", "/v1/uploads", many.SerializeAsString(), 400,
                   "at most 10000 readings per upload", "application/x-protobuf"});
  // A 10 MiB body: over the upload limit, refused before it is read.
  built.push_back({"10-MiB-body", "POST", "/v1/uploads", std::string(10 << 20, ' '), 413, "api.max_upload_bytes"});
  // A 100 kB channel name.
  built.push_back({"huge-channel", "POST", "/v1/uploads",
                   fmt::format(R"({{"idempotency_key": "huge-1", "readings": [{{"instrument": "lab-pc-7",
                                   "channel": "{}", "value": 1.5, "unit": "g", "quality": "GOOD",
                                   "requested_at_ns": "1798759800000000000"}}]}})",
                               std::string(100'000, 'c')),
                   400, "readings[0]: channel is 100000 bytes"});
  // A 1 MiB body to a route whose limit is 1 MiB: over by its framing.
  built.push_back({"huge-correction", "POST", "/v1/readings/1/corrections",
                   fmt::format(R"({{"reason": "{}"}})", std::string(1 << 20, 'r')), 413, "api.max_body_bytes"});
  // A protobuf upload cut short.
  api::UploadRequest upload;
  upload.set_idempotency_key("proto-1");
  Reading* reading = upload.add_readings();
  reading->set_instrument("lab-pc-7");
  reading->set_channel("mass");
  reading->set_value(1.5);
  reading->set_unit("g");
  reading->set_quality(GOOD);
  reading->set_requested_at_ns(NowNs());
  const std::string bytes = upload.SerializeAsString();
  built.push_back({"truncated-protobuf", "POST", "/v1/uploads", bytes.substr(0, bytes.size() - 5), 400,
                   "not a UploadRequest (protobuf)", "application/x-protobuf"});
  return built;
}

class BadPayloads : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("labtrace-bad-payloads-{}", getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    modbus_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{LABTRACE_SIM_PATH, "modbus-tcp", "--port", "0", "--units", "1"});
    auto port = modbus_->WaitForLine(std::regex(R"(listening on 127\.0\.0\.1:(\d+))"), kDeadline);
    ASSERT_TRUE(port) << modbus_->output();
    const std::string config = (dir_ / "lab.textproto").string();
    std::ofstream(config) << fmt::format(R"pb(
      buses {{ name: "gw" modbus_tcp {{ host: "127.0.0.1" port: {} }} }}
      register_maps {{
        name: "climate-th"
        registers {{ name: "setpoint" table: HOLDING address: 0 type: INT16 scale: 0.1 unit: "°C" }}
      }}
      instruments {{ name: "chamber-1" driver: "modbus" bus: "gw" period_ms: 100 modbus {{ unit_id: 1 register_map: "climate-th" }} }}
      instruments {{ name: "lab-pc-7" driver: "upload" }}
    )pb", (*port)[1]);
    auto daemon = testing::StartDaemon(config, (dir_ / "data").string(), kDeadline);
    daemon_ = std::move(daemon.process);
    server_ = daemon.server;
    callers_ = daemon.callers;
    ASSERT_FALSE(server_.empty());
  }
  void TearDown() override {
    daemon_.reset();
    modbus_.reset();
    fs::remove_all(dir_);
  }

  // The readings of lab-pc-7, every version.
  int UploadedReadings() {
    auto reply = cli::HttpGet(server_, "/v1/readings?instrument=lab-pc-7", callers_.auditor);
    EXPECT_TRUE(reply && reply->status == 200);
    return reply ? testing::ParseJson<api::ReadingsResponse>(reply->body).readings_size() : -1;
  }

  fs::path dir_;
  std::unique_ptr<ChildProcess> modbus_, daemon_;
  std::string server_;
  testing::TestCallers callers_;
};

TEST_F(BadPayloads, EachIsAClearRefusalNamingTheFieldNothingIsStoredAndPollingGoesOn) {
  // One good upload first, so a correction has a reading to aim at (sequence 1 or later).
  auto good = cli::HttpPostAs(server_, "/v1/uploads",
                              R"({"idempotency_key": "good-1", "readings": [)" + ReadingJson(0) + "]}",
                              callers_.uploader);
  ASSERT_TRUE(good && good->status == 200) << (good ? good->body : good.error().message());
  const uint64_t polled_before = testing::LastSequence(server_, "chamber-1", "setpoint");

  std::vector<BadPayload> cases = Corpus();
  ASSERT_GE(cases.size(), 14u) << "the corpus in " << LABTRACE_BAD_PAYLOADS_DIR;
  for (BadPayload& built : BuiltCases()) cases.push_back(std::move(built));
  for (const BadPayload& bad : cases) {
    SCOPED_TRACE(bad.name);
    // Uploads are sent as the instrument PC; everything else as the reviewer.
    const std::string& token = bad.target == "/v1/uploads" ? callers_.uploader : callers_.reviewer;
    auto reply = cli::HttpPostAs(server_, bad.target, bad.body, token, bad.content_type);
    ASSERT_TRUE(reply) << reply.error().message();
    EXPECT_EQ(reply->status, bad.status) << reply->body;
    EXPECT_NE(reply->body.find(bad.names), std::string::npos) << "the error should name \"" << bad.names
                                                              << "\": " << reply->body.substr(0, 500);
    EXPECT_EQ(UploadedReadings(), 1) << "nothing of a refused request is stored";
  }
  // Polling went on through all of it: new readings of the chamber, GOOD.
  const auto later = testing::WaitForReadings(*daemon_, server_, "chamber-1", "setpoint", polled_before,
                                              [](const auto& r) { return testing::AnyOf(r, {GOOD}); });
  EXPECT_FALSE(later.empty());
}

}  // namespace
}  // namespace labtrace
