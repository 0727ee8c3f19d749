#include "server/qr.h"

#include <qrencode.h>

#include <memory>

namespace apm {

Result<QrMatrix> EncodeQr(std::string_view text) {
  std::string s(text);
  std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
      QRcode_encodeString8bit(s.c_str(), 0, QR_ECLEVEL_Q), &QRcode_free);
  if (!code)
    return Status::Internal("QR encoding failed for a text of " + std::to_string(s.size()) +
                            " bytes");
  QrMatrix m;
  m.size = code->width;
  m.rows.reserve(size_t(m.size));
  for (int y = 0; y < m.size; ++y) {
    std::string row(size_t(m.size), '0');
    for (int x = 0; x < m.size; ++x) {
      if (code->data[y * m.size + x] & 1) row[size_t(x)] = '1';
    }
    m.rows.push_back(std::move(row));
  }
  return m;
}

}  // namespace apm
