// Starting the real labtraced for an integration test: on a config file, port 0 for the
// API, debug logging (tests wait for "store: committed" lines), with test users and their
// tokens in its store (test_callers.h); waits for it to listen.
#pragma once

#include <chrono>
#include <memory>
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "support/child_process.h"
#include "support/test_callers.h"

namespace labtrace::testing {

struct RunningDaemon {
  std::unique_ptr<ChildProcess> process;
  std::string server;  // "http://127.0.0.1:PORT"; empty if it did not start
  TestCallers callers;  // tokens per role; LABTRACE_TOKEN is the reviewer's
};

inline RunningDaemon StartDaemon(const std::string& config_path, const std::string& data_dir,
                                 std::chrono::milliseconds deadline, std::vector<std::string> also_uploading = {}) {
  RunningDaemon daemon;
  daemon.callers = EnrolTestCallers(data_dir, config_path, std::move(also_uploading));
  daemon.process = std::make_unique<ChildProcess>(std::vector<std::string>{
      LABTRACED_PATH, "--config", config_path, "--data", data_dir, "--listen", "127.0.0.1:0", "--log-level", "debug"});
  auto listening =
      daemon.process->WaitForLine(std::regex(R"(api: listening on (http://127\.0\.0\.1:\d+))"), deadline);
  EXPECT_TRUE(listening) << daemon.process->output();
  if (listening) daemon.server = (*listening)[1];
  return daemon;
}

}  // namespace labtrace::testing
