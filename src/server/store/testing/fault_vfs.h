// A SQLite VFS for tests: it passes everything to the default VFS and, on demand, fails every
// write as a full disk would (SQLITE_FULL) or every sync as a failing fsync (SQLITE_IOERR_FSYNC).
// Storage faults without root: no small file system to mount, no device to break.
#pragma once

namespace apm::testing {

enum class StorageFault { kNone, kDiskFull, kFsyncFails };

// Registers the VFS as the process's default (once); connections opened later use it.
void InstallFaultVfs();

// The fault from now on, for every connection of this process. When the environment variable
// FAULT_VFS_CONTROL names a file, that file decides instead, read at each write and sync: "full",
// "fsync", or anything else for none (how a test drives a server process it does not share
// memory with; tests/integration/fault_vfs_preload.cc).
void SetStorageFault(StorageFault fault);

}  // namespace apm::testing
