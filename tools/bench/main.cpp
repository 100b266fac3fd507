// labtrace-bench: measured speed, each figure beside a baseline taken in the same run.
//
//   labtrace-bench ingest [--readings N] [--dir D] [--json]
//       durable ingest through the store (group commit, synchronous=FULL, leaf hashing,
//       Merkle log) against raw SQLite: one prepared INSERT in one transaction, no hashing
//   labtrace-bench verify [--records N] [--dir D] [--json] [--keep]
//       builds a store of N records, then times `labtrace verify`'s check of it
//   labtrace-bench rtu [--baud 9600] [--devices 8] [--registers 10] [--seconds 10] [--json]
//       Modbus RTU line use by the daemon's bus worker against the line's theoretical maximum
//   labtrace-bench modbus-tcp [--devices 200] [--registers 10] [--seconds 10] [--placement apart] [--json]
//       the whole daemon's CPU per Modbus TCP transaction beside a bare libmodbus loop and
//       a python3-pymodbus poller on the same simulated devices
//   labtrace-bench search [--readings N] [--dir D] [--json]
//       the last readings of a channel: one polled all along, one dropped early, through
//       the store's channel sets, against the two designs before them on the same file
//   labtrace-bench api [--clients 1000] [--interval-ms 1000] [--seconds 15] [--json]
//       authenticated clients on loopback while the daemon polls Modbus TCP devices: 503s
//       beyond api.max_connections, latency percentiles, poll rate loaded against idle
//   labtrace-bench hash [--records N] [--json]
//       RFC 6962 leaf hashes of 80-byte records: OpenSSL's SHA256_* (what the store uses)
//       against OpenSSL's EVP and libsodium (the other candidates)
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <sqlite3.h>

#include "bench/api_bench.h"
#include "bench/modbus_tcp_bench.h"
#include "bench/rtu_bench.h"
#include "store/reading_row.h"
#include "store/record_store.h"
#include "store/verifier.h"

using namespace labtrace;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

