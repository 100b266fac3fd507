// labtraced: wires the parts together. Nothing here but order of construction.
//
//   labtraced --config lab-config/demo-lab.textproto --data ./data
//
// Exit codes: 0 after a clean stop (SIGINT/SIGTERM), 2 when the configuration is
// refused (before any port is opened), 1 when the environment fails (store, API port).
#include <malloc.h>
#include <sys/resource.h>

#include <chrono>
#include <map>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "acquisition/acquisition.h"
#include "api/api_server.h"
#include "config/lab_calendar.h"
#include "config/lab_config.h"
#include "labtrace/clock.h"
#include "report/pdf_printer.h"
#include "report/report_form.h"
#include "result_files/result_folders.h"
#include "store/record_store.h"
#include "store/signing_key.h"

namespace asio = boost::asio;
using namespace labtrace;

namespace {

// With the lab's key pinned in lab-config, a daemon holding another key (the file
// replaced, or a fresh one made because it was lost) would sign checkpoints that `labtrace
// verify` refuses: it does not start. Its mode is checked too (SigningKey::Load).
Status CheckSigningKeyIsPinned(const config::Lab& lab, const std::string& config_path, const std::string& key_path) {
  if (lab.trusted_checkpoint_key().empty()) return OkStatus();
  auto key = store::SigningKey::Load(key_path);
  if (!key && key.error().code() == StatusCode::kNotFound) {
    return FailedPrecondition(fmt::format(
        "{} pins the lab's key {}, but there is no signing key at {}: put the lab's key file back there, or remove "
        "trusted_checkpoint_key to start with a new key (and pin that one)",
        config_path, lab.trusted_checkpoint_key(), key_path));
  }
  if (!key) return key.error();
  auto pinned = store::ParsePublicKey(lab.trusted_checkpoint_key());  // validated with the lab
  if (!pinned) return pinned.error().Annotate(config_path);
  const std::string held = store::PublicKeyText(key->public_key());
  if (held != store::PublicKeyText(*pinned)) {
    return FailedPrecondition(fmt::format(
        "the signing key {} is {}, not the lab's key {} that {} pins: the key file was replaced; put the lab's key "
        "back, or pin this one if the lab replaced it (labtrace checkpoint key --db DATA/labtrace.db)",
        key_path, held, lab.trusted_checkpoint_key(), config_path));
  }
  return OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"labtraced: reads the lab's instruments and keeps every reading with its evidence"};
  std::string config_path, data_dir, listen, report_form_dir, log_level = "info";
  app.add_option("--config", config_path, "lab-config file (protobuf text format)")->required();
  app.add_option("--data", data_dir, "directory of the SQLite store (created if missing)")->required();
  app.add_option("--listen", listen, "host:port for the HTTP API; overrides api.listen of the config");
  app.add_option("--report-form", report_form_dir,
                 "folder of the test report form (template, language files, fonts.conf); default: report/ beside "
                 "the lab-config file");
  app.add_option("--log-level", log_level, "trace, debug, info, warn or error")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto logger = spdlog::stderr_logger_mt("labtraced");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  spdlog::set_level(spdlog::level::from_str(log_level));
  spdlog::flush_on(spdlog::level::trace);

  // Signals are caught from here on, so a SIGTERM that arrives while the store opens still
  // stops the daemon cleanly once the loop runs. (Registered later, a stop sent right
  // after "listening" killed the daemon outright; the audit test caught it.)
  asio::io_context io;
  // A TCP instrument that resets its connection must cost a failed write (EPIPE), not the
  // daemon: the text links write to sockets through plain descriptors.
  std::signal(SIGPIPE, SIG_IGN);
  asio::signal_set signals(io, SIGINT, SIGTERM);

