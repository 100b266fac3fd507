#include "result_files/result_folders.h"

#include <fstream>
#include <future>
#include <sstream>
#include <system_error>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "labtrace/clock.h"
#include "result_files/result_import.h"

namespace labtrace::result_files {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

constexpr const char* kImported = "imported";
constexpr const char* kRejected = "rejected";

bool BeingWritten(const std::string& name) {
  return name.starts_with('.') || name.ends_with(".part") || name.ends_with(".tmp");
}

// `name` in `folder`, or, when taken, "stem-2.ext", "stem-3.ext" …: a second file of the
// same name never overwrites the first.
fs::path FreeName(const fs::path& folder, const fs::path& name) {
  fs::path candidate = folder / name;
  for (int n = 2; fs::exists(candidate) || fs::exists(candidate.string() + ".reason"); ++n) {
    candidate = folder / fmt::format("{}-{}{}", name.stem().string(), n, name.extension().string());
  }
  return candidate;
}

Status WriteText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Unavailable(fmt::format("cannot write {}", path.string()));
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<ResultFolders>> ResultFolders::Create(asio::io_context& io, const config::Lab& lab,
                                                             const std::string& data_dir, store::RecordStore& store,
                                                             std::chrono::milliseconds period) {
  std::unique_ptr<ResultFolders> folders(new ResultFolders(io, store, period));
  for (const config::Instrument& instrument : lab.instruments()) {
    if (!instrument.has_result_files()) continue;
    fs::path path = instrument.result_files().folder();
    if (path.is_relative()) path = fs::path(data_dir) / path;
    for (const char* inside : {kImported, kRejected}) {
      std::error_code error;
      fs::create_directories(path / inside, error);
      if (error) {
        return Error(Unavailable(fmt::format("instrument {}: cannot make the result folder {}: {}", instrument.name(),
                                             (path / inside).string(), error.message())));
      }
    }
    folders->folders_.push_back({&instrument, path, {}});
  }
  return folders;
}

ResultFolders::~ResultFolders() {
  Stop();
  worker_.join();
}

void ResultFolders::Start() {
  for (const Folder& folder : folders_) {
    spdlog::info("instrument {}: importing result files from {}", folder.instrument->name(), folder.path.string());
  }
  if (!folders_.empty()) asio::co_spawn(io_, Watch(), asio::detached);
}

void ResultFolders::Stop() {
  stopping_ = true;
  timer_.cancel();
}

asio::awaitable<void> ResultFolders::Watch() {
  for (;;) {
    timer_.expires_after(period_);
    boost::system::error_code error;
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, error));
    if (error || stopping_) co_return;
    co_await asio::co_spawn(worker_, LookOnWorker(), asio::use_awaitable);
  }
}

asio::awaitable<void> ResultFolders::LookOnWorker() {
  Look();
  co_return;
}

void ResultFolders::Look() {
  for (Folder& folder : folders_) {
    std::map<std::string, std::pair<uintmax_t, fs::file_time_type>> now;
    std::error_code error;
    for (fs::directory_iterator it(folder.path, error), end; !error && it != end; it.increment(error)) {
      const std::string name = it->path().filename().string();
      std::error_code stat_error;
      if (!it->is_regular_file(stat_error) || BeingWritten(name)) continue;
      const uintmax_t size = it->file_size(stat_error);
      const fs::file_time_type written = it->last_write_time(stat_error);
      if (stat_error) continue;
      now[name] = {size, written};
    }
    if (error) {
      spdlog::warn("instrument {}: cannot list {}: {}", folder.instrument->name(), folder.path.string(), error.message());
      continue;
    }
    for (const auto& [name, state] : now) {
      const auto before = folder.seen.find(name);
      if (before != folder.seen.end() && before->second == state) Import(folder, folder.path / name);
    }
    // What was imported has left; what is still there is looked at again next time.
    folder.seen.clear();
    for (const auto& [name, state] : now) {
      if (fs::exists(folder.path / name)) folder.seen[name] = state;
    }
  }
}