Reading MakeReading(int64_t i) {
  Reading r;
  r.set_instrument(i % 2 ? "climate-1" : "balance-xs205");
  r.set_channel(i % 2 ? "temperature" : "mass");
  r.set_unit(i % 2 ? "°C" : "g");
  r.set_quality(GOOD);
  r.set_value(100.0 + static_cast<double>(i % 1000) * 1e-5);
  r.set_decimals(5);
  r.set_requested_at_ns(1795590001'000'000'000 + i * 1'000'000);
  r.set_raw_frame("S S  100.00012 g\r\n");
  return r;
}

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

// CPU seconds (user + system, all threads) this process has used: on a shared machine the
// wall time says more about the neighbours than about the code.
double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Raw SQLite: the store's own readings table and its runs (reading_runs, each with its
// channel set, and its index by set; the two sets written up front), WAL,
// synchronous=FULL, one prepared INSERT, one transaction, no hashing. What the hardware
// and SQLite give for the same rows with nothing on top.
double BaselinePerSecond(const fs::path& dir, int64_t n) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  sqlite3* db = nullptr;
  sqlite3_open((dir / "baseline.db").c_str(), &db);
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
               "CREATE TABLE readings (sequence INTEGER PRIMARY KEY, channel_id INTEGER NOT NULL, value REAL,"
               " unit TEXT NOT NULL, quality INTEGER NOT NULL, requested_at_ns INTEGER NOT NULL,"
               " raw_frame BLOB NOT NULL, detail TEXT NOT NULL, decimals INTEGER NOT NULL, supersedes INTEGER,"
               " calibration_certificate TEXT NOT NULL, calibration_due_date TEXT NOT NULL);"
               "CREATE TABLE channel_sets (set_id INTEGER PRIMARY KEY, channel_ids TEXT NOT NULL UNIQUE);"
               "INSERT INTO channel_sets VALUES (1, '1'), (2, '2');"
               "CREATE TABLE reading_runs (first_sequence INTEGER PRIMARY KEY, instrument TEXT NOT NULL,"
               " count INTEGER NOT NULL CHECK (count > 0), channel_set INTEGER NOT NULL);"
               "CREATE INDEX reading_runs_by_channel_set ON reading_runs (channel_set, first_sequence);",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* insert_run = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO reading_runs (first_sequence, instrument, count, channel_set) VALUES (?, ?, ?, ?)",
                     -1, &insert_run, nullptr);
  // A run is the consecutive readings of one instrument, as the store groups them; each
  // instrument here has one channel, so its set is that channel's.
  std::string run_instrument;
  int64_t run_first = 0, run_count = 0, run_set = 0;
  const auto end_run = [&] {
    if (run_count == 0) return;
    sqlite3_bind_int64(insert_run, 1, run_first);
    sqlite3_bind_text(insert_run, 2, run_instrument.data(), static_cast<int>(run_instrument.size()), SQLITE_STATIC);
    sqlite3_bind_int64(insert_run, 3, run_count);
    sqlite3_bind_int64(insert_run, 4, run_set);
    sqlite3_step(insert_run);
    sqlite3_reset(insert_run);
  };
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO readings (channel_id, value, unit, quality, requested_at_ns, raw_frame, detail,"
                     " decimals, supersedes, calibration_certificate, calibration_due_date)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
                     -1, &insert, nullptr);
  const auto start = Clock::now();
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  for (int64_t i = 0; i < n; ++i) {
    const Reading r = MakeReading(i);
    const int64_t channel = 1 + i % 2;
    sqlite3_bind_int64(insert, 1, channel);
    sqlite3_bind_double(insert, 2, r.value());
    sqlite3_bind_text(insert, 3, r.unit().data(), static_cast<int>(r.unit().size()), SQLITE_STATIC);
    sqlite3_bind_int64(insert, 4, r.quality());
    sqlite3_bind_int64(insert, 5, r.requested_at_ns());
    sqlite3_bind_blob(insert, 6, r.raw_frame().data(), static_cast<int>(r.raw_frame().size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 7, "", 0, SQLITE_STATIC);
    sqlite3_bind_int64(insert, 8, r.decimals());
    sqlite3_bind_text(insert, 9, "", 0, SQLITE_STATIC);
    sqlite3_bind_text(insert, 10, "", 0, SQLITE_STATIC);
    sqlite3_step(insert);
    sqlite3_reset(insert);
    if (run_count > 0 && r.instrument() == run_instrument) {
      ++run_count;
    } else {
      end_run();
      run_instrument = r.instrument();
      run_first = sqlite3_last_insert_rowid(db);
      run_count = 1;
      run_set = channel;
    }
  }
  end_run();
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  const double seconds = Seconds(start);
  sqlite3_finalize(insert);
  sqlite3_finalize(insert_run);
  sqlite3_close(db);
  return static_cast<double>(n) / seconds;
}

// The store, as the daemon drives it: readings handed in from a producer, committed in
// group commits with fsync, leaf hashes, batch roots and the log's root.
double StorePerSecond(const fs::path& dir, int64_t n, size_t* batches) {
  fs::remove_all(dir);
  auto store = store::RecordStore::Open(dir.string());
  if (!store) {
    std::fprintf(stderr, "%s\n", store.error().message().c_str());
    std::exit(1);
  }
  size_t commits = 0;
  (*store)->OnCommit([&commits](size_t, uint64_t) { ++commits; });
  const auto start = Clock::now();
  constexpr int64_t kChunk = 10000;
  for (int64_t first = 0; first < n; first += kChunk) {
    std::vector<Reading> chunk;
    chunk.reserve(kChunk);
    for (int64_t i = first; i < std::min(n, first + kChunk); ++i) chunk.push_back(MakeReading(i));
    (*store)->Append(std::move(chunk));
  }
  (*store)->Flush();
  const double seconds = Seconds(start);
  *batches = commits;
  return static_cast<double>(n) / seconds;
}

