// The demo lab (lab-config/demo-lab.textproto) as an integration test runs it: dated
// today by `labtrace-sim lab`, as the demo is, with its climate controller on the test's
// Modbus TCP simulator and its serial instruments' links in the test's directory.
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "support/child_process.h"

namespace labtrace::testing {

inline std::string ReplaceAll(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size()) text.replace(at, from.size(), to);
  return text;
}

// Writes the dated demo lab to `dir`/lab.textproto and returns its path ("" on failure,
// with the test failed).
inline std::string DemoLabToday(const std::filesystem::path& dir, const std::string& climate_port) {
  const std::string dated = (dir / "demo-lab-today.textproto").string();
  ChildProcess as_of_today({LABTRACE_SIM_PATH, "lab", "--config", LABTRACE_DEMO_LAB, "--out", dated});
  const int exit_code = as_of_today.WaitForExit(std::chrono::seconds(15));
  EXPECT_EQ(exit_code, 0) << as_of_today.output();
  if (exit_code != 0) return "";
  std::ifstream demo(dated);
  std::stringstream text;
  text << demo.rdbuf();
  std::string config = ReplaceAll(text.str(), "port: 15020", "port: " + climate_port);
  config = ReplaceAll(config, "/tmp/labtrace-demo/", dir.string() + "/");
  const std::string path = (dir / "lab.textproto").string();
  std::ofstream(path) << config;
  return path;
}

}  // namespace labtrace::testing
