// QR codes (libqrencode) as a module matrix, so clients need no QR library.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace apm {

struct QrMatrix {
  int size = 0;                   // modules per side, without the quiet zone
  std::vector<std::string> rows;  // each `size` characters of '1' (dark) and '0' (light)
};

// Error correction level Q (25%), like the original client: survives glare on a screen.
Result<QrMatrix> EncodeQr(std::string_view text);

}  // namespace apm
