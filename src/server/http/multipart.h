// multipart/form-data bodies (RFC 7578) as browsers send a form with a file input. Hand-written:
// Boost.Beast has no multipart reader and no Debian-packaged C++ library has one (reason in
// docs/architecture.md); fuzzed (tests/fuzz/multipart_fuzz.cc).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace apm {

// One field of a form: its name, the file name a browser sends with a file, the part's own
// Content-Type ("" when absent) and its bytes, a view into the body it was read from.
struct FormPart {
  std::string name;
  std::optional<std::string> filename;
  std::string content_type;
  std::string_view content;
};

// True when a Content-Type header value names multipart/form-data.
bool IsMultipartForm(std::string_view content_type);

// The form's parts, in order; an error naming what is wrong with the body or its Content-Type
// (no boundary, a part without a name, a body that ends inside a part, more than `max_parts`).
Result<std::vector<FormPart>> ParseMultipartForm(std::string_view content_type,
                                                 std::string_view body, size_t max_parts = 16);

}  // namespace apm
