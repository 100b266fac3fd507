// Running the `labtrace` CLI from an integration test and reading its JSON answers.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "support/child_process.h"

namespace labtrace::testing {

// Runs `labtrace ARGS…` and returns its output, failing the test unless it exits with
// `expected_exit`.
inline std::string Labtrace(std::vector<std::string> args, int expected_exit = 0) {
  args.insert(args.begin(), LABTRACE_CLI_PATH);
  ChildProcess cli(std::move(args));
  EXPECT_EQ(cli.WaitForExit(std::chrono::seconds(30)), expected_exit) << cli.output();
  return cli.output();
}

template <typename Message>
Message ParseJson(const std::string& json) {
  Message message;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &message).ok()) << json;
  return message;
}

}  // namespace labtrace::testing
