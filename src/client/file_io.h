// Small file operations on stdio and the OS, without iostreams or <filesystem>, which would
// double the size of ap.exe.
#pragma once

#include <string>

#include "core/status.h"

namespace apm::client {

Result<std::string> ReadWholeFile(const std::string& path);
// Writes a temporary file next to `path`, then replaces `path` with it.
Status WriteFileAtomically(const std::string& path, const std::string& text);
// Creates `dir` and its missing parents.
Status MakeDirectories(const std::string& dir);
void RemoveFile(const std::string& path);

// Platform twins (file_io_posix.cc / file_io_win32.cc).
Status MoveFileOver(const std::string& from, const std::string& to);
Status MakeDirectory(const std::string& dir);  // fine if it exists

}  // namespace apm::client
