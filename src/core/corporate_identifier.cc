#include "core/corporate_identifier.h"

#include <algorithm>

#include "core/text.h"

namespace apm {

namespace {

constexpr size_t kMaxPartLength = 128;

std::string Without(std::string text, std::string_view characters) {
  std::erase_if(text, [&](char c) { return characters.find(c) != std::string_view::npos; });
  return Trim(text);
}

std::optional<FieldError> CheckPart(std::string_view field, std::string& value) {
  if (auto e = CheckText(field, value, 0, kMaxPartLength)) return e;
  if (value.empty())
    return FieldError{std::string(field), "is required for a corporate identifier"};
  return std::nullopt;
}

}  // namespace

std::string CorporateIdentifier::Text() const {
  return manufacturer + "," + model + "," + serial_number;
}

std::optional<FieldError> MakeCorporateIdentifier(const std::string& manufacturer,
                                                  const std::string& model,
                                                  const std::string& serial_number,
                                                  CorporateIdentifier* out) {
  if (serial_number.find(',') != std::string::npos) {
    return FieldError{"serialNumber", "must not contain a comma in a corporate identifier"};
  }
  CorporateIdentifier id{Without(manufacturer, ".,"), Without(model, ".,"),
                         Without(serial_number, ".")};
  if (auto e = CheckPart("manufacturer", id.manufacturer)) return e;
  if (auto e = CheckPart("model", id.model)) return e;
  if (auto e = CheckPart("serialNumber", id.serial_number)) return e;
  *out = std::move(id);
  return std::nullopt;
}

}  // namespace apm
