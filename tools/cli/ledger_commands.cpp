#include "cli/ledger_commands.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "store/signing_key.h"
#include "store/verifier.h"

namespace labtrace::cli {

namespace {

// "[##########          ]  52%  5 200 000 / 10 000 000 records" on one rewritten line.
void DrawProgress(uint64_t done, uint64_t total) {
  constexpr int kWidth = 30;
  const int filled = total == 0 ? kWidth : static_cast<int>(kWidth * done / total);
  std::fprintf(stderr, "\r[%s%s] %3d%%  %llu / %llu records", std::string(filled, '#').c_str(),
               std::string(kWidth - filled, ' ').c_str(), total == 0 ? 100 : static_cast<int>(100 * done / total),
               static_cast<unsigned long long>(done), static_cast<unsigned long long>(total));
  if (done == total) std::fputc('\n', stderr);
}

}  // namespace

int VerifyCommand(const std::string& db_path, const std::string& checkpoint_path, bool json, bool progress) {
  store::VerifyOptions options;
  if (!checkpoint_path.empty()) {
    std::ifstream file(checkpoint_path);
    if (!file) {
      std::fprintf(stderr, "labtrace: cannot open checkpoint %s\n", checkpoint_path.c_str());
      return 2;
    }
    std::stringstream text;
    text << file.rdbuf();
    auto checkpoint = store::ParseCheckpointFile(text.str());
    if (!checkpoint) {
      std::fprintf(stderr, "labtrace: %s: %s\n", checkpoint_path.c_str(), checkpoint.error().message().c_str());
      return 2;
    }
    options.saved_checkpoint = *checkpoint;
  }
  if (progress) options.progress = DrawProgress;
  const auto started = std::chrono::steady_clock::now();
  auto report = store::VerifyStore(db_path, options);
  if (!report) {
    std::fprintf(stderr, "labtrace: %s\n", report.error().message().c_str());
    return 2;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (json) {
    std::printf("{\"intact\":%s,\"records\":%llu,\"batches\":%llu,\"checkpoints\":%llu,\"root\":\"%s\","
                "\"seconds\":%.3f,\"problem\":\"%s\"}\n",
                report->intact ? "true" : "false", static_cast<unsigned long long>(report->records),
                static_cast<unsigned long long>(report->batches), static_cast<unsigned long long>(report->checkpoints),
                store::ToHex(report->root).c_str(), seconds, report->problem.c_str());
  } else if (report->intact) {
    std::printf("%s: intact: %llu records in %llu batches, %llu signed checkpoint(s), root %s (%.1f s)\n",
                db_path.c_str(), static_cast<unsigned long long>(report->records),
                static_cast<unsigned long long>(report->batches), static_cast<unsigned long long>(report->checkpoints),
                store::ToHex(report->root).c_str(), seconds);
  }
  if (!report->intact) std::fprintf(stderr, "%s: NOT INTACT: %s\n", db_path.c_str(), report->problem.c_str());
  return report->intact ? 0 : 1;
}

int CheckpointExportCommand(const std::string& db_path) {
  auto checkpoint = store::LatestCheckpoint(db_path);
  if (!checkpoint) {
    std::fprintf(stderr, "labtrace: %s\n", checkpoint.error().message().c_str());
    return 1;
  }
  std::fputs(store::FormatCheckpointFile(*checkpoint).c_str(), stdout);
  return 0;
}

}  // namespace labtrace::cli
