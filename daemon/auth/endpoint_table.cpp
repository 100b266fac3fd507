#include "auth/endpoint_table.h"

#include <fmt/format.h>

#include <array>
#include <vector>

namespace labtrace::auth {

namespace {

// The order of the roles in messages and in the docs' columns.
constexpr std::array kRoles = {ROLE_TECHNICIAN, ROLE_REVIEWER, ROLE_AUDITOR, ROLE_ADMIN,
                               ROLE_UPLOADER};
constexpr RoleSet kEveryone =
    RolesOf({ROLE_TECHNICIAN, ROLE_REVIEWER, ROLE_AUDITOR, ROLE_ADMIN, ROLE_UPLOADER});
// People with a login; an uploader is a program, and reads nothing back.
constexpr RoleSet kPeople = RolesOf({ROLE_TECHNICIAN, ROLE_REVIEWER, ROLE_AUDITOR, ROLE_ADMIN});
constexpr RoleSet kReaders = kPeople;
// Those who make records: a reviewer does a technician's work too, and may not review it.
constexpr RoleSet kBench = RolesOf({ROLE_TECHNICIAN, ROLE_REVIEWER});
constexpr RoleSet kSignatories = RolesOf({ROLE_REVIEWER});
constexpr RoleSet kAdmin = RolesOf({ROLE_ADMIN});
constexpr RoleSet kAdminAndAuditor = RolesOf({ROLE_ADMIN, ROLE_AUDITOR});

// Public endpoints are listed with every role, so that a logged-in caller is not refused
// what an anonymous one may do.
constexpr Endpoint Public(std::string_view method, std::string_view route, std::string_view planned,
                          std::string_view what) {
  return {method, route, true, kEveryone, planned, what};
}
constexpr Endpoint For(RoleSet roles, std::string_view method, std::string_view route,
                       std::string_view planned, std::string_view what) {
  return {method, route, false, roles, planned, what};
}

constexpr std::array kEndpoints = {
    Public("GET", "/v1/health", "", "the daemon's and each instrument's state"),
    Public("POST", "/v1/sessions", "", "log in: user name and password give a session token"),
    For(kPeople, "DELETE", "/v1/sessions/current", "", "log out: the token sent is revoked"),
    For(kPeople, "POST", "/v1/password", "",
        "change one's own password; one's signing key is sealed again under it"),
    For(kAdminAndAuditor, "GET", "/v1/users", "", "users, their roles and lockouts"),
    For(kAdmin, "POST", "/v1/users", "",
        "enrol a user: role, printed name, first password, signing key"),
    For(kAdmin, "POST", "/v1/users/{name}/unlock", "", "end a user's lockout"),
    For(kAdminAndAuditor, "GET", "/v1/tokens", "",
        "tokens in force: ids, holders, expiry; never their text"),
    For(kAdmin, "POST", "/v1/tokens", "", "make an uploader token for named instruments"),
    For(kAdmin, "DELETE", "/v1/tokens/{token_id}", "", "revoke a token"),
    For(kReaders, "GET", "/v1/readings", "", "readings by instrument, channel and time"),
    For(kReaders, "GET", "/v1/readings/stream", "", "live readings as server-sent events"),
    For(kBench, "POST", "/v1/readings/{sequence}/corrections", "",
        "correct a reading: a new version with a reason"),
    For(RolesOf({ROLE_UPLOADER}), "POST", "/v1/uploads", "",
        "readings from an instrument's software, for the instruments on the token"),
    For(kReaders, "GET", "/v1/uploads", "", "stored uploads: key, readings, when received, of which instruments"),
    For(RolesOf({ROLE_REVIEWER, ROLE_ADMIN}), "POST", "/v1/modbus/writes", "",
        "write a writable register, audited with the user"),
    For(kBench, "POST", "/v1/calibrations", "", "a calibration or verification record"),
    For(kReaders, "GET", "/v1/calibrations", "",
        "calibration and verification records: number, unit under test, date, verdict"),
    For(kReaders, "GET", "/v1/calibrations/{number}", "",
        "a calibration record with its standards' chains"),
    For(kBench, "POST", "/v1/enterprises", "", "register an enterprise, or a new version of one"),
    For(kReaders, "GET", "/v1/enterprises", "", "enterprises, the latest version of each"),
    For(kBench, "POST", "/v1/products", "", "register an enterprise's product, or a new version of one"),
    For(kReaders, "GET", "/v1/products", "", "products, by enterprise"),
    For(kBench, "POST", "/v1/samples", "", "receive a sample (its code is printed on its label), or record its disposal"),
    For(kReaders, "GET", "/v1/samples", "", "samples, by enterprise"),
    For(kReaders, "GET", "/v1/samples/{code}", "", "a sample as received, with its versions"),
    For(kBench, "POST", "/v1/runs", "", "start a test run for a sample and a method"),
    For(kReaders, "GET", "/v1/runs", "", "test runs by sample and state"),
    For(kReaders, "GET", "/v1/runs/{id}", "",
        "a test run with its captured readings, results and signatures"),
    For(kBench, "POST", "/v1/runs/{id}/captures", "",
        "bind an instrument's next stable reading to a step"),
    For(kBench, "POST", "/v1/runs/{id}/submission", "", "compute the results and submit a run for review"),
    For(kSignatories, "POST", "/v1/runs/{id}/reviews", "",
        "review or approve a run, signed with one's password (never one's own run)"),
    For(kBench, "POST", "/v1/runs/{id}/amendments", "",
        "retest or amend a submitted run: a new draft version with its reason"),
    For(kBench, "POST", "/v1/reports", "", "draft a test report from approved runs"),
    For(kReaders, "GET", "/v1/reports/{number}", "", "a test report as JSON, HTML or its issued PDF"),
    For(kSignatories, "POST", "/v1/reports/{number}/signatures", "",
        "sign a report, re-entering one's password, within one's approved scope"),
    For(kBench, "POST", "/v1/reports/{number}/amendments", "",
        "amend an issued report: a new draft that replaces it, with the reason; superseded once issued"),
    Public("GET", "/v1/verify/{code}", "",
           "a report's verification code: valid, superseded or revoked"),
    For(kBench, "POST", "/v1/dossiers", "15", "open an enterprise's certification dossier"),
    For(kReaders, "GET", "/v1/dossiers/{id}", "15", "a dossier with its reports and status"),
    For(kBench, "POST", "/v1/dossiers/{id}/reports", "15", "link a test report to a dossier"),
    For(kSignatories, "POST", "/v1/certificates", "15", "issue a certificate from a dossier"),
    For(kReaders, "GET", "/v1/certificates/{number}", "15", "a certificate and its validity"),
    For(kReaders, "GET", "/v1/trace/chain", "",
        "the calibration chain of a reading, instrument or standard"),
    For(kReaders, "GET", "/v1/trace/reverse", "",
        "what a standard's or instrument's calibration affected"),
    For(kReaders, "GET", "/v1/trace/certificates/{number}", "15",
        "a certificate down to the raw instrument frames"),
    For(kReaders, "GET", "/v1/trace/certificates/{number}/pack", "15",
        "an evidence pack for offline verification"),
    For(RolesOf({ROLE_REVIEWER, ROLE_AUDITOR, ROLE_ADMIN}), "GET", "/v1/audit", "",
        "the audit trail"),
};

// The segments between slashes; none for a path that does not start with one.
std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> segments;
  if (!path.starts_with('/')) return segments;
  size_t start = 1;
  while (start <= path.size()) {
    const size_t end = std::min(path.find('/', start), path.size());
    segments.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

bool IsParameter(std::string_view segment) {
  return segment.starts_with('{') && segment.ends_with('}');
}

// The number of {…} segments when `route` matches `path`, or -1.
int ParametersMatched(std::string_view route, std::string_view path) {
  const auto want = Segments(route), have = Segments(path);
  if (want.size() != have.size()) return -1;
  int parameters = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (IsParameter(want[i])) {
      if (have[i].empty()) return -1;
      ++parameters;
    } else if (want[i] != have[i]) {
      return -1;
    }
  }
  return parameters;
}

std::string RoleList(RoleSet roles) {
  std::string list;
  for (const Role role : kRoles) {
    if (!Contains(roles, role)) continue;
    if (!list.empty()) list += ", ";
    list += RoleName(role);
  }
  return list;
}

}  // namespace

std::span<const Endpoint> Endpoints() { return kEndpoints; }

std::string_view RoleName(Role role) {
  switch (role) {
    case ROLE_TECHNICIAN:
      return "technician";
    case ROLE_REVIEWER:
      return "reviewer";
    case ROLE_AUDITOR:
      return "auditor";
    case ROLE_ADMIN:
      return "admin";
    case ROLE_UPLOADER:
      return "uploader";
    default:
      return "nobody";
  }
}

AccessDecision Decide(Role role, std::string_view method, std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  if (method == "HEAD") method = "GET";
  AccessDecision decision;
  int best_parameters = -1;
  std::string methods;  // of the routes that match the path, for a 405's message
  for (const Endpoint& endpoint : kEndpoints) {
    const int parameters = ParametersMatched(endpoint.route, path);
    if (parameters < 0) continue;
    if (endpoint.method != method) {
      methods += (methods.empty() ? "" : " or ") + std::string(endpoint.method);
      continue;
    }
    if (decision.endpoint == nullptr || parameters < best_parameters) {
      decision.endpoint = &endpoint;
      best_parameters = parameters;
    }
  }
  const Endpoint* endpoint = decision.endpoint;
  if (endpoint == nullptr) {
    decision.verdict = methods.empty() ? Verdict::kNoSuchEndpoint : Verdict::kWrongMethod;
    decision.reason = methods.empty() ? fmt::format("no such endpoint {}; see docs/API.md", path)
                                      : fmt::format("{} takes {}, not {}", path, methods, method);
    return decision;
  }
  if (endpoint->without_token) {
    decision.verdict = Verdict::kAllowed;
  } else if (role == ROLE_UNSPECIFIED) {
    decision.verdict = Verdict::kNeedsToken;
    decision.reason =
        fmt::format("{} {} needs a token (Authorization: Bearer …); log in with `labtrace login`",
                    endpoint->method, endpoint->route);
  } else if (!Contains(endpoint->roles, role)) {
    decision.verdict = Verdict::kRoleRefused;
    decision.reason =
        fmt::format("{} {} is for the roles {}; a caller with role {} may not call it",
                    endpoint->method, endpoint->route, RoleList(endpoint->roles), RoleName(role));
  } else {
    decision.verdict = Verdict::kAllowed;
  }
  return decision;
}

std::string EndpointTableMarkdown() {
  std::string table =
      "| endpoint | no token | technician | reviewer | auditor | admin | uploader | what |\n"
      "| --- | :-: | :-: | :-: | :-: | :-: | :-: | --- |\n";
  for (const Endpoint& endpoint : kEndpoints) {
    table += fmt::format("| `{} {}` |", endpoint.method, endpoint.route);
    table += endpoint.without_token ? " ✓ |" : "   |";
    for (const Role role : kRoles) {
      table += Contains(endpoint.roles, role) ? " ✓ |" : "   |";
    }
    table += fmt::format(
        " {}{} |\n", endpoint.what,
        endpoint.planned.empty() ? "" : fmt::format(" (planned, issue {})", endpoint.planned));
  }
  return table;
}

}  // namespace labtrace::auth
