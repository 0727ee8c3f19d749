#include "client/win32_paint.h"

#include <algorithm>
#include <iterator>
#include <string>
#include <utility>

#include "client/catalogue.h"

namespace apm::client {

using std::chrono::steady_clock;

namespace {

constexpr int kQrMaxSide = 260;     // the QR code with its quiet zone, at most
constexpr int kQrQuietModules = 4;  // the quiet zone the QR specification asks for
constexpr int kLabelWidth = 124;
constexpr int kOutcomeWordWidth = 76;

COLORREF ToColor(Rgb c) {
  return RGB(c.r, c.g, c.b);
}

// White text dimmed towards the background, for labels and secondary lines.
COLORREF Dimmed(Rgb background, int white_percent) {
  auto mix = [&](unsigned char b) {
    return static_cast<BYTE>((255 * white_percent + b * (100 - white_percent)) / 100);
  };
  return RGB(mix(background.r), mix(background.g), mix(background.b));
}

const char* ToneName(Tone tone) {
  switch (tone) {
    case Tone::kSuccess:
      return "success";
    case Tone::kFailure:
      return "failure";
    case Tone::kWorking:
      break;
  }
  return "working";
}

std::string OutcomeWord(CheckOutcome outcome) {
  switch (outcome) {
    case CheckOutcome::kWarning:
      return Text(Msg::kOutcomeWarning);
    case CheckOutcome::kFailed:
      return Text(Msg::kOutcomeFailed);
    case CheckOutcome::kOk:
      break;
  }
  return Text(Msg::kOutcomeOk);
}

// Windows' UI font for the language, and its character set, which lets the font mapper pick
// a font that has the glyphs when that face is missing (as under Wine).
struct UiFont {
  const wchar_t* face;
  BYTE charset;
};

UiFont UiFontFor(const std::string& language) {
  if (language == "ja") return {L"Yu Gothic UI", SHIFTJIS_CHARSET};
  if (language == "zh-Hans") return {L"Microsoft YaHei UI", GB2312_CHARSET};
  if (language == "ko") return {L"Malgun Gothic", HANGUL_CHARSET};
  return {L"Segoe UI", DEFAULT_CHARSET};
}

HFONT MakeFont(int pixel_height, int weight) {
  const UiFont font = UiFontFor(CurrentLanguage());
  return CreateFontW(-pixel_height, 0, 0, 0, weight, FALSE, FALSE, FALSE, font.charset,
                     OUT_DEFAULT_PRECIS, CLIP_DEFAULT_PRECIS, CLEARTYPE_QUALITY,
                     DEFAULT_PITCH | FF_SWISS, font.face);
}

// Word-wrapped; a word longer than the line is broken (CJK text has no spaces to break at).
constexpr UINT kWrapped = DT_WORDBREAK | DT_EDITCONTROL;

// Draws `text` in `box`; returns the area the whole text needs (wider or taller than `box`
// when some of it could not be shown).
RECT DrawTextIn(HDC dc, HFONT font, COLORREF color, const std::string& text, RECT box,
                UINT flags = kWrapped) {
  RECT measured = box;
  measured.bottom = measured.top;
  if (text.empty() || box.right <= box.left || box.bottom <= box.top) return measured;
  const std::wstring wide = Widen(text);
  SelectObject(dc, font);
  SetTextColor(dc, color);
  flags |= DT_LEFT | DT_TOP | DT_NOPREFIX;
  DrawTextW(dc, wide.c_str(), static_cast<int>(wide.size()), &measured, flags | DT_CALCRECT);
  DrawTextW(dc, wide.c_str(), static_cast<int>(wide.size()), &box, flags);
  return measured;
}

// Characters of `text` the font selected in `dc` has no glyph for (drawn as boxes, or by a
// linked font on Windows).
int MissingGlyphs(HDC dc, const std::string& text) {
  const std::wstring wide = Widen(text);
  if (wide.empty()) return 0;
  std::vector<WORD> glyphs(wide.size());
  if (GetGlyphIndicesW(dc, wide.c_str(), static_cast<int>(wide.size()), glyphs.data(),
                       GGI_MARK_NONEXISTING_GLYPHS) == GDI_ERROR) {
    return 0;
  }
  int missing = 0;
  for (size_t i = 0; i < wide.size(); ++i) missing += glyphs[i] == 0xFFFF && wide[i] >= L' ';
  return missing;
}

// Words of `text` wider than `width` in the font selected in `dc`: DT_EDITCONTROL breaks them
// inside, which is how CJK text wraps but is a layout fault for a word of a spaced script.
int WordsWiderThan(HDC dc, const std::string& text, int width) {
  const std::wstring wide = Widen(text);
  int broken = 0;
  size_t start = 0;
  while (start < wide.size()) {
    size_t end = wide.find(L' ', start);
    if (end == std::wstring::npos) end = wide.size();
    const std::wstring_view word(wide.data() + start, end - start);
    const bool spaced_script =
        std::all_of(word.begin(), word.end(), [](wchar_t c) { return c < 0x2E80; });
    SIZE extent{};
    if (spaced_script && !word.empty() &&
        GetTextExtentPoint32W(dc, word.data(), static_cast<int>(word.size()), &extent) &&
        extent.cx > width) {
      ++broken;
    }
    start = end + 1;
  }
  return broken;
}

int LineHeight(HDC dc, HFONT font) {
  SelectObject(dc, font);
  TEXTMETRICW metrics;
  GetTextMetricsW(dc, &metrics);
  return metrics.tmHeight;
}

// Splits `text` into lines no wider than `width`: after a '/' if it can, else anywhere (a URL
// has no spaces to break at).
std::vector<std::wstring> WrapAnywhere(HDC dc, HFONT font, const std::wstring& text, int width) {
  std::vector<std::wstring> lines;
  SelectObject(dc, font);
  size_t start = 0;
  while (start < text.size()) {
    int fit = 0;
    SIZE extent;
    GetTextExtentExPointW(dc, text.c_str() + start, static_cast<int>(text.size() - start), width,
                          &fit, nullptr, &extent);
    size_t count = std::max<size_t>(1, static_cast<size_t>(fit));
    if (start + count < text.size()) {
      // Prefer to break after a '/' (between the parts of a URL) when the line has one.
      const size_t slash = text.find_last_of(L'/', start + count - 1);
      if (slash != std::wstring::npos && slash > start && slash + 1 < start + count) {
        count = slash + 1 - start;
      }
    }
    lines.push_back(text.substr(start, count));
    start += count;
  }
  return lines;
}

// "Checks: OK 5, warnings 1, failed 2" (counts after words: no plural forms to translate)
std::string CheckSummary(const std::vector<CheckLine>& lines) {
  int ok = 0, warnings = 0, failed = 0;
  for (const CheckLine& line : lines) {
    (line.outcome == CheckOutcome::kOk        ? ok
     : line.outcome == CheckOutcome::kWarning ? warnings
                                              : failed)++;
  }
  return Text(Msg::kChecksSummary,
              {std::to_string(ok), std::to_string(warnings), std::to_string(failed)});
}

// The colours of one painting: the tone's, or the system's under a High Contrast theme (whose
// users chose those colours to read at all).
struct Palette {
  COLORREF background;
  COLORREF text;
  COLORREF label;
  COLORREF secondary;
};

Palette PaletteFor(Tone tone, bool high_contrast) {
  if (high_contrast) {
    const COLORREF text = GetSysColor(COLOR_WINDOWTEXT);
    return {GetSysColor(COLOR_WINDOW), text, text, text};
  }
  const Rgb background = ToneBackground(tone);
  return {ToColor(background), RGB(255, 255, 255), Dimmed(background, 72), Dimmed(background, 85)};
}

// Paints one WindowContent from top to bottom; `y_` is where the next block starts.
class Painter {
 public:
  Painter(HDC dc, int width, int height, const WindowContent& content, const WindowFonts& fonts)
      : dc_(dc),
        width_(width),
        height_(height),
        content_(content),
        screen_(content.screen),
        fonts_(fonts),
        palette_(PaletteFor(content.screen.tone, content.high_contrast)),
        margin_(fonts.Px(kMargin)),
        // Above the buttons while they are shown.
        bottom_(height - fonts.Px(kBottomMargin) -
                (content.asking ? fonts.Px(kButtonHeight) + fonts.Px(16) : 0)),
        text_right_(width - margin_) {}

