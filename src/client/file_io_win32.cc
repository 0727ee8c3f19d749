#include "client/file_io.h"
#include "client/win32_text.h"

namespace apm::client {

Status MoveFileOver(const std::string& from, const std::string& to) {
  // rename() on Windows refuses an existing target.
  if (!MoveFileExW(Widen(from).c_str(), Widen(to).c_str(),
                   MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
    return Status::Unavailable("cannot replace " + to + " (error " +
                               std::to_string(GetLastError()) + ")");
  }
  return Status::Ok();
}

Status MakeDirectory(const std::string& dir) {
  std::wstring wide = Widen(dir);
  if (CreateDirectoryW(wide.c_str(), nullptr) || GetLastError() == ERROR_ALREADY_EXISTS) {
    DWORD attributes = GetFileAttributesW(wide.c_str());
    if (attributes != INVALID_FILE_ATTRIBUTES && (attributes & FILE_ATTRIBUTE_DIRECTORY)) {
      return Status::Ok();
    }
    return Status::Unavailable("cannot create " + dir + ": a file is in the way");
  }
  return Status::Unavailable("cannot create " + dir + " (error " + std::to_string(GetLastError()) +
                             ")");
}

}  // namespace apm::client
