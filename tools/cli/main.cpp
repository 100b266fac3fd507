// labtrace: the command line of the lab. A client of labtraced's HTTP API, except for
// what must work without a daemon (checking a config file, verifying a store, creating
// the first users and uploader tokens on the host).
//
//   labtrace config check FILE
//   labtrace readings [--instrument I] [--channel C] [--since T] [--until T] [--last N] [--after SEQUENCE]
//                     [--all-versions] [--format table|csv] [--follow] [--json]
//   labtrace correct SEQUENCE --value V [--unit U] [--quality Q] --actor WHO --reason WHY [--json]
//   labtrace audit [--actor A] [--action KIND] [--entity E] [--since T] [--until T] [--json]
//   labtrace uploads [--instrument I] [--since T] [--until T] [--json]
//   labtrace uncertainty BUDGET-FILE [--json]
//   labtrace decide --value X --u U --lower L --upper H --rule RULE [--json]
//   labtrace mpe --table NAME --load M --e E [--in-service] [--json]
//   labtrace verify --db FILE [--checkpoint FILE] [--trusted-key FILE | --config FILE]
//                   [--require-checkpoint | --allow-no-checkpoint] [--json]
//   labtrace checkpoint export --db FILE
//   labtrace checkpoint key --db FILE [--key FILE]
//   labtrace proof inclusion --db FILE --reading N
//   labtrace proof consistency --db FILE --from M --to N
//   labtrace health [--json]
//   labtrace calibration submit REQUEST-FILE [--preview] [--json]
//   labtrace calibration list [--instrument I] [--since T] [--until T] [--json]
//   labtrace calibration report NUMBER [--json]
//   labtrace trace chain (--reading N | --instrument ID | --standard ID) [--json]
//   labtrace trace reverse ID [--certificate C] [--since YYYY-MM-DD] [--json]
//   labtrace user add NAME --full-name "…" --role R --data DIR [--password-stdin]
//   labtrace token add --uploader NAME --instrument I [--instrument J …] --data DIR [--days N]
//   labtrace modbus write --bus B --unit U --address A --value V [--value …] --reason WHY
//
// Exit codes: 0 done, 1 the daemon or the request failed, 2 the input is wrong, 3 (user add)
// the user exists.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <google/protobuf/util/json_util.h>

#include "cli/account_commands.h"
#include "cli/session_commands.h"
#include "cli/calibration_commands.h"
#include "cli/conformity_commands.h"
#include "cli/http_client.h"
#include "cli/ledger_commands.h"
#include "cli/metrology_commands.h"
#include "cli/readings_commands.h"
#include "cli/record_commands.h"
#include "cli/report_commands.h"
#include "cli/time_text.h"
#include "config/lab_config.h"
#include "labtrace/clock.h"
#include "labtrace/api.pb.h"

using namespace labtrace;