  PaintedWindow Paint() {
    FillBackground();
    y_ = Px(24);
    DrawExposed("title", fonts_.title, palette_.text, screen_.title, Box(width_ - margin_));
    y_ += Px(16);
    const QrPlacement qr = DrawQr();
    DrawFacts();
    DrawMessages();
    // Read after the instruction that tells what it is for.
    if (qr_description_) exposed_.push_back(*qr_description_);
    // The checks, until there is a request to show.
    if (screen_.request_id.empty() && !content_.checks.empty()) DrawChecks();
    DrawCountdown();
    return {qr,
            clipped_texts_,
            missing_glyphs_,
            broken_words_,
            content_.high_contrast,
            std::move(exposed_)};
  }

 private:
  int Px(int pixels_at_96_dpi) const { return fonts_.Px(pixels_at_96_dpi); }
  // DrawTextIn, counting a text that does not fit its box (one that ends in "…" on purpose
  // is not counted); returns the height used.
  int Draw(HFONT font, COLORREF color, const std::string& text, RECT box, UINT flags = kWrapped) {
    const RECT needed = DrawTextIn(dc_, font, color, text, box, flags);
    const bool no_room = !text.empty() && (box.right <= box.left || box.bottom <= box.top);
    const bool cut = no_room || needed.right > box.right || needed.bottom > box.bottom;
    if (cut && !(flags & DT_END_ELLIPSIS)) ++clipped_texts_;
    missing_glyphs_ += MissingGlyphs(dc_, text);
    if (flags & DT_WORDBREAK) broken_words_ += WordsWiderThan(dc_, text, box.right - box.left);
    return needed.bottom - needed.top;
  }
  // Draw, moving y_ below the text, which a screen reader gets too.
  void DrawExposed(const char* key, HFONT font, COLORREF color, const std::string& text, RECT box,
                   AccessibleRole role = AccessibleRole::kText) {
    const int height = Draw(font, color, text, box);
    if (text.empty()) return;
    exposed_.push_back({key, text, RECT{box.left, box.top, box.right, box.top + height}, role});
    y_ += height;
  }
  // From the margin at the current line to `right`, down to the bottom of the text area.
  RECT Box(int right) const { return RECT{margin_, y_, right, bottom_}; }

