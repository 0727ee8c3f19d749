// How the window of ap.exe looks: paints one state of it into a device context, and writes the
// AP_UI_SNAPSHOT files the Wine tests read (Windows only). Win32Ui owns the window; this file
// owns the pixels.
#pragma once

#include "client/win32_text.h"  // <windows.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "client/ui.h"

namespace apm::client {

// Sizes at 96 DPI, shared by the painting and the buttons the window places over it.
inline constexpr int kMargin = 32;
inline constexpr int kBottomMargin = 24;
inline constexpr int kButtonWidth = 132;
inline constexpr int kButtonHeight = 34;
inline constexpr int kButtonGap = 12;

// One consistent state of the window, copied from the worker's data under its mutex.
struct WindowContent {
  Screen screen;
  bool has_screen = false;
  std::vector<CheckLine> checks;
  bool asking = false;  // the buttons are shown: leave room for them
  std::optional<std::chrono::steady_clock::time_point> countdown_end;
};

// Where the first dark-or-light module of the QR code (inside the quiet zone) was painted.
struct QrPlacement {
  int left = 0;
  int top = 0;
  int module_px = 0;
  int modules = 0;
};

// The fonts of the window at one DPI; Reset makes them again when the DPI changes.
class WindowFonts {
 public:
  WindowFonts() = default;
  ~WindowFonts();
  WindowFonts(const WindowFonts&) = delete;
  WindowFonts& operator=(const WindowFonts&) = delete;

  void Reset(UINT dpi);
  // `pixels_at_96_dpi` scaled to the DPI the fonts were made for.
  int Px(int pixels_at_96_dpi) const {
    return MulDiv(pixels_at_96_dpi, static_cast<int>(dpi_), 96);
  }
  UINT dpi() const { return dpi_; }

  HFONT title = nullptr;
  HFONT body = nullptr;
  HFONT strong = nullptr;
  HFONT small = nullptr;

 private:
  void Delete();
  UINT dpi_ = 96;
};

COLORREF BackgroundColorRef(Tone tone);

// Paints `content` over the whole of a `width` x `height` area of `dc`.
QrPlacement PaintWindow(HDC dc, int width, int height, const WindowContent& content,
                        const WindowFonts& fonts);

// AP_UI_SNAPSHOT: `bitmap` (selected in no DC) as a 24-bit BMP at `path`, and beside it
// `path`.json with the tone, the QR placement, the size, the DPI and the number of buttons.
void WriteUiSnapshot(const std::wstring& path, HDC dc, HBITMAP bitmap, int width, int height,
                     const QrPlacement& qr, Tone tone, UINT dpi, size_t buttons);

}  // namespace apm::client
