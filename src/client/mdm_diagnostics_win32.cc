// What Windows' own MDM diagnostics say about Autopilot, for the helpdesk's bundle:
// `MdmDiagnosticsTool.exe -area Autopilot -cab FILE` (present on Windows 10 1809 and later),
// the cab opened in memory with Windows' own cabinet library (cabinet.dll's FDI, which
// decompresses what the tool writes), each file added as system/mdm/<name>. The bundle's hash
// filter (DiagnosticsZip) then leaves out every file that holds any part of the hash: the
// tool's registry export and its Autopilot JSON may hold it.
#include "client/win32_text.h"  // <windows.h>

#include <fcntl.h>
#include <fdi.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "client/diagnostics.h"
#include "core/text.h"

namespace apm::client {
namespace {

constexpr DWORD kToolTimeoutMs = 180'000;  // the tool gathers event logs: slow on a busy disk
constexpr size_t kMaxFileBytes = 4 * 1024 * 1024;  // an event log may be larger: named, left out
constexpr size_t kMaxCabBytes = 64 * 1024 * 1024;

std::wstring SystemDirectory() {
  wchar_t dir[MAX_PATH] = {};
  const UINT length = GetSystemDirectoryW(dir, MAX_PATH);
  return length > 0 && length < MAX_PATH ? std::wstring(dir, length) : L"C:\\Windows\\System32";
}

// Runs `command_line` without a window; its exit code, or a sentence saying why there is none.
std::string RunHidden(const std::wstring& program, std::wstring command_line, DWORD timeout_ms) {
  STARTUPINFOW startup{};
  startup.cb = sizeof startup;
  PROCESS_INFORMATION process{};
  if (!CreateProcessW(program.c_str(), command_line.data(), nullptr, nullptr, FALSE,
                      CREATE_NO_WINDOW, nullptr, nullptr, &startup, &process)) {
    return "did not start (" + DescribeWin32Error(GetLastError()) + ")";
  }
  std::string outcome;
  if (WaitForSingleObject(process.hProcess, timeout_ms) == WAIT_TIMEOUT) {
    TerminateProcess(process.hProcess, 1);
    outcome = "stopped after " + std::to_string(timeout_ms / 1000) + " s";
  } else {
    DWORD code = 0;
    GetExitCodeProcess(process.hProcess, &code);
    outcome = "exit code " + std::to_string(code);
  }
  CloseHandle(process.hThread);
  CloseHandle(process.hProcess);
  return outcome;
}

Result<std::string> ReadFileBytes(const std::wstring& path) {
  HANDLE file = CreateFileW(path.c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr, OPEN_EXISTING,
                            FILE_ATTRIBUTE_NORMAL, nullptr);
  if (file == INVALID_HANDLE_VALUE) return Status::NotFound(DescribeWin32Error(GetLastError()));
  LARGE_INTEGER size{};
  GetFileSizeEx(file, &size);
  if (size.QuadPart > LONGLONG(kMaxCabBytes)) {
    CloseHandle(file);
    return Status::ResourceExhausted(std::to_string(size.QuadPart) + " bytes");
  }
  std::string bytes(static_cast<size_t>(size.QuadPart), '\0');
  DWORD read = 0;
  const BOOL ok = ReadFile(file, bytes.data(), static_cast<DWORD>(bytes.size()), &read, nullptr);
  CloseHandle(file);
  if (!ok) return Status::Unavailable(DescribeWin32Error(GetLastError()));
  bytes.resize(read);
  return bytes;
}

// The cabinet library reads and writes through these: the cab is a buffer, each file it holds
// another. FDI's callbacks carry no context, so the one extraction at a time lives here.
struct MemoryFile {
  std::string name;
  std::string bytes;
  size_t position = 0;
  bool skipped = false;
};
struct Extraction {
  std::vector<MemoryFile> files;  // [0] is the cab; a handle is an index + 1
  std::string notes;
};
Extraction* extraction = nullptr;

MemoryFile* FileOf(INT_PTR handle) {
  if (!extraction || handle < 1 || size_t(handle) > extraction->files.size()) return nullptr;
  return &extraction->files[size_t(handle) - 1];
}

FNALLOC(CabAlloc) {
  return std::malloc(cb);
}
FNFREE(CabFree) {
  std::free(pv);
}
FNOPEN(CabOpen) {
  (void)pszFile;
  (void)oflag;
  (void)pmode;
  return 1;  // only the cab is opened by name
}
FNREAD(CabRead) {
  MemoryFile* file = FileOf(hf);
  if (!file) return UINT(-1);
  if (file->position >= file->bytes.size()) return 0;  // at or past the end (a seek may go there)
  const size_t n = std::min<size_t>(cb, file->bytes.size() - file->position);
  std::memcpy(pv, file->bytes.data() + file->position, n);
  file->position += n;
  return UINT(n);
}
FNWRITE(CabWrite) {
  MemoryFile* file = FileOf(hf);
  if (!file) return UINT(-1);
  if (!file->skipped) file->bytes.append(static_cast<const char*>(pv), cb);
  if (file->bytes.size() > kMaxFileBytes) {
    file->skipped = true;
    file->bytes.clear();
  }
  return cb;
}
FNCLOSE(CabClose) {
  (void)hf;
  return 0;
}
FNSEEK(CabSeek) {
  MemoryFile* file = FileOf(hf);
  if (!file) return -1;
  const long long base = seektype == SEEK_SET   ? 0
                         : seektype == SEEK_CUR ? (long long)file->position
                                                : (long long)file->bytes.size();
  const long long target = base + dist;
  if (target < 0) return -1;
  file->position = size_t(target);
  return __LONG32(target);
}

// A cab names its files in the ANSI code page unless it flags a name as UTF-8.
std::string CabFileName(const char* name, USHORT attributes) {
  if (!name) return "unnamed";
  if (attributes & _A_NAME_IS_UTF) return name;
  return Narrow(Widen(name, CP_ACP));
}

FNFDINOTIFY(CabNotify) {
  switch (fdint) {
    case fdintCOPY_FILE: {
      extraction->files.push_back({CabFileName(pfdin->psz1, pfdin->attribs), "", 0, false});
      return INT_PTR(extraction->files.size());
    }
    case fdintCLOSE_FILE_INFO:
      return TRUE;
    default:
      return 0;
  }
}

// A cab's file name as one line of the notes can show it: printable ASCII (no control or
// direction characters), short; anything else as '?'.
std::string ShownName(const std::string& name) {
  std::string shown = name.substr(0, 120);
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
  }
  return shown;
}

// Each file of `cab` as system/mdm/<name>; what could not be read goes to `notes`.
std::vector<ZipEntry> OpenCab(std::string cab, std::string* notes) {
  Extraction state;
  state.files.push_back({"(cab)", std::move(cab), 0, false});
  extraction = &state;
  ERF error{};
  std::vector<ZipEntry> out;
  HFDI fdi = FDICreate(CabAlloc, CabFree, CabOpen, CabRead, CabWrite, CabClose, CabSeek, cpuUNKNOWN,
                       &error);
  if (!fdi) {
    *notes += "the cabinet library did not start (error " + std::to_string(error.erfOper) + ")\n";
  } else {
    char name[] = "autopilot.cab";
    char path[] = "";
    if (!FDICopy(fdi, name, path, 0, CabNotify, nullptr, nullptr)) {
      *notes +=
          "the report could not be opened (cabinet error " + std::to_string(error.erfOper) + ")\n";
    }
    FDIDestroy(fdi);
  }
  extraction = nullptr;
  std::set<std::string> taken;
  for (size_t i = 1; i < state.files.size(); ++i) {
    MemoryFile& file = state.files[i];
    std::string name = file.name;
    for (char& c : name) {
      if (c == '\\') c = '/';
    }
    if (file.skipped) {
      *notes +=
          "left out: " + ShownName(name) + " (over " + std::to_string(kMaxFileBytes) + " bytes)\n";
    } else if (!IsValidUtf8(name)) {
      *notes += "left out: " + ShownName(name) + " (its name is not UTF-8)\n";
    } else if (const std::string_view problem = ZipNameProblem(name); !problem.empty()) {
      *notes += "left out: " + ShownName(name) + " (its name " + std::string(problem) + ")\n";
    } else if (!taken.insert(name).second) {
      *notes += "left out: " + ShownName(name) + " (a second file of that name)\n";
    } else {
      out.push_back({"system/mdm/" + name, std::move(file.bytes)});
    }
  }
  return out;
}

}  // namespace

