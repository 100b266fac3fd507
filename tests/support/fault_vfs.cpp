#include "support/fault_vfs.h"

#include <cstring>
#include <fstream>

namespace labtrace::testing {

struct FaultVfsAccess {
  struct OpenFile {
    sqlite3_file base;
    FaultVfs* vfs;
    std::shared_ptr<FaultVfs::File> file;
  };

  static FaultVfs* Of(sqlite3_vfs* vfs) { return static_cast<FaultVfs*>(vfs->pAppData); }
  static OpenFile* Of(sqlite3_file* file) { return reinterpret_cast<OpenFile*>(file); }

  static int Close(sqlite3_file* f) {
    Of(f)->file.~shared_ptr();
    return SQLITE_OK;
  }
  static int Read(sqlite3_file* f, void* out, int amount, sqlite3_int64 offset) {
    auto* open = Of(f);
    std::lock_guard lock(open->vfs->mutex_);
    if (open->vfs->dead_) return SQLITE_IOERR_READ;
    const auto& data = open->file->current;
    const size_t start = static_cast<size_t>(offset);
    const size_t available = start < data.size() ? std::min<size_t>(amount, data.size() - start) : 0;
    if (available > 0) std::memcpy(out, data.data() + start, available);
    if (available < static_cast<size_t>(amount)) {
      std::memset(static_cast<uint8_t*>(out) + available, 0, amount - available);
      return SQLITE_IOERR_SHORT_READ;
    }
    return SQLITE_OK;
  }
  static int Write(sqlite3_file* f, const void* in, int amount, sqlite3_int64 offset) {
    auto* open = Of(f);
    std::lock_guard lock(open->vfs->mutex_);
    if (open->vfs->dead_) return SQLITE_IOERR_WRITE;
    auto& data = open->file->current;
    const size_t end = static_cast<size_t>(offset) + amount;
    if (open->vfs->full_ && end > data.size()) return SQLITE_FULL;
    if (end > data.size()) data.resize(end);
    std::memcpy(data.data() + offset, in, amount);
    return SQLITE_OK;
  }
  static int Truncate(sqlite3_file* f, sqlite3_int64 size) {
    auto* open = Of(f);
    std::lock_guard lock(open->vfs->mutex_);
    if (open->vfs->dead_) return SQLITE_IOERR_TRUNCATE;
    open->file->current.resize(static_cast<size_t>(size));
    return SQLITE_OK;
  }
  static int Sync(sqlite3_file* f, int) {
    auto* open = Of(f);
    FaultVfs& vfs = *open->vfs;
    std::lock_guard lock(vfs.mutex_);
    if (vfs.dead_) return SQLITE_IOERR_FSYNC;
    ++vfs.syncs_;
    if (vfs.cut_at_sync_ > 0 && vfs.syncs_ >= vfs.cut_at_sync_) {
      vfs.dead_ = true;
      return SQLITE_IOERR_FSYNC;
    }
    open->file->durable = open->file->current;
    if (vfs.fail_next_sync_) {
      vfs.fail_next_sync_ = false;
      ++vfs.failed_syncs_;
      return SQLITE_IOERR_FSYNC;
    }
    return SQLITE_OK;
  }
  static int FileSize(sqlite3_file* f, sqlite3_int64* size) {
    auto* open = Of(f);
    std::lock_guard lock(open->vfs->mutex_);
    *size = static_cast<sqlite3_int64>(open->file->current.size());
    return SQLITE_OK;
  }
  static int Lock(sqlite3_file*, int) { return SQLITE_OK; }
  static int Unlock(sqlite3_file*, int) { return SQLITE_OK; }
  static int CheckReservedLock(sqlite3_file*, int* out) {
    *out = 0;
    return SQLITE_OK;
  }
  static int FileControl(sqlite3_file*, int, void*) { return SQLITE_NOTFOUND; }
  static int SectorSize(sqlite3_file*) { return 4096; }
  static int DeviceCharacteristics(sqlite3_file*) { return 0; }

  static const sqlite3_io_methods* Methods() {
    static const sqlite3_io_methods methods = {
        1, Close, Read, Write, Truncate, Sync, FileSize, Lock, Unlock, CheckReservedLock, FileControl, SectorSize,
        DeviceCharacteristics};
    return &methods;
  }

