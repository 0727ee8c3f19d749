// The CSV files Get-WindowsAutopilotInfo writes and resellers hand over ("Device Serial Number",
// "Windows Product ID", "Hardware Hash", optionally "Group Tag" and "Assigned User"), read
// whether they are UTF-16 (what PowerShell 5's Out-File writes) or UTF-8, with or without a BOM,
// quoted or not. A row that cannot be read is reported with its line; the others stand.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace apm {

struct AutopilotCsvRow {
  int line = 0;  // in the file, from 1 (the header)
  std::string serial_number;
  std::string product_id;
  std::string hardware_hash;
  std::string group_tag;
  std::string assigned_user;
  std::string error;  // not empty: the row could not be read, and why
};

// The rows, or an error about the whole file (encoding, no header, a required column missing).
Result<std::vector<AutopilotCsvRow>> ParseAutopilotCsv(std::string_view bytes);

// The text in UTF-8: UTF-16 (LE or BE, by BOM, or LE guessed from its zero bytes) converted,
// a UTF-8 BOM dropped; an error for text that is neither.
Result<std::string> CsvTextAsUtf8(std::string_view bytes);

}  // namespace apm
