// `labtrace user add` and `labtrace token add` as an admin types them on the host: the
// real CLI on a real data directory, read back through the store.
#include <fcntl.h>
#include <openssl/sha.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <regex>

#include <gtest/gtest.h>

#include "store/record_store.h"
#include "support/child_process.h"
#include "support/labtrace_cli.h"

namespace labtrace {
namespace {

namespace fs = std::filesystem;
using testing::ChildProcess;
using testing::Labtrace;
using namespace std::chrono_literals;

class CliAccounts : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("labtrace-cli-accounts-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // `labtrace user add NAME … --password-stdin` with `password` on its stdin; its exit
  // code and output.
  std::pair<int, std::string> UserAdd(const std::string& name, const std::string& role, const std::string& password) {
    ChildProcess cli({LABTRACE_CLI_PATH, "user", "add", name, "--full-name", "Nguyễn Thị Lan", "--role", role,
                      "--data", dir_.string(), "--password-stdin"});
    EXPECT_TRUE(cli.Send(password + "\n"));
    const int code = cli.WaitForExit(30s);
    return {code, cli.output()};
  }

  fs::path dir_;
};

TEST_F(CliAccounts, UserAddEnrolsOnceAndRefusesADuplicateAndAWeakPassword) {
  auto [added, added_output] = UserAdd("lan.nguyen", "reviewer", "ba con mèo trên mái nhà");
  EXPECT_EQ(added, 0) << added_output;
  auto [again, again_output] = UserAdd("lan.nguyen", "admin", "another long pass phrase");
  EXPECT_EQ(again, 3) << again_output;
  EXPECT_NE(again_output.find("user lan.nguyen already exists"), std::string::npos) << again_output;
  auto [weak, weak_output] = UserAdd("an.tran", "technician", "short");
  EXPECT_EQ(weak, 2) << weak_output;
  EXPECT_NE(weak_output.find("at least 10"), std::string::npos) << weak_output;

  auto store = store::RecordStore::Open(dir_.string());
  ASSERT_TRUE(store.has_value()) << store.error().message();
  auto accounts = (*store)->Accounts();
  ASSERT_TRUE(accounts.has_value()) << accounts.error().message();
  ASSERT_EQ(accounts->size(), 1u) << "neither the duplicate nor the weak password made an account";
  const UserAccount& lan = accounts->front();
  EXPECT_EQ(lan.role(), ROLE_REVIEWER);
  EXPECT_EQ(lan.full_name(), "Nguyễn Thị Lan");
  EXPECT_EQ(lan.password_hash().rfind("$argon2id$", 0), 0u) << lan.password_hash();
  EXPECT_EQ(lan.signing_key().public_key().size(), 32u);
  auto audit = (*store)->QueryAudit("user:lan.nguyen", 0);
  ASSERT_TRUE(audit.has_value()) << audit.error().message();
  ASSERT_EQ(audit->events_size(), 1);
  EXPECT_EQ(audit->events(0).actor().rfind("host:", 0), 0u) << audit->events(0).actor();
}

// The token's text is printed once; the store keeps its SHA-256 (computed here with
// OpenSSL, apart from the code under test), scoped to the instruments named.
TEST_F(CliAccounts, TokenAddPrintsATokenTheStoreFindsByItsHash) {
  const std::string output = Labtrace({"token", "add", "--uploader", "pc-moisture-3", "--instrument", "moisture-3",
                                       "--instrument", "moisture-4", "--data", dir_.string(), "--days", "30"});
  std::smatch match;
  const std::regex token_line(R"((?:^|\n)(lt_[A-Za-z0-9_-]{43})\n)");
  ASSERT_TRUE(std::regex_search(output, match, token_line)) << output;
  const std::string text = match[1];
  EXPECT_NE(output.find("shown once"), std::string::npos) << output;

  std::string sha256(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(),
         reinterpret_cast<unsigned char*>(sha256.data()));
  auto store = store::RecordStore::Open(dir_.string());
  ASSERT_TRUE(store.has_value()) << store.error().message();
  auto token = (*store)->FindToken(sha256);
  ASSERT_TRUE(token.has_value()) << token.error().message();
  ASSERT_TRUE(token->has_value()) << "no token stored under the SHA-256 of " << text;
  EXPECT_EQ((*token)->user(), "pc-moisture-3");
  EXPECT_EQ((*token)->kind(), TOKEN_KIND_UPLOADER);
  EXPECT_EQ(std::vector<std::string>((*token)->instruments().begin(), (*token)->instruments().end()),
            (std::vector<std::string>{"moisture-3", "moisture-4"}));
  EXPECT_EQ((*token)->expires_at_ns() - (*token)->created_at_ns(), 30LL * 24 * 3600 * 1'000'000'000);
  EXPECT_EQ(output.find(text), output.rfind(text)) << "the token is printed once";
}

// While another process (the daemon, here the test itself) holds the data directory, the
// offline tools refuse and store nothing.
TEST_F(CliAccounts, RefusedWhileTheDataDirectoryIsInUse) {
  fs::create_directories(dir_);
  const int fd = ::open((dir_ / "labtrace.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  auto [code, output] = UserAdd("lan.nguyen", "admin", "ba con mèo trên mái nhà");
  EXPECT_EQ(code, 1) << output;
  EXPECT_NE(output.find("labtraced (or another labtrace tool) is using " + dir_.string() +
                        "; stop it first, or use the API"),
            std::string::npos)
      << output;
  const std::string token = Labtrace(
      {"token", "add", "--uploader", "pc-1", "--instrument", "moisture-3", "--data", dir_.string()}, 1);
  EXPECT_EQ(token.find("lt_"), std::string::npos) << token;
  ::close(fd);
  EXPECT_FALSE(fs::exists(dir_ / "labtrace.db")) << "nothing was stored";
}

}  // namespace
}  // namespace labtrace
