// MdmDiagnosticsTool.exe for the Wine test (Wine has none): `-area Autopilot -cab FILE` writes
// FILE as the real tool does, a copy of the cab the test made (AP_FAKE_MDM_CAB names it).
#include <windows.h>

#include <cwchar>

int wmain(int argc, wchar_t** argv) {
  const wchar_t* cab = nullptr;
  bool autopilot = false;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::wcscmp(argv[i], L"-cab") == 0) cab = argv[i + 1];
    if (std::wcscmp(argv[i], L"-area") == 0)
      autopilot = std::wcscmp(argv[i + 1], L"Autopilot") == 0;
  }
  wchar_t source[1024] = {};
  const DWORD length = GetEnvironmentVariableW(L"AP_FAKE_MDM_CAB", source, 1024);
  if (!cab || !autopilot || length == 0 || length >= 1024) return 2;
  return CopyFileW(source, cab, FALSE) ? 0 : 3;
}