  void FillBackground() {
    RECT all{0, 0, width_, height_};
    HBRUSH brush = CreateSolidBrush(palette_.background);
    FillRect(dc_, &all, brush);
    DeleteObject(brush);
    SetBkMode(dc_, TRANSPARENT);
  }

  // The QR code on the right, in whole pixels per module so every module edge is sharp, with
  // the approval link under it so a phone-less user can type it. Narrows the text column.
  QrPlacement DrawQr() {
    if (screen_.qr_rows.empty()) return {};
    const int top = y_;
    const int modules = static_cast<int>(screen_.qr_rows.size());
    const int with_quiet_zone = modules + 2 * kQrQuietModules;
    const int link_room =
        screen_.approval_url.empty() ? 0 : 3 * LineHeight(dc_, fonts_.small) + Px(8);
    const int fit = std::min(Px(kQrMaxSide), bottom_ - top - link_room);
    const int module_px = std::max(1, fit / with_quiet_zone);
    const int side = module_px * with_quiet_zone;
    const int left = width_ - margin_ - side;
    RECT square{left, top, left + side, top + side};
    FillRect(dc_, &square, static_cast<HBRUSH>(GetStockObject(WHITE_BRUSH)));
    const QrPlacement qr{left + kQrQuietModules * module_px, top + kQrQuietModules * module_px,
                         module_px, modules};
    HBRUSH dark = static_cast<HBRUSH>(GetStockObject(BLACK_BRUSH));
    for (int row = 0; row < modules; ++row) {
      const std::string& bits = screen_.qr_rows[row];
      for (int column = 0; column < static_cast<int>(bits.size()); ++column) {
        if (bits[column] != '1') continue;
        RECT module{qr.left + column * module_px, qr.top + row * module_px,
                    qr.left + (column + 1) * module_px, qr.top + (row + 1) * module_px};
        FillRect(dc_, &module, dark);
      }
    }
    DrawLinkUnder(left, top + side + Px(8), side);
    qr_description_ = AccessibleText{"qr", Text(Msg::kQrDescription, {screen_.approval_url}),
                                     square, AccessibleRole::kGraphic};
    text_right_ = left - margin_;
    return qr;
  }

