// Small shims between libsodium's unsigned-char buffers and the std::string / bytes
// fields the records use. Internal to labtrace_auth.
#pragma once

#include <sodium.h>

#include <array>
#include <string>
#include <string_view>

#include "labtrace/status.h"

namespace labtrace::auth {

inline const unsigned char* Bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}
inline unsigned char* Bytes(std::string& text) {
  return reinterpret_cast<unsigned char*>(text.data());
}

// sodium_init() is idempotent and cheap after the first call; every entry point that
// draws random bytes or hashes calls this first rather than relying on main() to.
inline Status SodiumReady() {
  if (sodium_init() < 0)
    return Internal("libsodium failed to initialise; the daemon cannot make or check keys");
  return OkStatus();
}

inline std::string Sha256(std::string_view data) {
  std::string digest(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(Bytes(digest), Bytes(data), data.size());
  return digest;
}

// Key material that must not outlive its use: zeroed when it goes out of scope, whatever
// the path out, and never copied by accident.
template <size_t N>
class Secret {
 public:
  Secret() = default;
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  ~Secret() { Wipe(); }

  unsigned char* data() { return bytes_.data(); }
  const unsigned char* data() const { return bytes_.data(); }
  static constexpr size_t size() { return N; }

  // Takes `other`'s bytes and wipes them there.
  void TakeFrom(Secret& other) {
    bytes_ = other.bytes_;
    other.Wipe();
  }
  void Wipe() { sodium_memzero(bytes_.data(), N); }

 private:
  std::array<unsigned char, N> bytes_{};
};

}  // namespace labtrace::auth
