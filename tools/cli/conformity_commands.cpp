#include "cli/conformity_commands.h"

#include <sodium.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include "cli/http_client.h"
#include "cli/readings_commands.h"
#include "cli/terminal.h"
#include "cli/time_text.h"
#include "labtrace/api.pb.h"

namespace labtrace::cli {

namespace {

// Everything the commands' options fill in; one per program run.
struct Options {
  std::string server = DefaultServer();
  bool json = false;
  Enterprise enterprise;
  Product product;
  Sample sample;
  std::string id, method, step, reason, state;
  std::vector<std::string> instruments;  // "balance=balance-xs205"
  unsigned method_version = 0, replicate = 0, wait_s = 0;
  uint64_t reading = 0;
  double typed_value = 0;
  CLI::Option* typed = nullptr;  // given when count() > 0
  bool password_stdin = false;
};

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

// A fresh key per command: the daemon stores a change once however often it is sent.
std::string ChangeKey() {
  unsigned char bytes[16];
  randombytes_buf(bytes, sizeof bytes);
  std::string key = "cli-";
  for (unsigned char b : bytes) key += fmt::format("{:02x}", b);
  return key;
}

int Post(const Options& o, const std::string& path, const google::protobuf::Message& body,
         google::protobuf::Message& answer, const std::function<void()>& print) {
  std::string json;
  if (int code = ReadAnswer(o.server, HttpPost(o.server, path, ToJson(body)), answer, &json); code != 0) return code;
  if (o.json) {
    std::puts(json.c_str());
  } else {
    print();
  }
  return 0;
}

int Get(const Options& o, const std::string& path, google::protobuf::Message& answer,
        const std::function<void()>& print) {
  std::string json;
  if (int code = CallApi(o.server, path, nullptr, answer, &json); code != 0) return code;
  if (o.json) {
    std::puts(json.c_str());
  } else {
    print();
  }
  return 0;
}

std::string Statement(metrology::Statement statement) {
  switch (statement) {
    case metrology::PASS: return "PASS (đạt)";
    case metrology::CONDITIONAL_PASS: return "CONDITIONAL PASS";
    case metrology::CONDITIONAL_FAIL: return "CONDITIONAL FAIL";
    case metrology::FAIL: return "FAIL (không đạt)";
    default: return "-";
  }
}

void PrintRun(const TestRun& run) {
  std::printf("%s version %llu  %s  sample %s  method %s v%u (%s)\n", run.id().c_str(),
              static_cast<unsigned long long>(run.version()), RunState_Name(run.state()).c_str(), run.sample().c_str(),
              run.method().id().c_str(), run.method().version(), run.method().standard().c_str());
  for (const RunInstrument& used : run.instruments()) {
    std::printf("  %-12s %s (calibration %s, due %s)\n", used.instrument_kind().c_str(), used.instrument().c_str(),
                used.calibration_certificate().c_str(), used.calibration_due_date().c_str());
  }
  for (const Capture& capture : run.captures()) {
    const std::string from = capture.reading_sequence() != 0
                                 ? fmt::format("reading {} ({})", capture.reading_sequence(),
                                               Provenance::Source_Name(capture.provenance().source()))
                                 : fmt::format("typed by {}", capture.captured_by());
    std::printf("  %-10s #%u  %14.6g %-4s  %s\n", capture.step().c_str(), capture.replicate(), capture.value(),
                capture.unit().c_str(), from.c_str());
  }
  for (const TestResult& result : run.results()) {
    const auto& budget = result.budget();
    std::printf("  RESULT %s: %.*f %s, U = %g %s (k = %.2f)  %s\n", result.characteristic_vi().c_str(),
                static_cast<int>(run.method().result_decimals()), result.value(), result.unit().c_str(),
                budget.expanded_uncertainty_rounded(), budget.report_unit().c_str(), budget.coverage_factor(),
                Statement(result.decision().statement()).c_str());
    if (!result.note_en().empty()) std::printf("    %s\n", result.note_en().c_str());
  }
  for (const ElectronicSignature& signature : run.signatures()) {
    const auto& s = signature.statement();
    std::printf("  SIGNED %s by %s (%s) at %s\n",
                s.meaning() == SIGNATURE_MEANING_APPROVED ? "approved" : "reviewed", s.signer_full_name().c_str(),
                s.signer_user().c_str(), FormatUtc(s.signed_at_ns()).c_str());
  }
  if (!run.amendment_reason().empty()) {
    std::printf("  amends version %llu: %s\n", static_cast<unsigned long long>(run.amends_version()),
                run.amendment_reason().c_str());
  }
}

int RunCommand(const Options& o, const std::string& action) {
  const std::string path = "/v1/runs/" + PercentEncode(o.id);
  TestRun run;
  auto print = [&run] { PrintRun(run); };
  if (action == "show") return Get(o, path, run, print);
  if (action == "capture") {
    api::CaptureRequest capture;
    capture.set_step(o.step);
    capture.set_replicate(o.replicate);
    capture.set_reading_sequence(o.reading);
    const bool typed = o.typed != nullptr && o.typed->count() > 0;
    if (typed) capture.set_typed_value(o.typed_value);
    capture.set_wait_s(o.wait_s);
    capture.set_change_key(ChangeKey());
    if (o.reading == 0 && !typed && !o.json) {
      std::fprintf(stderr, "waiting for the next stable reading for %s…\n", o.step.c_str());
    }
    return Post(o, path + "/captures", capture, run, [&run] {
      const Capture& c = run.captures(run.captures_size() - 1);
      std::printf("%s: %s #%u = %.10g %s, %s\n", run.id().c_str(), c.step().c_str(), c.replicate(), c.value(),
                  c.unit().c_str(),
                  c.reading_sequence() != 0
                      ? fmt::format("reading {} of {}", c.reading_sequence(), c.instrument()).c_str()
                      : "typed");
    });
  }
  if (action == "submit") {
    api::RunSubmission submission;
    submission.set_change_key(ChangeKey());
    return Post(o, path + "/submission", submission, run, print);
  }
  if (action == "amend") {
    api::RunAmendment amendment;
    amendment.set_reason(o.reason);
    amendment.set_change_key(ChangeKey());
    return Post(o, path + "/amendments", amendment, run, print);
  }
  // review: the password again, as a signature requires (21 CFR Part 11 §11.200).
  std::optional<std::string> password;
  if (o.password_stdin) {
    password = ReadLine();
  } else if (::isatty(STDIN_FILENO)) {
    password = AskWithoutEcho(fmt::format("Signing {}. Password: ", o.id));
  } else {
    std::fputs("labtrace run review: stdin is not a terminal; give the password with --password-stdin\n", stderr);
    return 2;
  }
  if (!password || password->empty()) {
    std::fputs("labtrace run review: no password was given; nothing was signed\n", stderr);
    return 2;
  }
  api::RunReview review;
  review.set_password(*password);
  review.set_change_key(ChangeKey());
  return Post(o, path + "/reviews", review, run, print);
}

}  // namespace

std::function<std::optional<int>()> AddConformityCommands(CLI::App& app) {
  auto o = std::make_shared<Options>();
  std::vector<std::pair<CLI::App*, std::function<int()>>> commands;
  auto common = [&o](CLI::App* command) {
    command->add_option("--server", o->server, "daemon API URL (env LABTRACE_SERVER)")->capture_default_str();
    command->add_flag("--json", o->json, "print the API's JSON answer");
    return command;
  };

  auto* enterprise = app.add_subcommand("enterprise", "enterprises whose products the lab tests");
  enterprise->require_subcommand(1);
  auto* enterprise_add = common(enterprise->add_subcommand("add", "register an enterprise; prints its id"));
  enterprise_add->add_option("--name", *o->enterprise.mutable_name(), "registered name")->required();
  enterprise_add->add_option("--tax-code", *o->enterprise.mutable_tax_code(), "mã số thuế: 10 digits (or 10-3)")->required();
  enterprise_add->add_option("--address", *o->enterprise.mutable_address(), "address")->required();
  enterprise_add->add_option("--contact", *o->enterprise.mutable_contact(), "contact person and phone");
  commands.emplace_back(enterprise_add, [o] {
    api::EnterpriseChange change;
    *change.mutable_enterprise() = o->enterprise;
    change.set_change_key(ChangeKey());
    ConformityRecord saved;
    return Post(*o, "/v1/enterprises", change, saved,
                [&saved] { std::printf("%s  %s\n", saved.enterprise().id().c_str(), saved.enterprise().name().c_str()); });
  });

  auto* product = app.add_subcommand("product", "an enterprise's products");
  product->require_subcommand(1);
  auto* product_add = common(product->add_subcommand("add", "register a product; prints its id"));
  product_add->add_option("--enterprise", *o->product.mutable_enterprise(), "the enterprise's id (DN-…)")->required();
  product_add->add_option("--name", *o->product.mutable_name(), "product name")->required();
  product_add->add_option("--brand", *o->product.mutable_brand(), "brand");
  product_add->add_option("--description", *o->product.mutable_description(), "description");
  commands.emplace_back(product_add, [o] {
    api::ProductChange change;
    *change.mutable_product() = o->product;
    change.set_change_key(ChangeKey());
    ConformityRecord saved;
    return Post(*o, "/v1/products", change, saved,
                [&saved] { std::printf("%s  %s\n", saved.product().id().c_str(), saved.product().name().c_str()); });
  });

  auto* sample = app.add_subcommand("sample", "samples received for testing");
  sample->require_subcommand(1);
  auto* receive = common(sample->add_subcommand("receive", "receive a sample; prints the code for its label"));
  receive->add_option("--enterprise", *o->sample.mutable_enterprise(), "the enterprise's id (DN-…)")->required();
  receive->add_option("--product", *o->sample.mutable_product(), "the product's id (SP-…)")->required();
  receive->add_option("--description", *o->sample.mutable_description(), "what it is and how it is packed")->required();
  receive->add_option("--quantity", *o->sample.mutable_quantity(), "how much: \"2 túi × 2 kg\"")->required();
  receive->add_option("--condition", *o->sample.mutable_condition(), "its condition on receipt")->required();
  receive->add_option("--storage", *o->sample.mutable_storage(), "where it is kept");
  receive->add_option("--lot", *o->sample.mutable_lot(), "the lot it was drawn from");
  commands.emplace_back(receive, [o] {
    api::SampleChange change;
    *change.mutable_sample() = o->sample;
    change.set_change_key(ChangeKey());
    ConformityRecord saved;
    return Post(*o, "/v1/samples", change, saved, [&saved] {
      std::printf("%s  received %s by %s\n", saved.sample().code().c_str(), saved.sample().received_on().c_str(),
                  saved.sample().received_by().c_str());
    });
  });
  auto* dispose = common(sample->add_subcommand("dispose", "record a sample's disposal (a new version)"));
  dispose->add_option("CODE", o->id, "the sample's code")->required();
  dispose->add_option("--how", *o->sample.mutable_disposal(), "\"trả lại khách hàng\", \"huỷ\"")->required();
  commands.emplace_back(dispose, [o] {
    ConformityRecord current;
    api::SampleList versions;
    if (int code = CallApi(o->server, "/v1/samples/" + PercentEncode(o->id), nullptr, versions); code != 0) return code;
    api::SampleChange change;
    change.mutable_sample()->set_code(o->id);
    change.mutable_sample()->set_disposal(o->sample.disposal());
    change.set_based_on(versions.samples(versions.samples_size() - 1).version());
    change.set_change_key(ChangeKey());
    return Post(*o, "/v1/samples", change, current, [&current] {
      std::printf("%s  disposed of: %s\n", current.sample().code().c_str(), current.sample().disposal().c_str());
    });
  });

  auto* run = app.add_subcommand("run", "conformity test runs: start, capture, submit, review");
  run->require_subcommand(1);
  auto* start = common(run->add_subcommand("start", "start a run of a method on a sample; prints its id"));
  start->add_option("--sample", *o->sample.mutable_code(), "the sample's code (M-…)")->required();
  start->add_option("--method", o->method, "the test method's id in lab-config")->required();
  start->add_option("--method-version", o->method_version, "a version of the method (default: the newest)");
  start->add_option("--instrument", o->instruments, "KIND=INSTRUMENT for each kind the method needs")->required();
  commands.emplace_back(start, [o] {
    api::RunStart body;
    body.set_sample(o->sample.code());
    body.set_method(o->method);
    body.set_method_version(o->method_version);
    for (const std::string& choice : o->instruments) {
      const size_t equals = choice.find('=');
      if (equals == std::string::npos) {
        std::fprintf(stderr, "labtrace run start: --instrument %s: write KIND=INSTRUMENT\n", choice.c_str());
        return 2;
      }
      api::InstrumentChoice& c = *body.add_instruments();
      c.set_instrument_kind(choice.substr(0, equals));
      c.set_instrument(choice.substr(equals + 1));
    }
    body.set_change_key(ChangeKey());
    TestRun run;
    return Post(*o, "/v1/runs", body, run, [&run] { PrintRun(run); });
  });
  auto* capture = common(run->add_subcommand("capture", "bind the step's next stable reading (or a named one)"));
  capture->add_option("RUN", o->id, "the run's id (TN-…)")->required();
  capture->add_option("--step", o->step, "the method's step: dish, wet, dry…")->required();
  capture->add_option("--replicate", o->replicate, "the determination, 1, 2…; default 1");
  auto* reading_opt = capture->add_option("--reading", o->reading, "bind this stored reading instead of waiting");
  o->typed = capture->add_option("--typed", o->typed_value, "a typed value, where the method allows manual entry")
                 ->excludes(reading_opt);
  capture->add_option("--wait", o->wait_s, "seconds to wait for a stable reading (default 60)");
  commands.emplace_back(capture, [o] { return RunCommand(*o, "capture"); });
  auto* submit = common(run->add_subcommand("submit", "compute the results and submit the run for review"));
  submit->add_option("RUN", o->id, "the run's id")->required();
  commands.emplace_back(submit, [o] { return RunCommand(*o, "submit"); });
  auto* review = common(run->add_subcommand("review", "sign a submitted run (reviewed, then approved)"));
  review->add_option("RUN", o->id, "the run's id")->required();
  review->add_flag("--password-stdin", o->password_stdin, "read the password from stdin");
  commands.emplace_back(review, [o] { return RunCommand(*o, "review"); });
  auto* amend = common(run->add_subcommand("amend", "reopen a submitted run as a new draft, saying why"));
  amend->add_option("RUN", o->id, "the run's id")->required();
  amend->add_option("--reason", o->reason, "why it is retested or amended")->required();
  commands.emplace_back(amend, [o] { return RunCommand(*o, "amend"); });
  auto* show = common(run->add_subcommand("show", "a run: instruments, captures, results, signatures"));
  show->add_option("RUN", o->id, "the run's id")->required();
  commands.emplace_back(show, [o] { return RunCommand(*o, "show"); });
  auto* list = common(run->add_subcommand("list", "runs, the latest version of each"));
  list->add_option("--sample", *o->sample.mutable_code(), "of this sample");
  list->add_option("--state", o->state, "RUN_STATE_DRAFT, _SUBMITTED, _REVIEWED, _APPROVED");
  commands.emplace_back(list, [o] {
    std::string path = "/v1/runs?sample=" + PercentEncode(o->sample.code()) + "&state=" + PercentEncode(o->state);
    api::RunList runs;
    return Get(*o, path, runs, [&runs] {
      std::printf("%-15s %-3s %-20s %-14s %-12s %s\n", "RUN", "V", "STATE", "SAMPLE", "TESTED ON", "METHOD");
      for (const TestRun& run : runs.runs()) {
        std::printf("%-15s %-3llu %-20s %-14s %-12s %s v%u\n", run.id().c_str(),
                    static_cast<unsigned long long>(run.version()), RunState_Name(run.state()).c_str(),
                    run.sample().c_str(), run.tested_on().c_str(), run.method().id().c_str(), run.method().version());
      }
      if (runs.runs().empty()) std::puts("(no runs)");
    });
  });

  return [commands = std::move(commands)]() -> std::optional<int> {
    for (const auto& [command, run] : commands) {
      if (command->parsed()) return run();
    }
    return std::nullopt;
  };
}

}  // namespace labtrace::cli
