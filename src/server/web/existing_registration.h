// What a request's page and the pending list say about a registration the tenant already holds
// for the device's serial, so an approver sees it before deciding (pure; unit-tested).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "server/importer/registration_check.h"
#include "server/web/pages.h"

namespace apm::web {

// Milliseconds since the epoch of "2026-11-25T16:20:00Z" (fractions allowed); nullopt otherwise.
std::optional<int64_t> TimestampMs(const std::string& iso);

// One sentence for the approver: "" while nothing is known or nothing was found.
std::string RegistrationSummary(const RegistrationCheck& check, int64_t now_ms);

// The rows of the existing-registration card (one registration).
TemplateData RegistrationRows(const FoundRegistration& found, int64_t now_ms);

}  // namespace apm::web
