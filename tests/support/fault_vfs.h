// An SQLite VFS for tests that keeps files in memory and models a disk: what was written
// since a file's last sync is lost at a power cut. It can also cut the power at the k-th
// sync, report one failed fsync, or refuse writes as a full disk would.
//
// It has no shared memory, so the store must run with exclusive locking (WAL then keeps
// its index on the heap). One FaultVfs is registered per name; tests run it on one thread
// of their own plus the store's writer, which the mutex serialises.
#pragma once

#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace labtrace::testing {

class FaultVfs {
 public:
  struct File {
    std::vector<uint8_t> current;  // what reads see
    std::vector<uint8_t> durable;  // what survives a power cut
  };

  explicit FaultVfs(std::string name);
  ~FaultVfs();

  const std::string& name() const { return name_; }

  // Power is cut when the k-th sync (1-based) is attempted: it fails, and so does every
  // operation after it. 0: never.
  void CutPowerAtSync(int k);
  // The next sync reports SQLITE_IOERR_FSYNC although the data was written.
  void FailNextSync();
  void SetDiskFull(bool full);
  int syncs() const;
  // How many syncs FailNextSync has failed: a test that injects one can tell that the
  // store did reach it.
  int failed_syncs() const;
  bool power_cut() const;

  // After a power cut: the durable contents of every file, as a disk would hold them.
  // Writes them as real files into `directory` (keeping their base names).
  void WriteDurableFiles(const std::filesystem::path& directory) const;
  // Drops every unsynced write now, as a power cut at this instant would.
  void CutPowerNow();

 private:
  friend struct FaultVfsAccess;
  std::string name_;
  sqlite3_vfs vfs_{};
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<File>> files_;
  int syncs_ = 0;
  int cut_at_sync_ = 0;
  bool fail_next_sync_ = false;
  int failed_syncs_ = 0;
  bool dead_ = false;
  bool full_ = false;
};

}  // namespace labtrace::testing