std::vector<ZipEntry> CollectMdmDiagnostics() {
  const std::wstring system = SystemDirectory();
  const std::wstring tool = system + L"\\MdmDiagnosticsTool.exe";
  std::string notes = "MdmDiagnosticsTool.exe -area Autopilot\n";
  if (GetFileAttributesW(tool.c_str()) == INVALID_FILE_ATTRIBUTES) {
    return {{"system/mdm-diagnostics.txt", notes + "not on this Windows\n"}};
  }
  wchar_t temp[MAX_PATH] = {};
  GetTempPathW(MAX_PATH, temp);
  const std::wstring work =
      std::wstring(temp) + L"apm-mdm-" + std::to_wstring(GetCurrentProcessId());
  const std::wstring cab = work + L"\\autopilot.cab";
  CreateDirectoryW(work.c_str(), nullptr);
  notes +=
      "the tool: " +
      RunHidden(tool, L"\"" + tool + L"\" -area Autopilot -cab \"" + cab + L"\"", kToolTimeoutMs) +
      "\n";
  std::vector<ZipEntry> out;
  if (Result<std::string> bytes = ReadFileBytes(cab); bytes.ok()) {
    out = OpenCab(std::move(*bytes), &notes);
  } else {
    notes += "no report: " + bytes.status().message() + "\n";
  }
  DeleteFileW(cab.c_str());
  RemoveDirectoryW(work.c_str());
  notes += std::to_string(out.size()) + " file(s) from its report\n";
  out.insert(out.begin(), {"system/mdm-diagnostics.txt", notes});
  return out;
}

}  // namespace apm::client