  void DrawLinkUnder(int left, int top, int width) {
    if (screen_.approval_url.empty()) return;
    SelectObject(dc_, fonts_.small);
    SetTextColor(dc_, palette_.secondary);
    const int line_height = LineHeight(dc_, fonts_.small);
    for (const std::wstring& line :
         WrapAnywhere(dc_, fonts_.small, Widen(screen_.approval_url), width)) {
      RECT box{left, top, left + width, top + line_height};
      DrawTextW(dc_, line.c_str(), static_cast<int>(line.size()), &box,
                DT_CENTER | DT_TOP | DT_SINGLELINE | DT_NOPREFIX);
      top += line_height;
    }
  }

  // The device and the request: a label column and a value column.
  void DrawFacts() {
    const std::pair<Msg, const std::string*> facts[] = {
        {Msg::kLabelManufacturer, &screen_.device.manufacturer},
        {Msg::kLabelModel, &screen_.device.model},
        {Msg::kLabelSerialNumber, &screen_.device.serial_number},
    };
    const bool any_fact = std::any_of(std::begin(facts), std::end(facts),
                                      [](const auto& fact) { return !fact.second->empty(); });
    if (any_fact) {
      for (const auto& [label, value] : facts) DrawFact(label, *value);
    }
    if (!screen_.request_id.empty()) DrawFact(Msg::kLabelRequestId, screen_.request_id);
    if (any_fact || !screen_.request_id.empty()) y_ += Px(12);
  }

  void DrawFact(Msg label, const std::string& value) {
    const int value_left = margin_ + Px(kLabelWidth);
    const int label_height = Draw(fonts_.small, palette_.label, Text(label),
                                  RECT{margin_, y_ + Px(2), value_left - Px(8), bottom_});
    const int value_height = Draw(fonts_.body, palette_.text, value.empty() ? "-" : value,
                                  RECT{value_left, y_, text_right_, bottom_});
    const int height = std::max(label_height + Px(2), value_height);
    // One line for a screen reader: "Serial number: PF3ABCDE".
    exposed_.push_back({std::string(MsgName(label)),
                        Text(label) + ": " + (value.empty() ? "-" : value),
                        RECT{margin_, y_, text_right_, y_ + height}});
    y_ += height + Px(4);
  }

  // What to do, the current step with its time, and the reason.
  void DrawMessages() {
    DrawExposed("instruction", fonts_.body, palette_.text, screen_.instruction, Box(text_right_));
    if (!screen_.instruction.empty()) y_ += Px(12);

    std::string status = screen_.status_line;
    if (!content_.has_screen && content_.checks.empty()) status = Text(Msg::kStarting);
    // The step is announced when it changes; the seconds ticking after it are not.
    const std::string shown =
        status.empty() || screen_.elapsed.empty() ? status : status + "  ·  " + screen_.elapsed;
    const int status_height = Draw(fonts_.strong, palette_.text, shown, Box(text_right_));
    if (!status.empty()) {
      exposed_.push_back({"step", status, RECT{margin_, y_, text_right_, y_ + status_height},
                          AccessibleRole::kLiveText});
      y_ += status_height + Px(6);
    }

    DrawExposed("reason", fonts_.small, screen_.reconnecting ? palette_.text : palette_.secondary,
                screen_.detail, Box(text_right_), AccessibleRole::kLiveText);
    if (!screen_.detail.empty()) y_ += Px(12);
  }

