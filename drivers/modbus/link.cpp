#include "modbus/link.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <modbus.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace labtrace::modbus {

namespace {
// MBAP header (Modbus Messaging on TCP/IP Implementation Guide v1.0b, §3.1.3):
// transaction id (2), protocol id (2, always 0), length (2, bytes that follow), unit id (1).
constexpr size_t kMbapSize = 7;
}  // namespace

void SetResponseTimeout(_modbus* ctx, std::chrono::milliseconds timeout) {
  const auto ms = timeout.count();
  modbus_set_response_timeout(ctx, static_cast<uint32_t>(ms / 1000), static_cast<uint32_t>((ms % 1000) * 1000));
}

ModbusTcpLink::ModbusTcpLink(std::string host, uint16_t port) : host_(std::move(host)), port_(port) {}

ModbusTcpLink::~ModbusTcpLink() {
  Close();
}

std::string ModbusTcpLink::where() const {
  return fmt::format("{}:{}", host_, port_);
}

namespace {

// Connects a TCP socket with a bounded wait in poll(), which, unlike libmodbus's select(),
// has no limit on descriptor numbers; the caller moves the socket into its slot.
Result<int> ConnectSocket(const std::string& host, uint16_t port, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return Error(Unavailable(fmt::format("cannot resolve {}: {}", host, gai_strerror(rc))));
  }
  std::string why = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int rc = connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd writable{fd, POLLOUT, 0};
      rc = poll(&writable, 1, static_cast<int>(timeout.count()));
      int error = 0;
      socklen_t size = sizeof error;
      if (rc == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) == 0 && error == 0) {
        rc = 0;
      } else {
        errno = rc == 0 ? ETIMEDOUT : error;
        rc = -1;
      }
    }
    if (rc == 0) {
      freeaddrinfo(found);
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      return fd;
    }
    why = std::strerror(errno);
    close(fd);
  }
  freeaddrinfo(found);
  return Error(Unavailable(why));
}

constexpr auto kConnectTimeout = std::chrono::seconds(3);

}  // namespace

Status ModbusTcpLink::Connect() {
  Close();
  auto fd = ConnectSocket(host_, port_, kConnectTimeout);
  if (!fd) return Unavailable(fmt::format("cannot connect to {}: {}", where(), fd.error().message()));
  auto slot = slot_.Adopt(*fd);
  if (!slot) return slot.error();
  const std::string service = std::to_string(port_);
  ctx_ = modbus_new_tcp_pi(host_.c_str(), service.c_str());
  if (ctx_ == nullptr) {
    slot_.Release();
    return Unavailable(fmt::format("modbus tcp {}: {}", where(), modbus_strerror(errno)));
  }
  modbus_set_error_recovery(ctx_, MODBUS_ERROR_RECOVERY_NONE);
  modbus_set_socket(ctx_, *slot);
  connected_ = true;
  return OkStatus();
}

void ModbusTcpLink::Close() {
  if (ctx_ != nullptr) {
    // The slot closes the socket and stays reserved; libmodbus must not close it.
    modbus_set_socket(ctx_, -1);
    modbus_free(ctx_);
    ctx_ = nullptr;
  }
  slot_.Release();
  connected_ = false;
}

Status ModbusTcpLink::Broadcast(std::span<const uint8_t>, std::chrono::milliseconds) {
  return FailedPrecondition(
      "Modbus TCP has no broadcast: unit 0 is answered by a TCP device as itself, and gateways differ; write to "
      "each unit id");
}

Result<Frame> ModbusTcpLink::Transact(uint8_t unit_id, std::span<const uint8_t> request_pdu,
                                      std::chrono::milliseconds timeout) {
  if (!connected_) return Error(Unavailable(fmt::format("not connected to {}", where())));
  SetResponseTimeout(ctx_, timeout);
  std::vector<uint8_t> request;
  request.reserve(1 + request_pdu.size());
  request.push_back(unit_id);
  request.insert(request.end(), request_pdu.begin(), request_pdu.end());

  auto fail = [this](Status status) -> Result<Frame> {
    Close();
    return Error(std::move(status));
  };
  if (modbus_send_raw_request(ctx_, request.data(), static_cast<int>(request.size())) < 0) {
    return fail(Unavailable(fmt::format("sending to {}: {}", where(), modbus_strerror(errno))));
  }
  Frame frame;
  frame.adu.resize(MODBUS_TCP_MAX_ADU_LENGTH);
  const int length = modbus_receive_confirmation(ctx_, frame.adu.data());
  if (length < 0) {
    const int err = errno;
    if (err == ETIMEDOUT) {
      return fail(DeadlineExceeded(fmt::format("no reply from {} unit {} within {} ms", where(),
                                               unit_id, timeout.count())));
    }
    if (err >= MODBUS_ENOBASE) {
      return fail(InvalidArgument(fmt::format("bad reply from {}: {}", where(), modbus_strerror(err))));
    }
    return fail(Unavailable(fmt::format("connection to {} lost: {}", where(), modbus_strerror(err))));
  }
  frame.adu.resize(static_cast<size_t>(length));
  if (frame.adu.size() < kMbapSize + 1) {
    return fail(InvalidArgument(fmt::format("reply of {} bytes is shorter than a header", length)));
  }
  const uint16_t protocol = static_cast<uint16_t>(frame.adu[2] << 8 | frame.adu[3]);
  const uint16_t follows = static_cast<uint16_t>(frame.adu[4] << 8 | frame.adu[5]);
  if (protocol != 0 || follows != frame.adu.size() - 6) {
    return fail(InvalidArgument(fmt::format("bad MBAP header (protocol {}, length {})", protocol, follows)));
  }
  if (frame.adu[6] != unit_id) {
    return fail(InvalidArgument(fmt::format("reply from unit {}, asked unit {}", frame.adu[6], unit_id)));
  }
  // libmodbus 3.1.6 sends every raw request as transaction 0 ("the t_id is left to zero",
  // modbus_send_raw_request) and does not check the reply's: a reply must echo it.
  const uint16_t transaction = static_cast<uint16_t>(frame.adu[0] << 8 | frame.adu[1]);
  if (transaction != kRawRequestTransaction) {
    return fail(InvalidArgument(fmt::format("reply to transaction {}, the request was transaction {}", transaction,
                                            kRawRequestTransaction)));
  }
  frame.pdu_offset = kMbapSize;
  frame.pdu_size = frame.adu.size() - kMbapSize;
  return frame;
}

}  // namespace labtrace::modbus
