#include "auth/user_account.h"

#include <fmt/format.h>

#include <algorithm>

#include "auth/sealed_key.h"

namespace labtrace::auth {

namespace {

constexpr size_t kMaxUserNameBytes = 64;
constexpr size_t kMaxFullNameBytes = 200;

}  // namespace

Status CheckUserName(std::string_view name) {
  const auto plain = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  };
  if (name.empty() || name.size() > kMaxUserNameBytes ||
      !std::all_of(name.begin(), name.end(), plain)) {
    return InvalidArgument(
        fmt::format("\"{}\" is not a user name: use 1 to {} of a-z, 0-9, '.', '_' and '-' "
                    "(\"lan.nguyen\")",
                    name, kMaxUserNameBytes));
  }
  return OkStatus();
}

Result<UserAccount> Enrol(const Enrolment& enrolment, int64_t now_ns, Argon2Cost cost) {
  const std::string context = fmt::format("enrolling {}", enrolment.name);
  if (Status name = CheckUserName(enrolment.name); !name.ok()) return Error(name.Annotate(context));
  if (enrolment.full_name.empty() || enrolment.full_name.size() > kMaxFullNameBytes) {
    return Error(
        InvalidArgument(fmt::format("{}: the printed name is {} bytes; a signature shows it, so "
                                    "give the full name (at most {} bytes)",
                                    context, enrolment.full_name.size(), kMaxFullNameBytes)));
  }
  if (enrolment.role == ROLE_UNSPECIFIED || enrolment.role == ROLE_UPLOADER) {
    return Error(
        InvalidArgument(fmt::format("{}: a person's role is technician, reviewer, auditor or "
                                    "admin; an uploader is a token (POST /v1/tokens)",
                                    context)));
  }
  if (Status policy = CheckPasswordPolicy(enrolment.name, enrolment.password); !policy.ok()) {
    return Error(policy.Annotate(context));
  }
  auto hash = HashPassword(enrolment.password, cost);
  if (!hash) return Error(hash.error().Annotate(context));
  auto key = MakeSealedSigningKey(enrolment.password, now_ns, cost);
  if (!key) return Error(key.error().Annotate(context));

  UserAccount account;
  account.set_name(enrolment.name);
  account.set_full_name(enrolment.full_name);
  account.set_role(enrolment.role);
  account.set_password_hash(std::move(*hash));
  *account.mutable_signing_key() = std::move(*key);
  account.set_created_at_ns(now_ns);
  account.set_password_changed_at_ns(now_ns);
  return account;
}

Result<UserAccount> ChangePassword(const UserAccount& account, std::string_view old_password,
                                   std::string_view new_password, int64_t now_ns, Argon2Cost cost) {
  const std::string context = fmt::format("changing the password of {}", account.name());
  if (!PasswordMatches(account.password_hash(), old_password)) {
    return Error(Unauthenticated(context + ": the current password is wrong"));
  }
  if (Status policy = CheckPasswordPolicy(account.name(), new_password); !policy.ok()) {
    return Error(policy.Annotate(context));
  }
  auto hash = HashPassword(new_password, cost);
  if (!hash) return Error(hash.error().Annotate(context));
  auto key = ResealSigningKey(account.signing_key(), old_password, new_password, now_ns, cost);
  if (!key) return Error(key.error().Annotate(context));

  UserAccount changed = account;
  changed.set_password_hash(std::move(*hash));
  *changed.mutable_signing_key() = std::move(*key);
  changed.set_password_changed_at_ns(now_ns);
  return changed;
}

}  // namespace labtrace::auth
