#include "auth/password.h"

#include <fmt/format.h>

#include "auth/crypto_bytes.h"

namespace labtrace::auth {

static_assert(kInteractiveCost.ops == crypto_pwhash_OPSLIMIT_INTERACTIVE);
static_assert(kInteractiveCost.memory_bytes == crypto_pwhash_MEMLIMIT_INTERACTIVE);
static_assert(kTestOnlyCost.ops == crypto_pwhash_OPSLIMIT_MIN);
static_assert(kTestOnlyCost.memory_bytes == crypto_pwhash_MEMLIMIT_MIN);

namespace {

size_t CodePoints(std::string_view text) {
  size_t count = 0;
  for (const char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return count;
}

bool EqualIgnoringAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) {
      return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// crypto_pwhash_str_verify and _needs_rehash read a NUL-terminated string of at most
// crypto_pwhash_STRBYTES; a longer stored value is not one of ours.
bool FitsHashText(std::string_view password_hash) {
  return !password_hash.empty() && password_hash.size() < crypto_pwhash_STRBYTES;
}

}  // namespace

Status CheckPasswordPolicy(std::string_view user_name, std::string_view password) {
  if (password.empty())
    return InvalidArgument("the password is empty; choose one of at least 10 characters");
  const size_t characters = CodePoints(password);
  if (characters < kMinPasswordCharacters) {
    return InvalidArgument(
        fmt::format("the password has {} characters; it needs at least {} (a phrase of a few words "
                    "is easiest to remember)",
                    characters, kMinPasswordCharacters));
  }
  if (password.size() > kMaxPasswordBytes) {
    return InvalidArgument(fmt::format("the password is {} bytes long; the most accepted is {}",
                                       password.size(), kMaxPasswordBytes));
  }
  if (EqualIgnoringAsciiCase(password, user_name)) {
    return InvalidArgument(
        fmt::format("the password may not be the user name \"{}\"; choose another", user_name));
  }
  return OkStatus();
}

Result<std::string> HashPassword(std::string_view password, Argon2Cost cost) {
  if (Status ready = SodiumReady(); !ready.ok()) return Error(ready);
  std::string hash(crypto_pwhash_STRBYTES, '\0');
  if (crypto_pwhash_str(hash.data(), password.data(), password.size(), cost.ops,
                        cost.memory_bytes) != 0) {
    return Error(
        Status(StatusCode::kResourceExhausted,
               fmt::format("hashing a password needs {} MiB of memory, which the system refused; "
                           "free memory or lower the Argon2 cost",
                           cost.memory_bytes >> 20)));
  }
  hash.resize(hash.find('\0'));
  return hash;
}

bool PasswordMatches(std::string_view password_hash, std::string_view password) {
  if (!SodiumReady().ok() || !FitsHashText(password_hash)) return false;
  const std::string terminated(password_hash);
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

bool PasswordNeedsRehash(std::string_view password_hash, Argon2Cost cost) {
  if (!SodiumReady().ok() || !FitsHashText(password_hash)) return true;
  const std::string terminated(password_hash);
  return crypto_pwhash_str_needs_rehash(terminated.c_str(), cost.ops, cost.memory_bytes) != 0;
}

}  // namespace labtrace::auth
