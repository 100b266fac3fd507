// `labtrace login`, `labtrace logout`, and the online user commands (`user list`,
// `user unlock`): clients of the daemon's API, unlike `user add`, which works on the
// host's store with the daemon stopped.
#pragma once

#include <string>

namespace labtrace::cli {

// Logs in as `user` (password asked on the terminal, or one line of stdin) and keeps the
// session token in TokenFilePath(), mode 0600, for every later command.
int LoginCommand(const std::string& server, const std::string& user, bool password_stdin);
// Revokes the kept token at the daemon and deletes the file.
int LogoutCommand(const std::string& server);
// Users, roles and lockouts (admin, auditor).
int UserListCommand(const std::string& server, bool json);
// Ends a user's lockout (admin).
int UserUnlockCommand(const std::string& server, const std::string& user);

}  // namespace labtrace::cli
