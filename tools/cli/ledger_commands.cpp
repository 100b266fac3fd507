#include "cli/ledger_commands.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include "store/signing_key.h"
#include "store/proofs.h"
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

int CheckpointExportCommand(const std::string& db_path, bool json) {
  auto checkpoint = store::LatestCheckpoint(db_path);
  if (!checkpoint) {
    std::fprintf(stderr, "labtrace: %s\n", checkpoint.error().message().c_str());
    return 1;
  }
  if (json) {
    // protobuf's canonical JSON: the hash, key and signature in base64.
    std::string text;
    (void)google::protobuf::util::MessageToJsonString(*checkpoint, &text);
    std::puts(text.c_str());
    return 0;
  }
  std::fputs(store::FormatCheckpointFile(*checkpoint).c_str(), stdout);
  return 0;
}

namespace {
std::string HashList(const std::vector<store::Hash>& hashes, bool json) {
  std::string out;
  for (const auto& h : hashes) {
    if (json) {
      out += (out.empty() ? "\"" : ",\"") + store::ToHex(h) + "\"";
    } else {
      out += "  " + store::ToHex(h) + "\n";
    }
  }
  return out;
}
}  // namespace

int InclusionProofCommand(const std::string& db_path, uint64_t sequence, bool json) {
  auto answer = store::ProveReadingInclusion(db_path, sequence);
  if (!answer) {
    std::fprintf(stderr, "labtrace: %s\n", answer.error().message().c_str());
    return 2;
  }
  if (json) {
    std::printf("{\"reading\":%llu,\"leaf_index\":%llu,\"tree_size\":%llu,\"leaf_hash\":\"%s\",\"proof\":[%s],"
                "\"root\":\"%s\",\"root_is_signed\":%s,\"verified\":%s}\n",
                static_cast<unsigned long long>(sequence), static_cast<unsigned long long>(answer->leaf_index),
                static_cast<unsigned long long>(answer->tree_size), store::ToHex(answer->leaf_hash).c_str(),
                HashList(answer->proof, true).c_str(), store::ToHex(answer->root).c_str(),
                answer->root_is_signed ? "true" : "false", answer->verified ? "true" : "false");
  } else {
    std::printf("reading %llu is leaf %llu of the log of %llu records\nleaf hash %s\nproof (%zu hashes):\n%sroot %s (%s)\n%s\n",
                static_cast<unsigned long long>(sequence), static_cast<unsigned long long>(answer->leaf_index),
                static_cast<unsigned long long>(answer->tree_size), store::ToHex(answer->leaf_hash).c_str(),
                answer->proof.size(), HashList(answer->proof, false).c_str(), store::ToHex(answer->root).c_str(),
                answer->root_is_signed ? "a signed checkpoint's root" : "not signed yet: no checkpoint covers it",
                answer->verified ? "the proof verifies" : "THE PROOF DOES NOT VERIFY");
  }
  return answer->verified ? 0 : 1;
}

int ConsistencyProofCommand(const std::string& db_path, uint64_t from, uint64_t to, bool json) {
  auto answer = store::ProveConsistency(db_path, from, to);
  if (!answer) {
    std::fprintf(stderr, "labtrace: %s\n", answer.error().message().c_str());
    return 2;
  }
  if (json) {
    std::printf("{\"from\":%llu,\"to\":%llu,\"from_root\":\"%s\",\"to_root\":\"%s\",\"proof\":[%s],\"verified\":%s}\n",
                static_cast<unsigned long long>(from), static_cast<unsigned long long>(to),
                store::ToHex(answer->old_root).c_str(), store::ToHex(answer->new_root).c_str(),
                HashList(answer->proof, true).c_str(), answer->verified ? "true" : "false");
  } else {
    std::printf("log of %llu records, root %s\nextends log of %llu records, root %s\nproof (%zu hashes):\n%s%s\n",
                static_cast<unsigned long long>(to), store::ToHex(answer->new_root).c_str(),
                static_cast<unsigned long long>(from), store::ToHex(answer->old_root).c_str(), answer->proof.size(),
                HashList(answer->proof, false).c_str(),
                answer->verified ? "the proof verifies" : "THE PROOF DOES NOT VERIFY");
  }
  return answer->verified ? 0 : 1;
}

}  // namespace labtrace::cli
