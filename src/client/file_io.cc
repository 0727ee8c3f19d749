#include "client/file_io.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace apm::client {

Result<std::string> ReadWholeFile(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) return Status::NotFound("cannot open " + path + ": " + std::strerror(errno));
  std::string text;
  char buffer[16384];
  size_t got;
  while ((got = std::fread(buffer, 1, sizeof buffer, file)) > 0) text.append(buffer, got);
  bool failed = std::ferror(file);
  std::fclose(file);
  if (failed) return Status::Unavailable("cannot read " + path);
  return text;
}

Status WriteFileAtomically(const std::string& path, const std::string& text) {
  std::string temp = path + ".tmp";
  std::FILE* file = std::fopen(temp.c_str(), "wb");
  if (!file) return Status::Unavailable("cannot write " + temp + ": " + std::strerror(errno));
  bool ok = std::fwrite(text.data(), 1, text.size(), file) == text.size();
  ok = std::fclose(file) == 0 && ok;
  if (!ok) return Status::Unavailable("cannot write " + temp);
  return MoveFileOver(temp, path);
}

Status MakeDirectories(const std::string& dir) {
  // Each prefix ending before a separator, then the whole path.
  for (size_t i = 1; i < dir.size(); ++i) {
    if ((dir[i] == '/' || dir[i] == '\\') && dir[i - 1] != ':') {
      if (Status s = MakeDirectory(dir.substr(0, i)); !s.ok()) return s;
    }
  }
  return MakeDirectory(dir);
}

void RemoveFile(const std::string& path) {
  std::remove(path.c_str());
}

}  // namespace apm::client
