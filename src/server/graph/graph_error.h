// Errors of Microsoft Graph and of the Autopilot service (DDS), turned into values a job can
// act on and a user can read. Facts: docs/graph-facts.md#errors, #dds-error-codes, #throttling.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace apm {

struct GraphError {
  int http_status = 0;     // 0: no answer (transport error)
  std::string code;        // Graph's error.code, e.g. "BadRequest", "Request_ResourceNotFound"
  std::string message;     // Graph's message, or Intune's nested "Message" when it wraps one
  std::string request_id;  // innerError.request-id, for support cases
  std::optional<int> retry_after_seconds;  // Retry-After header, or Intune's "RetryAfter"
};

// Reads a Graph error answer. Bodies that are not Graph's shape keep the status and a short
// excerpt, never fail.
GraphError ParseGraphError(int http_status, std::string_view body,
                           std::optional<std::string_view> retry_after_header);

// Whether the same request may succeed later: throttling, server errors, timeouts, no answer.
bool IsRetryable(const GraphError& error);

// As a Status: kUnavailable for retryable errors, kNotFound for 404, kPermissionDenied for
// 401/403, kFailedPrecondition for 409, else kInvalidArgument; the message names Graph's code.
Status ToStatus(const GraphError& error);

// An Autopilot (DDS) import error, e.g. 806 ZtdDeviceAlreadyAssigned.
struct DdsError {
  int code;
  std::string_view name;
  std::string_view user_message;  // what the person at the device is told
};

// The known DDS errors; nullptr for codes the table does not know.
const DdsError* FindDdsError(int code);

// Words for a user: the table's text, or a generic one naming the code and Graph's name.
std::string DescribeDdsError(int code, std::string_view name);

}  // namespace apm
