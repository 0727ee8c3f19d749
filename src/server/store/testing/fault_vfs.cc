#include "server/store/testing/fault_vfs.h"

#include <sqlite3.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <string>

namespace apm::testing {
namespace {

std::atomic<StorageFault> g_fault{StorageFault::kNone};
sqlite3_vfs* g_base = nullptr;  // the default VFS this one wraps
sqlite3_vfs g_vfs;

StorageFault CurrentFault() {
  static const char* control = std::getenv("FAULT_VFS_CONTROL");
  if (control == nullptr) return g_fault.load();
  std::ifstream in(control);
  std::string word;
  in >> word;
  if (word == "full") return StorageFault::kDiskFull;
  if (word == "fsync") return StorageFault::kFsyncFails;
  return StorageFault::kNone;
}

// Our file, followed in the same allocation by the real VFS's file (szOsFile covers both).
struct FaultFile {
  sqlite3_file base;
  sqlite3_file* real;
};

sqlite3_file* Real(sqlite3_file* f) {
  return reinterpret_cast<FaultFile*>(f)->real;
}
const sqlite3_io_methods& RealMethods(sqlite3_file* f) {
  return *Real(f)->pMethods;
}

int Close(sqlite3_file* f) {
  return RealMethods(f).xClose(Real(f));
}
int Read(sqlite3_file* f, void* buf, int amount, sqlite3_int64 offset) {
  return RealMethods(f).xRead(Real(f), buf, amount, offset);
}
int Write(sqlite3_file* f, const void* buf, int amount, sqlite3_int64 offset) {
  if (CurrentFault() == StorageFault::kDiskFull) return SQLITE_FULL;
  return RealMethods(f).xWrite(Real(f), buf, amount, offset);
}
int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  return RealMethods(f).xTruncate(Real(f), size);
}
int Sync(sqlite3_file* f, int flags) {
  if (CurrentFault() == StorageFault::kFsyncFails) return SQLITE_IOERR_FSYNC;
  return RealMethods(f).xSync(Real(f), flags);
}
int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  return RealMethods(f).xFileSize(Real(f), size);
}
int Lock(sqlite3_file* f, int level) {
  return RealMethods(f).xLock(Real(f), level);
}
int Unlock(sqlite3_file* f, int level) {
  return RealMethods(f).xUnlock(Real(f), level);
}
int CheckReservedLock(sqlite3_file* f, int* out) {
  return RealMethods(f).xCheckReservedLock(Real(f), out);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  return RealMethods(f).xFileControl(Real(f), op, arg);
}
int SectorSize(sqlite3_file* f) {
  return RealMethods(f).xSectorSize(Real(f));
}
int DeviceCharacteristics(sqlite3_file* f) {
  return RealMethods(f).xDeviceCharacteristics(Real(f));
}
int ShmMap(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return RealMethods(f).xShmMap(Real(f), page, size, extend, out);
}
int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return RealMethods(f).xShmLock(Real(f), offset, n, flags);
}
void ShmBarrier(sqlite3_file* f) {
  RealMethods(f).xShmBarrier(Real(f));
}
int ShmUnmap(sqlite3_file* f, int delete_flag) {
  return RealMethods(f).xShmUnmap(Real(f), delete_flag);
}
int Fetch(sqlite3_file* f, sqlite3_int64 offset, int amount, void** out) {
  return RealMethods(f).xFetch(Real(f), offset, amount, out);
}
int Unfetch(sqlite3_file* f, sqlite3_int64 offset, void* p) {
  return RealMethods(f).xUnfetch(Real(f), offset, p);
}

const sqlite3_io_methods kMethods = {3,
                                     Close,
                                     Read,
                                     Write,
                                     Truncate,
                                     Sync,
                                     FileSize,
                                     Lock,
                                     Unlock,
                                     CheckReservedLock,
                                     FileControl,
                                     SectorSize,
                                     DeviceCharacteristics,
                                     ShmMap,
                                     ShmLock,
                                     ShmBarrier,
                                     ShmUnmap,
                                     Fetch,
                                     Unfetch};

int Open(sqlite3_vfs*, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  auto* ours = reinterpret_cast<FaultFile*>(file);
  ours->real = reinterpret_cast<sqlite3_file*>(ours + 1);
  int rc = g_base->xOpen(g_base, name, ours->real, flags, out_flags);
  // SQLite closes a file whose pMethods is set, also after a failed open.
  ours->base.pMethods = ours->real->pMethods != nullptr ? &kMethods : nullptr;
  return rc;
}

}  // namespace

void InstallFaultVfs() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_base = sqlite3_vfs_find(nullptr);
    // The default VFS's other calls (paths, access, time, randomness) serve unchanged: they
    // read only fields this copy keeps.
    g_vfs = *g_base;
    g_vfs.zName = "apm-fault";
    g_vfs.szOsFile = int(sizeof(FaultFile)) + g_base->szOsFile;
    g_vfs.xOpen = Open;
    g_vfs.pNext = nullptr;
    sqlite3_vfs_register(&g_vfs, /*makeDflt=*/1);
  });
}

void SetStorageFault(StorageFault fault) {
  g_fault.store(fault);
}

}  // namespace apm::testing
