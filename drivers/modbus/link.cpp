#include "modbus/link.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/format.h>
#include <modbus.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace labtrace::modbus {

namespace {
// MBAP header (Modbus Messaging on TCP/IP Implementation Guide v1.0b, §3.1.3):
// transaction id (2), protocol id (2, always 0), length (2, bytes that follow), unit id (1).
constexpr size_t kMbapSize = 7;

// Waits until `deadline` for `events` on `fd`; false on timeout (EINTR restarts the wait).
bool WaitFor(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd wanted{fd, events, 0};
    const int rc = poll(&wanted, 1, static_cast<int>(left.count()));
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) return true;  // let the caller's next call see the error
  }
}

}  // namespace

Status ModbusLink::Connect() {
  if (Status started = StartConnect(); !started.ok()) return started;
  if (!connecting()) return OkStatus();
  if (!WaitFor(descriptor(), POLLOUT, std::chrono::steady_clock::now() + kConnectTimeout)) {
    Close();
    return Unavailable(fmt::format("cannot connect to {}: no answer within {} s", where(), kConnectTimeout.count()));
  }
  return FinishConnect();
}

Result<Frame> ModbusLink::Transact(uint8_t unit_id, std::span<const uint8_t> request_pdu,
                                   std::chrono::milliseconds timeout) {
  if (Status sent = Send(unit_id, request_pdu); !sent.ok()) return Error(sent);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (WaitFor(descriptor(), POLLIN, deadline)) {
    auto reply = Receive(unit_id, timeout);
    if (!reply) return Error(reply.error());
    if (*reply) return std::move(**reply);
    std::this_thread::sleep_for(kReplyRecheck);  // the rest of the reply is on its way
  }
  return Error(Abandon(unit_id, timeout));
}

void SetResponseTimeout(_modbus* ctx, std::chrono::milliseconds timeout) {
  const auto ms = std::max<int64_t>(timeout.count(), 1);
  modbus_set_response_timeout(ctx, static_cast<uint32_t>(ms / 1000), static_cast<uint32_t>((ms % 1000) * 1000));
}

ModbusTcpLink::ModbusTcpLink(std::string host, uint16_t port) : host_(std::move(host)), port_(port) {}

ModbusTcpLink::~ModbusTcpLink() {
  Close();
}

std::string ModbusTcpLink::where() const {
  return fmt::format("{}:{}", host_, port_);
}

// The socket is made here, not by libmodbus: its connect() would wait in select(), holding
// the worker, and the socket goes into the link's descriptor slot (descriptor_slot.h).
Status ModbusTcpLink::StartConnect() {
  Close();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  // Numbers only (lab-config refuses names): a name lookup would hold the worker that
  // polls every Modbus TCP bus. One address, then.
  hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port_);
  if (int rc = getaddrinfo(host_.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return Unavailable(fmt::format("cannot resolve {}: {}", host_, gai_strerror(rc)));
  }
  std::string why = "no address";
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      connected_ = true;
    } else if (errno == EINPROGRESS) {
      connecting_ = true;
    } else {
      why = std::strerror(errno);
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) return Unavailable(fmt::format("cannot connect to {}: {}", where(), why));
  if (auto slot = slot_.Adopt(fd); !slot) {
    connecting_ = connected_ = false;
    return slot.error();
  }
  return connected_ ? FinishConnect() : OkStatus();
}

