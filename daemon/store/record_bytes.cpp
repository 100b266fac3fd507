#include "store/record_bytes.h"


namespace labtrace::store {

bool QualityHasValue(Quality quality) { return quality == GOOD || quality == UNSTABLE; }

Reading CanonicalReading(Reading reading) {
  if (!QualityHasValue(reading.quality()) || reading.value() == 0) reading.clear_value();
  return reading;
}

std::string ReadingRecordBytes(const Reading& canonical) {
  // Reading has no map fields, so protobuf's ordinary serialisation is deterministic:
  // fields in number order, defaults omitted.
  std::string bytes;
  bytes.resize(canonical.ByteSizeLong());
  canonical.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(bytes.data()));
  return bytes;
}

}  // namespace labtrace::store
