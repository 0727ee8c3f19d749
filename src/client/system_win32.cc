// Clock, restart and the state directory on Windows.
#include "client/win32_text.h"

#include <knownfolders.h>
#include <shlobj.h>

#include <chrono>
#include <string>
#include <thread>

#include "client/system.h"

namespace apm::client {
namespace {

// Even an administrator's token holds SeShutdownPrivilege disabled; it must be switched on.
Status EnableShutdownPrivilege() {
  HANDLE token = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, &token)) {
    return Status::PermissionDenied("cannot open the process token: " +
                                    DescribeWin32Error(GetLastError()));
  }
  TOKEN_PRIVILEGES privileges{};
  privileges.PrivilegeCount = 1;
  privileges.Privileges[0].Attributes = SE_PRIVILEGE_ENABLED;
  DWORD error = ERROR_SUCCESS;
  if (!LookupPrivilegeValueW(nullptr, L"SeShutdownPrivilege", &privileges.Privileges[0].Luid)) {
    error = GetLastError();
  } else if (!AdjustTokenPrivileges(token, FALSE, &privileges, 0, nullptr, nullptr)) {
    error = GetLastError();
  } else {
    error = GetLastError();  // ERROR_NOT_ALL_ASSIGNED when the token lacks the privilege
  }
  CloseHandle(token);
  if (error != ERROR_SUCCESS) {
    return Status::PermissionDenied("not allowed to restart this computer: " +
                                    DescribeWin32Error(error));
  }
  return Status::Ok();
}

class ShutdownRestarter : public Restarter {
 public:
  Status Restart() override {
    if (Status s = EnableShutdownPrivilege(); !s.ok()) return s;
    if (!InitiateSystemShutdownExW(nullptr, nullptr, 0, /*bForceAppsClosed=*/TRUE,
                                   /*bRebootAfterShutdown=*/TRUE,
                                   SHTDN_REASON_MAJOR_OPERATINGSYSTEM |
                                       SHTDN_REASON_MINOR_RECONFIG | SHTDN_REASON_FLAG_PLANNED)) {
      return Status::Unavailable("cannot restart this computer: " +
                                 DescribeWin32Error(GetLastError()));
    }
    return Status::Ok();
  }
};

std::wstring ProgramDataDir() {
  wchar_t* known = nullptr;
  if (SUCCEEDED(SHGetKnownFolderPath(FOLDERID_ProgramData, 0, nullptr, &known)) && known) {
    std::wstring dir(known);
    CoTaskMemFree(known);
    if (!dir.empty()) return dir;
  } else if (known) {
    CoTaskMemFree(known);
  }
  wchar_t buffer[MAX_PATH];
  const DWORD length = GetEnvironmentVariableW(L"ProgramData", buffer, MAX_PATH);
  if (length > 0 && length < MAX_PATH) return std::wstring(buffer, length);
  return L"C:\\ProgramData";
}

}  // namespace

std::unique_ptr<Restarter> NewPlatformRestarter() {
  return std::make_unique<ShutdownRestarter>();
}

std::string DefaultStateDir() {
  return Narrow(ProgramDataDir() + L"\\AutopilotManager");
}

}  // namespace apm::client