  // A summary, then problems first, as many as fit, then "… and N more".
  void DrawChecks() {
    std::vector<CheckLine> lines = content_.checks;
    std::stable_sort(lines.begin(), lines.end(), [](const CheckLine& a, const CheckLine& b) {
      return static_cast<int>(a.outcome) > static_cast<int>(b.outcome);
    });
    const std::string summary = CheckSummary(lines);
    const int summary_height = Draw(fonts_.small, palette_.label, summary, Box(text_right_),
                                    DT_SINGLELINE | DT_END_ELLIPSIS);
    exposed_.push_back({"checks", summary, RECT{margin_, y_, text_right_, y_ + summary_height}});
    y_ += summary_height;
    y_ += Px(4);

    const int row_height =
        std::max(LineHeight(dc_, fonts_.body), LineHeight(dc_, fonts_.small)) + Px(3);
    const int rows_that_fit = std::max(0, (bottom_ - y_) / row_height);
    const int total = static_cast<int>(lines.size());
    const int shown = total <= rows_that_fit ? total : std::max(0, rows_that_fit - 1);
    for (int i = 0; i < shown; ++i) DrawCheck(lines[i], row_height);
    if (shown < total && rows_that_fit > 0) {
      const bool rest_ok = lines[shown].outcome == CheckOutcome::kOk;
      const std::string more =
          Text(rest_ok ? Msg::kChecksMoreAllOk : Msg::kChecksMore, {std::to_string(total - shown)});
      const RECT box{margin_, y_, text_right_, y_ + row_height};
      Draw(fonts_.small, palette_.label, more, box, DT_SINGLELINE);
      exposed_.push_back({"checks more", more, box});
    }
  }

  void DrawCheck(const CheckLine& line, int row_height) {
    const int word_width = Px(kOutcomeWordWidth);
    Draw(line.outcome == CheckOutcome::kOk ? fonts_.body : fonts_.strong, palette_.text,
         OutcomeWord(line.outcome), RECT{margin_, y_, margin_ + word_width, y_ + row_height},
         DT_SINGLELINE);
    std::string text = line.name;
    if (!line.detail.empty()) text += " - " + line.detail;
    exposed_.push_back({"check " + line.name, OutcomeWord(line.outcome) + ": " + text,
                        RECT{margin_, y_, text_right_, y_ + row_height}});
    Draw(fonts_.small, palette_.secondary, text,
         RECT{margin_ + word_width, y_ + Px(2), text_right_, y_ + row_height},
         DT_SINGLELINE | DT_END_ELLIPSIS);
    y_ += row_height;
  }

  // The restart countdown, left of the buttons.
  void DrawCountdown() {
    if (!content_.asking || !content_.countdown_end) return;
    const auto left = *content_.countdown_end - steady_clock::now();
    const long long seconds = std::max<long long>(
        0, (std::chrono::duration_cast<std::chrono::milliseconds>(left).count() + 999) / 1000);
    const int button_top = height_ - Px(kBottomMargin) - Px(kButtonHeight);
    const RECT box{margin_, button_top, width_ / 2, button_top + Px(kButtonHeight)};
    Draw(fonts_.strong, palette_.text, Text(Msg::kRestartingIn, {std::to_string(seconds)}), box,
         DT_SINGLELINE | DT_VCENTER);
    // Announced in five-second steps: a screen reader is not made to read every second.
    const long long announced = (seconds + 4) / 5 * 5;
    exposed_.push_back({"countdown", Text(Msg::kRestartingIn, {std::to_string(announced)}), box,
                        AccessibleRole::kPoliteLiveText});
  }

