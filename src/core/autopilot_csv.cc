#include "core/autopilot_csv.h"

#include <optional>

#include "core/text.h"

namespace apm {
namespace {

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

Result<std::string> FromUtf16(std::string_view b, bool little_endian) {
  if (b.size() % 2 != 0) return Status::InvalidArgument("the UTF-16 text has an odd length");
  std::string out;
  out.reserve(b.size() / 2);
  auto unit = [&](size_t i) {
    auto lo = static_cast<unsigned char>(b[little_endian ? i : i + 1]);
    auto hi = static_cast<unsigned char>(b[little_endian ? i + 1 : i]);
    return uint32_t(lo | (hi << 8));
  };
  for (size_t i = 0; i < b.size(); i += 2) {
    uint32_t u = unit(i);
    if (u >= 0xD800 && u <= 0xDBFF && i + 2 < b.size()) {
      uint32_t low = unit(i + 2);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        AppendUtf8(out, 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00));
        i += 2;
        continue;
      }
    }
    if (u >= 0xD800 && u <= 0xDFFF) {
      return Status::InvalidArgument("the UTF-16 text has a broken surrogate pair");
    }
    AppendUtf8(out, u);
  }
  return out;
}

// RFC 4180 fields of one line; nullopt for an unterminated quote.
std::optional<std::vector<std::string>> Fields(std::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  if (quoted) return std::nullopt;
  for (std::string& f : fields) f = Trim(f);
  return fields;
}

}  // namespace

Result<std::string> CsvTextAsUtf8(std::string_view b) {
  if (b.starts_with("\xFF\xFE")) return FromUtf16(b.substr(2), true);
  if (b.starts_with("\xFE\xFF")) return FromUtf16(b.substr(2), false);
  if (b.starts_with("\xEF\xBB\xBF")) b.remove_prefix(3);
  // UTF-16LE without a BOM: ASCII text with a zero after every byte.
  if (b.size() >= 4 && b[0] != '\0' && b[1] == '\0' && b[3] == '\0') return FromUtf16(b, true);
  if (!IsValidUtf8(b) || b.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("the file is neither UTF-8 nor UTF-16 text");
  }
  return std::string(b);
}

Result<std::vector<AutopilotCsvRow>> ParseAutopilotCsv(std::string_view bytes) {
  Result<std::string> text = CsvTextAsUtf8(bytes);
  if (!text.ok()) return text.status();
  // Records end at a line break outside quotes (a quoted field may hold one); each keeps the
  // line it starts on.
  std::vector<std::pair<int, std::string>> lines;
  {
    int number = 1, starts_at = 1;
    bool quoted = false;
    std::string record;
    auto finish = [&] {
      if (!record.empty() && record.back() == '\r') record.pop_back();
      if (!Trim(record).empty()) lines.emplace_back(starts_at, std::move(record));
      record.clear();
    };
    for (char c : *text) {
      if (c == '\n') ++number;
      if (c == '"') quoted = !quoted;
      if (c == '\n' && !quoted) {
        finish();
        starts_at = number;
        continue;
      }
      record += c;
    }
    finish();
  }
  // Export-Csv without -NoTypeInformation starts with a "#TYPE …" line.
  if (!lines.empty() && lines.front().second.starts_with("#TYPE")) lines.erase(lines.begin());
  if (lines.empty()) return Status::InvalidArgument("the file is empty");
  std::optional<std::vector<std::string>> header = Fields(lines.front().second);
  if (!header) return Status::InvalidArgument("line 1: the header has an unterminated quote");
  int serial = -1, product = -1, hash = -1, tag = -1, user = -1;
  for (size_t i = 0; i < header->size(); ++i) {
    std::string name = AsciiLower((*header)[i]);
    if (name == "device serial number") serial = int(i);
    if (name == "windows product id") product = int(i);
    if (name == "hardware hash") hash = int(i);
    if (name == "group tag") tag = int(i);
    if (name == "assigned user") user = int(i);
  }
  if (serial < 0 || hash < 0) {
    return Status::InvalidArgument(
        "line 1: the header must name the columns \"Device Serial Number\" and \"Hardware "
        "Hash\" (as Get-WindowsAutopilotInfo writes them); it has: " +
        lines.front().second.substr(0, 200));
  }
  std::vector<AutopilotCsvRow> rows;
  for (size_t n = 1; n < lines.size(); ++n) {
    AutopilotCsvRow row;
    row.line = lines[n].first;
    std::optional<std::vector<std::string>> f = Fields(lines[n].second);
    if (lines[n].second.find('\0') != std::string::npos) {
      row.error = "contains a NUL character";
    } else if (!f) {
      row.error = "unterminated quote";
    } else if (f->size() != header->size()) {
      row.error = std::to_string(f->size()) + " columns where the header has " +
                  std::to_string(header->size());
    } else {
      auto at = [&](int i) { return i < 0 ? std::string() : (*f)[size_t(i)]; };
      row.serial_number = at(serial);
      row.product_id = at(product);
      row.hardware_hash = at(hash);
      row.group_tag = at(tag);
      row.assigned_user = at(user);
      if (row.serial_number.empty()) row.error = "no Device Serial Number";
      if (row.error.empty() && row.hardware_hash.empty()) row.error = "no Hardware Hash";
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace apm
