// What the pages show and accept, as pure functions: times, CSV fields, state and verification
// words, and the checks on what an approver types. Unit-tested without a server.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/request_state.h"
#include "server/store/request_store.h"
#include "server/web/pages.h"

namespace apm::web {

// "2026-11-27 08:21 UTC" from ms since the epoch.
std::string ShortTime(int64_t ms);
// Midnight UTC of a YYYY-MM-DD date, in ms; nullopt for anything else.
std::optional<int64_t> DayStartMs(const std::string& date);
// "08:21:35" (UTC), for timelines within a page that shows the date.
std::string TimeOfDay(int64_t ms);
// How long ago, in words ("3 min", "2 h", "5 days").
std::string Age(int64_t ms);
// A step's length, two units at most: "850 ms", "12 s", "4 min 10 s", "3 h 5 min", "2 d 4 h".
std::string Duration(int64_t ms);
// A local path to return to after sign-in; anything else (another site) becomes "/".
std::string LocalPath(const std::string& path);
// scheme://host[:port] of an absolute URL, or "".
std::string Origin(const std::string& url);
// A page frame with this title.
Frame Titled(std::string title);
// A field of a CSV line (RFC 4180) with its comma, formula characters defused for spreadsheets.
std::string CsvField(std::string text);
// Turns the last field's trailing comma into the line end.
void EndCsvLine(std::string* text);
// A table row's device columns.
TemplateData DeviceRow(const StoredRequest& r);
// A row of the import history: the device, the approval, the state and how it went.
TemplateData ImportRow(const StoredRequest& r, const ImportJob& job, const std::string& outcome,
                       const std::string& steps_text);
// "pending approval" for kPendingApproval.
std::string StateLabel(RequestState state);
// "806 ZtdDeviceAlreadyAssigned: message" (no code when 0, no ": " without a message).
std::string ErrorText(const RequestError& error);
// A request's steps on one line: "08:21:35 Waiting for approval · 08:22:01 …".
std::string StepsText(const std::vector<RequestStep>& steps);
// The options of a state filter, `selected` the one named (if any).
TemplateData StateOptions(const std::string& selected);
// What a verification verdict means, for the approver.
std::string VerificationText(const std::string& verification);
// The device name Autopilot accepts: up to 15 letters, digits and hyphens (or %SERIAL%-style
// macros, which Intune expands).
bool ValidDeviceName(const std::string& name);

}  // namespace apm::web
