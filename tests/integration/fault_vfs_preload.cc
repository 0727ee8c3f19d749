// Preloaded into apm-server by the storage-fault tests (LD_PRELOAD): makes the fault VFS the
// default before main, driven by the file FAULT_VFS_CONTROL names.
#include "server/store/testing/fault_vfs.h"

__attribute__((constructor)) static void InstallAtLoad() {
  apm::testing::InstallFaultVfs();
}
