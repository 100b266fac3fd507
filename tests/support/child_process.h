// A child process for integration tests: started with its stdout and stderr on one pipe,
// read line by line, waited for by event (a line that matches), never by sleeping.
#pragma once

#include <chrono>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <sys/types.h>

namespace labtrace::testing {

class ChildProcess {
 public:
  // Starts `argv[0]` with `argv`. Aborts the test binary if the fork fails.
  explicit ChildProcess(std::vector<std::string> argv);
  ~ChildProcess();  // SIGKILL if still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Reads output until a line at or after line number `from` matches `pattern`; returns
  // the match's groups (0 is the whole match), or nothing when the deadline passes or the
  // process closes its output first. Lines are kept, so events that may come in either
  // order can be waited for one after the other from the same mark.
  std::optional<std::vector<std::string>> WaitForLine(const std::regex& pattern,
                                                      std::chrono::milliseconds deadline,
                                                      size_t from = 0);
  // The number of lines read so far: a mark to wait for lines that come after now.
  size_t Mark() const { return lines_.size(); }

  // Writes to the process's standard input (a pipe).
  bool Send(const std::string& text);

  // Sends `signal` and waits for the exit; returns the exit code, or 128+signal.
  int Stop(int signal);
  // Waits for the process to end by itself; returns its exit code, or -1 after the deadline.
  int WaitForExit(std::chrono::milliseconds deadline);

  // Every line read so far, for failure messages.
  const std::string& output() const { return output_; }
  pid_t pid() const { return pid_; }

 private:
  enum class Read { kData, kTimeout, kClosed };
  Read ReadSome(std::chrono::milliseconds wait);

  pid_t pid_ = -1;
  int output_fd_ = -1;
  int input_fd_ = -1;
  std::string output_;
  std::string unread_;  // complete lines not yet matched, and a partial last line
  std::vector<std::string> lines_;
  std::optional<int> exit_code_;
};

}  // namespace labtrace::testing
