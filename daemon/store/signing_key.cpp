#include "store/signing_key.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <vector>

#include <fmt/format.h>

namespace labtrace::store {

namespace {

std::string Hex(const void* data, size_t size) {
  std::string hex(size * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), static_cast<const unsigned char*>(data), size);
  hex.pop_back();
  return hex;
}

bool Unhex(std::string_view hex, void* out, size_t size) {
  size_t written = 0;
  const char* end = nullptr;
  return sodium_hex2bin(static_cast<unsigned char*>(out), size, hex.data(), hex.size(), nullptr, &written,
                        &end) == 0 &&
         written == size && end == hex.data() + hex.size();
}

}  // namespace

SigningKey SigningKey::FromSeed(const std::array<uint8_t, 32>& seed) {
  SigningKey key;
  crypto_sign_seed_keypair(key.public_key_.data(), key.secret_key_.data(), seed.data());
  return key;
}

Result<SigningKey> SigningKey::Load(const std::string& path) {
  if (sodium_init() < 0) return Error(Internal("libsodium failed to initialise"));
  // The mode is read from the descriptor the key is read through, so the file checked is
  // the file read.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    const std::string what = fmt::format("cannot read signing key {}: {}", path, std::strerror(error));
    return Error(error == ENOENT ? NotFound(what) : Unavailable(what));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return Error(Unavailable(fmt::format("cannot read signing key {}: {}", path, std::strerror(errno))));
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    ::close(fd);
    return Error(FailedPrecondition(
        fmt::format("signing key {} has mode {:04o}: others than its owner may read or change it, and whoever "
                    "reads it can sign checkpoints as the lab; run `chmod 600 {}` (and consider the key "
                    "exposed: make a new one and pin it if others could have read it)",
                    path, st.st_mode & 07777, path)));
  }
  char text[128] = {};
  const ssize_t got = ::read(fd, text, sizeof text - 1);
  ::close(fd);
  std::string_view hex(text, got > 0 ? static_cast<size_t>(got) : 0);
  if (const auto end = hex.find('\n'); end != std::string_view::npos) hex = hex.substr(0, end);
  std::array<uint8_t, 32> seed{};
  if (!Unhex(hex, seed.data(), seed.size())) {
    return Error(DataLoss(fmt::format("{}: not a labtrace signing key (64 hex digits)", path)));
  }
  return FromSeed(seed);
}

Result<SigningKey> SigningKey::LoadOrCreate(const std::string& path) {
  auto existing = Load(path);
  if (existing || existing.error().code() != StatusCode::kNotFound) return existing;
  std::array<uint8_t, 32> seed{};
  randombytes_buf(seed.data(), seed.size());
  // Created readable by the owner only, and written before anything is signed with it.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Error(Unavailable(fmt::format("cannot create signing key {}: {}", path, std::strerror(errno))));
  const std::string line = Hex(seed.data(), seed.size()) + "\n";
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written) return Error(Unavailable(fmt::format("cannot write signing key {}", path)));
  return FromSeed(seed);
}

std::string KeyPathIn(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "lab-signing.key").string();
}

std::string KeyPathBeside(const std::string& db_path) {
  return KeyPathIn(std::filesystem::path(db_path).parent_path().string());
}

std::string PublicKeyText(std::string_view public_key) { return Hex(public_key.data(), public_key.size()); }

std::string PublicKeyText(const std::array<uint8_t, 32>& public_key) {
  return Hex(public_key.data(), public_key.size());
}

Result<std::string> ParsePublicKey(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const auto first = text.find_first_not_of(kSpace);
  text = first == std::string_view::npos ? std::string_view() : text.substr(first, text.find_last_not_of(kSpace) + 1 - first);
  std::string key(crypto_sign_PUBLICKEYBYTES, '\0');
  if (!Unhex(text, key.data(), key.size())) {
    return Error(InvalidArgument(fmt::format("\"{}\" is not an Ed25519 public key (64 hex digits, as `labtrace "
                                             "checkpoint key` prints it)",
                                             text.substr(0, 80))));
  }
  return key;
}

std::string SigningKey::Sign(std::string_view message) const {
  std::string signature(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(signature.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(), secret_key_.data());
  return signature;
}

std::string CheckpointText(const Checkpoint& c) {
  return fmt::format("labtrace checkpoint v1\n{}\n{}\n{}\n", c.tree_size(),
                     Hex(c.root_hash().data(), c.root_hash().size()), c.time_ns());
}

bool VerifyCheckpointSignature(const Checkpoint& c) {
  if (c.public_key().size() != crypto_sign_PUBLICKEYBYTES || c.signature().size() != crypto_sign_BYTES) return false;
  const std::string text = CheckpointText(c);
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(c.signature().data()),
                                     reinterpret_cast<const unsigned char*>(text.data()), text.size(),
                                     reinterpret_cast<const unsigned char*>(c.public_key().data())) == 0;
}

std::string FormatCheckpointFile(const Checkpoint& c) {
  return CheckpointText(c) + fmt::format("public_key {}\nsignature {}\n", Hex(c.public_key().data(), c.public_key().size()),
                                         Hex(c.signature().data(), c.signature().size()));
}

namespace {
// A checkpoint file holds each number exactly as CheckpointText writes it, and nothing else
// does: the file is evidence, and "+5", " 7", "007" or "-1" (read by std::stoull as
// 18446744073709551615) are not what the lab signed.
template <typename Number>
bool CanonicalDecimal(const std::string& text, Number& number) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  return error == std::errc() && end == text.data() + text.size() && fmt::format("{}", number) == text;
}
}  // namespace

Result<Checkpoint> ParseCheckpointFile(std::string_view text) {
  std::vector<std::string> lines;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  auto bad = [](std::string why) { return Error(InvalidArgument("checkpoint file: " + why)); };
  if (lines.size() < 6 || lines[0] != "labtrace checkpoint v1") return bad("not a labtrace checkpoint v1");
  Checkpoint c;
  uint64_t tree_size = 0;
  int64_t time_ns = 0;
  if (!CanonicalDecimal(lines[1], tree_size)) {
    return bad(fmt::format("line 2, the tree size \"{}\", is not a whole number written as labtrace writes it "
                           "(digits only, no sign, space or leading zero)",
                           lines[1]));
  }
  if (!CanonicalDecimal(lines[3], time_ns)) {
    return bad(fmt::format("line 4, the time \"{}\", is not a whole number of nanoseconds written as labtrace "
                           "writes it (digits, a minus sign only before a negative one, no space or leading zero)",
                           lines[3]));
  }
  c.set_tree_size(tree_size);
  c.set_time_ns(time_ns);
  std::string root(32, '\0'), key(32, '\0'), signature(64, '\0');
  if (!Unhex(lines[2], root.data(), root.size())) return bad("root is not 64 hex digits");
  if (lines[4].rfind("public_key ", 0) != 0 || !Unhex(lines[4].substr(11), key.data(), key.size())) {
    return bad("no public_key line");
  }
  if (lines[5].rfind("signature ", 0) != 0 || !Unhex(lines[5].substr(10), signature.data(), signature.size())) {
    return bad("no signature line");
  }
  c.set_root_hash(root);
  c.set_public_key(key);
  c.set_signature(signature);
  return c;
}

}  // namespace labtrace::store
