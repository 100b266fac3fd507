// Who may call what, against the real daemon: every endpoint of the role × endpoint table
// (auth/endpoint_table.cpp) called by every kind of caller, in the record states that
// matter; tokens that prove nothing (forged, expired, revoked, for another instrument);
// and the lockout after five failed logins, with its audit events.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "auth/endpoint_table.h"
#include "cli/http_client.h"
#include "labtrace/api.pb.h"
#include "labtrace/clock.h"
#include "support/daemon_process.h"
#include "support/labtrace_cli.h"

namespace labtrace {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::TestCallers;

constexpr auto kDeadline = 20s;

// One call: the method, the concrete target, a body for POST.
struct Call {
  std::string method, target, body;
};

class Access : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("labtrace-access-{}-{}", getpid(), ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const std::string config = (dir_ / "lab.textproto").string();
    // lab-pc-7 sends its readings (an upload instrument); lab-pc-8 is not the uploader's.
    std::ofstream(config) << "name: \"access lab\"\n"
                             "instruments { name: \"lab-pc-7\" driver: \"upload\" }\n"
                             "instruments { name: \"lab-pc-8\" driver: \"upload\" }\n";
    auto daemon = testing::StartDaemon(config, (dir_ / "data").string(), kDeadline);
    daemon_ = std::move(daemon.process);
    server_ = daemon.server;
    callers_ = daemon.callers;
    ASSERT_FALSE(server_.empty());
  }
  void TearDown() override {
    daemon_.reset();
    fs::remove_all(dir_);
  }

  cli::HttpReply Send(const Call& call, const std::string& token) {
    Result<cli::HttpReply> reply = call.method == "GET"      ? cli::HttpGet(server_, call.target, token)
                                   : call.method == "DELETE" ? cli::HttpDelete(server_, call.target, token)
                                                             : cli::HttpPostAs(server_, call.target, call.body, token);
    EXPECT_TRUE(reply) << reply.error().message();
    return reply ? *reply : cli::HttpReply{};
  }

  // A session token from a real login.
  std::string LogIn(const std::string& user) {
    auto reply = cli::HttpPostAs(server_, "/v1/sessions",
                                 fmt::format(R"({{"user": "{}", "password": "{}"}})", user, testing::kTestPassword), "");
    EXPECT_TRUE(reply && reply->status == 200) << (reply ? reply->body : reply.error().message());
    if (!reply || reply->status != 200) return "";
    return testing::ParseJson<api::SessionResponse>(reply->body).token();
  }

  // Uploads one reading of `instrument`; its sequence number, or 0.
  uint64_t Upload(const std::string& key, const std::string& instrument, const std::string& token, int* status = nullptr) {
    auto reply = cli::HttpPostAs(
        server_, "/v1/uploads",
        fmt::format(R"({{"idempotency_key": "{}", "readings": [{{"instrument": "{}", "channel": "mass", "value": 1.5,
                        "unit": "g", "quality": "GOOD", "requested_at_ns": "{}"}}]}})",
                    key, instrument, NowNs()),
        token);
    EXPECT_TRUE(reply);
    if (status != nullptr) *status = reply ? reply->status : 0;
    if (!reply || reply->status != 200) return 0;
    return testing::ParseJson<api::UploadReceipt>(reply->body).first_sequence();
  }

  std::vector<AuditEvent> Trail(const std::string& entity) {
    auto reply = cli::HttpGet(server_, "/v1/audit?entity=" + cli::PercentEncode(entity), callers_.auditor);
    EXPECT_TRUE(reply && reply->status == 200);
    if (!reply || reply->status != 200) return {};
    auto audit = testing::ParseJson<api::AuditResponse>(reply->body);
    return {audit.events().begin(), audit.events().end()};
  }

  // Waits, commit by commit, until the trail of `entity` satisfies `done`: a refusal's
  // event goes with the next commit, not before the refusal's answer.
  template <typename Done>
  bool WaitForTrail(const std::string& entity, Done done) {
    const auto until = std::chrono::steady_clock::now() + kDeadline;
    while (std::chrono::steady_clock::now() < until) {
      const size_t mark = daemon_->Mark();
      if (done(Trail(entity))) return true;
      if (!daemon_->WaitForLine(std::regex("store: committed"), kDeadline, mark)) break;
    }
    return false;
  }

  fs::path dir_;
  std::unique_ptr<ChildProcess> daemon_;
  std::string server_;
  TestCallers callers_;
};

