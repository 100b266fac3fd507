#include "store/record_bytes.h"

#include <bit>
#include <cstring>

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

std::string ConformityRecordBytes(const ConformityRecord& record) { return Serialize(record); }

std::string AccountRecordBytes(const UserAccount& account) { return Serialize(account); }

std::string TokenRecordBytes(const AccessToken& token) { return Serialize(token); }

std::string ReadingRecordBytes(const Reading& canonical) { return Serialize(canonical); }

void ReadingRecordBytes(const Reading& canonical, std::string& bytes) { Serialize(canonical, bytes); }

namespace {

// Protobuf's wire format (protobuf.dev/programming-guides/encoding), as its deterministic
// serialisation writes a proto3 message: fields in number order, a field at its default
// (0, empty) left out, a tag being the varint of field number × 8 + wire type (two bytes
// from field 16 on).
enum WireType : uint8_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2 };

class WireWriter {
 public:
  explicit WireWriter(std::string& bytes) : bytes_(bytes) { bytes_.clear(); }

  void Varint(uint64_t value) {
    while (value >= 0x80) {
      bytes_.push_back(static_cast<char>(value | 0x80));
      value >>= 7;
    }
    bytes_.push_back(static_cast<char>(value));
  }
  void Tag(int field, WireType type) { Varint(static_cast<uint64_t>(field) << 3 | type); }

  void UInt64Field(int field, uint64_t value) {
    if (value == 0) return;
    Tag(field, kVarint);
    Varint(value);
  }
  // int32 and enum fields: a negative value is sign-extended to ten bytes.
  void Int32Field(int field, int32_t value) { UInt64Field(field, static_cast<uint64_t>(static_cast<int64_t>(value))); }
  void DoubleField(int field, double value) {
    const uint64_t bits = std::bit_cast<uint64_t>(value);
    if (bits == 0) return;
    Tag(field, kFixed64);
    char little_endian[8];
    for (int i = 0; i < 8; ++i) little_endian[i] = static_cast<char>(bits >> (8 * i));
    bytes_.append(little_endian, 8);
  }
  void BytesField(int field, std::string_view value) {
    if (!value.empty()) MessageField(field, value);
  }
  // A message field is written whenever it is set, even when its own bytes are none.
  void MessageField(int field, std::string_view serialised) {
    Tag(field, kLengthDelimited);
    Varint(serialised.size());
    bytes_.append(serialised);
  }

 private:
  std::string& bytes_;
};

}  // namespace

void StoredReadingRecordBytes(const StoredReading& row, std::string& bytes) {
  // The conversions are those of ReadingFromReadingsRow and Canonicalize: the enum and the
  // int32 take the column's low 32 bits, the unsigned fields its 64 bits as they are.
  const auto quality = static_cast<int32_t>(row.quality);
  const bool keeps_value = row.has_value && QualityHasValue(static_cast<Quality>(quality)) && row.value != 0 &&
                           row.text.empty();
  WireWriter out(bytes);
  out.UInt64Field(Reading::kSequenceFieldNumber, static_cast<uint64_t>(row.sequence));
  out.BytesField(Reading::kInstrumentFieldNumber, row.instrument);
  out.BytesField(Reading::kChannelFieldNumber, row.channel);
  if (keeps_value) out.DoubleField(Reading::kValueFieldNumber, row.value);
  out.BytesField(Reading::kUnitFieldNumber, row.unit);
  out.Int32Field(Reading::kQualityFieldNumber, quality);
  out.UInt64Field(Reading::kRequestedAtNsFieldNumber, static_cast<uint64_t>(row.requested_at_ns));
  out.BytesField(Reading::kRawFrameFieldNumber, row.raw_frame);
  out.BytesField(Reading::kDetailFieldNumber, row.detail);
  out.Int32Field(Reading::kDecimalsFieldNumber, static_cast<int32_t>(row.decimals));
  out.UInt64Field(Reading::kSupersedesSequenceFieldNumber, static_cast<uint64_t>(row.supersedes));
  out.BytesField(Reading::kCalibrationCertificateFieldNumber, row.calibration_certificate);
  out.BytesField(Reading::kCalibrationDueDateFieldNumber, row.calibration_due_date);
  out.BytesField(Reading::kTextFieldNumber, row.text);
  if (row.provenance != nullptr) out.MessageField(Reading::kProvenanceFieldNumber, *row.provenance);
  out.BytesField(Reading::kSampleIdFieldNumber, row.sample_id);
}

}  // namespace labtrace::store
