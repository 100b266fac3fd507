// Passwords: the lab's policy for choosing one, and their Argon2id hashes (libsodium's
// crypto_pwhash_str text, which carries its own salt and cost). Pure apart from the
// random salt; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "labtrace/status.h"

namespace labtrace::auth {

// An Argon2id cost: passes over memory, and memory in bytes. The same cost type serves
// password hashes and the keys that seal signing keys.
struct Argon2Cost {
  uint64_t ops;
  uint64_t memory_bytes;
};

// libsodium's OPSLIMIT/MEMLIMIT_INTERACTIVE (2 passes, 64 MiB): about a tenth of a second
// here, which a login can afford and a guesser with a stolen database cannot.
inline constexpr Argon2Cost kInteractiveCost{2, 64ull << 20};
// libsodium's _MIN limits (1 pass, 8 KiB), for tests only: fast, and worthless as protection.
inline constexpr Argon2Cost kTestOnlyCost{1, 8192};

inline constexpr size_t kMinPasswordCharacters = 10;
// Longer passwords add nothing and would let a client make every login hash megabytes.
inline constexpr size_t kMaxPasswordBytes = 1024;

// Ok, or why `password` may not be the password of `user_name`, in words a person at
// the login form can act on. Length is counted in characters (UTF-8 code points), so a
// Vietnamese pass phrase is not favoured or penalised for its diacritics.
Status CheckPasswordPolicy(std::string_view user_name, std::string_view password);

// The crypto_pwhash_str text of `password` ("$argon2id$v=19$m=65536,t=2,p=1$…").
// Does not apply the policy: enrolment and password changes do that first.
Result<std::string> HashPassword(std::string_view password, Argon2Cost cost = kInteractiveCost);

// Whether `password` is the one `password_hash` was made from. Takes the same time for
// every wrong password; false for a hash that is not crypto_pwhash_str text.
bool PasswordMatches(std::string_view password_hash, std::string_view password);

// Whether the hash was made with another cost than `cost` (a default raised since), so
// that the caller re-hashes the password it has just verified.
bool PasswordNeedsRehash(std::string_view password_hash, Argon2Cost cost = kInteractiveCost);

}  // namespace labtrace::auth
