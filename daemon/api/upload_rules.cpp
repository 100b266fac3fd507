#include "api/upload_rules.h"

#include <fmt/format.h>

#include "config/lab_config.h"
#include "result_files/result_import.h"

namespace labtrace::api {

Status CheckUploadRules(const config::Lab& lab, const UploadRequest& upload) {
  if (upload.idempotency_key().starts_with(result_files::kResultFileKeyPrefix)) {
    return InvalidArgument(fmt::format("idempotency_key \"{}\": keys starting \"{}\" are the daemon's, for result "
                                       "files; choose another key",
                                       upload.idempotency_key(), result_files::kResultFileKeyPrefix));
  }
  for (int i = 0; i < upload.readings_size(); ++i) {
    const std::string& name = upload.readings(i).instrument();
    const config::Instrument* instrument = config::FindInstrumentConfig(lab, name);
    if (instrument == nullptr) {
      return InvalidArgument(fmt::format(
          "readings[{}]: instrument \"{}\" is not in the lab-config; an upload may name only instruments declared "
          "with driver: \"upload\" (ask the quality manager to add it); nothing of this upload was stored",
          i, name));
    }
    if (!config::IsUploading(*instrument)) {
      return FailedPrecondition(fmt::format(
          "readings[{}]: instrument \"{}\" is read by the daemon itself (driver \"{}\" on bus \"{}\"), so its "
          "readings cannot be uploaded: take them from the instrument, or name the instrument that produced these "
          "readings; nothing of this upload was stored",
          i, name, instrument->driver(), instrument->bus()));
    }
  }
  return OkStatus();
}

Provenance UploadedBy(std::string_view user, std::string_view token_id) {
  Provenance provenance;
  provenance.set_source(Provenance::UPLOADED);
  provenance.set_user(user.empty() ? "anonymous" : std::string(user));
  provenance.set_token_id(std::string(token_id));
  return provenance;
}

}  // namespace labtrace::api
