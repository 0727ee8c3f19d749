#include "server/setup/setup_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <toml++/toml.h>

#include "core/text.h"

namespace apm {
namespace {

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    lines.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

// The key of a `key = value` line ("" for comments, blank lines and table headers).
std::string TomlKeyOf(std::string_view line) {
  const std::string t = Trim(line);
  if (t.empty() || t[0] == '#' || t[0] == '[') return {};
  size_t eq = t.find('=');
  if (eq == std::string::npos) return {};
  return Trim(std::string_view(t).substr(0, eq));
}

// Whether two `key = value` lines say the same (TOML-wise: "a" and 'a' are equal).
bool SameTomlLine(const std::string& a, const std::string& b) {
  try {
    return toml::parse(a) == toml::parse(b);
  } catch (const toml::parse_error&) {
    return false;
  }
}

bool IsTableHeader(std::string_view line) {
  const std::string t = Trim(line);
  return !t.empty() && t[0] == '[';
}

}  // namespace

std::string TomlString(std::string_view text) {
  std::ostringstream out;
  out << toml::value<std::string>(std::string(text));
  return out.str();
}

std::string SetTomlKeys(std::string_view text,
                        const std::vector<std::pair<std::string, std::string>>& values,
                        const std::string& heading) {
  std::vector<std::string> lines;
  for (std::string_view l : Lines(text)) lines.emplace_back(l);
  size_t first_table = lines.size();
  for (size_t i = 0; i < lines.size(); ++i) {
    if (IsTableHeader(lines[i])) {
      first_table = i;
      break;
    }
  }
  std::vector<std::string> added;
  for (const auto& [key, value] : values) {
    bool replaced = false;
    for (size_t i = 0; i < first_table; ++i) {
      if (TomlKeyOf(lines[i]) == key) {
        // A line that already holds the value stays as the admin wrote it (quotes, comment).
        if (!SameTomlLine(lines[i], key + " = " + value)) lines[i] = key + " = " + value;
        replaced = true;
      }
    }
    if (!replaced) added.push_back(key + " = " + value);
  }
  if (!added.empty()) {
    // After the last top-level line that is not blank, so a table keeps its own keys.
    size_t at = first_table;
    while (at > 0 && Trim(lines[at - 1]).empty()) --at;
    std::vector<std::string> block;
    if (at > 0) block.push_back("");
    block.push_back("# " + heading);
    block.insert(block.end(), added.begin(), added.end());
    if (at < lines.size() && !Trim(lines[at]).empty()) block.push_back("");
    lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(at), block.begin(), block.end());
  }
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

Status CheckToml(std::string_view text) {
  try {
    (void)toml::parse(text);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument(std::string(e.description()) + " at line " +
                                   std::to_string(e.source().begin.line));
  }
  return Status::Ok();
}

namespace {

bool AssignsEnv(std::string_view line, std::string_view name) {
  std::string trimmed = Trim(line);
  if (trimmed.starts_with("export ")) trimmed = Trim(std::string_view(trimmed).substr(7));
  std::string_view t = trimmed;
  return t.starts_with(name) && t.size() > name.size() && t[name.size()] == '=';
}

}  // namespace

std::optional<std::string> EnvFileValue(std::string_view text, std::string_view name) {
  std::optional<std::string> found;
  for (std::string_view line : Lines(text)) {
    if (!AssignsEnv(line, name)) continue;
    std::string assignment = Trim(line);
    std::string_view value = std::string_view(assignment).substr(assignment.find('=') + 1);
    if (value.size() >= 2 && (value.front() == '\'' || value.front() == '"') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    found = std::string(value);
  }
  return found;
}

Result<std::string> SetEnvFileValue(std::string_view text, std::string_view name,
                                    std::string_view value) {
  if (value.find_first_of("'\n\r") != std::string_view::npos) {
    return Status::InvalidArgument(std::string(name) +
                                   ": a value with a quote or a line break cannot be written");
  }
  const std::string assignment = std::string(name) + "='" + std::string(value) + "'";
  std::string out;
  bool replaced = false;
  for (std::string_view line : Lines(text)) {
    if (AssignsEnv(line, name)) {
      if (!replaced) out += assignment + "\n";
      replaced = true;
      continue;
    }
    out += std::string(line) + "\n";
  }
  if (!replaced) out += assignment + "\n";
  return out;
}

std::string RemoveEnvFileValue(std::string_view text, std::string_view name) {
  std::string out;
  for (std::string_view line : Lines(text)) {
    if (!AssignsEnv(line, name)) out += std::string(line) + "\n";
  }
  return out;
}

Result<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::string();
    return Status::Unavailable(path + ": " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Status WriteTextFile(const std::string& path, std::string_view text, unsigned mode,
                     const std::string& owner_like) {
  // A fresh name (mkstemp: O_EXCL, mode 600), never a fixed one a link could be put at.
  std::string temporary = path + ".XXXXXX";
  int fd = ::mkostemp(temporary.data(), O_CLOEXEC);
  if (fd < 0) return Status::Unavailable(path + ": " + std::strerror(errno));
  bool ok = ::fchmod(fd, mode) == 0;
  // A file replaced keeps its owner and group (/etc/apm/apm.toml is root:apm, read by the
  // service); changing them needs root, so a user's own file just stays theirs.
  struct stat replaced;
  if (ok &&
      (::stat(path.c_str(), &replaced) == 0 ||
       (!owner_like.empty() && ::stat(owner_like.c_str(), &replaced) == 0)) &&
      ::fchown(fd, replaced.st_uid, replaced.st_gid) != 0 && errno != EPERM) {
    ok = false;
  }
  size_t done = 0;
  while (ok && done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok || ::rename(temporary.c_str(), path.c_str()) != 0) {
    const int err = ok ? errno : saved;
    ::unlink(temporary.c_str());
    return Status::Unavailable(path + ": " + std::strerror(err));
  }
  return Status::Ok();
}

}  // namespace apm