  // The store's writer gathers each batch (up to 65 536 readings, about 13 MB) in one
  // vector: above glibc's mmap threshold every batch was an mmap(), fresh page faults and
  // a munmap() (strace of the Modbus TCP benchmark). Large blocks stay on the heap, and
  // the heap keeps up to 64 MiB free rather than being trimmed and regrown.
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);

  // Many API clients may be connected: take every descriptor the system allows. Modbus
  // links keep theirs below 1024 all the same (drivers/modbus/descriptor_slot.h).
  if (rlimit files{}; getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }

  auto lab = config::LoadLab(config_path);
  if (!lab) {
    std::fprintf(stderr, "%s\nlabtraced: configuration refused; nothing was started\n",
                 lab.error().message().c_str());
    return 2;
  }
  if (!listen.empty()) {
    if (auto parsed = config::ParseListen(listen); !parsed) {
      std::fprintf(stderr, "--listen: %s\n", parsed.error().message().c_str());
      return 2;
    }
    lab->mutable_api()->set_listen(listen);
  }
  // The test report form is the lab's controlled document: a broken one stops the daemon
  // here, not at the first report. Without one (none beside the lab-config, none named),
  // reports are drafted but not issued or printed.
  std::shared_ptr<const report::ReportForm> report_form;
  report::PdfPrinterOptions printer;
  {
    const bool named = !report_form_dir.empty();
    if (!named) report_form_dir = (std::filesystem::path(config_path).parent_path() / "report").string();
    if (named || std::filesystem::exists(report_form_dir)) {
      auto form = report::LoadTestReportForm(report_form_dir);
      printer.fontconfig_file = (std::filesystem::path(report_form_dir) / "fonts.conf").string();
      if (form && !std::filesystem::exists(printer.fontconfig_file)) {
        form = Error(NotFound(fmt::format("{} is missing: the report printer's only fonts are listed there",
                                          printer.fontconfig_file)));
      }
      if (!form) {
        std::fprintf(stderr, "%s\nlabtraced: the test report form in %s is refused; nothing was started\n",
                     form.error().message().c_str(), report_form_dir.c_str());
        return 2;
      }
      report_form = std::make_shared<const report::ReportForm>(std::move(*form));
    }
  }
  spdlog::info("lab \"{}\": {} bus(es), {} instrument(s) from {}", lab->name(), lab->buses_size(),
               lab->instruments_size(), config_path);
  if (lab->time_zone().empty()) {
    spdlog::warn("{} names no time_zone: certificate dates, due dates and certificate numbers follow UTC dates; "
                 "set time_zone: \"Asia/Ho_Chi_Minh\" (the lab's zone) in it",
                 config_path);
  } else {
    spdlog::info("lab dates are in {}", lab->time_zone());
  }

  // Polls are made in readings the store has committed and given back (reading_buffers.h).
  auto buffers = std::make_shared<ReadingBuffers>();
  // The key is checked before the store opens, which would sign a checkpoint with it.
  const std::string key_path = store::KeyPathIn(data_dir);
  if (Status key = CheckSigningKeyIsPinned(*lab, config_path, key_path); !key.ok()) {
    spdlog::critical("{}", key.message());
    return 1;
  }
  store::StoreOptions store_options;
  store_options.signing_key_path = key_path;
  store_options.give_back = buffers;
  // Committed readings go on to live streams (GET /v1/readings/stream).
  auto live = std::make_shared<api::LiveReadings>();
  store_options.on_readings_committed = [live](const std::vector<const Reading*>& readings) { live->Publish(readings); };
  auto store = store::RecordStore::Open(data_dir, std::move(store_options));
  if (!store) {
    spdlog::critical("{}", store.error().message());
    return 1;
  }
  (*store)->OnCommit([](size_t count, uint64_t last_sequence) {
    spdlog::debug("store: committed {} reading(s), last sequence {}", count, last_sequence);
  });
  spdlog::info("store: {}", (*store)->path());
  // The audit trail notes which configuration the daemon runs with, and when it changed.
  if (Status noted = (*store)->RecordConfiguration(config_path, config::FileDigest(config_path)); !noted.ok()) {
    spdlog::critical("{}", noted.message());
    return 1;
  }
  // An instrument read past its calibration's due date needs an approved override; the
  // approval goes on the audit trail at every start (ISO/IEC 17025 §6.4.9).
  const int64_t now_ns = NowNs();
  const config::LabCalendar calendar = config::LabCalendar::Of(*lab);
  for (const auto& instrument : lab->instruments()) {
    const auto& calibration = instrument.calibration();
    if (!instrument.has_calibration() || calendar.EndOfDayNs(calibration.due_date()).value_or(0) > now_ns) {
      continue;
    }
    if (!calibration.has_override_expired()) {
      spdlog::error("instrument {}: calibration {} expired after {}; its readings are refused until it is "
                    "recalibrated or an override is approved in {}",
                    instrument.name(), calibration.certificate(), calibration.due_date(), config_path);
      continue;
    }
    spdlog::warn("instrument {}: calibration {} expired after {}; read anyway, as approved by {}: {}",
                 instrument.name(), calibration.certificate(), calibration.due_date(),
                 calibration.override_expired().approved_by(), calibration.override_expired().reason());
    AuditEvent event;
    event.set_actor(calibration.override_expired().approved_by());
    event.set_action("override");
    event.set_entity("instrument:" + instrument.name());
    event.set_old_value(fmt::format("calibration {} due {}", calibration.certificate(), calibration.due_date()));
    event.set_new_value("read past the due date");
    event.set_reason(calibration.override_expired().reason());
    (*store)->RecordAudit(std::move(event));
  }
  (*store)->Flush();  // on the trail before the first reading

  // Result files appearing in the watched folders are imported (result_folders.h). The
  // folders are made before the API listens, so a client told it is up can drop files.
  auto result_folders = result_files::ResultFolders::Create(io, *lab, data_dir, **store);
  if (!result_folders) {
    spdlog::critical("{}", result_folders.error().message());
    return 1;
  }

  const auto [host, port] = *config::ParseListen(lab->api().listen());
  auto api = api::ApiServer::Create(io, host, port, **store, *lab);
  if (!api) {
    spdlog::critical("{}", api.error().message());
    return 1;
  }
  if (report_form) {
    (*api)->SetReportForm(report_form, printer);
    spdlog::info("reports: the form in {}, printed by {}", report_form_dir, printer.chromium);
    if (!std::filesystem::exists(printer.chromium)) {
      spdlog::warn("{} is missing: reports cannot be issued until it is installed (apt-get install chromium)",
                   printer.chromium);
    }
  } else {
    spdlog::warn("no test report form in {}: reports are drafted but not issued or printed; give --report-form DIR",
                 report_form_dir);
  }
  const auto endpoint = (*api)->endpoint();
  spdlog::info("api: listening on http://{}:{}", endpoint.address().to_string(), endpoint.port());

  // What an instrument says it is (model, serial number, firmware) goes on the audit trail
  // as part of its equipment record (ISO/IEC 17025 §6.4.13), at the first connect of each
  // run and whenever it changes: a swapped instrument or a firmware update is on record.
  auto acquisition = acquisition::Acquisition::Create(
      io, *lab, [&store = **store](std::vector<Reading> readings) { store.Append(std::move(readings)); },
      [&store = **store, previous = std::map<std::string, std::string>()](
          const std::string& instrument, const InstrumentIdentity& identity) mutable {
        const std::string said = fmt::format("manufacturer {}; model {}; serial number {}; firmware {}",
                                             identity.manufacturer(), identity.model(), identity.serial_number(),
                                             identity.firmware());
        AuditEvent event;
        event.set_actor("labtraced");
        event.set_action("identify");
        event.set_entity("instrument:" + instrument);
        event.set_old_value(previous[instrument]);
        event.set_new_value(said);
        event.set_reason("read from the instrument at connect");
        previous[instrument] = said;
        store.RecordAudit(std::move(event));
      },
      buffers);
  if (!acquisition) {
    spdlog::critical("{}", acquisition.error().message());
    return 1;
  }

  (*api)->SetLiveReadings(live);
  (*api)->SetHealthSource([&acquisition = **acquisition] { return acquisition.Health(); });
  (*api)->SetModbusWriter([&acquisition = **acquisition](const api::ModbusWriteRequest& request,
                                                          std::function<void(Result<std::string>)> done) {
    acquisition::RegisterWrite write;
    write.unit_id = static_cast<uint8_t>(request.unit_id());
    write.address = static_cast<uint16_t>(request.address());
    write.values.assign(request.values().begin(), request.values().end());
    write.timeout = std::chrono::milliseconds(request.timeout_ms() != 0 ? request.timeout_ms()
                                              : request.unit_id() == 0 ? 100 : 500);
    acquisition.Write(request.bus(), std::move(write), std::move(done));
  });

  asio::steady_timer grace(io);
  signals.async_wait([&](const boost::system::error_code& error, int signal) {
    if (error) return;
    spdlog::info("stopping on signal {}", signal);
    (*acquisition)->Stop();
    (*result_folders)->Stop();
    (*api)->Stop();
    // Open API connections get a moment to finish their answer; then the loop ends. An
    // upload cut short is committed all the same, and its sender gets the receipt again
    // by resending with the same key.
    grace.expires_after(std::chrono::milliseconds(250));
    grace.async_wait([&io](const boost::system::error_code&) { io.stop(); });
  });

  (*api)->Start();
  (*acquisition)->Start();
  (*result_folders)->Start();
  io.run();

  (*store)->Flush();
  spdlog::info("stopped; every reading received was committed");
  return 0;
}