int Ingest(int64_t n, const fs::path& dir, bool json) {
  // Alternate the two three times and keep each one's best run: the disk and the other
  // core are shared, and the best run is the one least disturbed.
  size_t batches = 0;
  double baseline = 0, ours = 0;
  for (int round = 0; round < 3; ++round) {
    baseline = std::max(baseline, BaselinePerSecond(dir / "baseline", n));
    ours = std::max(ours, StorePerSecond(dir / "store", n, &batches));
  }
  const double ratio = ours / baseline;
  if (json) {
    std::printf("{\"readings\":%lld,\"readings_per_s\":%.0f,\"baseline_per_s\":%.0f,\"ratio\":%.3f,\"commits\":%zu}\n",
                static_cast<long long>(n), ours, baseline, ratio, batches);
  } else {
    std::printf("durable ingest of %lld readings (best of 3 runs each, alternating)\n", static_cast<long long>(n));
    std::printf("  %-52s %12.0f readings/s\n", "raw SQLite (one INSERT, one transaction, no hashing)", baseline);
    std::printf("  %-52s %12.0f readings/s  (%zu group commits)\n", "labtrace store (fsync per commit, Merkle log)",
                ours, batches);
    std::printf("  ratio %.2f (goal >= 0.50)\n", ratio);
  }
  fs::remove_all(dir);
  return 0;
}

double OpenSslLeavesPerSecond(int64_t n);

// CPU seconds SQLite alone takes to step through `sql` on `db_path` and hand over every
// column of every row (as verify opens it: read-only, the file mapped), nothing done with
// them: the floor under verify's reading of the same rows.
double BareScanCpuSeconds(const std::string& db_path, const char* sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  sqlite3_exec(db, "PRAGMA mmap_size = 2147418112", nullptr, nullptr, nullptr);
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &statement, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "labtrace-bench: %s\n", sqlite3_errmsg(db));
    std::exit(1);
  }
  const double cpu_start = CpuSeconds();
  uint64_t touched = 0;  // so that no column read can be left out
  while (sqlite3_step(statement) == SQLITE_ROW) {
    for (int c = 0, columns = sqlite3_column_count(statement); c < columns; ++c) {
      switch (sqlite3_column_type(statement, c)) {
        case SQLITE_INTEGER: touched += static_cast<uint64_t>(sqlite3_column_int64(statement, c)); break;
        case SQLITE_FLOAT: touched += static_cast<uint64_t>(sqlite3_column_double(statement, c)); break;
        case SQLITE_NULL: break;
        default:
          touched += reinterpret_cast<uintptr_t>(sqlite3_column_blob(statement, c)) +
                     static_cast<uint64_t>(sqlite3_column_bytes(statement, c));
      }
    }
  }
  const double cpu_seconds = CpuSeconds() - cpu_start;
  sqlite3_finalize(statement);
  sqlite3_close(db);
  static volatile uint64_t kept;
  kept = touched;
  return cpu_seconds;
}

