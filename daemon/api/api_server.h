// The daemon's HTTP API (docs/API.md): protobuf messages, as canonical JSON by default
// or binary protobuf when the client sends `Accept: application/x-protobuf`.
//
// Runs on the daemon's io_context; each connection is a coroutine. Store queries run on
// a worker thread so a slow query never stalls acquisition or other clients.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/string_body.hpp>

#include "api/live_readings.h"
#include "api/request_guard.h"
#include "labtrace/api.pb.h"
#include "labtrace/config.pb.h"
#include "labtrace/status.h"
#include "store/record_store.h"

namespace labtrace::api {

class ApiServer {
 public:
  // Binds and listens at once, so a port conflict is reported before anything starts.
  static Result<std::unique_ptr<ApiServer>> Create(boost::asio::io_context& io, const std::string& host,
                                                   uint16_t port, store::RecordStore& store,
                                                   const config::Lab& lab);
  ~ApiServer();

  // The bound address: with port 0, the port the kernel chose.
  boost::asio::ip::tcp::endpoint endpoint() const { return acceptor_.local_endpoint(); }

  void Start();
  void Stop();
  // Where GET /v1/health gets the instruments' health (thread-safe); none: no instruments.
  void SetHealthSource(std::function<HealthResponse()> source) { health_ = std::move(source); }
  // Who carries out POST /v1/modbus/writes (thread-safe; `done` may run on any thread and
  // says "written", "sent …", or why not); none: writes are refused.
  using ModbusWriter = std::function<void(const ModbusWriteRequest&, std::function<void(Result<std::string>)> done)>;
  void SetModbusWriter(ModbusWriter writer) { modbus_writer_ = std::move(writer); }
  // Where GET /v1/readings/stream gets committed readings; none: the stream is refused.
  void SetLiveReadings(std::shared_ptr<LiveReadings> live) { live_ = std::move(live); }

 private:
  ApiServer(boost::asio::io_context& io, store::RecordStore& store, const config::Lab& lab)
      : io_(io), acceptor_(io), store_(store), lab_(lab) {}

  boost::asio::awaitable<void> Accept();
  boost::asio::awaitable<void> Serve(boost::asio::ip::tcp::socket socket);
  boost::asio::awaitable<boost::beast::http::response<boost::beast::http::string_body>> Answer(
      const boost::beast::http::request<boost::beast::http::string_body>& request);
  // GET /v1/readings, /v1/audit, /v1/uploads, /v1/calibrations (query_routes.cpp); on the
  // query worker.
  static bool IsRecordList(std::string_view path);
  boost::asio::awaitable<boost::beast::http::response<boost::beast::http::string_body>> AnswerRecordList(
      boost::beast::http::request<boost::beast::http::string_body> request);

  // GET /v1/readings/stream (stream_routes.cpp): the route answers an event-stream header,
  // which Serve recognises and hands, with the connection, to StreamReadings.
  boost::beast::http::response<boost::beast::http::string_body> AnswerStreamRequest(
      const boost::beast::http::request<boost::beast::http::string_body>& request);
  static bool IsEventStream(const boost::beast::http::response<boost::beast::http::string_body>& response);
  boost::asio::awaitable<void> StreamReadings(boost::beast::tcp_stream& stream,
                                              const boost::beast::http::request<boost::beast::http::string_body>& request,
                                              boost::beast::http::response<boost::beast::http::string_body> header);
  boost::asio::awaitable<boost::beast::http::response<boost::beast::http::string_body>> AnswerUpload(
      const boost::beast::http::request<boost::beast::http::string_body>& request);
  boost::asio::awaitable<boost::beast::http::response<boost::beast::http::string_body>> AnswerCorrection(
      const boost::beast::http::request<boost::beast::http::string_body>& request, std::string_view sequence);

  // POST /v1/modbus/writes (write_routes.cpp).
  boost::asio::awaitable<boost::beast::http::response<boost::beast::http::string_body>> AnswerModbusWrite(
      const boost::beast::http::request<boost::beast::http::string_body>& request);

  // Runs on the query worker: waits until the store has committed what it was handed.
  boost::asio::awaitable<void> FlushStore();

  // POST /v1/calibrations[?preview=true] (calibration_routes.cpp).
  boost::asio::awaitable<boost::beast::http::response<boost::beast::http::string_body>> AnswerCalibration(
      const boost::beast::http::request<boost::beast::http::string_body>& request);
  // Runs on the query worker: builds the record from the stored evidence.
  boost::asio::awaitable<Result<CalibrationRecord>> BuildCalibration(CalibrationRequest request, bool preview);
  // GET /v1/calibrations/{number}, /v1/trace/chain, /v1/trace/reverse; on the query worker.
  boost::asio::awaitable<boost::beast::http::response<boost::beast::http::string_body>> AnswerTraceQuery(
      boost::beast::http::request<boost::beast::http::string_body> request);

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  store::RecordStore& store_;
  const config::Lab& lab_;
  std::optional<RequestGuard> guard_;  // set by Create once the address is bound
  uint32_t connections_ = 0;           // being served; touched on the io_context only
  std::function<HealthResponse()> health_;
  ModbusWriter modbus_writer_;
  std::shared_ptr<LiveReadings> live_;
  boost::asio::thread_pool queries_{1};
};

}  // namespace labtrace::api
