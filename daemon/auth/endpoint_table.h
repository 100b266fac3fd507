// Who may call what: the one table of API endpoints and the roles allowed on each, checked
// on every call and printed into docs/API.md ("Who may call what"), where a unit test
// holds the two equal. Record-state rules (a reviewer never reviews their own run, an
// uploader sends only the instruments on its token) are the routes' and
// CheckInstrumentScope's; this table says only which roles may try.
//
// Pure and constant; thread-safe.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "labtrace/auth.pb.h"

namespace labtrace::auth {

// A set of roles, one bit per Role value.
using RoleSet = uint32_t;

constexpr RoleSet RolesOf(std::initializer_list<Role> roles) {
  RoleSet set = 0;
  for (const Role role : roles) set |= RoleSet{1} << role;
  return set;
}

constexpr bool Contains(RoleSet set, Role role) { return (set >> role) & 1; }

struct Endpoint {
  std::string_view method;   // "GET", "POST", "DELETE"; HEAD is answered as GET
  std::string_view route;    // "/v1/readings/{sequence}/corrections": {…} is one path segment
  bool without_token;        // anyone may call it, logged in or not
  RoleSet roles;             // who may call it with a token (every role when without_token)
  std::string_view planned;  // "" when served today, else the issue that adds it: "14", "15"
  std::string_view what;     // one line for docs/API.md
};

// Every endpoint, in the order docs/API.md lists them.
std::span<const Endpoint> Endpoints();

enum class Verdict {
  kAllowed,
  kNoSuchEndpoint,  // no route matches the path: 404
  kWrongMethod,     // a route matches, not with this method: 405
  kNeedsToken,      // the caller sent no token and the endpoint needs one: 401
  kRoleRefused,     // the caller's role is not allowed: 403
};

struct AccessDecision {
  Verdict verdict = Verdict::kNoSuchEndpoint;
  const Endpoint* endpoint = nullptr;  // the endpoint matched, when one was
  std::string reason;                  // for the refusal's message and the audit event

  bool allowed() const { return verdict == Verdict::kAllowed; }
};

// May a caller with `role` (ROLE_UNSPECIFIED: no token) send `method` to `target` (a
// path, with or without its query string)? When two routes match, the one with fewer
// {…} segments is meant: /v1/sessions/current before a /v1/sessions/{id}.
AccessDecision Decide(Role role, std::string_view method, std::string_view target);

// The lab's word for a role: "technician", "reviewer", "auditor", "admin", "uploader",
// and "nobody" for ROLE_UNSPECIFIED.
std::string_view RoleName(Role role);

// The table as Markdown, exactly as docs/API.md carries it under "Who may call what".
std::string EndpointTableMarkdown();

}  // namespace labtrace::auth
