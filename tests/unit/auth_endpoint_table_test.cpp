// Who may call what (daemon/auth/endpoint_table.h), checked role by role and endpoint by
// endpoint against an expectation written out again here, by hand, from issues 14 and 15
// and ARCHITECTURE.md's users: a change to the table must be made in both places.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "auth/endpoint_table.h"

namespace labtrace::auth {
namespace {

// Letters: t technician, r reviewer, a auditor, m admin (manager), u uploader; "*" means
// anyone, without a token too.
const std::map<std::string, std::string> kExpected = {
    {"GET /v1/health", "*"},
    {"POST /v1/sessions", "*"},
    {"GET /v1/verify/{code}", "*"},
    {"DELETE /v1/sessions/current", "tram"},
    {"POST /v1/password", "tram"},
    {"GET /v1/users", "am"},
    {"POST /v1/users", "m"},
    {"POST /v1/users/{name}/unlock", "m"},
    {"GET /v1/tokens", "am"},
    {"POST /v1/tokens", "m"},
    {"DELETE /v1/tokens/{token_id}", "m"},
    {"GET /v1/readings", "tram"},
    {"GET /v1/readings/stream", "tram"},
    {"POST /v1/readings/{sequence}/corrections", "tr"},
    {"POST /v1/uploads", "u"},
    {"GET /v1/uploads", "tram"},
    {"POST /v1/modbus/writes", "rm"},
    {"POST /v1/calibrations", "tr"},
    {"GET /v1/calibrations", "tram"},
    {"GET /v1/calibrations/{number}", "tram"},
    {"POST /v1/enterprises", "tr"},
    {"GET /v1/enterprises", "tram"},
    {"POST /v1/products", "tr"},
    {"GET /v1/products", "tram"},
    {"POST /v1/samples", "tr"},
    {"GET /v1/samples", "tram"},
    {"GET /v1/samples/{code}", "tram"},
    {"POST /v1/runs", "tr"},
    {"GET /v1/runs", "tram"},
    {"GET /v1/runs/{id}", "tram"},
    {"POST /v1/runs/{id}/captures", "tr"},
    {"POST /v1/runs/{id}/submission", "tr"},
    {"POST /v1/runs/{id}/reviews", "r"},
    {"POST /v1/runs/{id}/amendments", "tr"},
    {"POST /v1/reports", "tr"},
    {"GET /v1/reports/{number}", "tram"},
    {"POST /v1/reports/{number}/signatures", "r"},
    {"POST /v1/reports/{number}/amendments", "tr"},
    {"POST /v1/dossiers", "tr"},
    {"GET /v1/dossiers/{id}", "tram"},
    {"POST /v1/dossiers/{id}/reports", "tr"},
    {"POST /v1/certificates", "r"},
    {"GET /v1/certificates/{number}", "tram"},
    {"GET /v1/trace/chain", "tram"},
    {"GET /v1/trace/reverse", "tram"},
    {"GET /v1/trace/certificates/{number}", "tram"},
    {"GET /v1/trace/certificates/{number}/pack", "tram"},
    {"GET /v1/audit", "ram"},
};

const std::map<Role, char> kLetter = {{ROLE_TECHNICIAN, 't'},
                                      {ROLE_REVIEWER, 'r'},
                                      {ROLE_AUDITOR, 'a'},
                                      {ROLE_ADMIN, 'm'},
                                      {ROLE_UPLOADER, 'u'}};

// "/v1/runs/{id}/reviews" as a client sends it: "/v1/runs/RUN-7/reviews".
std::string Concrete(std::string_view route) {
  std::string path;
  for (size_t i = 0; i < route.size(); ++i) {
    if (route[i] != '{') {
      path += route[i];
      continue;
    }
    path += "RUN-7";
    i = route.find('}', i);
  }
  return path;
}

TEST(EndpointTable, ListsExactlyTheExpectedEndpoints) {
  std::set<std::string> listed;
  for (const Endpoint& endpoint : Endpoints()) {
    const std::string name = std::string(endpoint.method) + " " + std::string(endpoint.route);
    EXPECT_TRUE(listed.insert(name).second) << name << " is listed twice";
    EXPECT_TRUE(kExpected.count(name))
        << name << " is in the table but not in this test's expectation";
  }
  for (const auto& [name, roles] : kExpected)
    EXPECT_TRUE(listed.count(name)) << name << " is missing from the table";
}

TEST(EndpointTable, EveryRoleOnEveryEndpoint) {
  for (const auto& [name, letters] : kExpected) {
    const std::string method = name.substr(0, name.find(' '));
    const std::string path = Concrete(name.substr(name.find(' ') + 1));
    for (const Role role : {ROLE_UNSPECIFIED, ROLE_TECHNICIAN, ROLE_REVIEWER, ROLE_AUDITOR,
                            ROLE_ADMIN, ROLE_UPLOADER}) {
      const bool expected = letters == "*" || (role != ROLE_UNSPECIFIED &&
                                               letters.find(kLetter.at(role)) != std::string::npos);
      const AccessDecision decision = Decide(role, method, path);
      EXPECT_EQ(decision.allowed(), expected)
          << RoleName(role) << " " << method << " " << path << ": " << decision.reason;
      ASSERT_NE(decision.endpoint, nullptr) << method << " " << path;
      EXPECT_EQ(
          std::string(decision.endpoint->method) + " " + std::string(decision.endpoint->route),
          name);
      if (!expected) {
        EXPECT_EQ(decision.verdict,
                  role == ROLE_UNSPECIFIED ? Verdict::kNeedsToken : Verdict::kRoleRefused);
        EXPECT_FALSE(decision.reason.empty());
      }
    }
  }
}

TEST(EndpointTable, AnAuditorChangesNothing) {
  // Beyond logging in and out and their own password, an auditor only reads.
  const std::set<std::string> own_session = {"POST /v1/sessions", "DELETE /v1/sessions/current",
                                             "POST /v1/password"};
  for (const Endpoint& endpoint : Endpoints()) {
    const std::string name = std::string(endpoint.method) + " " + std::string(endpoint.route);
    if (endpoint.method != "GET" && !own_session.count(name)) {
      EXPECT_FALSE(Decide(ROLE_AUDITOR, endpoint.method, Concrete(endpoint.route)).allowed())
          << name;
    }
  }
}

TEST(EndpointTable, SaysWhyARequestHasNoEndpoint) {
  const AccessDecision unknown = Decide(ROLE_ADMIN, "GET", "/v1/nothing");
  EXPECT_EQ(unknown.verdict, Verdict::kNoSuchEndpoint);
  EXPECT_NE(unknown.reason.find("/v1/nothing"), std::string::npos) << unknown.reason;
  EXPECT_EQ(Decide(ROLE_ADMIN, "GET", "/v1/readings/").verdict, Verdict::kNoSuchEndpoint);
  EXPECT_EQ(Decide(ROLE_ADMIN, "GET", "/v1/runs//reviews").verdict, Verdict::kNoSuchEndpoint);
  EXPECT_EQ(Decide(ROLE_ADMIN, "GET", "").verdict, Verdict::kNoSuchEndpoint);
  EXPECT_EQ(Decide(ROLE_ADMIN, "GET", "xv1/readings").verdict, Verdict::kNoSuchEndpoint);
  EXPECT_EQ(Decide(ROLE_ADMIN, "GET", "//v1/readings").verdict, Verdict::kNoSuchEndpoint);

  const AccessDecision wrong_method = Decide(ROLE_TECHNICIAN, "PUT", "/v1/runs");
  EXPECT_EQ(wrong_method.verdict, Verdict::kWrongMethod);
  EXPECT_NE(wrong_method.reason.find("POST or GET, not PUT"), std::string::npos)
      << wrong_method.reason;
}

TEST(EndpointTable, ReadsThePathWithoutItsQueryAndHeadAsGet) {
  EXPECT_TRUE(
      Decide(ROLE_AUDITOR, "GET", "/v1/readings?instrument=balance-xs205&last=5").allowed());
  EXPECT_TRUE(Decide(ROLE_TECHNICIAN, "POST", "/v1/calibrations?preview=true").allowed());
  EXPECT_TRUE(Decide(ROLE_AUDITOR, "HEAD", "/v1/readings").allowed());
  EXPECT_FALSE(Decide(ROLE_UPLOADER, "GET", "/v1/readings?instrument=balance-xs205").allowed());
}

TEST(EndpointTable, NamesTheRolesInARefusal) {
  const AccessDecision refused = Decide(ROLE_TECHNICIAN, "POST", "/v1/modbus/writes");
  EXPECT_EQ(refused.verdict, Verdict::kRoleRefused);
  EXPECT_NE(refused.reason.find("reviewer, admin"), std::string::npos) << refused.reason;
  EXPECT_NE(refused.reason.find("technician"), std::string::npos) << refused.reason;
  const AccessDecision anonymous = Decide(ROLE_UNSPECIFIED, "GET", "/v1/readings");
  EXPECT_EQ(anonymous.verdict, Verdict::kNeedsToken);
  EXPECT_NE(anonymous.reason.find("labtrace login"), std::string::npos) << anonymous.reason;
}

// docs/API.md carries the table exactly: every line of its "Who may call what" section
// that starts with '|' is a line of EndpointTableMarkdown(), in order, and nothing else.
TEST(EndpointTable, IsTheTableInTheApiDocs) {
  std::ifstream file(LABTRACE_API_DOC);
  ASSERT_TRUE(file) << LABTRACE_API_DOC;
  std::string line, documented;
  bool in_section = false, found = false;
  while (std::getline(file, line)) {
    if (line.starts_with("## ")) {
      in_section = line == "## Who may call what";
      found = found || in_section;
      continue;
    }
    if (in_section && line.starts_with("|")) documented += line + "\n";
  }
  ASSERT_TRUE(found) << "docs/API.md has no \"## Who may call what\" section";
  EXPECT_EQ(documented, EndpointTableMarkdown())
      << "docs/API.md's table differs from daemon/auth/endpoint_table.cpp; paste "
         "EndpointTableMarkdown() into it";
}

}  // namespace
}  // namespace labtrace::auth
