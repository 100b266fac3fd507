// A file descriptor number below FD_SETSIZE, held from the start for one libmodbus link.
//
// libmodbus 3.1.6 waits in select(), whose fd_set overflows (and glibc aborts) for a
// descriptor ≥ 1024; fixed upstream only in 3.1.12. A daemon with many API clients can
// have more than 1024 descriptors open, so each link takes its slot while descriptors are
// still few (at start), and moves every socket or port it opens into that slot with
// dup2(). Between connections the slot holds /dev/null, so no one else can take it.
#pragma once

#include "labtrace/status.h"

namespace labtrace::modbus {

class DescriptorSlot {
 public:
  DescriptorSlot();  // takes the lowest free descriptor; failure shows in Adopt()
  ~DescriptorSlot();
  DescriptorSlot(const DescriptorSlot&) = delete;
  DescriptorSlot& operator=(const DescriptorSlot&) = delete;

  // Moves `fd` (closed afterwards) into the slot and returns the slot's number.
  Result<int> Adopt(int fd);
  // Closes what the slot holds, keeping the number reserved.
  void Release();
  int fd() const { return slot_; }

 private:
  int slot_ = -1;
};

}  // namespace labtrace::modbus
