// Corrections: a reading is never changed. A correction stores a new version that names
// the one it supersedes, and an "amend" audit event with who, when, why, and both values
// (ISO/IEC 17025 §7.5.2; 21 CFR Part 11 §11.10(e)).
#include <cmath>

#include <fmt/format.h>

#include "labtrace/clock.h"
#include "store/record_store.h"
#include "store/store_rows.h"

namespace labtrace::store {

namespace {
std::string Describe(const Reading& r) {
  return QualityHasValue(r.quality()) ? fmt::format("{} {} ({})", r.value(), r.unit(), Quality_Name(r.quality()))
                                      : fmt::format("no value ({}: {})", Quality_Name(r.quality()), r.detail());
}
}  // namespace

void RecordStore::Correct(uint64_t sequence, api::CorrectionRequest request, CorrectionDone done) {
  if (request.actor().empty()) return done(Error(InvalidArgument("a correction needs an actor: who corrects")));
  if (request.reason().empty()) return done(Error(InvalidArgument("a correction needs a reason")));
  const Reading& corrected = request.corrected();
  if (corrected.quality() == QUALITY_UNSPECIFIED || corrected.unit().empty()) {
    return done(Error(InvalidArgument("the corrected reading needs a quality and a unit")));
  }
  if (QualityHasValue(corrected.quality()) && !std::isfinite(corrected.value())) {
    return done(Error(InvalidArgument("the corrected value is not a finite number")));
  }
  {
    std::lock_guard lock(mutex_);
    pending_corrections_.push_back({sequence, std::move(request), std::move(done)});
    ++handed_in_;
  }
  wake_.notify_one();
}

Status RecordStore::CommitCorrections(Batch& batch, ReadingWriter& readings, std::vector<AuditEvent>& audit,
                                      Outcome& outcome, std::vector<CorrectionEvent>& events) {
  for (size_t i = 0; i < batch.corrections.size(); ++i) {
    PendingCorrection& correction = batch.corrections[i];
    // The reading corrected may be one of this batch's, still queued in the writer.
    if (Status s = readings.Flush(); !s.ok()) return s;
    auto old = FindReading(db_, correction.sequence);
    if (!old) return old.error();
    if (!*old) {
      outcome.corrections.push_back(Error(NotFound(fmt::format("no reading has sequence {}", correction.sequence))));
      continue;
    }
    Reading version = correction.request.corrected();
    version.set_instrument((*old)->instrument());
    version.set_channel((*old)->channel());
    version.set_requested_at_ns((*old)->requested_at_ns());
    version.set_supersedes_sequence(correction.sequence);
    version.set_calibration_certificate((*old)->calibration_certificate());
    version.set_calibration_due_date((*old)->calibration_due_date());
    version.set_sample_id((*old)->sample_id());
    // The corrected value is a person's: typed by the corrector, whatever the sender said.
    version.mutable_provenance()->Clear();
    version.mutable_provenance()->set_source(Provenance::TYPED);
    version.mutable_provenance()->set_user(correction.request.actor());
    if (Status s = readings.Add(version); !s.ok()) return s;
    if (Status s = readings.Flush(); !s.ok()) return s;  // `version` goes out of scope

    AuditEvent event;
    event.set_time_ns(NowNs());
    event.set_actor(correction.request.actor());
    event.set_action("amend");
    event.set_entity(fmt::format("reading:{}", correction.sequence));
    event.set_old_value(Describe(**old));
    event.set_new_value(fmt::format("{} (reading {})", Describe(version), version.sequence()));
    event.set_reason(correction.request.reason());
    events.push_back({i, audit.size()});
    audit.push_back(std::move(event));
    api::CorrectionReceipt receipt;
    receipt.set_sequence(version.sequence());
    receipt.set_supersedes_sequence(correction.sequence);
    outcome.corrections.push_back(receipt);
  }
  return OkStatus();
}

}  // namespace labtrace::store
