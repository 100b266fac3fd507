#include "store/record_bytes.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

namespace labtrace::store {

bool QualityHasValue(Quality quality) { return quality == GOOD || quality == UNSTABLE; }

Reading CanonicalReading(Reading reading) {
  if (!QualityHasValue(reading.quality()) || reading.value() == 0) reading.clear_value();
  return reading;
}

std::string ReadingRecordBytes(const Reading& canonical) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    canonical.SerializeToCodedStream(&coded);
  }
  return bytes;
}

}  // namespace labtrace::store
