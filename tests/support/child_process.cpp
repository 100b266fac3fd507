#include "support/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace labtrace::testing {

ChildProcess::ChildProcess(std::vector<std::string> argv) {
  int fds[2], input[2];
  if (pipe2(fds, O_CLOEXEC) != 0 || pipe2(input, O_CLOEXEC) != 0) std::abort();
  pid_ = fork();
  if (pid_ < 0) std::abort();
  if (pid_ == 0) {
    // A test that dies (a crash, a failed ASSERT in a fork) must not leave simulators behind.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(input[0], STDIN_FILENO);
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    std::vector<char*> args;
    for (auto& arg : argv) args.push_back(arg.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  close(input[0]);
  output_fd_ = fds[0];
  input_fd_ = input[1];
}

bool ChildProcess::Send(const std::string& text) {
  // A child that has exited makes write() fail with EPIPE rather than kill the test.
  static const bool kIgnoreSigpipe = (signal(SIGPIPE, SIG_IGN), true);
  (void)kIgnoreSigpipe;
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = write(input_fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

ChildProcess::~ChildProcess() {
  if (!exit_code_) Stop(SIGKILL);
  if (output_fd_ >= 0) close(output_fd_);
  if (input_fd_ >= 0) close(input_fd_);
}

ChildProcess::Read ChildProcess::ReadSome(std::chrono::milliseconds wait) {
  pollfd ready{output_fd_, POLLIN, 0};
  const int n = poll(&ready, 1, static_cast<int>(wait.count()));
  if (n == 0) return Read::kTimeout;
  if (n < 0) return errno == EINTR ? Read::kTimeout : Read::kClosed;
  char buffer[4096];
  const ssize_t got = read(output_fd_, buffer, sizeof buffer);
  if (got <= 0) return Read::kClosed;
  output_.append(buffer, static_cast<size_t>(got));
  unread_.append(buffer, static_cast<size_t>(got));
  for (size_t end; (end = unread_.find('\n')) != std::string::npos;) {
    lines_.push_back(unread_.substr(0, end));
    unread_.erase(0, end + 1);
  }
  return Read::kData;
}

std::optional<std::vector<std::string>> ChildProcess::WaitForLine(const std::regex& pattern,
                                                                  std::chrono::milliseconds deadline,
                                                                  size_t from) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  for (size_t next = from;;) {
    for (; next < lines_.size(); ++next) {
      std::smatch match;
      if (std::regex_search(lines_[next], match, pattern)) {
        std::vector<std::string> groups;
        for (const auto& group : match) groups.push_back(group.str());
        return groups;
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    if (ReadSome(left) == Read::kClosed) return std::nullopt;
  }
}

int ChildProcess::Stop(int signal) {
  if (exit_code_) return *exit_code_;
  kill(pid_, signal);
  int status = 0;
  waitpid(pid_, &status, 0);
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  // Keep what it wrote on its way out; the pipe ends with the process.
  while (ReadSome(std::chrono::milliseconds(1000)) == Read::kData) {
  }
  return *exit_code_;
}

int ChildProcess::WaitForExit(std::chrono::milliseconds deadline) {
  if (exit_code_) return *exit_code_;
  const auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    int status = 0;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return -1;
    // The pipe closing when the process exits is the event waited for.
    if (ReadSome(left) == Read::kClosed) {
      waitpid(pid_, &status, 0);
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return *exit_code_;
    }
  }
}

}  // namespace labtrace::testing
