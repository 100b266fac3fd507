#include "store/record_bytes.h"


namespace labtrace::store {

bool QualityHasValue(Quality quality) { return quality == GOOD || quality == UNSTABLE; }

void Canonicalize(Reading& reading) {
  // A string field's reading carries its text, not a number.
  if (!QualityHasValue(reading.quality()) || reading.value() == 0 || !reading.text().empty()) reading.clear_value();
}

Reading CanonicalReading(Reading reading) {
  Canonicalize(reading);
  return reading;
}

namespace {
// No record message has map fields, so protobuf's ordinary serialisation is deterministic:
// fields in number order, defaults omitted.
void Serialize(const google::protobuf::MessageLite& message, std::string& bytes) {
  bytes.resize(message.ByteSizeLong());
  message.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(bytes.data()));
}

std::string Serialize(const google::protobuf::MessageLite& message) {
  std::string bytes;
  Serialize(message, bytes);
  return bytes;
}
}  // namespace

std::string AuditEventRecordBytes(const AuditEvent& event) { return Serialize(event); }

std::string CalibrationRecordBytes(const CalibrationRecord& record) { return Serialize(record); }

std::string AccountRecordBytes(const UserAccount& account) { return Serialize(account); }

std::string TokenRecordBytes(const AccessToken& token) { return Serialize(token); }

std::string ReadingRecordBytes(const Reading& canonical) { return Serialize(canonical); }

void ReadingRecordBytes(const Reading& canonical, std::string& bytes) { Serialize(canonical, bytes); }

}  // namespace labtrace::store
