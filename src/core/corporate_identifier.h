// Autopilot device preparation (APv2) corporate identifiers: a Windows device is marked
// corporate when Intune holds "Manufacturer,Model,Serial" for it (docs/graph-facts.md#apv2).
// The rules Intune applies are only partly documented; these are the ones we apply before
// anything is sent, so a bad value is a clear 400 naming the field instead of Graph's
// "Invalid Device Identifier parameter found".
#pragma once

#include <optional>
#include <string>

#include "core/validation.h"

namespace apm {

struct CorporateIdentifier {
  std::string manufacturer;
  std::string model;
  std::string serial_number;

  // "Manufacturer,Model,Serial": commas between the parts, in this order.
  std::string Text() const;
};

// Makes the identifier of a device from what it reports: manufacturer and model lose their
// periods and commas (as the community script does, since a comma splits the tuple and Graph
// refuses periods there), the serial number its periods (Microsoft's instruction). A field that
// is empty afterwards, has a comma in the serial number, or holds control characters or more
// than 128 characters is an error naming that field.
std::optional<FieldError> MakeCorporateIdentifier(const std::string& manufacturer,
                                                  const std::string& model,
                                                  const std::string& serial_number,
                                                  CorporateIdentifier* out);

}  // namespace apm
