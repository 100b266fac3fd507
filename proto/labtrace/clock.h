// The wall clock as the records state it: nanoseconds since the Unix epoch, UTC. One
// definition, so that every part stamps time the same way.
#pragma once

#include <chrono>
#include <cstdint>

namespace labtrace {

inline int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace labtrace