Status ModbusTcpLink::FinishConnect() {
  const int fd = slot_.fd();
  int error = 0;
  socklen_t size = sizeof error;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
  if (error != 0) {
    Close();
    return Unavailable(fmt::format("cannot connect to {}: {}", where(), std::strerror(error)));
  }
  // Blocking again: libmodbus reads only what the worker saw arrive, and sends small frames.
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const std::string service = std::to_string(port_);
  ctx_ = modbus_new_tcp_pi(host_.c_str(), service.c_str());
  if (ctx_ == nullptr) {
    const int err = errno;
    Close();
    return Unavailable(fmt::format("modbus tcp {}: {}", where(), modbus_strerror(err)));
  }
  modbus_set_error_recovery(ctx_, MODBUS_ERROR_RECOVERY_NONE);
  // libmodbus is handed a reply only once it is whole: a byte it still waits for will not come.
  modbus_set_byte_timeout(ctx_, 0, 10'000);
  modbus_set_socket(ctx_, fd);
  connecting_ = false;
  connected_ = true;
  sent_on_connection_ = 0;
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
  connecting_ = connected_ = false;
}

Status ModbusTcpLink::Broadcast(std::span<const uint8_t>, std::chrono::milliseconds) {
  return FailedPrecondition(
      "Modbus TCP has no broadcast: unit 0 is answered by a TCP device as itself, and gateways differ; write to "
      "each unit id");
}

Status ModbusTcpLink::Send(uint8_t unit_id, std::span<const uint8_t> request_pdu) {
  if (!connected_) return Unavailable(fmt::format("not connected to {}", where()));
  if (kMbapSize + request_pdu.size() > MODBUS_TCP_MAX_ADU_LENGTH) {
    return InvalidArgument(fmt::format("a request of {} bytes does not fit a Modbus TCP frame", request_pdu.size()));
  }
  // The MBAP header is ours, not libmodbus's: its raw request is always transaction 0
  // (libmodbus 3.1.6, modbus_send_raw_request), and only a transaction id of its own lets
  // a late or repeated answer be told from this request's (Receive).
  ++transaction_;
  sent_on_connection_ = std::min<uint16_t>(sent_on_connection_ + 1, kLateAnswerWindow + 1);
  const size_t follows = 1 + request_pdu.size();  // the unit id and the PDU
  uint8_t adu[MODBUS_TCP_MAX_ADU_LENGTH] = {static_cast<uint8_t>(transaction_ >> 8),
                                            static_cast<uint8_t>(transaction_),
                                            0,
                                            0,
                                            static_cast<uint8_t>(follows >> 8),
                                            static_cast<uint8_t>(follows),
                                            unit_id};
  std::copy(request_pdu.begin(), request_pdu.end(), adu + kMbapSize);
  const size_t size = kMbapSize + request_pdu.size();
  const ssize_t sent = send(slot_.fd(), adu, size, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (sent != static_cast<ssize_t>(size)) {
    // A request this small only fails to go out whole when the peer has stopped reading.
    const std::string why = sent < 0 ? std::strerror(errno) : fmt::format("only {} of {} bytes went out", sent, size);
    Close();
    return Unavailable(fmt::format("sending to {}: {}", where(), why));
  }
  return OkStatus();
}

Status ModbusTcpLink::Abandon(uint8_t unit_id, std::chrono::milliseconds timeout) {
  int waiting = 0;
  if (connected_ && ioctl(slot_.fd(), FIONREAD, &waiting) != 0) waiting = 0;
  Close();
  if (waiting > 0) {
    // It did answer, but not a whole frame: a damaged reply, not a silent device.
    return InvalidArgument(fmt::format("incomplete reply from {} unit {}: {} byte(s) within {} ms, fewer than its "
                                       "MBAP header announces",
                                       where(), unit_id, waiting, timeout.count()));
  }
  return DeadlineExceeded(fmt::format("no reply from {} unit {} within {} ms", where(), unit_id, timeout.count()));
}

bool ModbusTcpLink::ReplyWhole() const {
  const int fd = slot_.fd();
  // One peek says both how much is waiting (up to a whole frame) and what its header says.
  uint8_t peeked[MODBUS_TCP_MAX_ADU_LENGTH];
  const ssize_t waiting = recv(fd, peeked, sizeof peeked, MSG_PEEK | MSG_DONTWAIT);
  if (waiting <= 0) return true;  // readable yet empty: closed or failed, and libmodbus says how
  if (waiting >= 6) {
    const size_t protocol = static_cast<size_t>(peeked[2] << 8 | peeked[3]);
    const size_t length = static_cast<size_t>(peeked[4] << 8 | peeked[5]);  // the bytes after itself
    // A header no reply can have: libmodbus and Receive's checks may read and refuse it now.
    if (protocol != 0 || length < 2 || 6 + length > MODBUS_TCP_MAX_ADU_LENGTH) return true;
    if (static_cast<size_t>(waiting) >= 6 + length) return true;
  }
  // Part of a frame: whole later, unless the peer has hung up (then libmodbus says so now).
  pollfd hangup{fd, POLLRDHUP, 0};
  return poll(&hangup, 1, 0) == 1 && (hangup.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

Result<std::optional<Frame>> ModbusTcpLink::Receive(uint8_t unit_id, std::chrono::milliseconds timeout) {
  if (!connected_) return Error(Unavailable(fmt::format("not connected to {}", where())));
  if (!ReplyWhole()) return std::optional<Frame>();
  SetResponseTimeout(ctx_, timeout);
  auto fail = [this](Status status) -> Result<std::optional<Frame>> {
    Close();
    return Error(std::move(status));
  };
  Frame frame;
  frame.adu.resize(MODBUS_TCP_MAX_ADU_LENGTH);
  const int length = modbus_receive_confirmation(ctx_, frame.adu.data());
  if (length < 0) {
    const int err = errno;
    if (err == ETIMEDOUT) {
      // The whole frame was in the buffer (ReplyWhole), yet libmodbus wanted more: its
      // function code and byte count promise more than the MBAP header does.
      return fail(InvalidArgument(fmt::format("bad reply from {}: shorter than its function code says", where())));
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
  const uint16_t transaction = static_cast<uint16_t>(frame.adu[0] << 8 | frame.adu[1]);
  const uint16_t age = static_cast<uint16_t>(transaction_ - transaction);  // requests sent since it
  if (age != 0 && age < sent_on_connection_) {
    // The answer to one of the last few requests on this connection (late, or given
    // twice): not this request's, whatever its bytes say. Dropped; this one's may follow.
    return std::optional<Frame>();
  }
  if (age != 0) {
    return fail(InvalidArgument(fmt::format("reply to transaction {}, the request was transaction {}", transaction,
                                            transaction_)));
  }
  if (frame.adu[6] != unit_id) {
    return fail(InvalidArgument(fmt::format("reply from unit {}, asked unit {}", frame.adu[6], unit_id)));
  }
  frame.pdu_offset = kMbapSize;
  frame.pdu_size = frame.adu.size() - kMbapSize;
  return std::optional<Frame>(std::move(frame));
}

}  // namespace labtrace::modbus
