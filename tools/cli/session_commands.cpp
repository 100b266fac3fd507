#include "cli/session_commands.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include "auth/endpoint_table.h"
#include "cli/http_client.h"
#include "cli/terminal.h"
#include "cli/time_text.h"
#include "labtrace/api.pb.h"

namespace labtrace::cli {

namespace {

// Writes the token where only this OS user can read it: the directory 0700, the file
// created 0600 (never widened by the umask) and renamed into place whole.
Status KeepToken(const std::string& token) {
  const std::filesystem::path path = TokenFilePath();
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return Unavailable(fmt::format("cannot make {}: {}", path.parent_path().string(), ec.message()));
  ::chmod(path.parent_path().c_str(), 0700);
  const std::string temporary = path.string() + ".new";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Unavailable(fmt::format("cannot write {}: {}", temporary, std::strerror(errno)));
  const std::string line = token + "\n";
  const bool written = ::fchmod(fd, 0600) == 0 && ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                       ::fsync(fd) == 0;
  ::close(fd);
  if (!written || ::rename(temporary.c_str(), path.c_str()) != 0) {
    ::unlink(temporary.c_str());
    return Unavailable(fmt::format("cannot write {}: {}", path.string(), std::strerror(errno)));
  }
  return OkStatus();
}

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

}  // namespace

int LoginCommand(const std::string& server, const std::string& user, bool password_stdin) {
  std::optional<std::string> password;
  if (password_stdin) {
    password = ReadLine();
  } else if (::isatty(STDIN_FILENO)) {
    password = AskWithoutEcho(fmt::format("Password for {}: ", user));
  } else {
    std::fputs("labtrace login: stdin is not a terminal; give the password on stdin with --password-stdin\n", stderr);
    return 2;
  }
  if (!password || password->empty()) {
    std::fputs("labtrace login: no password was given\n", stderr);
    return 2;
  }
  api::LoginRequest login;
  login.set_user(user);
  login.set_password(*password);
  api::SessionResponse session;
  // No token: a login is what makes one, and a stale one must not be sent along.
  if (int code = ReadAnswer(server, HttpPostAs(server, "/v1/sessions", ToJson(login), ""), session); code != 0) {
    return code;
  }
  if (Status kept = KeepToken(session.token()); !kept.ok()) {
    std::fprintf(stderr, "labtrace login: %s\n", kept.message().c_str());
    return 1;
  }
  std::printf("logged in as %s (%s, %s) until %s; token %s kept in %s\n", session.user().c_str(),
              session.full_name().c_str(), std::string(auth::RoleName(session.role())).c_str(),
              FormatUtc(session.expires_at_ns()).c_str(), session.token_id().c_str(), TokenFilePath().c_str());
  return 0;
}

int LogoutCommand(const std::string& server) {
  const std::string token = SavedToken();
  if (token.empty()) {
    std::puts("not logged in");
    return 0;
  }
  api::DoneResponse done;
  const int code = ReadAnswer(server, HttpDelete(server, "/v1/sessions/current", token), done);
  // A token the daemon no longer takes (expired, revoked) is as good as logged out.
  if (code == 0 || code == kNotAllowed) {
    std::filesystem::remove(TokenFilePath());
    std::puts(code == 0 ? done.outcome().c_str() : "the token was no longer valid; it is deleted here");
    return 0;
  }
  return code;
}

int UserListCommand(const std::string& server, bool json) {
  api::UsersResponse users;
  std::string body;
  if (int code = CallApi(server, "/v1/users", nullptr, users, &body); code != 0) return code;
  if (json) {
    std::fputs(body.c_str(), stdout);
    return 0;
  }
  std::printf("%-20s %-30s %-11s %s\n", "USER", "NAME", "ROLE", "LOGIN");
  for (const api::UserSummary& user : users.users()) {
    const std::string login =
        user.locked_until_ns() > 0 ? "locked until " + FormatUtc(user.locked_until_ns())
        : user.failures_in_a_row() > 0 ? fmt::format("{} failed in a row", user.failures_in_a_row())
                                       : "ok";
    std::printf("%-20s %-30s %-11s %s\n", user.name().c_str(), user.full_name().c_str(),
                std::string(auth::RoleName(user.role())).c_str(), login.c_str());
  }
  return 0;
}

int UserUnlockCommand(const std::string& server, const std::string& user) {
  api::UserSummary summary;
  const std::string empty = "{}";
  if (int code = CallApi(server, fmt::format("/v1/users/{}/unlock", PercentEncode(user)), &empty, summary);
      code != 0) {
    return code;
  }
  std::printf("%s is unlocked\n", summary.name().c_str());
  return 0;
}

}  // namespace labtrace::cli
