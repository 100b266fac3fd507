// Enrolment and password changes: the UserAccount record the store keeps for a person,
// with its password hash and its sealed signing key made together, so no user exists
// who could log in but not sign, or whose key opens with an old password.
//
// Pure apart from random bytes; slow on purpose (two Argon2id derivations at the given
// cost), so the API runs these on a worker, never on the io_context.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "auth/password.h"
#include "labtrace/auth.pb.h"
#include "labtrace/status.h"

namespace labtrace::auth {

struct Enrolment {
  std::string name;       // login name: 1–64 of a-z 0-9 . _ -
  std::string full_name;  // the printed name signatures show
  Role role = ROLE_UNSPECIFIED;
  std::string password;
};

// Ok, or why `name` cannot be a login name. Names end up in audit entities
// ("user:lan.nguyen"), logs and file names, so they are kept plain.
Status CheckUserName(std::string_view name);

// A new account: the name, printed name, role and password policy checked, the password
// hashed, a signing key made and sealed under it.
Result<UserAccount> Enrol(const Enrolment& enrolment, int64_t now_ns,
                          Argon2Cost cost = kInteractiveCost);

// The account with `new_password`: refuses a wrong `old_password` (kUnauthenticated) and
// a new one the policy refuses; the same signing key is sealed again under the new one.
Result<UserAccount> ChangePassword(const UserAccount& account, std::string_view old_password,
                                   std::string_view new_password, int64_t now_ns,
                                   Argon2Cost cost = kInteractiveCost);

}  // namespace labtrace::auth