// A caller of the matrix: its role and a token (none for nobody).
struct Caller {
  Role role;
  std::string token;
};

// What an allowed call of each served route is, in a state where it succeeds and, for
// routes on one record, in a state where the record is not there. Planned routes get a
// call with their parameters filled in; allowed, they answer 404 "planned".
struct Probe {
  Call call;
  int allowed_status;  // when the caller's role may call it
};
constexpr int kNotCalledWhenAllowed = -1;

TEST_F(Access, EveryRoleOnEveryEndpointInEveryRecordStateGetsWhatTheTableSays) {
  const uint64_t reading = Upload("matrix-1", "lab-pc-7", callers_.uploader);
  ASSERT_GT(reading, 0u);
  // Tokens that allowed calls use up: a logout per role, a revocation per role.
  std::map<Role, std::string> sessions_to_end;
  for (Role role : {ROLE_TECHNICIAN, ROLE_REVIEWER, ROLE_AUDITOR, ROLE_ADMIN}) {
    sessions_to_end[role] = LogIn(TestCallers::UserOf(role));
  }
  std::vector<std::string> tokens_to_revoke;
  for (int i = 0; i < 6; ++i) {
    auto made = cli::HttpPostAs(server_, "/v1/tokens", R"({"uploader": "pc-spare", "instruments": ["lab-pc-7"]})",
                                callers_.admin);
    ASSERT_TRUE(made && made->status == 200) << (made ? made->body : "");
    tokens_to_revoke.push_back(testing::ParseJson<api::IssuedTokenResponse>(made->body).record().token_id());
  }
  const std::string password_same = fmt::format(R"({{"current_password": "{0}", "new_password": "{0}"}})",
                                                testing::kTestPassword);

  const std::vector<Caller> callers = {{ROLE_UNSPECIFIED, ""},
                                       {ROLE_TECHNICIAN, callers_.technician},
                                       {ROLE_REVIEWER, callers_.reviewer},
                                       {ROLE_AUDITOR, callers_.auditor},
                                       {ROLE_ADMIN, callers_.admin},
                                       {ROLE_UPLOADER, callers_.uploader}};
  // Each served route, in each of its record states: the probe for one caller.
  using ProbeFor = std::function<std::vector<Probe>(const Caller&, size_t)>;
  const std::map<std::string, ProbeFor> probes = {
      {"GET /v1/health", [](const Caller&, size_t) { return std::vector<Probe>{{{"GET", "/v1/health", ""}, 200}}; }},
      {"POST /v1/sessions",
       [&](const Caller&, size_t) {
         return std::vector<Probe>{
             {{"POST", "/v1/sessions",
               fmt::format(R"({{"user": "test.auditor", "password": "{}"}})", testing::kTestPassword)},
              200},
             {{"POST", "/v1/sessions", R"({"user": "nobody.here", "password": "not the password"})"}, 401}};
       }},
      {"DELETE /v1/sessions/current",
       [&](const Caller& c, size_t) {
         // Allowed, it ends the caller's own session: a spare one, so the matrix goes on.
         return std::vector<Probe>{{{"DELETE", "/v1/sessions/current", ""}, 200}};
       }},
      {"POST /v1/password",
       [&](const Caller&, size_t) {
         return std::vector<Probe>{{{"POST", "/v1/password", password_same}, 200}};
       }},
      {"GET /v1/users", [](const Caller&, size_t) { return std::vector<Probe>{{{"GET", "/v1/users", ""}, 200}}; }},
      {"POST /v1/users",
       [&](const Caller& c, size_t) {
         const std::string body = fmt::format(
             R"({{"name": "new.{}", "full_name": "Lê Văn Mới", "role": "ROLE_TECHNICIAN", "password": "{}"}})",
             auth::RoleName(c.role), testing::kTestPassword);
         // Enrolled, then the same name again: a user is never replaced.
         return std::vector<Probe>{{{"POST", "/v1/users", body}, 200}, {{"POST", "/v1/users", body}, 409}};
       }},
      {"POST /v1/users/{name}/unlock",
       [](const Caller&, size_t) {
         return std::vector<Probe>{{{"POST", "/v1/users/test.technician/unlock", "{}"}, 200},
                                   {{"POST", "/v1/users/no.such.user/unlock", "{}"}, 404}};
       }},
      {"GET /v1/tokens", [](const Caller&, size_t) { return std::vector<Probe>{{{"GET", "/v1/tokens", ""}, 200}}; }},
      {"POST /v1/tokens",
       [](const Caller&, size_t) {
         return std::vector<Probe>{
             {{"POST", "/v1/tokens", R"({"uploader": "pc-new", "instruments": ["lab-pc-7"], "days": 30})"}, 200},
             {{"POST", "/v1/tokens", R"({"uploader": "pc-new", "instruments": ["no-such-instrument"]})"}, 400}};
       }},
      {"DELETE /v1/tokens/{token_id}",
       [&](const Caller&, size_t index) {
         return std::vector<Probe>{{{"DELETE", "/v1/tokens/" + tokens_to_revoke[index], ""}, 200},
                                   {{"DELETE", "/v1/tokens/tok-000000000000", ""}, 404}};
       }},
      {"GET /v1/readings",
       [](const Caller&, size_t) { return std::vector<Probe>{{{"GET", "/v1/readings?instrument=lab-pc-7", ""}, 200}}; }},
      {"POST /v1/readings/{sequence}/corrections",
       [&](const Caller&, size_t) {
         const std::string body = R"({"reason": "matrix", "corrected": {"value": 1.6, "unit": "g", "quality": "GOOD"}})";
         return std::vector<Probe>{
             {{"POST", fmt::format("/v1/readings/{}/corrections", reading), body}, 200},
             {{"POST", "/v1/readings/999999/corrections", body}, 404}};
       }},
      {"POST /v1/uploads",
       [&](const Caller& c, size_t) {
         const std::string body = fmt::format(
             R"({{"idempotency_key": "matrix-{}", "readings": [{{"instrument": "lab-pc-7", "channel": "mass",
                 "value": 1.5, "unit": "g", "quality": "GOOD", "requested_at_ns": "{}"}}]}})",
             auth::RoleName(c.role), NowNs());
         return std::vector<Probe>{{{"POST", "/v1/uploads", body}, 200}};
       }},
      // This lab has no Modbus bus: an allowed write is refused for that, not for its caller.
      {"POST /v1/modbus/writes",
       [](const Caller&, size_t) {
         return std::vector<Probe>{
             {{"POST", "/v1/modbus/writes", R"({"bus": "none", "unit_id": 1, "values": [1], "reason": "matrix"})"},
              404}};
       }},
      {"POST /v1/calibrations",
       [](const Caller&, size_t) {
         return std::vector<Probe>{{{"POST", "/v1/calibrations", R"({"procedure": "no-such-procedure"})"}, 400}};
       }},
      {"GET /v1/calibrations/{number}",
       [](const Caller&, size_t) { return std::vector<Probe>{{{"GET", "/v1/calibrations/KD-2026-99999", ""}, 404}}; }},
      {"GET /v1/trace/chain",
       [&](const Caller&, size_t) {
         return std::vector<Probe>{{{"GET", fmt::format("/v1/trace/chain?reading={}", reading), ""}, 200}};
       }},
      {"GET /v1/trace/reverse",
       // lab-pc-7 has no calibration to trace from: the question is wrong, not the caller.
       [](const Caller&, size_t) { return std::vector<Probe>{{{"GET", "/v1/trace/reverse?id=lab-pc-7", ""}, 400}}; }},
      {"GET /v1/audit", [](const Caller&, size_t) { return std::vector<Probe>{{{"GET", "/v1/audit", ""}, 200}}; }},
      {"GET /v1/uploads", [](const Caller&, size_t) { return std::vector<Probe>{{{"GET", "/v1/uploads", ""}, 200}}; }},
      {"GET /v1/calibrations",
       [](const Caller&, size_t) { return std::vector<Probe>{{{"GET", "/v1/calibrations", ""}, 200}}; }},
      // Conformity records: made (a new enterprise each time), or refused for naming a
      // record that is not there.
      {"POST /v1/enterprises",
       [](const Caller&, size_t) {
         return std::vector<Probe>{
             {{"POST", "/v1/enterprises", R"({"enterprise": {"name": "Cty A", "tax_code": "1600123456", "address": "An Giang"}})"}, 200},
             {{"POST", "/v1/enterprises", R"({"enterprise": {"name": "Cty A", "tax_code": "16001", "address": "An Giang"}})"}, 400}};
       }},
      {"GET /v1/enterprises", [](const Caller&, size_t) { return std::vector<Probe>{{{"GET", "/v1/enterprises", ""}, 200}}; }},
      {"POST /v1/products",
       [](const Caller&, size_t) {
         return std::vector<Probe>{{{"POST", "/v1/products", R"({"product": {"enterprise": "DN-2026-9999", "name": "Gạo"}})"}, 404}};
       }},
      {"GET /v1/products", [](const Caller&, size_t) { return std::vector<Probe>{{{"GET", "/v1/products", ""}, 200}}; }},
      {"POST /v1/samples",
       [](const Caller&, size_t) {
         return std::vector<Probe>{{{"POST", "/v1/samples",
                                     R"({"sample": {"enterprise": "DN-2026-9999", "product": "SP-2026-9999", "description": "gạo", "quantity": "2 kg", "condition": "sealed"}})"},
                                    404}};
       }},
      {"GET /v1/samples", [](const Caller&, size_t) { return std::vector<Probe>{{{"GET", "/v1/samples", ""}, 200}}; }},
      {"GET /v1/samples/{code}",
       [](const Caller&, size_t) { return std::vector<Probe>{{{"GET", "/v1/samples/M-2026-99999", ""}, 404}}; }},
      {"POST /v1/runs",
       [](const Caller&, size_t) {
         return std::vector<Probe>{{{"POST", "/v1/runs", R"({"sample": "M-2026-99999", "method": "PP-DA-GAO"})"}, 404}};
       }},
      {"GET /v1/runs", [](const Caller&, size_t) { return std::vector<Probe>{{{"GET", "/v1/runs", ""}, 200}}; }},
      {"GET /v1/runs/{id}",
       [](const Caller&, size_t) { return std::vector<Probe>{{{"GET", "/v1/runs/TN-2026-99999", ""}, 404}}; }},
      {"POST /v1/runs/{id}/captures",
       [](const Caller&, size_t) {
         return std::vector<Probe>{{{"POST", "/v1/runs/TN-2026-99999/captures", R"({"step": "dish"})"}, 404}};
       }},
      {"POST /v1/runs/{id}/submission",
       [](const Caller&, size_t) { return std::vector<Probe>{{{"POST", "/v1/runs/TN-2026-99999/submission", "{}"}, 404}}; }},
      {"POST /v1/runs/{id}/reviews",
       [](const Caller&, size_t) {
         return std::vector<Probe>{{{"POST", "/v1/runs/TN-2026-99999/reviews", R"({"password": "x"})"}, 404}};
       }},
      {"POST /v1/runs/{id}/amendments",
       [](const Caller&, size_t) {
         return std::vector<Probe>{{{"POST", "/v1/runs/TN-2026-99999/amendments", R"({"reason": "retest"})"}, 404}};
       }},
      // Test reports: none in this store, so each allowed call is told so.
      {"POST /v1/reports",
       [](const Caller&, size_t) {
         return std::vector<Probe>{
             {{"POST", "/v1/reports", R"({"sample": "M-2026-99999", "runs": ["TN-2026-99999"]})"}, 404}};
       }},
      {"GET /v1/reports/{number}",
       [](const Caller&, size_t) { return std::vector<Probe>{{{"GET", "/v1/reports/PKQ-2026-99999", ""}, 404}}; }},
      {"POST /v1/reports/{number}/signatures",
       [](const Caller&, size_t) {
         return std::vector<Probe>{
             {{"POST", "/v1/reports/PKQ-2026-99999/signatures", R"({"password": "not the password"})"}, 404}};
       }},
      {"POST /v1/reports/{number}/amendments",
       [](const Caller&, size_t) {
         return std::vector<Probe>{
             {{"POST", "/v1/reports/PKQ-2026-99999/amendments", R"({"reason": "matrix"})"}, 404}};
       }},
      {"GET /v1/verify/{code}",
       [](const Caller&, size_t) { return std::vector<Probe>{{{"GET", "/v1/verify/7KQ2M4XW9TNA", ""}, 404}}; }},
      // An allowed stream never ends: only its refusals are called here (stream_test reads one).
      {"GET /v1/readings/stream",
       [](const Caller&, size_t) { return std::vector<Probe>{{{"GET", "/v1/readings/stream", ""}, kNotCalledWhenAllowed}}; }},
  };

  int calls = 0;
  for (const auth::Endpoint& endpoint : auth::Endpoints()) {
    const std::string route = fmt::format("{} {}", endpoint.method, endpoint.route);
    const auto probe = probes.find(route);
    if (endpoint.planned.empty()) {
      ASSERT_NE(probe, probes.end()) << route << " is served but this test has no probe for it: add one";
    }
    for (size_t index = 0; index < callers.size(); ++index) {
      Caller caller = callers[index];
      const bool allowed = auth::Decide(caller.role, endpoint.method, endpoint.route).allowed();
      // A logout ends the session it is sent with: send a spare one.
      if (route == "DELETE /v1/sessions/current" && sessions_to_end.count(caller.role)) {
        caller.token = sessions_to_end[caller.role];
      }
      std::vector<Probe> cases;
      if (probe != probes.end()) {
        cases = probe->second(caller, index);
      } else {  // planned: its parameters filled with something
        std::string target(endpoint.route);
        for (size_t open; (open = target.find('{')) != std::string::npos;) {
          target.replace(open, target.find('}') - open + 1, "x");
        }
        cases = {{{std::string(endpoint.method), target, "{}"}, 404}};
      }
      for (const Probe& c : cases) {
        if (allowed && c.allowed_status == kNotCalledWhenAllowed) continue;
        SCOPED_TRACE(fmt::format("{} as {} ({})", route, auth::RoleName(caller.role), c.call.target));
        const cli::HttpReply reply = Send(c.call, caller.token);
        ++calls;
        if (!allowed) {
          EXPECT_EQ(reply.status, caller.role == ROLE_UNSPECIFIED ? 401 : 403) << reply.body;
        } else {
          EXPECT_EQ(reply.status, c.allowed_status) << reply.body;
        }
      }
    }
  }
  EXPECT_GT(calls, 6 * 35);

  // Every refusal is on the audit trail, with who was refused: here the uploader's try at
  // the user list.
  EXPECT_TRUE(WaitForTrail("api:GET /v1/users", [](const std::vector<AuditEvent>& trail) {
    return std::any_of(trail.begin(), trail.end(), [](const AuditEvent& event) {
      return event.action() == "refuse" && event.actor() == "test-uploader";
    });
  }));
}