  HDC dc_;
  int width_;
  int height_;
  const WindowContent& content_;
  const Screen& screen_;
  const WindowFonts& fonts_;
  Palette palette_;
  int margin_;
  int bottom_;
  int text_right_;
  int y_ = 0;
  int clipped_texts_ = 0;
  int missing_glyphs_ = 0;
  int broken_words_ = 0;
  std::vector<AccessibleText> exposed_;
  std::optional<AccessibleText> qr_description_;
};

// Replaces `path` with `bytes` so a reader never sees half a file.
void WriteSnapshotFile(const std::wstring& path, const std::string& bytes) {
  const std::wstring temporary = path + L".tmp";
  HANDLE file = CreateFileW(temporary.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS,
                            FILE_ATTRIBUTE_NORMAL, nullptr);
  if (file == INVALID_HANDLE_VALUE) return;
  DWORD written = 0;
  const BOOL ok =
      WriteFile(file, bytes.data(), static_cast<DWORD>(bytes.size()), &written, nullptr) &&
      written == bytes.size();
  CloseHandle(file);
  if (!ok || !MoveFileExW(temporary.c_str(), path.c_str(), MOVEFILE_REPLACE_EXISTING)) {
    DeleteFileW(temporary.c_str());
  }
}

template <typename T>
void AppendBytes(std::string* out, const T& value) {
  out->append(reinterpret_cast<const char*>(&value), sizeof value);
}

}  // namespace

WindowFonts::~WindowFonts() {
  Delete();
}

void WindowFonts::Reset(UINT dpi, int text_percent) {
  Delete();
  dpi_ = dpi;
  text_percent_ = text_percent;
  title = MakeFont(Px(28), FW_SEMIBOLD);
  body = MakeFont(Px(17), FW_NORMAL);
  strong = MakeFont(Px(17), FW_SEMIBOLD);
  small = MakeFont(Px(14), FW_NORMAL);
}

void WindowFonts::Delete() {
  for (HFONT* font : {&title, &body, &strong, &small}) {
    if (*font) DeleteObject(*font);
    *font = nullptr;
  }
}

COLORREF BackgroundColorRef(Tone tone, bool high_contrast) {
  return PaletteFor(tone, high_contrast).background;
}

PaintedWindow PaintWindow(HDC dc, int width, int height, const WindowContent& content,
                          const WindowFonts& fonts) {
  return Painter(dc, width, height, content, fonts).Paint();
}

void WriteUiSnapshot(const std::wstring& path, HDC dc, HBITMAP bitmap, int width, int height,
                     const PaintedWindow& painted, Tone tone, const WindowFonts& fonts,
                     size_t buttons) {
  const QrPlacement& qr = painted.qr;
  BITMAPINFO info{};
  info.bmiHeader.biSize = sizeof(BITMAPINFOHEADER);
  info.bmiHeader.biWidth = width;
  info.bmiHeader.biHeight = height;  // positive: bottom-up rows, as BMP files store them
  info.bmiHeader.biPlanes = 1;
  info.bmiHeader.biBitCount = 24;
  info.bmiHeader.biCompression = BI_RGB;
  const size_t stride = (static_cast<size_t>(width) * 3 + 3) & ~size_t{3};
  std::string pixels(stride * static_cast<size_t>(height), '\0');
  if (GetDIBits(dc, bitmap, 0, static_cast<UINT>(height), pixels.data(), &info, DIB_RGB_COLORS) !=
      height) {
    return;
  }
  info.bmiHeader.biSizeImage = static_cast<DWORD>(pixels.size());
  BITMAPFILEHEADER file{};
  file.bfType = 0x4D42;  // "BM"
  file.bfOffBits = sizeof(BITMAPFILEHEADER) + sizeof(BITMAPINFOHEADER);
  file.bfSize = static_cast<DWORD>(file.bfOffBits + pixels.size());
  std::string bmp;
  bmp.reserve(file.bfSize);
  AppendBytes(&bmp, file);
  AppendBytes(&bmp, info.bmiHeader);
  bmp += pixels;
  WriteSnapshotFile(path, bmp);

  const std::string json =
      std::string("{\"tone\":\"") + ToneName(tone) + "\",\"qr_left\":" + std::to_string(qr.left) +
      ",\"qr_top\":" + std::to_string(qr.top) + ",\"module_px\":" + std::to_string(qr.module_px) +
      ",\"qr_size\":" + std::to_string(qr.modules) + ",\"width\":" + std::to_string(width) +
      ",\"height\":" + std::to_string(height) + ",\"dpi\":" + std::to_string(fonts.dpi()) +
      ",\"text_percent\":" + std::to_string(fonts.text_percent()) +
      ",\"buttons\":" + std::to_string(buttons) +
      ",\"clipped_texts\":" + std::to_string(painted.clipped_texts) +
      ",\"missing_glyphs\":" + std::to_string(painted.missing_glyphs) +
      ",\"broken_words\":" + std::to_string(painted.broken_words) +
      ",\"high_contrast\":" + (painted.high_contrast ? "true" : "false") +
      ",\"exposed_texts\":" + std::to_string(painted.exposed.size()) + ",\"language\":\"" +
      CurrentLanguage() + "\"}\n";
  WriteSnapshotFile(path + L".json", json);
}

}  // namespace apm::client