// The store's verification, beside the rate at which this machine hashes leaves (one
// SHA-256 of an 80-byte record), measured in the same run: verify cannot be faster than
// that, which says how much of its time goes to reading the records.
int Verify(int64_t n, const fs::path& dir, bool json, bool keep) {
  size_t batches = 0;
  const double ingest = StorePerSecond(dir, n, &batches);
  const auto store_bytes = fs::file_size(dir / store::RecordStore::kFileName);
  const double cpu_start = CpuSeconds();
  const auto start = Clock::now();
  auto report = store::VerifyStore((dir / store::RecordStore::kFileName).string(), {});
  const double seconds = Seconds(start);
  const double cpu_seconds = CpuSeconds() - cpu_start;
  if (!report || !report->intact) {
    std::fprintf(stderr, "verification failed: %s\n", report ? report->problem.c_str() : report.error().message().c_str());
    return 1;
  }
  const double leaves = OpenSslLeavesPerSecond(std::min<int64_t>(n, 5'000'000));
  // What verify reads of each reading, its run and the run's place in the index.
  const std::string db_path = (dir / store::RecordStore::kFileName).string();
  const double readings_cpu = BareScanCpuSeconds(db_path, "SELECT " LABTRACE_READING_ROW_COLUMNS
                                                          " FROM readings r ORDER BY r.sequence");
  const double runs_cpu =
      BareScanCpuSeconds(db_path, "SELECT first_sequence, count, instrument, channel_set FROM reading_runs "
                                  "ORDER BY first_sequence") +
      BareScanCpuSeconds(db_path, "SELECT first_sequence FROM reading_runs INDEXED BY reading_runs_by_channel_set "
                                  "WHERE channel_set IS NOT NULL ORDER BY channel_set, first_sequence");
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (json) {
    std::printf("{\"records\":%llu,\"store_bytes\":%llu,\"verify_s\":%.2f,\"verify_records_per_s\":%.0f,"
                "\"verify_cpu_s\":%.2f,\"leaf_hashes_per_s\":%.0f,\"sqlite_readings_cpu_s\":%.2f,"
                "\"sqlite_runs_cpu_s\":%.2f,\"cores\":%u,\"ingest_per_s\":%.0f}\n",
                static_cast<unsigned long long>(report->records), static_cast<unsigned long long>(store_bytes), seconds,
                static_cast<double>(n) / seconds, cpu_seconds, leaves, readings_cpu, runs_cpu, cores, ingest);
  } else {
    std::printf("verified %llu records (%.0f MB) in %.2f s (%.0f records/s; %.2f CPU-s, %.0f records per CPU-s); "
                "leaf hashing %.0f records/s; built at %.0f readings/s\n",
                static_cast<unsigned long long>(report->records), static_cast<double>(store_bytes) / 1e6, seconds,
                static_cast<double>(n) / seconds, cpu_seconds, static_cast<double>(n) / cpu_seconds, leaves, ingest);
    std::printf("SQLite alone, reading the same rows: readings %.2f CPU-s, runs and their index %.2f CPU-s; "
                "on %u cores at most %.0f records/s before any hashing\n",
                readings_cpu, runs_cpu, cores, static_cast<double>(n) * cores / (readings_cpu + runs_cpu));
  }
  if (!keep) fs::remove_all(dir);
  return 0;
}