  static int Open(sqlite3_vfs* vfs_base, const char* name, sqlite3_file* f, int flags, int* out_flags) {
    FaultVfs& vfs = *Of(vfs_base);
    std::lock_guard lock(vfs.mutex_);
    if (vfs.dead_) return SQLITE_CANTOPEN;
    static int anonymous = 0;
    const std::string key = name ? name : "anonymous-" + std::to_string(++anonymous);
    auto found = vfs.files_.find(key);
    if (found == vfs.files_.end()) {
      if (!(flags & SQLITE_OPEN_CREATE)) return SQLITE_CANTOPEN;
      found = vfs.files_.emplace(key, std::make_shared<FaultVfs::File>()).first;
    }
    auto* open = Of(f);
    open->base.pMethods = Methods();
    open->vfs = &vfs;
    new (&open->file) std::shared_ptr<FaultVfs::File>(found->second);
    if (out_flags) *out_flags = flags;
    return SQLITE_OK;
  }
  static int Delete(sqlite3_vfs* vfs_base, const char* name, int) {
    FaultVfs& vfs = *Of(vfs_base);
    std::lock_guard lock(vfs.mutex_);
    if (vfs.dead_) return SQLITE_IOERR_DELETE;
    vfs.files_.erase(name);
    return SQLITE_OK;
  }
  static int Access(sqlite3_vfs* vfs_base, const char* name, int, int* out) {
    FaultVfs& vfs = *Of(vfs_base);
    std::lock_guard lock(vfs.mutex_);
    auto found = vfs.files_.find(name);
    *out = found != vfs.files_.end() && !found->second->current.empty();
    return SQLITE_OK;
  }
  static int FullPathname(sqlite3_vfs*, const char* name, int size, char* out) {
    std::snprintf(out, static_cast<size_t>(size), "%s", name);
    return SQLITE_OK;
  }
  static int Randomness(sqlite3_vfs*, int size, char* out) {
    return sqlite3_vfs_find(nullptr)->xRandomness(sqlite3_vfs_find(nullptr), size, out);
  }
  static int Sleep(sqlite3_vfs*, int microseconds) {
    return sqlite3_vfs_find(nullptr)->xSleep(sqlite3_vfs_find(nullptr), microseconds);
  }
  static int CurrentTime(sqlite3_vfs*, double* out) {
    return sqlite3_vfs_find(nullptr)->xCurrentTime(sqlite3_vfs_find(nullptr), out);
  }
};

FaultVfs::FaultVfs(std::string name) : name_(std::move(name)) {
  vfs_.iVersion = 1;
  vfs_.szOsFile = sizeof(FaultVfsAccess::OpenFile);
  vfs_.mxPathname = 512;
  vfs_.zName = name_.c_str();
  vfs_.pAppData = this;
  vfs_.xOpen = FaultVfsAccess::Open;
  vfs_.xDelete = FaultVfsAccess::Delete;
  vfs_.xAccess = FaultVfsAccess::Access;
  vfs_.xFullPathname = FaultVfsAccess::FullPathname;
  vfs_.xRandomness = FaultVfsAccess::Randomness;
  vfs_.xSleep = FaultVfsAccess::Sleep;
  vfs_.xCurrentTime = FaultVfsAccess::CurrentTime;
  sqlite3_vfs_register(&vfs_, 0);
}

FaultVfs::~FaultVfs() { sqlite3_vfs_unregister(&vfs_); }

void FaultVfs::CutPowerAtSync(int k) {
  std::lock_guard lock(mutex_);
  cut_at_sync_ = k;
}
void FaultVfs::FailNextSync() {
  std::lock_guard lock(mutex_);
  fail_next_sync_ = true;
}
void FaultVfs::SetDiskFull(bool full) {
  std::lock_guard lock(mutex_);
  full_ = full;
}
int FaultVfs::syncs() const {
  std::lock_guard lock(mutex_);
  return syncs_;
}
int FaultVfs::failed_syncs() const {
  std::lock_guard lock(mutex_);
  return failed_syncs_;
}
bool FaultVfs::power_cut() const {
  std::lock_guard lock(mutex_);
  return dead_;
}
void FaultVfs::CutPowerNow() {
  std::lock_guard lock(mutex_);
  dead_ = true;
}

void FaultVfs::WriteDurableFiles(const std::filesystem::path& directory) const {
  std::lock_guard lock(mutex_);
  std::filesystem::create_directories(directory);
  for (const auto& [name, file] : files_) {
    if (file->durable.empty()) continue;
    std::ofstream out(directory / std::filesystem::path(name).filename(), std::ios::binary);
    out.write(reinterpret_cast<const char*>(file->durable.data()), static_cast<std::streamsize>(file->durable.size()));
  }
}

}  // namespace labtrace::testing
