#include "cli/account_commands.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <future>
#include <iostream>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "auth/access_token.h"
#include "auth/user_account.h"
#include "cli/terminal.h"
#include "labtrace/clock.h"
#include "store/record_store.h"

namespace labtrace::cli {

namespace {

// The audit trail's actor for what is done on the host: the OS account that did it.
std::string HostActor() {
  const passwd* user = ::getpwuid(::getuid());
  return "host:" + (user != nullptr ? std::string(user->pw_name) : std::to_string(::getuid()));
}

std::optional<Role> RoleNamed(const std::string& name) {
  if (name == "technician") return ROLE_TECHNICIAN;
  if (name == "reviewer") return ROLE_REVIEWER;
  if (name == "auditor") return ROLE_AUDITOR;
  if (name == "admin") return ROLE_ADMIN;
  return std::nullopt;
}

// The new user's password, or the exit code after saying why there is none.
std::optional<std::string> NewPassword(const UserAddOptions& options, int& exit_code) {
  exit_code = 2;
  if (options.password_stdin) {
    auto line = ReadLine();
    if (!line || line->empty()) std::fputs("labtrace user add: no password on stdin (one line)\n", stderr);
    return line && !line->empty() ? line : std::nullopt;
  }
  if (!::isatty(STDIN_FILENO)) {
    std::fputs("labtrace user add: stdin is not a terminal; give the password on stdin with --password-stdin\n",
               stderr);
    return std::nullopt;
  }
  auto first = AskWithoutEcho(fmt::format("Password for {}: ", options.name));
  auto second = first ? AskWithoutEcho("Again: ") : std::nullopt;
  if (!first || !second) {
    std::fputs("labtrace user add: no password was given\n", stderr);
    return std::nullopt;
  }
  if (*first != *second) {
    std::fputs("labtrace user add: the two passwords differ; nothing was stored, run the command again\n", stderr);
    return std::nullopt;
  }
  return first;
}

// Opens the store on the data directory, refusing while labtraced holds it.
std::unique_ptr<store::RecordStore> OpenStore(const std::string& command, const std::string& data_dir) {
  auto store = store::RecordStore::Open(data_dir);
  if (!store) {
    std::fprintf(stderr, "labtrace %s: %s\n", command.c_str(), store.error().message().c_str());
    return nullptr;
  }
  return std::move(*store);
}

// Runs `save` and waits until the change is durable or refused.
template <typename Save>
Status SaveAndWait(Save save) {
  std::promise<Status> answer;
  save([&answer](Status s) { answer.set_value(std::move(s)); });
  return answer.get_future().get();
}

AuditEvent HostEvent(const std::string& entity, std::string new_value, std::string reason) {
  AuditEvent event;
  event.set_time_ns(NowNs());
  event.set_actor(HostActor());
  event.set_action("create");
  event.set_entity(entity);
  event.set_new_value(std::move(new_value));
  event.set_reason(std::move(reason));
  return event;
}

}  // namespace

int UserAddCommand(const UserAddOptions& options) {
  const std::optional<Role> role = RoleNamed(options.role);
  if (!role) {
    std::fprintf(stderr, "labtrace user add: --role is technician, reviewer, auditor or admin, not \"%s\"\n",
                 options.role.c_str());
    return 2;
  }
  std::unique_ptr<store::RecordStore> store = OpenStore("user add", options.data_dir);
  if (!store) return 1;
  auto existing = store->FindAccount(options.name);
  if (!existing) {
    std::fprintf(stderr, "labtrace user add: %s\n", existing.error().message().c_str());
    return 1;
  }
  if (*existing) {
    std::fprintf(stderr,
                 "labtrace user add: user %s already exists (%s); users are never replaced, choose another name\n",
                 options.name.c_str(), (*existing)->full_name().c_str());
    return kUserExists;
  }
  int no_password = 0;
  std::optional<std::string> password = NewPassword(options, no_password);
  if (!password) return no_password;
  auto account = auth::Enrol({options.name, options.full_name, *role, *password}, NowNs());
  if (!account) {
    std::fprintf(stderr, "labtrace user add: %s\n", account.error().message().c_str());
    return 2;
  }
  AuditEvent created = HostEvent("user:" + options.name, fmt::format("{} ({})", options.full_name, options.role),
                                 "labtrace user add on the host");
  const Status saved = SaveAndWait([&](store::AccountDone done) {
    store->SaveAccount(std::move(*account), {std::move(created)}, std::move(done));
  });
  if (!saved.ok()) {
    std::fprintf(stderr, "labtrace user add: %s\n", saved.message().c_str());
    return 1;
  }
  std::fprintf(stderr, "user %s (%s) added\n", options.name.c_str(), options.role.c_str());
  return 0;
}

int TokenAddCommand(const TokenAddOptions& options) {
  std::unique_ptr<store::RecordStore> store = OpenStore("token add", options.data_dir);
  if (!store) return 1;
  const int64_t now_ns = NowNs();
  const int64_t lifetime_ns =
      options.days > 0 ? int64_t{options.days} * 24 * 3600 * 1'000'000'000 : auth::kDefaultUploaderLifetimeNs;
  auto issued = auth::IssueUploaderToken(options.uploader, HostActor(), options.instruments, now_ns, lifetime_ns);
  if (!issued) {
    std::fprintf(stderr, "labtrace token add: %s\n", issued.error().message().c_str());
    return 2;
  }
  const std::string token_id = issued->record.token_id();
  AuditEvent created = HostEvent("token:" + token_id,
                                 fmt::format("uploader {} for {}", options.uploader, fmt::join(options.instruments, ", ")),
                                 "labtrace token add on the host");
  const Status saved = SaveAndWait([&](store::AccountDone done) {
    store->SaveToken(std::move(issued->record), {std::move(created)}, std::move(done));
  });
  if (!saved.ok()) {
    std::fprintf(stderr, "labtrace token add: %s\n", saved.message().c_str());
    return 1;
  }
  std::fprintf(stderr, "token %s for uploader %s; the token is shown once, below: keep it on the instrument PC\n",
               token_id.c_str(), options.uploader.c_str());
  std::printf("%s\n", issued->text.c_str());
  return 0;
}

}  // namespace labtrace::cli
