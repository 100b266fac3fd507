#include "workflow/test_runs.h"

#include <sodium.h>

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "auth/electronic_signature.h"
#include "conformity/review_rules.h"
#include "conformity/run_results.h"
#include "config/lab_calendar.h"
#include "config/lab_config.h"
#include "metrology/units.h"
#include "workflow/calibration.h"

namespace labtrace::workflow {

namespace {

uint32_t Replicates(const config::TestMethod& method) { return std::max<uint32_t>(1, method.replicates()); }

uint32_t RequiredSignatures(const config::Lab& lab) {
  return lab.review().required_signatures() == 0 ? 2 : lab.review().required_signatures();
}

const RunInstrument* InstrumentOfKind(const TestRun& run, std::string_view kind) {
  for (const RunInstrument& used : run.instruments()) {
    if (used.instrument_kind() == kind) return &used;
  }
  return nullptr;
}

Status NotDraft(const TestRun& run, std::string_view what) {
  return FailedPrecondition(fmt::format("{} is {}: {} only a draft; amend it first (a new version with the reason)",
                                        run.id(), RunState_Name(run.state()), what));
}

// The calibration an instrument carries, checked for the lab's day of `now_ns`.
Status CheckCalibrated(const config::Lab& lab, const config::Instrument& instrument, int64_t now_ns) {
  if (!instrument.has_calibration()) {
    return FailedPrecondition(fmt::format(
        "{} has no calibration in the lab-config and cannot be used for a test (ISO/IEC 17025 §6.4.8)",
        instrument.name()));
  }
  const config::LabCalendar calendar = config::LabCalendar::Of(lab);
  auto ends = calendar.EndOfDayNs(instrument.calibration().due_date());
  if (!ends) return ends.error().Annotate(fmt::format("{}'s calibration due date", instrument.name()));
  if (now_ns >= *ends && !instrument.calibration().has_override_expired()) {
    return FailedPrecondition(fmt::format(
        "{}'s calibration {} was due {}: it is out of service until recalibrated (or an override is approved in "
        "the lab-config)",
        instrument.name(), instrument.calibration().certificate(), instrument.calibration().due_date()));
  }
  return OkStatus();
}

std::string Sha256(const std::string& bytes) {
  std::string hash(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(hash.data()), reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size());
  return hash;
}

}  // namespace

const config::TestMethod* FindTestMethod(const config::Lab& lab, std::string_view id, uint32_t version) {
  const config::TestMethod* found = nullptr;
  for (const config::TestMethod& method : lab.test_methods()) {
    if (method.id() != id) continue;
    if (version != 0 ? method.version() == version : found == nullptr || method.version() > found->version()) {
      found = &method;
    }
  }
  return found;
}

Result<TestRun> StartRun(const config::Lab& lab, const api::RunStart& start, const Sample& sample,
                         std::string_view user, int64_t now_ns) {
  if (!sample.disposed_by().empty()) {
    return Error(FailedPrecondition(fmt::format("sample {} was disposed of ({}) and cannot be tested",
                                                sample.code(), sample.disposal())));
  }
  const config::TestMethod* method = FindTestMethod(lab, start.method(), start.method_version());
  if (method == nullptr) {
    std::string known;
    for (const auto& m : lab.test_methods()) known += fmt::format("{}{} v{}", known.empty() ? "" : ", ", m.id(), m.version());
    return Error(NotFound(fmt::format("no test method {}{} in the lab-config ({})", start.method(),
                                      start.method_version() ? fmt::format(" version {}", start.method_version()) : "",
                                      known.empty() ? "none is configured" : "known: " + known)));
  }
  TestRun run;
  run.set_state(RUN_STATE_DRAFT);
  run.set_sample(sample.code());
  *run.mutable_method() = *method;
  run.set_started_by(std::string(user));
  run.set_started_at_ns(now_ns);
  run.set_tested_on(config::LabCalendar::Of(lab).DateOf(now_ns));
  run.set_fee_vnd(method->fee_vnd());
  std::set<std::string> kinds;
  for (const config::MethodStep& step : method->steps()) kinds.insert(step.instrument_kind());
  for (const std::string& kind : kinds) {
    const api::InstrumentChoice* choice = nullptr;
    for (const api::InstrumentChoice& c : start.instruments()) {
      if (c.instrument_kind() == kind) choice = &c;
    }
    if (choice == nullptr) {
      return Error(InvalidArgument(fmt::format(
          "instruments: method {} needs a \"{}\"; choose one ({{\"instrument_kind\": \"{}\", \"instrument\": …}})",
          method->id(), kind, kind)));
    }
    const config::Instrument* instrument = config::FindInstrumentConfig(lab, choice->instrument());
    if (instrument == nullptr) {
      return Error(NotFound(fmt::format("instruments: no instrument {} in the lab-config", choice->instrument())));
    }
    if (instrument->kind() != kind) {
      return Error(InvalidArgument(fmt::format("instruments: {} is a \"{}\", not a \"{}\"", instrument->name(),
                                               instrument->kind(), kind)));
    }
    if (Status calibrated = CheckCalibrated(lab, *instrument, now_ns); !calibrated.ok()) return Error(calibrated);
    RunInstrument& used = *run.add_instruments();
    used.set_instrument_kind(kind);
    used.set_instrument(instrument->name());
    used.set_calibration_certificate(instrument->calibration().certificate());
    used.set_calibration_due_date(instrument->calibration().due_date());
  }
  return run;
}

Result<StepSource> SourceOfStep(const TestRun& run, std::string_view step_name) {
  StepSource source;
  for (const config::MethodStep& step : run.method().steps()) {
    if (step.name() == step_name) source.step = &step;
  }
  if (source.step == nullptr) {
    std::string steps;
    for (const auto& step : run.method().steps()) steps += (steps.empty() ? "" : ", ") + step.name();
    return Error(InvalidArgument(
        fmt::format("step: method {} has no step \"{}\" (its steps: {})", run.method().id(), step_name, steps)));
  }
  const RunInstrument* used = InstrumentOfKind(run, source.step->instrument_kind());
  if (used == nullptr) return Error(Internal(fmt::format("{} has no instrument for step {}", run.id(), step_name)));
  source.instrument = used->instrument();
  source.channel = source.step->channel();
  return source;
}

Result<TestRun> AddCapture(const config::Lab& lab, const TestRun& run, const api::CaptureRequest& request,
                           const Reading* reading, std::string_view user, int64_t now_ns) {
  if (run.state() != RUN_STATE_DRAFT) return Error(NotDraft(run, "captures go into"));
  auto source = SourceOfStep(run, request.step());
  if (!source) return Error(source.error());
  const config::MethodStep& step = *source->step;
  const uint32_t replicate = request.replicate() == 0 ? 1 : request.replicate();
  if (replicate > Replicates(run.method())) {
    return Error(InvalidArgument(fmt::format("replicate: method {} makes {} determination(s); {} is not one",
                                             run.method().id(), Replicates(run.method()), replicate)));
  }
  Capture capture;
  capture.set_step(step.name());
  capture.set_replicate(replicate);
  capture.set_unit(step.unit());
  capture.set_instrument(source->instrument);
  capture.set_channel(source->channel);
  capture.set_captured_by(std::string(user));
  capture.set_captured_at_ns(now_ns);
  if (reading == nullptr) {
    if (!request.has_typed_value()) return Error(InvalidArgument("give reading_sequence or typed_value"));
    if (!step.manual_entry_allowed()) {
      return Error(PermissionDenied(fmt::format(
          "step {} of method {} does not allow manual entry: capture it from {} (the value is read, not typed)",
          step.name(), run.method().id(), source->instrument)));
    }
    capture.set_value(request.typed_value());
    capture.mutable_provenance()->set_source(Provenance::TYPED);
    capture.mutable_provenance()->set_user(std::string(user));
  } else {
    if (reading->instrument() != source->instrument || reading->channel() != source->channel) {
      return Error(InvalidArgument(fmt::format("reading {} is {}/{}; step {} reads {}/{} in {}", reading->sequence(),
                                               reading->instrument(), reading->channel(), step.name(),
                                               source->instrument, source->channel, run.id())));
    }
    if (reading->quality() != GOOD) {
      return Error(FailedPrecondition(fmt::format("reading {} is {}, not a stable good reading: {}", reading->sequence(),
                                                  Quality_Name(reading->quality()), reading->detail())));
    }
    if (reading->requested_at_ns() < run.started_at_ns()) {
      return Error(FailedPrecondition(fmt::format(
          "reading {} was taken before {} started: a run binds only what its instruments read during it",
          reading->sequence(), run.id())));
    }
    const auto accepted = AcceptedProvenance(config::FindInstrumentConfig(lab, source->instrument));
    if (std::find(accepted.begin(), accepted.end(), reading->provenance().source()) == accepted.end()) {
      return Error(FailedPrecondition(fmt::format(
          "reading {} of {} was {}, which this instrument's readings may not be: the daemon reads it itself",
          reading->sequence(), source->instrument, Provenance::Source_Name(reading->provenance().source()))));
    }
    for (const Capture& earlier : run.captures()) {
      if (earlier.reading_sequence() == reading->sequence()) {
        return Error(Status(StatusCode::kAlreadyExists, fmt::format("reading {} is bound already, to step {} of determination {}",
                                               reading->sequence(), earlier.step(), earlier.replicate())));
      }
    }
    auto value = metrology::ConvertValue(reading->value(), reading->unit(), step.unit());
    if (!value) return Error(value.error().Annotate(fmt::format("reading {} for step {}", reading->sequence(), step.name())));
    capture.set_value(*value);
    capture.set_reading_sequence(reading->sequence());
    *capture.mutable_provenance() = reading->provenance();
  }
  TestRun next = run;
  *next.add_captures() = std::move(capture);
  return next;
}

Result<TestRun> SubmitRun(const TestRun& run, std::string_view user, int64_t now_ns) {
  if (run.state() != RUN_STATE_DRAFT) return Error(NotDraft(run, "submitting takes"));
  const std::vector<Capture> captures(run.captures().begin(), run.captures().end());
  auto results = conformity::EvaluateRun(run.method(), captures);
  if (!results) return Error(results.error().Annotate(fmt::format("{} cannot be submitted", run.id())));
  TestRun next = run;
  next.clear_results();
  for (TestResult& result : *results) *next.add_results() = std::move(result);
  next.set_state(RUN_STATE_SUBMITTED);
  next.set_submitted_by(std::string(user));
  next.set_submitted_at_ns(now_ns);
  next.set_submitted_version(run.version() + 1);  // the version the store gives it
  return next;
}

std::string SignedRunBytes(const TestRun& run) {
  TestRun signed_part = run;
  signed_part.clear_version();
  signed_part.clear_state();
  signed_part.clear_signatures();
  std::string bytes;
  // No map fields: protobuf's serialisation is deterministic (see store/record_bytes.h).
  signed_part.SerializeToString(&bytes);
  return bytes;
}

std::string SignedRunHash(const TestRun& run) { return Sha256(SignedRunBytes(run)); }

Result<TestRun> SignRun(const config::Lab& lab, const TestRun& run, const auth::Signatory& signer, int64_t now_ns) {
  const uint32_t required = RequiredSignatures(lab);
  const SignatureMeaning meaning = static_cast<uint32_t>(run.signatures_size()) + 1 < required
                                       ? SIGNATURE_MEANING_REVIEWED
                                       : SIGNATURE_MEANING_APPROVED;
  if (Status may = conformity::MaySign(lab.review(), run, signer.user(), meaning); !may.ok()) return Error(may);
  const std::string hash = SignedRunHash(run);
  auto signature =
      signer.Sign({kRunKind, run.id(), run.submitted_version(), hash}, meaning, now_ns);
  if (!signature) return Error(signature.error());
  TestRun next = run;
  *next.add_signatures() = std::move(*signature);
  next.set_state(meaning == SIGNATURE_MEANING_APPROVED ? RUN_STATE_APPROVED : RUN_STATE_REVIEWED);
  return next;
}

Status VerifyRunSignatures(const TestRun& run, const std::function<std::string(const std::string&)>& key_of) {
  const std::string hash = SignedRunHash(run);
  for (const ElectronicSignature& signature : run.signatures()) {
    const std::string key = key_of(signature.statement().signer_user());
    if (key.empty()) {
      return PermissionDenied(fmt::format("{} shows a signature by {}, who is no user of this lab", run.id(),
                                          signature.statement().signer_user()));
    }
    if (Status s = auth::VerifySignature(signature, {kRunKind, run.id(), run.submitted_version(), hash}, key);
        !s.ok()) {
      return s;
    }
  }
  return OkStatus();
}

Result<TestRun> AmendRun(const TestRun& run, std::string_view reason) {
  if (run.state() == RUN_STATE_DRAFT) {
    return Error(FailedPrecondition(fmt::format("{} is a draft still: change it by capturing again", run.id())));
  }
  if (reason.empty()) return Error(InvalidArgument("reason: say why the run is retested or amended (ISO/IEC 17025 §7.5.2)"));
  TestRun next = run;
  next.set_state(RUN_STATE_DRAFT);
  next.clear_results();
  next.clear_signatures();
  next.clear_submitted_by();
  next.clear_submitted_at_ns();
  next.clear_submitted_version();
  next.set_amendment_reason(std::string(reason));
  next.set_amends_version(run.version());
  return next;
}

}  // namespace labtrace::workflow
