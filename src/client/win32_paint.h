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
inline constexpr int kButtonWidth = 132;   // at least; wider when the words need it
inline constexpr int kButtonPadding = 16;  // each side of a button's words
inline constexpr int kButtonHeight = 34;
inline constexpr int kButtonGap = 12;

// What a piece of the window is to a screen reader.
enum class AccessibleRole {
  kText,            // read when reached
  kLiveText,        // also announced when it changes, at once: the current step, the reason
  kPoliteLiveText,  // announced when it changes, after what is being read: the countdown
  kGraphic,         // the QR code, by its description
};

// A piece of the window as a screen reader gets it: its words and where they are painted.
struct AccessibleText {
  std::string key;  // the same piece from one painting to the next: "step", "reason", …
  std::string name;
  RECT box;
  AccessibleRole role = AccessibleRole::kText;
};

// One consistent state of the window, copied from the worker's data under its mutex.
struct WindowContent {
  Screen screen;
  bool has_screen = false;
  std::vector<CheckLine> checks;
  bool asking = false;  // the buttons are shown: leave room for them
  std::optional<std::chrono::steady_clock::time_point> countdown_end;
  bool high_contrast = false;  // system colours instead of the tone's
};

// Where the first dark-or-light module of the QR code (inside the quiet zone) was painted.
struct QrPlacement {
  int left = 0;
  int top = 0;
  int module_px = 0;
  int modules = 0;
};

// What one painting did: the QR code's place, how many texts did not fit their boxes, how many
// characters the font had no glyph for, and how many words were too wide for their line.
struct PaintedWindow {
  QrPlacement qr;
  int clipped_texts = 0;
  int missing_glyphs = 0;
  int broken_words = 0;
  bool high_contrast = false;
  std::vector<AccessibleText> exposed;  // in reading order
};

// The fonts of the window at one DPI; Reset makes them again when the DPI changes.
class WindowFonts {
 public:
  WindowFonts() = default;
  ~WindowFonts();
  WindowFonts(const WindowFonts&) = delete;
  WindowFonts& operator=(const WindowFonts&) = delete;

  // `text_percent`: Windows' "Make text bigger" (100 to 225); the whole window grows with it
  // so the larger words still fit.
  void Reset(UINT dpi, int text_percent);
  // `pixels_at_96_dpi` scaled to the DPI and text size the fonts were made for.
  int Px(int pixels_at_96_dpi) const {
    return MulDiv(pixels_at_96_dpi, static_cast<int>(dpi_) * text_percent_, 96 * 100);
  }
  UINT dpi() const { return dpi_; }
  int text_percent() const { return text_percent_; }

  HFONT title = nullptr;
  HFONT body = nullptr;
  HFONT strong = nullptr;
  HFONT small = nullptr;

 private:
  void Delete();
  UINT dpi_ = 96;
  int text_percent_ = 100;
};

COLORREF BackgroundColorRef(Tone tone, bool high_contrast);

// Paints `content` over the whole of a `width` x `height` area of `dc`.
PaintedWindow PaintWindow(HDC dc, int width, int height, const WindowContent& content,
                          const WindowFonts& fonts);

// AP_UI_SNAPSHOT: `bitmap` (selected in no DC) as a 24-bit BMP at `path`, and beside it
// `path`.json with the tone, the QR placement, the size, the DPI and text size, the number of
// buttons, the texts (and buttons) that did not fit, the missing glyphs, the broken words, High
// Contrast, the number of texts a screen reader gets, and the language.
void WriteUiSnapshot(const std::wstring& path, HDC dc, HBITMAP bitmap, int width, int height,
                     const PaintedWindow& painted, Tone tone, const WindowFonts& fonts,
                     size_t buttons);

}  // namespace apm::client
