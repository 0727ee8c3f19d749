// The decoded hardware hash as JSON: stored with each request for approvers, and printed by
// `apm-server hash decode`.
#pragma once

#include <nlohmann/json.hpp>

#include "core/hardware_hash.h"

namespace apm {

inline nlohmann::json HashFactsJson(const HardwareHashInfo& h) {
  return {{"serialNumber", h.serial},
          {"manufacturer", h.manufacturer},
          {"model", h.model},
          {"sku", h.sku},
          {"family", h.family},
          {"smbiosUuid", h.smbios_uuid},
          {"macAddresses", h.macs},
          {"diskSerials", h.disk_serials},
          {"tpmPresent", h.tpm_present},
          {"tpmVersion", h.tpm_version},
          {"architecture", h.architecture}};
}

}  // namespace apm