namespace {

int ConfigCheck(const std::string& path, bool json) {
  auto lab = config::LoadLab(path);
  if (!lab) {
    if (json) {
      api::ErrorResponse error;
      error.set_error(lab.error().message());
      std::string text;
      (void)google::protobuf::util::MessageToJsonString(error, &text);
      std::puts(text.c_str());
    } else {
      std::fprintf(stderr, "%s\n", lab.error().message().c_str());
    }
    return 2;
  }
  if (json) {
    // The lab as loaded: defaults filled in, MPE table files merged.
    std::string text;
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(*lab, &text, options);
    std::puts(text.c_str());
    return 0;
  }
  int channels = 0;
  for (const auto& instrument : lab->instruments()) {
    if (instrument.driver() == "modbus") {
      channels += config::FindRegisterMap(*lab, instrument.modbus().register_map())->registers_size();
    } else if (config::IsUploading(instrument)) {
      channels += instrument.result_files().values_size();  // an upload's channels are its sender's
    } else {
      channels += 1;
    }
  }
  std::printf("%s: OK: lab \"%s\", %d bus(es), %d instrument(s), %d channel(s)\n", path.c_str(),
              lab->name().c_str(), lab->buses_size(), lab->instruments_size(), channels);
  return 0;
}

int Health(const std::string& server, bool json) {
  api::HealthResponse health;
  std::string answer_json;
  if (int code = cli::CallApi(server, "/v1/health", nullptr, health, &answer_json); code != 0) return code;
  if (json) {
    std::fputs(answer_json.c_str(), stdout);
    return 0;
  }
  std::printf("%-18s %-9s %-24s %8s %8s %9s %9s  %s\n", "INSTRUMENT", "STATE", "LAST GOOD (UTC)", "POLLS", "GOOD",
              "IO MEAN", "IO MAX", "FLAGGED");
  for (const auto& status : health.instruments()) {
    std::string flagged;
    for (const auto& [quality, count] : status.flagged_polls()) {
      flagged += fmt::format("{}{} {}", flagged.empty() ? "" : ", ", quality, count);
    }
    std::printf("%-18s %-9s %-24s %8llu %8llu %6.1f ms %6.1f ms  %s\n", status.instrument().c_str(),
                status.good() ? "good" : "NOT GOOD",
                status.last_good_at_ns() ? cli::FormatUtc(status.last_good_at_ns()).c_str() : "never",
                static_cast<unsigned long long>(status.polls()), static_cast<unsigned long long>(status.good_polls()),
                status.io_ms_mean(), status.io_ms_max(), flagged.empty() ? "-" : flagged.c_str());
    if (!status.good() && !status.last_problem().empty()) std::printf("%-18s   %s\n", "", status.last_problem().c_str());
  }
  return 0;
}

// `labtrace modbus write`: holding registers written through the daemon, which owns the bus.
int ModbusWrite(const std::string& server, const api::ModbusWriteRequest& write, bool json) {
  std::string body, answer_json;
  google::protobuf::util::MessageToJsonString(write, &body);
  api::ModbusWriteReceipt receipt;
  if (int code = cli::CallApi(server, "/v1/modbus/writes", &body, receipt, &answer_json); code != 0) return code;
  if (json) {
    std::fputs(answer_json.c_str(), stdout);
    return 0;
  }
  std::printf("%s: bus %s, %s, register %u: %s\n", receipt.outcome().c_str(), write.bus().c_str(),
              write.unit_id() == 0 ? "every unit" : fmt::format("unit {}", write.unit_id()).c_str(), write.address(),
              fmt::format("{}", fmt::join(write.values(), " ")).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"labtrace: the lab's command line (readings, configuration)"};
  app.require_subcommand(1);

  auto* config = app.add_subcommand("config", "lab-config files");
  config->require_subcommand(1);
  std::string config_path;
  auto* check = config->add_subcommand("check", "validate a lab-config file without starting anything");
  check->add_option("FILE", config_path, "lab-config file")->required();
  bool check_json = false;
  check->add_flag("--json", check_json, "print the lab as loaded (defaults filled in), or the error, as JSON");

  cli::ReadingsOptions readings;
  auto* readings_cmd = cli::AddReadingsCommand(app, readings);
  cli::CorrectOptions correct;
  auto* correct_cmd = cli::AddCorrectCommand(app, correct);
  cli::ListOptions audit, uploads, calibrations;
  auto* audit_cmd = cli::AddAuditCommand(app, audit);
  auto* uploads_cmd = cli::AddUploadsCommand(app, uploads);

  std::string budget_path;
  bool budget_json = false;
  auto* uncertainty = app.add_subcommand("uncertainty", "evaluate a GUM uncertainty budget (text or JSON)");
  uncertainty->add_option("BUDGET-FILE", budget_path, "an UncertaintyBudget in protobuf text format or .json")
      ->required();
  uncertainty->add_flag("--json", budget_json, "print the BudgetResult as JSON");

  cli::DecideOptions decide;
  double lower = 0, upper = 0;
  auto* decide_cmd = app.add_subcommand("decide", "statement of conformity under an ILAC-G8 decision rule");
  decide_cmd->add_option("--value", decide.value, "measured value (or error)")->required();
  decide_cmd->add_option("--u", decide.u, "its standard uncertainty")->required();
  decide_cmd->add_option("--k", decide.k, "coverage factor, U = k·u")->capture_default_str();
  auto* lower_opt = decide_cmd->add_option("--lower", lower, "lower tolerance limit");
  auto* upper_opt = decide_cmd->add_option("--upper", upper, "upper tolerance limit");
  decide_cmd->add_option("--rule", decide.rule, "simple, guarded[:r] or nonbinary[:r]; w = r·U, r = 1 by default")
      ->capture_default_str();
  decide_cmd->add_flag("--exclusive", decide.exclusive, "a value on a limit is outside it");
  decide_cmd->add_flag("--json", decide.json, "print the Decision as JSON");

  cli::MpeOptions mpe;
  mpe.tables_path = "lab-config/procedures/mpe-tables.textproto";
  auto* mpe_cmd = app.add_subcommand("mpe", "maximum permissible error from an MPE table");
  mpe_cmd->add_option("--tables", mpe.tables_path, "MpeTables file")->capture_default_str();
  mpe_cmd->add_option("--table", mpe.table, "table name, e.g. oiml-r76-class-III")->required();
  mpe_cmd->add_option("--load", mpe.load, "load or reading")->required();
  mpe_cmd->add_option("--e", mpe.e, "verification interval e, same unit as the load (band tables)");
  mpe_cmd->add_option("--resolution", mpe.resolution, "display resolution (meter tables)");
  mpe_cmd->add_flag("--in-service", mpe.in_service, "in-service MPE instead of verification MPE");
  mpe_cmd->add_flag("--json", mpe.json, "print JSON");

  std::string db_path;
  cli::VerifyCommandOptions verify_options;
  bool no_progress = false, require_checkpoint = false, allow_no_checkpoint = false;
  auto* verify = app.add_subcommand("verify", "check offline that no record was altered, lost or added");
  verify->add_option("--db", verify_options.db_path, "the store file (DATA/labtrace.db)")->required();
  verify->add_option("--checkpoint", verify_options.checkpoint_path,
                     "a checkpoint saved earlier, outside the lab (labtrace checkpoint export)");
  auto* trusted_key = verify->add_option("--trusted-key", verify_options.trusted_key_path,
                                         "a file holding the lab's public key (labtrace checkpoint key): every "
                                         "checkpoint must be signed by it");
  verify->add_option("--config", verify_options.config_path, "a lab-config whose trusted_checkpoint_key pins the lab's key")
      ->excludes(trusted_key);
  auto* require = verify->add_flag("--require-checkpoint", require_checkpoint,
                                   "a store with no signed checkpoint is not intact (the default when a key is pinned)");
  verify->add_flag("--allow-no-checkpoint", allow_no_checkpoint, "a store with no signed checkpoint may be intact")
      ->excludes(require);
  verify->add_flag("--json", verify_options.json, "print the report as JSON");
  verify->add_flag("--no-progress", no_progress, "no progress bar");

  auto* checkpoint = app.add_subcommand("checkpoint", "signed checkpoints of the ledger");
  checkpoint->require_subcommand(1);
  auto* checkpoint_export = checkpoint->add_subcommand("export", "print the newest signed checkpoint, to keep");
  checkpoint_export->add_option("--db", db_path, "the store file")->required();
  bool export_json = false;
  checkpoint_export->add_flag("--json", export_json, "print the Checkpoint as JSON instead of the checkpoint file");
  std::string key_path;
  auto* checkpoint_key = checkpoint->add_subcommand(
      "key", "print the lab's public key, to pin (trusted_checkpoint_key in lab-config, verify --trusted-key)");
  checkpoint_key->add_option("--db", db_path, "the store file; its signing key is the lab-signing.key beside it")
      ->required();
  checkpoint_key->add_option("--key", key_path, "the signing key file, when it is kept elsewhere");

  auto* proof = app.add_subcommand("proof", "Merkle proofs from a store file, offline");
  proof->require_subcommand(1);
  uint64_t proof_reading = 0, proof_from = 0, proof_to = 0;
  bool proof_json = false;
  auto* inclusion = proof->add_subcommand("inclusion", "prove one reading is in the signed log");
  inclusion->add_option("--db", db_path, "the store file")->required();
  inclusion->add_option("--reading", proof_reading, "the reading's sequence number")->required();
  inclusion->add_flag("--json", proof_json, "print JSON");
  auto* consistency = proof->add_subcommand("consistency", "prove a later log extends an earlier one unchanged");
  consistency->add_option("--db", db_path, "the store file")->required();
  consistency->add_option("--from", proof_from, "the earlier tree size (a checkpoint's)")->required();
  consistency->add_option("--to", proof_to, "the later tree size")->required();
  consistency->add_flag("--json", proof_json, "print JSON");

  std::string server = cli::DefaultServer();
  bool health_json = false;
  auto* health = app.add_subcommand("health", "how each instrument has been doing since the daemon started");
  health->add_flag("--json", health_json, "print the API's JSON answer");
  auto* calibration = app.add_subcommand("calibration", "calibration and verification records");
  calibration->require_subcommand(1);
  auto add_server = [&server](CLI::App* command) {
    command->add_option("--server", server, "daemon API URL (env LABTRACE_SERVER)")->capture_default_str();
  };
  std::string request_path, record_number;
  bool preview = false, calibration_json = false;
  auto* submit = calibration->add_subcommand("submit", "send the points of a calibration or verification");
  submit->add_option("REQUEST-FILE", request_path, "a CalibrationRequest in protobuf text format or .json")
      ->required();
  submit->add_flag("--preview", preview, "show the record and verdict without storing it (before sealing)");
  submit->add_flag("--json", calibration_json, "print the API's JSON answer");
  auto* calibration_list = cli::AddCalibrationListCommand(*calibration, calibrations);
  auto* report = calibration->add_subcommand("report", "a record as its certificate states it, with the chain");
  report->add_option("NUMBER", record_number, "certificate number, e.g. KD-2026-00001")->required();
  report->add_flag("--json", calibration_json, "print the API's JSON answer");

  auto* trace = app.add_subcommand("trace", "traceability: up to the national standard, or down to what was used");
  trace->require_subcommand(1);
  cli::ChainOptions chain;
  auto* chain_cmd = trace->add_subcommand("chain", "the chain of calibrations above a reading, instrument or standard");
  chain_cmd->add_option("--reading", chain.reading, "a reading's sequence number");
  chain_cmd->add_option("--instrument", chain.instrument, "an instrument of the lab");
  chain_cmd->add_option("--standard", chain.standard, "a reference standard of the lab");
  chain_cmd->add_flag("--json", chain.json, "print the API's JSON answer");
  std::string reverse_id, reverse_certificate, reverse_since;
  bool reverse_json = false;
  auto* reverse = trace->add_subcommand("reverse", "what used a standard or instrument found out of tolerance");
  reverse->add_option("ID", reverse_id, "the standard or instrument")->required();
  reverse->add_option("--certificate", reverse_certificate, "under this calibration (default: its current one)");
  reverse->add_option("--since", reverse_since, "only from this day, YYYY-MM-DD (its last good check)");
  reverse->add_flag("--json", reverse_json, "print the API's JSON answer");

  auto* modbus_cmd = app.add_subcommand("modbus", "Modbus buses the daemon owns");
  modbus_cmd->require_subcommand(1);
  api::ModbusWriteRequest write;
  std::string write_bus, write_actor, write_reason;
  unsigned write_unit = 0, write_address = 0, write_timeout = 0;
  std::vector<unsigned> write_values;
  bool write_json = false;
  auto* write_cmd = modbus_cmd->add_subcommand("write", "write holding registers (a set point), or broadcast them");
  write_cmd->add_option("--bus", write_bus, "the bus, as named in lab-config")->required();
  write_cmd->add_option("--unit", write_unit, "unit id 1..247; 0 broadcasts on a serial line")->required();
  write_cmd->add_option("--address", write_address, "first holding register, 0-based as on the wire")->required();
  write_cmd->add_option("--value", write_values, "register contents 0..65535; repeat for several")->required();
  write_cmd->add_option("--actor", write_actor, "who writes; default and only allowed value: the logged-in user");
  write_cmd->add_option("--reason", write_reason, "why (audit trail)")->required();
  write_cmd->add_option("--timeout-ms", write_timeout, "reply timeout; for a broadcast the turnaround delay");
  write_cmd->add_flag("--json", write_json, "print the API's JSON answer");

  auto* user_cmd = app.add_subcommand("user", "people who may log in: add on the host (daemon stopped); list, unlock through the daemon");
  user_cmd->require_subcommand(1);
  cli::UserAddOptions user_add;
  auto* user_add_cmd = user_cmd->add_subcommand("add", "enrol a user: password hash and signing key");
  user_add_cmd->add_option("NAME", user_add.name, "login name: a-z 0-9 . _ -")->required();
  user_add_cmd->add_option("--full-name", user_add.full_name, "the printed name signatures show")->required();
  user_add_cmd->add_option("--role", user_add.role, "technician, reviewer, auditor or admin")->required();
  user_add_cmd->add_option("--data", user_add.data_dir, "the daemon's data directory")->required();
  user_add_cmd->add_flag("--password-stdin", user_add.password_stdin,
                         "read the password from stdin, one line (otherwise asked twice on the terminal)");
  auto* token_cmd = app.add_subcommand("token", "uploader tokens (on the host, with the daemon stopped)");
  token_cmd->require_subcommand(1);
  cli::TokenAddOptions token_add;
  auto* token_add_cmd = token_cmd->add_subcommand("add", "make an uploader token; its text is shown once");
  token_add_cmd->add_option("--uploader", token_add.uploader, "the uploader's name, e.g. pc-moisture-3")->required();
  token_add_cmd->add_option("--instrument", token_add.instruments, "an instrument it may upload for; repeat for several")
      ->required();
  token_add_cmd->add_option("--data", token_add.data_dir, "the daemon's data directory")->required();
  token_add_cmd->add_option("--days", token_add.days, "valid for N days (default 365)");

  std::string login_user;
  bool login_password_stdin = false, users_json = false;
  auto* login_cmd = app.add_subcommand("login", "log in; later commands send the session token");
  login_cmd->add_option("USER", login_user, "login name")->required();
  login_cmd->add_flag("--password-stdin", login_password_stdin,
                      "read the password from stdin, one line (otherwise asked on the terminal)");
  auto* logout_cmd = app.add_subcommand("logout", "end the session: the token is revoked and deleted");
  auto* user_list_cmd = user_cmd->add_subcommand("list", "users, roles and lockouts (admin, auditor)");
  user_list_cmd->add_flag("--json", users_json, "print the API's JSON answer");
  auto* user_unlock_cmd = user_cmd->add_subcommand("unlock", "end a user's lockout (admin)");
  user_unlock_cmd->add_option("NAME", login_user, "login name")->required();

  for (CLI::App* command : {health, submit, report, chain_cmd, reverse, write_cmd, login_cmd, logout_cmd,
                            user_list_cmd, user_unlock_cmd}) {
    add_server(command);
  }

  const auto run_conformity_command = cli::AddConformityCommands(app);
  const auto run_report_command = cli::AddReportCommands(app);

  CLI11_PARSE(app, argc, argv);
  if (auto code = run_conformity_command()) return *code;
  if (auto code = run_report_command()) return *code;
  if (health->parsed()) return Health(server, health_json);
  if (user_add_cmd->parsed()) return cli::UserAddCommand(user_add);
  if (login_cmd->parsed()) return cli::LoginCommand(server, login_user, login_password_stdin);
  if (logout_cmd->parsed()) return cli::LogoutCommand(server);
  if (user_list_cmd->parsed()) return cli::UserListCommand(server, users_json);
  if (user_unlock_cmd->parsed()) return cli::UserUnlockCommand(server, login_user);
  if (token_add_cmd->parsed()) return cli::TokenAddCommand(token_add);
  if (write_cmd->parsed()) {
    write.set_bus(write_bus);
    write.set_unit_id(write_unit);
    write.set_address(write_address);
    for (unsigned value : write_values) write.add_values(value);
    write.set_actor(write_actor);
    write.set_reason(write_reason);
    write.set_timeout_ms(write_timeout);
    return ModbusWrite(server, write, write_json);
  }
  if (submit->parsed()) return cli::CalibrationSubmitCommand(server, request_path, preview, calibration_json);
  if (report->parsed()) return cli::CalibrationReportCommand(server, record_number, calibration_json);
  if (chain_cmd->parsed()) return cli::TraceChainCommand(server, chain);
  if (reverse->parsed()) {
    return cli::TraceReverseCommand(server, reverse_id, reverse_certificate, reverse_since, reverse_json);
  }
  if (check->parsed()) return ConfigCheck(config_path, check_json);
  if (inclusion->parsed()) return cli::InclusionProofCommand(db_path, proof_reading, proof_json);
  if (consistency->parsed()) return cli::ConsistencyProofCommand(db_path, proof_from, proof_to, proof_json);
  if (verify->parsed()) {
    verify_options.progress = !no_progress && isatty(STDERR_FILENO);
    if (require_checkpoint || allow_no_checkpoint) verify_options.require_checkpoint = require_checkpoint;
    return cli::VerifyCommand(verify_options);
  }
  if (checkpoint_export->parsed()) return cli::CheckpointExportCommand(db_path, export_json);
  if (checkpoint_key->parsed()) return cli::CheckpointKeyCommand(db_path, key_path);
  if (readings_cmd->parsed()) return cli::ReadingsCommand(readings);
  if (correct_cmd->parsed()) return cli::CorrectCommand(correct);
  if (audit_cmd->parsed()) return cli::AuditCommand(audit);
  if (uploads_cmd->parsed()) return cli::UploadsCommand(uploads);
  if (calibration_list->parsed()) return cli::CalibrationListCommand(calibrations);
  if (uncertainty->parsed()) return cli::UncertaintyCommand(budget_path, budget_json);
  if (decide_cmd->parsed()) {
    if (*lower_opt) decide.lower = lower;
    if (*upper_opt) decide.upper = upper;
    return cli::DecideCommand(decide);
  }
  if (mpe_cmd->parsed()) return cli::MpeCommand(mpe);
  return 2;
}
