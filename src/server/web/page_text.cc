#include "server/web/page_text.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>

#include "core/text.h"
#include "server/clock.h"

namespace apm::web {

// "2026-11-27 08:21 UTC" from ms since the epoch.
std::string ShortTime(int64_t ms) {
  std::string iso = FormatTimestamp(ms);  // 2026-11-27T08:21:35.532Z
  return iso.size() >= 16 ? iso.substr(0, 10) + " " + iso.substr(11, 5) + " UTC" : iso;
}

// Midnight UTC of a YYYY-MM-DD date, in ms; nullopt for anything else.
std::optional<int64_t> DayStartMs(const std::string& date) {
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return std::nullopt;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!std::isdigit(static_cast<unsigned char>(date[i]))) return std::nullopt;
  }
  std::chrono::year_month_day day{std::chrono::year(std::stoi(date.substr(0, 4))),
                                  std::chrono::month(unsigned(std::stoi(date.substr(5, 2)))),
                                  std::chrono::day(unsigned(std::stoi(date.substr(8, 2))))};
  if (!day.ok()) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::sys_days(day).time_since_epoch())
      .count();
}

// "08:21:35" (UTC), for timelines within a page that shows the date.
std::string TimeOfDay(int64_t ms) {
  std::string iso = FormatTimestamp(ms);
  return iso.size() >= 19 ? iso.substr(11, 8) : iso;
}

std::string Age(int64_t ms) {
  int64_t minutes = ms / 60'000;
  if (minutes < 1) return "less than a minute";
  if (minutes < 60) return std::to_string(minutes) + " min";
  if (minutes < 48 * 60)
    return std::to_string(minutes / 60) + " h " + std::to_string(minutes % 60) + " min";
  return std::to_string(minutes / 1440) + " days";
}

std::string Duration(int64_t ms) {
  if (ms < 1000) return std::to_string(std::max<int64_t>(ms, 0)) + " ms";
  const int64_t s = ms / 1000;
  auto two = [](int64_t big, const char* big_unit, int64_t small, const char* small_unit) {
    std::string text = std::to_string(big) + " " + big_unit;
    if (small) text += " " + std::to_string(small) + " " + small_unit;
    return text;
  };
  if (s < 60) return std::to_string(s) + " s";
  if (s < 3600) return two(s / 60, "min", s % 60, "s");
  if (s < 86'400) return two(s / 3600, "h", s % 3600 / 60, "min");
  return two(s / 86'400, "d", s % 86'400 / 3600, "h");
}

// A local path to return to after sign-in; anything else (another site) becomes "/".
std::string LocalPath(const std::string& path) {
  if (path.empty() || path[0] != '/' || (path.size() > 1 && (path[1] == '/' || path[1] == '\\'))) {
    return "/";
  }
  for (unsigned char c : path) {
    if (c < 0x21 || c == 0x7f) return "/";
  }
  return path;
}

std::string Origin(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  size_t path = url.find('/', scheme + 3);
  return path == std::string::npos ? url : url.substr(0, path);
}

Frame Titled(std::string title) {
  Frame frame;
  frame.title = std::move(title);
  return frame;
}

// A field of a CSV line (RFC 4180), with formula characters defused for spreadsheets.
std::string CsvField(std::string text) {
  if (!text.empty() && std::string_view("=+-@\t\r").find(text[0]) != std::string_view::npos) {
    text = "'" + text;
  }
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Turns the last field's trailing comma into the line end.
void EndCsvLine(std::string* text) {
  text->back() = '\r';
  *text += "\n";
}

// A table row's device columns.
TemplateData DeviceRow(const StoredRequest& r) {
  TemplateData row;
  row.set("id", r.id);
  row.set("serial", r.serial_number);
  row.set("manufacturer", r.manufacturer);
  row.set("model", r.model);
  return row;
}

std::string StateLabel(RequestState state) {
  std::string label(RequestStateName(state));
  for (char& c : label) c = c == '_' ? ' ' : c;
  return label;
}

std::string VerificationText(const std::string& verification) {
  if (verification == "verified")
    return "verified: the hash confirms serial, manufacturer and model";
  if (verification == "mismatch") return "MISMATCH: the hash contradicts what the device reported";
  if (verification == "unverifiable") return "not verifiable: the hash could not be decoded";
  return "not checked";
}

// The device name Autopilot accepts: up to 15 letters, digits and hyphens (or %SERIAL%-style
// macros, which Intune expands).
bool ValidDeviceName(const std::string& name) {
  if (name.size() > 15) return false;
  for (unsigned char c : name) {
    if (!std::isalnum(c) && c != '-' && c != '%') return false;
  }
  return true;
}

std::string ErrorText(const RequestError& error) {
  std::string code = error.code ? std::to_string(error.code) + " " : "";
  return code + error.name + (error.message.empty() ? "" : ": " + error.message);
}

std::string StepsText(const std::vector<RequestStep>& steps) {
  std::string text;
  for (const RequestStep& s : steps) {
    text += (text.empty() ? "" : " · ") + TimeOfDay(s.at) + " " +
            (s.step.empty() ? StateLabel(s.state) : s.step);
  }
  return text;
}

TemplateData StateOptions(const std::string& selected) {
  TemplateData states{TemplateData::type::list};
  for (RequestState s : kAllRequestStates) {
    TemplateData option;
    option.set("value", std::string(RequestStateName(s)));
    option.set("selected", selected == RequestStateName(s));
    states.push_back(option);
  }
  return states;
}

TemplateData ImportRow(const StoredRequest& r, const ImportJob& job, const std::string& outcome,
                       const std::string& steps_text) {
  TemplateData row = DeviceRow(r);
  row.set("group_tag", job.approval.group_tag);
  row.set("approver", job.approval.approver);
  row.set("comment", job.approval.comment);
  row.set("state", StateLabel(r.state));
  row.set("outcome", outcome);
  row.set("timeline", steps_text);
  row.set("finished", r.finished_at ? ShortTime(r.finished_at) : std::string("running"));
  row.set("approved", ShortTime(job.approved_at));
  row.set("approved_iso", FormatTimestamp(job.approved_at));
  return row;
}

}  // namespace apm::web
