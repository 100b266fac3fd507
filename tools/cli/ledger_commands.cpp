#include "cli/ledger_commands.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include "config/lab_config.h"
#include "labtrace/ledger.pb.h"
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

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) return Error(Unavailable(fmt::format("cannot open {}: {}", path, std::strerror(errno))));
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// The lab's public key, pinned by a key file or a lab-config; `pinned_by` names where
// from. Unset when neither is given.
Result<std::optional<std::string>> PinnedKey(const VerifyCommandOptions& options, std::string& pinned_by) {
  if (!options.trusted_key_path.empty()) {
    auto text = ReadFile(options.trusted_key_path);
    if (!text) return Error(text.error());
    auto key = store::ParsePublicKey(*text);
    if (!key) return Error(key.error().Annotate(options.trusted_key_path));
    pinned_by = "--trusted-key " + options.trusted_key_path;
    return std::optional<std::string>(*key);
  }
  if (!options.config_path.empty()) {
    auto lab = config::LoadLab(options.config_path);
    if (!lab) return Error(lab.error());
    if (lab->trusted_checkpoint_key().empty()) {
      return Error(InvalidArgument(fmt::format(
          "{} pins no key: add trusted_checkpoint_key (labtrace checkpoint key --db DATA/labtrace.db prints it), "
          "or pass --trusted-key FILE",
          options.config_path)));
    }
    auto key = store::ParsePublicKey(lab->trusted_checkpoint_key());
    if (!key) return Error(key.error().Annotate(options.config_path + ": trusted_checkpoint_key"));
    pinned_by = options.config_path;
    return std::optional<std::string>(*key);
  }
  return std::optional<std::string>();
}

// What the checkpoints vouch for, in a line after "intact".
std::string CheckpointLine(const store::VerifyReport& report, const std::string& pinned_by) {
  if (report.checkpoints == 0) {
    return "no signed checkpoint: nothing but the records' own hashes vouches for them, and anyone who can write "
           "the file can rewrite those";
  }
  std::string line = pinned_by.empty()
                         ? fmt::format("checkpoints signed by key {}, which is not pinned: anyone who can write the "
                                       "file can re-sign it; pin the lab's key (--trusted-key FILE, or "
                                       "trusted_checkpoint_key in lab-config with --config)",
                                       store::PublicKeyText(report.signer))
                         : fmt::format("checkpoints signed by the lab's key {} (pinned by {})",
                                       store::PublicKeyText(report.signer), pinned_by);
  if (report.signed_records < report.records) {
    line += fmt::format("; the newest covers {} of the {} records, the {} after it are under no signature yet",
                        report.signed_records, report.records, report.records - report.signed_records);
  }
  return line;
}

}  // namespace

int VerifyCommand(const VerifyCommandOptions& command) {
  store::VerifyOptions options;
  if (!command.checkpoint_path.empty()) {
    auto text = ReadFile(command.checkpoint_path);
    if (!text) {
      std::fprintf(stderr, "labtrace: %s\n", text.error().message().c_str());
      return 2;
    }
    auto checkpoint = store::ParseCheckpointFile(*text);
    if (!checkpoint) {
      std::fprintf(stderr, "labtrace: %s: %s\n", command.checkpoint_path.c_str(), checkpoint.error().message().c_str());
      return 2;
    }
    options.saved_checkpoint = *checkpoint;
  }
  std::string pinned_by;
  auto pinned = PinnedKey(command, pinned_by);
  if (!pinned) {
    std::fprintf(stderr, "labtrace: %s\n", pinned.error().message().c_str());
    return 2;
  }
  options.trusted_key = *pinned;
  options.require_checkpoint = command.require_checkpoint.value_or(options.trusted_key.has_value());
  if (command.progress) options.progress = DrawProgress;
  const auto started = std::chrono::steady_clock::now();
  auto report = store::VerifyStore(command.db_path, options);
  if (!report) {
    std::fprintf(stderr, "labtrace: %s\n", report.error().message().c_str());
    return 2;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (command.json) {
    StoreVerification json;
    json.set_store(command.db_path);
    json.set_intact(report->intact);
    json.set_records(report->records);
    json.set_batches(report->batches);
    json.set_checkpoints(report->checkpoints);
    json.set_signed_records(report->signed_records);
    json.set_checkpoint_key(store::PublicKeyText(report->signer));
    json.set_key_pinned(!pinned_by.empty());
    json.set_pinned_by(pinned_by);
    json.set_root(store::ToHex(report->root));
    json.set_seconds(seconds);
    json.set_problem(report->problem);
    google::protobuf::util::JsonPrintOptions print;
    print.preserve_proto_field_names = true;
    print.always_print_primitive_fields = true;  // "intact": false and "problem": "" are said
    std::string text;
    (void)google::protobuf::util::MessageToJsonString(json, &text, print);
    std::puts(text.c_str());
  } else if (report->intact) {
    std::printf("%s: intact: %llu records in %llu batches, %llu signed checkpoint(s), root %s (%.1f s)\n%s\n",
                command.db_path.c_str(), static_cast<unsigned long long>(report->records),
                static_cast<unsigned long long>(report->batches), static_cast<unsigned long long>(report->checkpoints),
                store::ToHex(report->root).c_str(), seconds, CheckpointLine(*report, pinned_by).c_str());
  }
  if (!report->intact) std::fprintf(stderr, "%s: NOT INTACT: %s\n", command.db_path.c_str(), report->problem.c_str());
  return report->intact ? 0 : 1;
}

int CheckpointKeyCommand(const std::string& db_path, const std::string& key_path) {
  const std::string path = key_path.empty() ? store::KeyPathBeside(db_path) : key_path;
  auto key = store::SigningKey::Load(path);
  if (!key) {
    std::fprintf(stderr, "labtrace: %s%s\n", key.error().message().c_str(),
                 key.error().code() == StatusCode::kNotFound
                     ? "; the daemon makes the key at its first start, beside the store: pass --key FILE if it is "
                       "kept elsewhere"
                     : "");
    return 2;
  }
  std::puts(store::PublicKeyText(key->public_key()).c_str());
  return 0;
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