void ResultFolders::Import(const Folder& folder, const fs::path& file) {
  const std::string name = file.filename().string();
  const config::Instrument& instrument = *folder.instrument;
  std::ifstream in(file, std::ios::binary);
  std::stringstream bytes_in;
  bytes_in << in.rdbuf();
  if (!in) {
    spdlog::warn("instrument {}: cannot read result file {}; trying again", instrument.name(), file.string());
    return;
  }
  const std::string bytes = bytes_in.str();
  const std::string sha256 = Sha256Hex(bytes);
  auto upload = UploadOfResultFile(instrument, bytes, sha256);
  if (!upload) return Reject(folder, file, sha256, upload.error().message());

  std::promise<Result<api::UploadReceipt>> stored;
  store_.Upload(std::move(*upload), ImportedFrom(name, sha256),
                [&stored](Result<api::UploadReceipt> receipt) { stored.set_value(std::move(receipt)); });
  auto receipt = stored.get_future().get();
  if (!receipt) {
    if (receipt.error().code() == StatusCode::kInvalidArgument) {
      return Reject(folder, file, sha256, receipt.error().message());
    }
    spdlog::error("instrument {}: result file {} is not stored ({}); trying again", instrument.name(), name,
                  receipt.error().message());
    return;
  }
  const fs::path target = FreeName(folder.path / kImported, file.filename());
  std::error_code error;
  fs::rename(file, target, error);
  if (error) {
    spdlog::error("instrument {}: result file {} is stored, but cannot be moved to {}: {}; move it by hand",
                  instrument.name(), name, target.string(), error.message());
    return;
  }
  if (receipt->replayed()) {
    // The same bytes came before: nothing more is stored; the note says where they are.
    const Status noted = WriteText(
        target.string() + ".duplicate",
        fmt::format("{} (SHA-256 {}) has the same content as a result file imported before, stored as readings "
                    "{}..{}; nothing was stored again.\n",
                    name, sha256, receipt->first_sequence(), receipt->last_sequence()));
    if (!noted.ok()) spdlog::warn("instrument {}: {}", instrument.name(), noted.message());
    spdlog::info("instrument {}: result file {} was imported before (readings {}..{}); moved to {}",
                 instrument.name(), name, receipt->first_sequence(), receipt->last_sequence(), target.string());
    return;
  }
  spdlog::info("instrument {}: imported result file {}: readings {}..{}", instrument.name(), name,
               receipt->first_sequence(), receipt->last_sequence());
}

void ResultFolders::Reject(const Folder& folder, const fs::path& file, const std::string& sha256,
                           const std::string& reason) {
  const std::string name = file.filename().string();
  const fs::path target = FreeName(folder.path / kRejected, file.filename());
  std::error_code error;
  fs::rename(file, target, error);
  if (error) {
    spdlog::error("instrument {}: result file {} is refused ({}), but cannot be moved to {}: {}",
                  folder.instrument->name(), name, reason, target.string(), error.message());
    return;
  }
  const Status written = WriteText(
      target.string() + ".reason",
      fmt::format("{}: refused, nothing of it was stored.\n{}\n\nInstrument {}, SHA-256 {}. Correct the file and put "
                  "it in {} again.\n",
                  name, reason, folder.instrument->name(), sha256, folder.path.string()));
  if (!written.ok()) spdlog::warn("instrument {}: {}", folder.instrument->name(), written.message());
  AuditEvent event;
  event.set_actor("labtraced");
  event.set_action("reject");
  event.set_entity(fmt::format("result-file:{}/{}", folder.instrument->name(), name));
  event.set_new_value(fmt::format("moved to {} (SHA-256 {})", target.string(), sha256));
  event.set_reason(reason);
  store_.RecordAudit(std::move(event));
  store_.Flush();  // on the trail by the time the refusal is reported
  spdlog::warn("instrument {}: result file {} refused: {}", folder.instrument->name(), name, reason);
}

}  // namespace labtrace::result_files