TEST_F(Access, TokensThatProveNothingAreRefusedAndTheRefusalIsAudited) {
  const Call readings{"GET", "/v1/readings", ""};
  // Forged: shaped like a token, never issued.
  EXPECT_EQ(Send(readings, "lt_" + std::string(43, 'A')).status, 401);
  // Not even shaped like one, and a header that is not Bearer.
  EXPECT_EQ(Send(readings, "hunter2").status, 401);
  // Expired: issued nine hours ago for eight.
  const cli::HttpReply expired = Send(readings, callers_.expired);
  EXPECT_EQ(expired.status, 401);
  EXPECT_NE(expired.body.find("expired"), std::string::npos) << expired.body;
  // Revoked: logged out, then used again.
  const std::string session = LogIn("test.technician");
  EXPECT_EQ(Send(readings, session).status, 200);
  EXPECT_EQ(Send({"DELETE", "/v1/sessions/current", ""}, session).status, 200);
  const cli::HttpReply revoked = Send(readings, session);
  EXPECT_EQ(revoked.status, 401);
  EXPECT_NE(revoked.body.find("revoked"), std::string::npos) << revoked.body;
  // Revoked by an admin: the uploader's token stops at once.
  int status = 0;
  auto made = cli::HttpPostAs(server_, "/v1/tokens", R"({"uploader": "pc-3", "instruments": ["lab-pc-7"]})",
                              callers_.admin);
  ASSERT_TRUE(made && made->status == 200);
  const auto issued = testing::ParseJson<api::IssuedTokenResponse>(made->body);
  EXPECT_GT(Upload("pc3-1", "lab-pc-7", issued.token(), &status), 0u);
  EXPECT_EQ(Send({"DELETE", "/v1/tokens/" + issued.record().token_id(), ""}, callers_.admin).status, 200);
  Upload("pc3-2", "lab-pc-7", issued.token(), &status);
  EXPECT_EQ(status, 401);
  // Another instrument's: a token made for lab-pc-7 only, naming lab-pc-8 too (an
  // uploading instrument of this lab); nothing of the upload is stored.
  auto scoped = cli::HttpPostAs(server_, "/v1/tokens", R"({"uploader": "pc-7", "instruments": ["lab-pc-7"]})",
                                callers_.admin);
  ASSERT_TRUE(scoped && scoped->status == 200);
  const std::string pc7_only = testing::ParseJson<api::IssuedTokenResponse>(scoped->body).token();
  auto other = cli::HttpPostAs(server_, "/v1/uploads",
                               fmt::format(R"({{"idempotency_key": "other-1", "readings": [
                                   {{"instrument": "lab-pc-7", "channel": "mass", "value": 1, "unit": "g",
                                     "quality": "GOOD", "requested_at_ns": "{0}"}},
                                   {{"instrument": "lab-pc-8", "channel": "mass", "value": 2, "unit": "g",
                                     "quality": "GOOD", "requested_at_ns": "{0}"}}]}})",
                                           NowNs()),
                               pc7_only);
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 403) << other->body;
  EXPECT_NE(other->body.find("readings[1]"), std::string::npos) << other->body;
  EXPECT_NE(other->body.find("lab-pc-8"), std::string::npos) << other->body;
  auto pc7 = cli::HttpGet(server_, "/v1/readings?instrument=lab-pc-7", callers_.auditor);
  ASSERT_TRUE(pc7);
  EXPECT_EQ(testing::ParseJson<api::ReadingsResponse>(pc7->body).readings_size(), 1) << "only pc3-1";

  // Forged, malformed, expired, revoked.
  EXPECT_TRUE(WaitForTrail("api:GET /v1/readings", [](const std::vector<AuditEvent>& trail) {
    return std::count_if(trail.begin(), trail.end(), [](const AuditEvent& e) { return e.action() == "refuse"; }) == 4;
  }));
}

