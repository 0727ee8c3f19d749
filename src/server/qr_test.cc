#include "server/qr.h"

#include <gtest/gtest.h>

namespace apm {
namespace {

// The 7x7 finder pattern every QR code has in three corners.
bool HasFinderAt(const QrMatrix& m, int ox, int oy) {
  for (int y = 0; y < 7; ++y) {
    for (int x = 0; x < 7; ++x) {
      bool ring = x == 0 || y == 0 || x == 6 || y == 6;
      bool core = x >= 2 && x <= 4 && y >= 2 && y <= 4;
      char want = ring || core ? '1' : '0';
      if (m.rows[size_t(oy + y)][size_t(ox + x)] != want) return false;
    }
  }
  return true;
}

TEST(Qr, MatrixHasFinderPatternsAndSquareShape) {
  Result<QrMatrix> m = EncodeQr("https://apm.example.com/autopilot/0123456789abcdefABCDEF");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_GE(m->size, 21);
  EXPECT_EQ((m->size - 17) % 4, 0);  // versions are 21, 25, 29, ...
  ASSERT_EQ(m->rows.size(), size_t(m->size));
  for (const std::string& row : m->rows) {
    ASSERT_EQ(row.size(), size_t(m->size));
    EXPECT_EQ(row.find_first_not_of("01"), std::string::npos);
  }
  EXPECT_TRUE(HasFinderAt(*m, 0, 0));
  EXPECT_TRUE(HasFinderAt(*m, m->size - 7, 0));
  EXPECT_TRUE(HasFinderAt(*m, 0, m->size - 7));
  EXPECT_FALSE(HasFinderAt(*m, m->size - 7, m->size - 7));
}

TEST(Qr, LongerTextNeedsBiggerSymbol) {
  Result<QrMatrix> small = EncodeQr("https://a.example/x");
  Result<QrMatrix> big = EncodeQr(std::string(300, 'x'));
  ASSERT_TRUE(small.ok());
  ASSERT_TRUE(big.ok());
  EXPECT_GT(big->size, small->size);
}

}  // namespace
}  // namespace apm