// The median of `rounds` timings of `query`, in milliseconds.
template <typename Query>
double MedianMs(int rounds, Query query) {
  std::vector<double> ms;
  for (int i = 0; i < rounds; ++i) {
    const auto start = Clock::now();
    query();
    ms.push_back(Seconds(start) * 1000);
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

// Steps through every row of `sql` (binding ?1 and ?2 as given); returns the rows.
int RawRows(sqlite3* db, const std::string& sql, const std::string& text, int64_t id) {
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "labtrace-bench: %s\n", sqlite3_errmsg(db));
    std::exit(1);
  }
  if (!text.empty()) sqlite3_bind_text(statement, 1, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
  sqlite3_bind_int64(statement, 2, id);
  int rows = 0;
  while (sqlite3_step(statement) == SQLITE_ROW) ++rows;
  sqlite3_finalize(statement);
  return rows;
}

// Two ten-channel chambers polled in turn, so that each poll is a run, as with many
// devices on a bus; chamber-1's channel "door" is dropped from its polls after the first
// 1 %. Then the last 10 readings of "door" and of "temperature" are asked for.
int SearchBench(int64_t n, const fs::path& dir, bool json) {
  fs::remove_all(dir);
  constexpr int kChannels = 10;
  const int64_t polls = n / kChannels;
  {
    auto store = store::RecordStore::Open(dir.string());
    if (!store) {
      std::fprintf(stderr, "%s\n", store.error().message().c_str());
      return 1;
    }
    for (int64_t p = 0; p < polls; ++p) {
      const std::string instrument = p % 2 ? "chamber-2" : "chamber-1";
      const bool door = p % 2 == 0 && p < polls / 100;
      std::vector<Reading> poll;
      for (int c = 0; c < kChannels; ++c) {
        Reading r = MakeReading(p * kChannels + c);
        r.set_instrument(instrument);
        r.set_channel(c == 0 ? "temperature" : c == kChannels - 1 ? (door ? "door" : "humidity") : fmt::format("c{}", c));
        poll.push_back(std::move(r));
      }
      (*store)->Append(std::move(poll));
    }
  }
  auto store = store::RecordStore::Open(dir.string());
  if (!store) return 1;
  constexpr int kRounds = 21;
  auto last10 = [&](const char* channel) {
    api::ReadingsQuery query;
    query.set_instrument("chamber-1");
    query.set_channel(channel);
    query.set_last(10);
    return MedianMs(kRounds, [&] {
      auto answer = (*store)->Query(query);
      if (!answer || answer->readings_size() != 10) {
        std::fprintf(stderr, "labtrace-bench: the search for %s did not find 10 readings\n", channel);
        std::exit(1);
      }
    });
  };
  const double ours_dropped = last10("door"), ours_polled = last10("temperature");
  store->reset();

  // The designs before, on the same file, each with the index it had (made only now, so
  // that the store's own query above could not use them).
  sqlite3* db = nullptr;
  sqlite3_open((dir / store::RecordStore::kFileName).c_str(), &db);
  sqlite3_exec(db,
               "CREATE INDEX bench_runs_by_instrument ON reading_runs (instrument, first_sequence);"
               "CREATE INDEX bench_readings_by_channel ON readings (channel_id, sequence);",
               nullptr, nullptr, nullptr);
  auto channel_id = [&](const char* channel) {
    sqlite3_stmt* statement = nullptr;
    sqlite3_prepare_v2(db, "SELECT channel_id FROM channels WHERE instrument = 'chamber-1' AND channel = ?", -1,
                       &statement, nullptr);
    sqlite3_bind_text(statement, 1, channel, -1, SQLITE_STATIC);
    const int64_t id = sqlite3_step(statement) == SQLITE_ROW ? sqlite3_column_int64(statement, 0) : 0;
    sqlite3_finalize(statement);
    return id;
  };
  const std::string by_instrument =
      "SELECT " LABTRACE_READING_COLUMNS " FROM reading_runs u INDEXED BY bench_runs_by_instrument "
      "JOIN readings r ON r.sequence >= u.first_sequence AND r.sequence < u.first_sequence + u.count "
      "JOIN channels c ON c.channel_id = r.channel_id WHERE u.instrument = ?1 AND r.channel_id = ?2 "
      "ORDER BY u.first_sequence DESC, r.sequence DESC LIMIT 11";
  const std::string by_channel =
      "SELECT " LABTRACE_READING_COLUMNS " FROM readings r INDEXED BY bench_readings_by_channel "
      "JOIN channels c ON c.channel_id = r.channel_id WHERE ?1 IS NULL AND r.channel_id = ?2 "
      "ORDER BY r.sequence DESC LIMIT 11";
  auto raw = [&](const std::string& sql, const char* channel, const std::string& instrument) {
    const int64_t id = channel_id(channel);
    return MedianMs(kRounds, [&] { RawRows(db, sql, instrument, id); });
  };
  const double runs_dropped = raw(by_instrument, "door", "chamber-1");
  const double runs_polled = raw(by_instrument, "temperature", "chamber-1");
  const double index_dropped = raw(by_channel, "door", "");
  const double index_polled = raw(by_channel, "temperature", "");
  sqlite3_close(db);
  fs::remove_all(dir);
  if (json) {
    std::printf("{\"readings\":%lld,\"dropped_ms\":%.3f,\"polled_ms\":%.3f,\"runs_by_instrument_dropped_ms\":%.3f,"
                "\"runs_by_instrument_polled_ms\":%.3f,\"index_by_channel_dropped_ms\":%.3f,"
                "\"index_by_channel_polled_ms\":%.3f}\n",
                static_cast<long long>(polls * kChannels), ours_dropped, ours_polled, runs_dropped, runs_polled,
                index_dropped, index_polled);
  } else {
    std::printf("last 10 readings of a channel, in a store of %lld readings (median of %d, ms)\n",
                static_cast<long long>(polls * kChannels), kRounds);
    std::printf("  %-58s %14s %14s\n", "", "dropped early", "polled");
    std::printf("  %-58s %14.3f %14.3f\n", "labtrace store: runs by channel set (schema 5)", ours_dropped, ours_polled);
    std::printf("  %-58s %14.3f %14.3f\n", "runs by instrument (schema 4), raw SQL", runs_dropped, runs_polled);
    std::printf("  %-58s %14.3f %14.3f\n", "index of every reading by channel (schema 3), raw SQL", index_dropped,
                index_polled);
  }
  return 0;
}

// Leaf hashes (0x00 ‖ 80-byte record) per second with libsodium's SHA-256.
double SodiumLeavesPerSecond(int64_t n) {
  uint8_t record[81] = {0};
  unsigned char out[32];
  const auto start = Clock::now();
  for (int64_t i = 0; i < n; ++i) {
    record[1] = static_cast<uint8_t>(i);
    crypto_hash_sha256(out, record, sizeof record);
    record[2] ^= out[0];  // keep the loop from being optimised away
  }
  return static_cast<double>(n) / Seconds(start);
}

// The same through OpenSSL's EVP interface (one fetched digest, one reused context),
// which the store used before the low-level calls.
double EvpLeavesPerSecond(int64_t n) {
  EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  uint8_t record[80] = {0};
  static constexpr uint8_t kLeafPrefix[1] = {0x00};
  uint8_t out[32];
  const auto start = Clock::now();
  for (int64_t i = 0; i < n; ++i) {
    record[0] = static_cast<uint8_t>(i);
    EVP_DigestInit_ex2(context, md, nullptr);
    EVP_DigestUpdate(context, kLeafPrefix, 1);
    EVP_DigestUpdate(context, record, sizeof record);
    EVP_DigestFinal_ex(context, out, nullptr);
    record[1] ^= out[0];
  }
  const double per_s = static_cast<double>(n) / Seconds(start);
  EVP_MD_CTX_free(context);
  EVP_MD_free(md);
  return per_s;
}

double OpenSslLeavesPerSecond(int64_t n) {
  uint8_t record[80] = {0};
  const auto start = Clock::now();
  for (int64_t i = 0; i < n; ++i) {
    record[0] = static_cast<uint8_t>(i);
    const store::Hash h = store::LeafHash(record);
    record[1] ^= h[0];
  }
  return static_cast<double>(n) / Seconds(start);
}

int HashBench(int64_t n, bool json) {
  if (sodium_init() < 0) return 1;
  double sodium = 0, openssl = 0, evp = 0;
  for (int round = 0; round < 3; ++round) {
    sodium = std::max(sodium, SodiumLeavesPerSecond(n));
    openssl = std::max(openssl, OpenSslLeavesPerSecond(n));
    evp = std::max(evp, EvpLeavesPerSecond(n));
  }
  if (json) {
    std::printf("{\"records\":%lld,\"openssl_per_s\":%.0f,\"openssl_evp_per_s\":%.0f,\"libsodium_per_s\":%.0f,"
                "\"ratio\":%.2f}\n",
                static_cast<long long>(n), openssl, evp, sodium, openssl / sodium);
  } else {
    std::printf("RFC 6962 leaf hashes of 80-byte records (best of 3)\n");
    std::printf("  %-44s %12.0f records/s\n", "OpenSSL 3 libcrypto, SHA256_* (used)", openssl);
    std::printf("  %-44s %12.0f records/s\n", "OpenSSL 3 libcrypto, EVP", evp);
    std::printf("  %-44s %12.0f records/s\n", "libsodium 1.0.18", sodium);
    std::printf("  OpenSSL / libsodium = %.2f; SHA256_* / EVP = %.2f\n", openssl / sodium, openssl / evp);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"labtrace-bench: labtrace's speed beside a baseline measured in the same run"};
  app.require_subcommand(1);
  int64_t readings = 1'000'000, records = 10'000'000;
  std::string dir = (fs::temp_directory_path() / fmt::format("labtrace-bench-{}", getpid())).string();
  bool json = false;
  auto* ingest = app.add_subcommand("ingest", "durable ingest against raw SQLite");
  ingest->add_option("--readings", readings, "how many readings")->capture_default_str();
  auto* verify = app.add_subcommand("verify", "time to verify a store of N records");
  verify->add_option("--records", records, "how many records")->capture_default_str();
  bool keep = false;
  verify->add_flag("--keep", keep, "leave the store in --dir, to verify it again with `labtrace verify`");
  int64_t searched = 2'000'000;
  auto* search = app.add_subcommand("search", "the last readings of a channel, against the designs before");
  search->add_option("--readings", searched, "readings in the store searched")->capture_default_str();
  int64_t hashes = 5'000'000;
  auto* hash = app.add_subcommand("hash", "SHA-256 leaf hashing: OpenSSL against libsodium");
  hash->add_option("--records", hashes, "how many records")->capture_default_str();
  hash->add_flag("--json", json, "one JSON object");
  for (auto* sub : {ingest, verify, search}) {
    sub->add_option("--dir", dir, "scratch directory (on the disk to measure)");
    sub->add_flag("--json", json, "one JSON object");
  }
  RtuBenchOptions rtu;
  auto* rtu_cmd = app.add_subcommand("rtu", "Modbus RTU line use against the theoretical maximum");
  rtu_cmd->add_option("--baud", rtu.baud, "line rate")->capture_default_str();
  rtu_cmd->add_option("--devices", rtu.devices, "devices on the line")->check(CLI::Range(1, 247))->capture_default_str();
  rtu_cmd->add_option("--registers", rtu.registers, "registers per request")->check(CLI::Range(1, 125))->capture_default_str();
  rtu_cmd->add_option("--seconds", rtu.seconds, "how long to measure")->capture_default_str();
  rtu_cmd->add_flag("--json", rtu.json, "one JSON object");
  ModbusTcpBenchOptions tcp;
  auto* tcp_cmd = app.add_subcommand("modbus-tcp", "daemon CPU per transaction against libmodbus and pymodbus");
  tcp_cmd->add_option("--devices", tcp.devices, "simulated devices")->check(CLI::Range(1, 900))->capture_default_str();
  tcp_cmd->add_option("--registers", tcp.registers, "registers per read")->check(CLI::Range(1, 100))->capture_default_str();
  tcp_cmd->add_option("--seconds", tcp.seconds, "how long each poller is measured")->capture_default_str();
  tcp_cmd->add_option("--period-ms", tcp.period_ms, "the daemon's poll period per device")
      ->check(CLI::Range(10, 10000))
      ->capture_default_str();
  tcp_cmd->add_option("--rounds", tcp.rounds, "rounds of the three pollers in turn; medians are reported")
      ->check(CLI::Range(1, 9))
      ->capture_default_str();
  tcp_cmd->add_option("--placement", tcp.placement, "CPUs of simulator and pollers: apart, together or any")
      ->check(CLI::IsMember({"apart", "together", "any"}))
      ->capture_default_str();
  tcp_cmd->add_option("--dir", tcp.dir, "scratch directory for the daemon's store");
  tcp_cmd->add_flag("--json", tcp.json, "one JSON object");
  ApiBenchOptions api;
  auto* api_cmd = app.add_subcommand("api", "authenticated API clients while Modbus polling runs");
  api_cmd->add_option("--clients", api.clients, "concurrent clients")->check(CLI::Range(1, 5000))->capture_default_str();
  api_cmd->add_option("--interval-ms", api.interval_ms, "each client's time between calls")->capture_default_str();
  api_cmd->add_option("--seconds", api.seconds, "length of the idle and of the loaded window")->capture_default_str();
  api_cmd->add_option("--devices", api.devices, "Modbus TCP devices polled meanwhile")->capture_default_str();
  api_cmd->add_option("--dir", api.dir, "scratch directory for the daemon's store");
  api_cmd->add_flag("--json", api.json, "one JSON object");
  CLI11_PARSE(app, argc, argv);
  if (api_cmd->parsed()) return ApiBench(api);
  if (rtu_cmd->parsed()) return RtuBench(rtu);
  if (tcp_cmd->parsed()) return ModbusTcpBench(tcp);
  if (ingest->parsed()) return Ingest(readings, dir, json);
  if (hash->parsed()) return HashBench(hashes, json);
  if (search->parsed()) return SearchBench(searched, dir, json);
  return Verify(records, dir, json, keep);
}
