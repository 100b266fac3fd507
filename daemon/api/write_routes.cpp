// POST /v1/modbus/writes (docs/API.md): holding registers written on a Modbus bus by the
// bus's own worker, between its polls, and put on the audit trail before the receipt.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "api/api_server.h"
#include "api/http_util.h"
#include "config/lab_config.h"

namespace labtrace::api {

namespace asio = boost::asio;

namespace {

constexpr uint32_t kMaxWriteTimeoutMs = 10'000;

// What is wrong with a write request before it reaches a bus, or Ok.
Status CheckWrite(const config::Lab& lab, const ModbusWriteRequest& write) {
  const config::Bus* bus = config::FindBus(lab, write.bus());
  if (bus == nullptr) return NotFound(fmt::format("no bus is named \"{}\"", write.bus()));
  const bool modbus = bus->has_modbus_tcp() || std::any_of(lab.instruments().begin(), lab.instruments().end(),
                                                            [&](const config::Instrument& i) {
                                                              return i.bus() == write.bus() && i.driver() == "modbus";
                                                            });
  if (!modbus) return InvalidArgument(fmt::format("bus \"{}\" is not a Modbus bus", write.bus()));
  if (write.unit_id() > 247) return InvalidArgument(fmt::format("unit id {} is not in 0..247", write.unit_id()));
  if (write.unit_id() == 0 && bus->has_modbus_tcp()) {
    return InvalidArgument(fmt::format("bus \"{}\" is Modbus TCP, which has no broadcast; write to each unit id",
                                       write.bus()));
  }
  if (write.timeout_ms() > kMaxWriteTimeoutMs) {
    return InvalidArgument(fmt::format("timeout_ms {} is more than {}: the bus stops polling while it waits",
                                       write.timeout_ms(), kMaxWriteTimeoutMs));
  }
  if (write.values().empty() || write.values_size() > 123) {
    return InvalidArgument(fmt::format("{} values: a write takes 1..123 registers", write.values_size()));
  }
  for (uint32_t value : write.values()) {
    if (value > 0xFFFF) return InvalidArgument(fmt::format("value {} does not fit a 16-bit register", value));
  }
  if (write.address() + static_cast<uint64_t>(write.values_size()) > 65536) {
    return InvalidArgument(fmt::format("address {} and {} values go beyond register 65535", write.address(),
                                       write.values_size()));
  }
  if (write.actor().empty() || write.reason().empty()) {
    return InvalidArgument("a write to an instrument needs an actor and a reason, for the audit trail");
  }
  return OkStatus();
}

}  // namespace

asio::awaitable<Response> ApiServer::AnswerModbusWrite(const Request& request, const auth::Caller& caller) {
  ModbusWriteRequest write;
  if (Status parsed = ParseBody(request, write); !parsed.ok()) co_return ErrorReply(request, parsed);
  if (Status actor = TakeActor(caller, "actor", *write.mutable_actor()); !actor.ok()) co_return ErrorReply(request, actor);
  if (Status checked = CheckWrite(lab_, write); !checked.ok()) co_return ErrorReply(request, checked);
  if (!modbus_writer_) co_return ErrorReply(request, Unavailable("this daemon does not write to instruments"));
  auto outcome = co_await AsyncStore<std::string>(
      [this, &write](auto done) { modbus_writer_(write, std::move(done)); }, asio::use_awaitable);

  // Every attempt that reached the bus is on the trail, failed ones too: a write without
  // its echo, or refused, may still have changed something on the device.
  AuditEvent event;
  event.set_actor(write.actor());
  event.set_action("write");
  event.set_entity(fmt::format("modbus:{}/unit:{}/register:{}", write.bus(), write.unit_id(), write.address()));
  event.set_new_value(fmt::format("{} ({})", fmt::join(write.values(), " "),
                                  outcome ? *outcome : "failed: " + outcome.error().message()));
  event.set_reason(write.reason());
  store_.RecordAudit(std::move(event));
  // The answer waits for the audit event to be durable; Flush blocks, so on the worker.
  co_await asio::co_spawn(queries_, FlushStore(), asio::use_awaitable);
  if (!outcome) {
    // The request was right; a device that answered it wrongly is a bad gateway.
    if (outcome.error().code() == StatusCode::kInvalidArgument) {
      co_return ErrorReply(request, http::status::bad_gateway, outcome.error().message());
    }
    co_return ErrorReply(request, outcome.error());
  }
  ModbusWriteReceipt receipt;
  receipt.set_outcome(*outcome);
  co_return Reply(request, http::status::ok, receipt);
}

asio::awaitable<void> ApiServer::FlushStore() {
  store_.Flush();
  co_return;
}

}  // namespace labtrace::api