TEST_F(Access, FiveFailedLoginsLockTheAccountUntilAnAdminUnlocksIt) {
  const std::string wrong = R"({"user": "test.technician", "password": "not the right one"})";
  for (int attempt = 1; attempt <= 5; ++attempt) {
    auto reply = cli::HttpPostAs(server_, "/v1/sessions", wrong, "");
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 401) << reply->body;
    if (attempt < 5) EXPECT_NE(reply->body.find("wrong user name or password"), std::string::npos) << reply->body;
    if (attempt == 5) EXPECT_NE(reply->body.find("locked"), std::string::npos) << reply->body;
  }
  // Locked: the right password is not even tried.
  const std::string right =
      fmt::format(R"({{"user": "test.technician", "password": "{}"}})", testing::kTestPassword);
  auto refused = cli::HttpPostAs(server_, "/v1/sessions", right, "");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  EXPECT_NE(refused->body.find("locked"), std::string::npos) << refused->body;

  std::vector<std::string> actions;
  for (const AuditEvent& event : Trail("user:test.technician")) actions.push_back(event.action());
  const std::vector<std::string> expected = {"login-failed", "login-failed", "login-failed", "login-failed",
                                             "login-failed", "lock",         "login-failed"};
  EXPECT_EQ(actions, expected);

  // The user list shows the lockout; an admin ends it; the right password works again.
  auto users = testing::ParseJson<api::UsersResponse>(cli::HttpGet(server_, "/v1/users", callers_.admin)->body);
  bool locked = false;
  for (const auto& user : users.users()) locked |= user.name() == "test.technician" && user.locked_until_ns() > NowNs();
  EXPECT_TRUE(locked);
  EXPECT_EQ(Send({"POST", "/v1/users/test.technician/unlock", "{}"}, callers_.technician).status, 403);
  EXPECT_EQ(Send({"POST", "/v1/users/test.technician/unlock", "{}"}, callers_.admin).status, 200);
  EXPECT_FALSE(LogIn("test.technician").empty());
  const auto trail = Trail("user:test.technician");
  ASSERT_GE(trail.size(), 2u);
  EXPECT_EQ(trail[trail.size() - 2].action(), "unlock");
  EXPECT_EQ(trail[trail.size() - 2].actor(), "test.admin");
  EXPECT_EQ(trail.back().action(), "login");
}

}  // namespace
}  // namespace labtrace
