// Acquisition: turns the lab configuration into running pollers and hands every reading
// to the store.
//
// Modbus buses are polled by worker threads (libmodbus blocks): one for every Modbus TCP
// bus, one for each serial line. Text instruments (MT-SICS, SBI, SCPI, line) run as
// coroutines on the daemon's io_context. Created and stopped on the io_context thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>

#include "acquisition/instrument_health.h"
#include "acquisition/modbus_bus.h"
#include "acquisition/text_instruments.h"
#include "labtrace/api.pb.h"
#include "labtrace/config.pb.h"
#include "labtrace/status.h"

namespace labtrace::acquisition {

// Every instrument's health, shared by the sink chain (which fills it from any thread)
// and the API (which reads it).
struct HealthBoard {
  std::mutex mutex;
  std::map<std::string, InstrumentHealth, std::less<>> by_instrument;
};

class Acquisition {
 public:
  // `lab` must outlive the Acquisition (register maps are borrowed from it).
  // `identified` hears what each text instrument says it is (the daemon puts it on the
  // audit trail). `buffers`: readings the store gives back, for Modbus polls (may be null).
  static Result<std::unique_ptr<Acquisition>> Create(boost::asio::io_context& io, const config::Lab& lab,
                                                     ReadingSink sink, IdentitySink identified,
                                                     std::shared_ptr<ReadingBuffers> buffers = nullptr);
  ~Acquisition();

  void Start();
  // Thread-safe: queues a register write on the Modbus bus named `bus`; `done` runs on the
  // bus's worker (or at once, when there is no such bus).
  void Write(const std::string& bus, RegisterWrite write, WriteDone done);
  // Thread-safe: each instrument's health since the start, by name.
  api::HealthResponse Health() const;
  // Cancels the text instruments' pollers and joins the bus workers. Readings already handed to
  // the sink are unaffected.
  void Stop();

 private:
  Acquisition(boost::asio::io_context& io, const config::Lab& lab, ReadingSink sink,
              std::shared_ptr<HealthBoard> health)
      : io_(io), lab_(lab), sink_(std::move(sink)), health_(std::move(health)) {}

  boost::asio::io_context& io_;
  const config::Lab& lab_;
  ReadingSink sink_;
  std::shared_ptr<HealthBoard> health_;
  std::vector<std::unique_ptr<ModbusWorker>> modbus_workers_;
  IdentitySink identified_;
  struct TextPoller {
    std::shared_ptr<text::TextInstrument> instrument;
    std::chrono::milliseconds period;
    std::string driver;
  };
  std::vector<TextPoller> text_instruments_;
  std::vector<std::unique_ptr<boost::asio::cancellation_signal>> text_poller_signals_;
};

}  // namespace labtrace::acquisition
