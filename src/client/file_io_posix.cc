#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "client/file_io.h"

namespace apm::client {

Status MoveFileOver(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    return Status::Unavailable("cannot replace " + to + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

Status MakeDirectory(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) {
    struct stat st {};
    if (stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Status::Ok();
    return Status::Unavailable("cannot create " + dir + ": a file is in the way");
  }
  return Status::Unavailable("cannot create " + dir + ": " + std::strerror(errno));
}

}  // namespace apm::client
