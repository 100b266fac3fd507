#include "modbus/descriptor_slot.h"

#include <fcntl.h>
#include <sys/select.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace labtrace::modbus {

DescriptorSlot::DescriptorSlot() {
  slot_ = open("/dev/null", O_RDWR | O_CLOEXEC);
}

DescriptorSlot::~DescriptorSlot() {
  if (slot_ >= 0) close(slot_);
}

Result<int> DescriptorSlot::Adopt(int fd) {
  if (slot_ < 0 || slot_ >= FD_SETSIZE) {
    close(fd);
    return Error(Unavailable(fmt::format(
        "no descriptor below {} was free when the link was created; raise the limit of open files or start "
        "fewer things before labtraced",
        FD_SETSIZE)));
  }
  if (fd == slot_) return slot_;
  // dup2 replaces what the slot held (/dev/null or an old connection) atomically.
  if (dup3(fd, slot_, O_CLOEXEC) < 0) {
    const int err = errno;
    close(fd);
    return Error(Unavailable(fmt::format("cannot move descriptor {} to {}: {}", fd, slot_, std::strerror(err))));
  }
  close(fd);
  return slot_;
}

void DescriptorSlot::Release() {
  if (slot_ < 0) return;
  const int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) return;  // the connection stays open until the next Adopt replaces it
  dup3(null, slot_, O_CLOEXEC);
  close(null);
}

}  // namespace labtrace::modbus
