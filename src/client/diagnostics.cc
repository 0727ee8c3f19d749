#include "client/diagnostics.h"

#include <algorithm>
#include <cstdio>
#include <string_view>

#include "core/base64.h"
#include "core/diagnostics_bundle.h"
#include "core/hardware_hash.h"
#include "core/sha256.h"

namespace apm::client {
namespace {

// The files are for the helpdesk, who reads English with the product's docs: not translated.
std::string Line(const std::string& key, const std::string& value) {
  std::string padded = key + ":";
  padded.resize(std::max<size_t>(padded.size() + 1, 24), ' ');
  return padded + value + "\n";
}

const char* OutcomeName(CheckOutcome outcome) {
  switch (outcome) {
    case CheckOutcome::kOk:
      return "ok";
    case CheckOutcome::kWarning:
      return "warning";
    case CheckOutcome::kFailed:
      break;
  }
  return "FAILED";
}

// What the hash says about the device, never the hash: the helpdesk compares it with the
// device and with the server's record (by fingerprint).
std::string DecodedHashLines(const DeviceFacts& facts) {
  if (facts.hardware_hash.empty()) {
    return Line("hash",
                "none" + (facts.hash_problem.empty() ? "" : " (" + facts.hash_problem + ")"));
  }
  std::string text = Line("hash fingerprint", HashFingerprint(facts.hardware_hash));
  Result<std::string> blob = Base64Decode(facts.hardware_hash);
  Result<HardwareHashInfo> info =
      blob.ok() ? DecodeHardwareHash(*blob) : Result<HardwareHashInfo>(blob.status());
  if (!info.ok()) return text + Line("hash decodes", "no: " + info.status().message());
  text += Line("hash bytes", std::to_string(blob->size()));
  text += Line("hash serial", info->serial);
  text += Line("hash manufacturer", info->manufacturer);
  text += Line("hash model", info->model);
  text += Line("hash sku", info->sku);
  text += Line("hash family", info->family);
  text += Line("hash smbios uuid", info->smbios_uuid);
  text += Line("hash architecture", info->architecture);
  text += Line("hash tpm", info->tpm_present ? "yes " + info->tpm_version : "no");
  text += Line("hash network adapters", std::to_string(info->macs.size()));
  text += Line("hash disks", std::to_string(info->disk_serials.size()));
  return text;
}

// `now` in UTC, in `format` with year, month, day, hour, minute, second.
std::string UtcTime(std::chrono::system_clock::time_point now, const char* format) {
  using namespace std::chrono;
  const sys_days day = floor<days>(now);
  const year_month_day date{day};
  const hh_mm_ss time{floor<seconds>(now - day)};
  char text[40];
  std::snprintf(text, sizeof text, format, int(date.year()), unsigned(date.month()),
                unsigned(date.day()), int(time.hours().count()), int(time.minutes().count()),
                int(time.seconds().count()));
  return text;
}

std::string Summary(const DiagnosticsReport& report, std::chrono::system_clock::time_point now,
                    const std::vector<std::string>& left_out) {
  std::string text = "Autopilot Manager client diagnostics (docs/client.md#diagnostics)\n\n";
  text += Line("ap version", report.version);
  text += Line("collected", UtcTime(now, "%04d-%02u-%02u %02d:%02d:%02d UTC"));
  text += Line("language", report.language);
  text +=
      Line("server", !report.server_problem.empty() ? "(not valid: " + report.server_problem + ")"
                     : report.server.empty()        ? "(none given)"
                                                    : report.server);
  text += Line("request id", report.request_id.empty() ? "(none saved)" : report.request_id);
  text += Line("autopilot profile", report.profile);
  if (report.facts) {
    const DeviceFacts& facts = *report.facts;
    text += Line("facts from", facts.source);
    text += Line("serial number", facts.serial_number);
    text += Line("manufacturer", facts.manufacturer);
    text += Line("model", facts.model);
    text += DecodedHashLines(facts);
  } else {
    text += Line("device facts", "unreadable: " + report.facts_error);
  }
  for (const std::string& file : left_out) text += Line("left out", file);
  return text;
}

std::string ChecksText(const DiagnosticsReport& report) {
  const std::optional<std::vector<CheckLine>>& checks = report.checks;
  if (!report.server_problem.empty()) {
    return "The checks did not run: the server address is not valid (" + report.server_problem +
           ").\n";
  }
  if (!checks) return "The checks did not run (no server given, or --skip-checks).\n";
  std::string text;
  for (const CheckLine& line : *checks) {
    text += std::string(OutcomeName(line.outcome)) + "\t" + line.name + "\t" + line.detail + "\n";
  }
  return text;
}

std::string LogText(const std::vector<std::string>& log) {
  std::string text;
  for (const std::string& line : log) text += line + "\n";
  return text;
}

}  // namespace

Result<std::string> DiagnosticsZip(const DiagnosticsReport& report,
                                   std::chrono::system_clock::time_point now, size_t max_bytes) {
  const HashSpotter hash(report.facts ? report.facts->hardware_hash : std::string());
  std::vector<std::string> left_out;
  std::vector<ZipEntry> system;
  for (const ZipEntry& file : report.system) {
    if (hash.Holds(file.bytes)) {
      left_out.push_back(file.name + " (it held part of the hardware hash)");
    } else {
      system.push_back(file);
    }
  }
  std::vector<std::string> log;
  for (const std::string& line : report.log) {
    if (!hash.Holds(line)) log.push_back(line);
  }
  if (log.size() < report.log.size()) {
    left_out.push_back(std::to_string(report.log.size() - log.size()) +
                       " log line(s) (they held part of the hardware hash)");
  }
  for (;;) {
    std::vector<ZipEntry> entries = {{"summary.txt", Summary(report, now, left_out)},
                                     {"checks.txt", ChecksText(report)},
                                     {"ap.log", LogText(log)}};
    entries.insert(entries.end(), system.begin(), system.end());
    Result<std::string> zip = ZipStored(entries, now);
    if (!zip.ok() || zip->size() <= max_bytes) return zip;
    if (system.empty()) {
      return Status::ResourceExhausted("the diagnostics are larger than " +
                                       std::to_string(max_bytes) + " bytes without system files");
    }
    auto largest = std::max_element(system.begin(), system.end(), [](const auto& a, const auto& b) {
      return a.bytes.size() < b.bytes.size();
    });
    left_out.push_back(largest->name + " (" + std::to_string(largest->bytes.size()) +
                       " bytes, over the size limit)");
    system.erase(largest);
  }
}

std::string DiagnosticsFileName(const std::string& serial,
                                std::chrono::system_clock::time_point now) {
  // Cut so the name stays within what the server takes (ValidDiagnosticsFileName).
  std::string safe = serial.empty() ? "unknown" : serial.substr(0, 60);
  for (char& c : safe) {
    const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '.';
    if (!plain) c = '_';
  }
  return "ap-diagnostics-" + safe + "-" + UtcTime(now, "%04d%02u%02u-%02d%02d%02d") + ".zip";
}

}  // namespace apm::client
