// The files `apm-server setup entra` writes: settings into apm.toml and the secret into the
// service's environment file, each edited in place so the admin's comments and other settings
// stay. Hand-written rather than toml++'s serializer, which drops comments.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace apm {

// A TOML string literal of `text` (toml++'s rendering: quoted and escaped).
std::string TomlString(std::string_view text);

// `text` with each top-level `key = value` set: an uncommented top-level line of the key is
// replaced; a key not there yet is added after the last top-level line under a comment
// `heading` (before the first [table]). `values` are TOML literals (TomlString for strings).
std::string SetTomlKeys(std::string_view text,
                        const std::vector<std::pair<std::string, std::string>>& values,
                        const std::string& heading);

// Whether `text` is valid TOML (the error names the line), checked before it is written.
Status CheckToml(std::string_view text);

// The value of NAME=value in an environment file (systemd's EnvironmentFile, also sourced by
// sh): the last assignment, quotes removed; nullopt when none.
std::optional<std::string> EnvFileValue(std::string_view text, std::string_view name);
// `text` with NAME set to `value`, single-quoted (both systemd and sh read that literally);
// other lines kept. An error for a value with a quote or a line break.
Result<std::string> SetEnvFileValue(std::string_view text, std::string_view name,
                                    std::string_view value);

// `text` without any assignment of NAME.
std::string RemoveEnvFileValue(std::string_view text, std::string_view name);

// Reads a whole file; "" for a missing one (an error for one that cannot be read).
Result<std::string> ReadTextFile(const std::string& path);
// Replaces `path` atomically (a temporary file beside it, then rename) with `mode`, keeping an
// existing file's owner and group where allowed; a new file takes those of `owner_like` when
// given (a key the service must read gets apm.toml's group).
Status WriteTextFile(const std::string& path, std::string_view text, unsigned mode,
                     const std::string& owner_like = "");

}  // namespace apm
