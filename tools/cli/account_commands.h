// `labtrace user add` and `labtrace token add`: offline administration on the host, like
// createuser. They open the store itself, so they refuse while labtraced runs on the same
// data directory (the store's lock), and need no account to make the first admin.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace labtrace::cli {

// Exit code when the user already exists (0 done, 1 the store failed, 2 the input is wrong).
inline constexpr int kUserExists = 3;

struct UserAddOptions {
  std::string name, full_name, role, data_dir;
  bool password_stdin = false;  // one line from stdin, else asked twice on the terminal
};
int UserAddCommand(const UserAddOptions& options);

struct TokenAddOptions {
  std::string uploader, data_dir;
  std::vector<std::string> instruments;
  uint32_t days = 0;  // 0: auth's default for uploader tokens
};
int TokenAddCommand(const TokenAddOptions& options);

}  // namespace labtrace::cli
