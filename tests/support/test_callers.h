// Who an integration test acts as. Before the daemon starts, the test's store gets one
// user per role and a session token for each, as `labtrace user add` and a login would
// make them (at libsodium's test-only Argon2 cost, so enrolment takes milliseconds), and
// an uploader token for the lab's instruments. LABTRACE_TOKEN is set to the reviewer's
// token, so the CLI and cli::HttpGet act as a reviewer unless a test sends another.
#pragma once

#include <cstdlib>
#include <future>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "auth/access_token.h"
#include "auth/endpoint_table.h"
#include "auth/user_account.h"
#include "config/lab_config.h"
#include "labtrace/clock.h"
#include "store/record_store.h"

namespace labtrace::testing {

// Passes the lab's policy; the same for every test user.
inline constexpr const char* kTestPassword = "correct-horse-battery-staple";

struct TestCallers {
  // Bearer token texts.
  std::string technician, reviewer, auditor, admin, uploader;
  // A second reviewer ("test.approver"), for the second signature a run needs (W5).
  std::string approver;
  // The technician's, issued nine hours ago for eight: expired.
  std::string expired;
  // Login names, for actor checks: "test.technician", …
  static std::string UserOf(Role role) { return "test." + std::string(auth::RoleName(role)); }
};

namespace callers_detail {

template <typename Save>
void SaveDurably(Save save) {
  std::promise<Status> saved;
  save([&saved](Status status) { saved.set_value(std::move(status)); });
  const Status status = saved.get_future().get();
  ASSERT_TRUE(status.ok()) << status.message();
}

inline std::string SessionFor(store::RecordStore& store, Role role, int64_t issued_at_ns = NowNs(),
                              std::string user = "") {
  if (user.empty()) user = TestCallers::UserOf(role);
  auto existing = store.FindAccount(user);
  EXPECT_TRUE(existing.has_value());
  if (existing && !*existing) {
    const std::string full_name = "Test " + (user == TestCallers::UserOf(role) ? std::string(auth::RoleName(role))
                                                                               : user.substr(user.find('.') + 1));
    auto account = auth::Enrol({user, full_name, role, kTestPassword},
                               NowNs(), auth::kTestOnlyCost);
    EXPECT_TRUE(account.has_value()) << account.error().message();
    if (!account) return "";
    SaveDurably([&](auto done) { store.SaveAccount(*account, {}, done); });
  }
  auto token = auth::IssueSessionToken(user, role, issued_at_ns);
  EXPECT_TRUE(token.has_value());
  if (!token) return "";
  SaveDurably([&](auto done) { store.SaveToken(token->record, {}, done); });
  return token->text;
}

}  // namespace callers_detail

// Enrols the test users in `data_dir`'s store (kept if already there) and makes fresh
// tokens; the uploader's covers every instrument of the lab-config at `config_path`, and
// `also_uploading`. The store is closed again before this returns, for the daemon to open.
inline TestCallers EnrolTestCallers(const std::string& data_dir, const std::string& config_path,
                                    std::vector<std::string> also_uploading = {}) {
  TestCallers callers;
  auto store = store::RecordStore::Open(data_dir);
  EXPECT_TRUE(store.has_value()) << store.error().message();
  if (!store) return callers;
  callers.technician = callers_detail::SessionFor(**store, ROLE_TECHNICIAN);
  callers.reviewer = callers_detail::SessionFor(**store, ROLE_REVIEWER);
  callers.auditor = callers_detail::SessionFor(**store, ROLE_AUDITOR);
  callers.admin = callers_detail::SessionFor(**store, ROLE_ADMIN);
  callers.approver = callers_detail::SessionFor(**store, ROLE_REVIEWER, NowNs(), "test.approver");
  callers.expired = callers_detail::SessionFor(**store, ROLE_TECHNICIAN, NowNs() - 9 * 3600 * 1'000'000'000LL);
  std::vector<std::string> instruments = std::move(also_uploading);
  if (auto lab = config::LoadLab(config_path)) {
    for (const auto& instrument : lab->instruments()) instruments.push_back(instrument.name());
  }
  if (!instruments.empty()) {
    auto uploader = auth::IssueUploaderToken("test-uploader", "test.admin", instruments, NowNs());
    EXPECT_TRUE(uploader.has_value());
    if (uploader) {
      callers_detail::SaveDurably([&](auto done) { (*store)->SaveToken(uploader->record, {}, done); });
      callers.uploader = uploader->text;
    }
  }
  ::setenv("LABTRACE_TOKEN", callers.reviewer.c_str(), 1);
  return callers;
}

}  // namespace labtrace::testing
