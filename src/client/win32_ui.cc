#include "client/win32_ui.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>

#include "client/messages.h"

namespace apm::client {

using std::chrono::steady_clock;

namespace {

constexpr wchar_t kWindowClass[] = L"ApmAutopilotRegistration";
constexpr wchar_t kWindowTitle[] = L"Autopilot registration";

constexpr UINT kStateChanged = WM_APP + 1;  // the worker changed what is shown
constexpr UINT kWorkerDone = WM_APP + 2;    // the workflow returned
constexpr UINT_PTR kCountdownTimer = 1;

constexpr int kRestartId = 101;
constexpr int kRetryId = 102;
constexpr int kCloseId = 103;

// Layout at 96 DPI; everything is scaled by the window's DPI.
constexpr int kClientWidth = 800;
constexpr int kClientHeight = 500;
constexpr int kMargin = 32;
constexpr int kQrMaxSide = 260;     // the QR code with its quiet zone, at most
constexpr int kQrQuietModules = 4;  // the quiet zone the QR specification asks for
constexpr int kButtonWidth = 132;
constexpr int kButtonHeight = 34;
constexpr int kButtonGap = 12;
constexpr int kLabelWidth = 124;

constexpr DWORD kWindowStyle =
    WS_OVERLAPPED | WS_CAPTION | WS_SYSMENU | WS_MINIMIZEBOX | WS_CLIPCHILDREN;

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

// user32 functions newer than the oldest Windows 10; looked up so ap.exe still starts there.
template <typename Function>
Function User32Function(const char* name) {
  HMODULE user32 = GetModuleHandleW(L"user32.dll");
  if (!user32) return nullptr;
  return reinterpret_cast<Function>(reinterpret_cast<void*>(GetProcAddress(user32, name)));
}

void BecomeDpiAware() {
  using SetContext = BOOL(WINAPI*)(DPI_AWARENESS_CONTEXT);
  if (auto set_context = User32Function<SetContext>("SetProcessDpiAwarenessContext")) {
    if (set_context(DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE_V2)) return;
  }
  SetProcessDPIAware();
}

UINT DpiOf(HWND window) {
  using GetDpi = UINT(WINAPI*)(HWND);
  if (auto get_dpi = User32Function<GetDpi>("GetDpiForWindow")) {
    if (UINT dpi = get_dpi(window)) return dpi;
  }
  HDC dc = GetDC(window);
  const int dpi = dc ? GetDeviceCaps(dc, LOGPIXELSY) : 96;
  if (dc) ReleaseDC(window, dc);
  return dpi > 0 ? static_cast<UINT>(dpi) : 96;
}

// The outer size of a window whose client area is width x height at `dpi`.
SIZE WindowSizeFor(int width, int height, UINT dpi) {
  RECT rect{0, 0, width, height};
  using Adjust = BOOL(WINAPI*)(LPRECT, DWORD, BOOL, DWORD, UINT);
  auto adjust = User32Function<Adjust>("AdjustWindowRectExForDpi");
  if (!adjust || !adjust(&rect, kWindowStyle, FALSE, 0, dpi)) {
    AdjustWindowRectEx(&rect, kWindowStyle, FALSE, 0);
  }
  return SIZE{rect.right - rect.left, rect.bottom - rect.top};
}

HFONT MakeFont(int pixel_height, int weight) {
  return CreateFontW(-pixel_height, 0, 0, 0, weight, FALSE, FALSE, FALSE, DEFAULT_CHARSET,
                     OUT_DEFAULT_PRECIS, CLIP_DEFAULT_PRECIS, CLEARTYPE_QUALITY,
                     DEFAULT_PITCH | FF_SWISS, L"Segoe UI");
}

// Draws `text` in `box` (word-wrapped unless `flags` say otherwise); returns the height used.
int DrawTextIn(HDC dc, HFONT font, COLORREF color, const std::string& text, RECT box,
               UINT flags = DT_WORDBREAK | DT_EDITCONTROL) {
  if (text.empty() || box.right <= box.left || box.bottom <= box.top) return 0;
  const std::wstring wide = Widen(text);
  SelectObject(dc, font);
  SetTextColor(dc, color);
  flags |= DT_LEFT | DT_TOP | DT_NOPREFIX;
  RECT measured = box;
  DrawTextW(dc, wide.c_str(), static_cast<int>(wide.size()), &measured, flags | DT_CALCRECT);
  DrawTextW(dc, wide.c_str(), static_cast<int>(wide.size()), &box, flags);
  return measured.bottom - measured.top;
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

const char* OutcomeWord(CheckOutcome outcome) {
  switch (outcome) {
    case CheckOutcome::kWarning:
      return "Warning";
    case CheckOutcome::kFailed:
      return "Failed";
    case CheckOutcome::kOk:
      break;
  }
  return "OK";
}

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

struct Win32Ui::View {
  Screen screen;
  bool has_screen = false;
  std::vector<CheckLine> checks;
  bool asking = false;
  std::optional<steady_clock::time_point> countdown_end;
};

// Where the first dark-or-light module of the QR code (inside the quiet zone) was painted.
struct Win32Ui::QrPlacement {
  int left = 0;
  int top = 0;
  int module_px = 0;
  int modules = 0;
};

Win32Ui::Win32Ui(HINSTANCE instance) : instance_(instance) {
  wchar_t path[MAX_PATH];
  const DWORD length = GetEnvironmentVariableW(L"AP_UI_SNAPSHOT", path, MAX_PATH);
  if (length > 0 && length < MAX_PATH) snapshot_path_.assign(path, length);
}

Win32Ui::~Win32Ui() {
  if (window_) DestroyWindow(window_);
  DeleteFonts();
  if (background_brush_) DeleteObject(background_brush_);
}

Result<std::unique_ptr<Win32Ui>> Win32Ui::Create(HINSTANCE instance) {
  BecomeDpiAware();
  WNDCLASSEXW window_class{};
  window_class.cbSize = sizeof window_class;
  window_class.lpfnWndProc = &Win32Ui::WindowProc;
  window_class.hInstance = instance;
  window_class.hCursor = LoadCursorW(nullptr, reinterpret_cast<LPCWSTR>(IDC_ARROW));
  window_class.hIcon = LoadIconW(nullptr, reinterpret_cast<LPCWSTR>(IDI_APPLICATION));
  window_class.lpszClassName = kWindowClass;
  if (!RegisterClassExW(&window_class) && GetLastError() != ERROR_CLASS_ALREADY_EXISTS) {
    return Status::Unavailable("cannot register the window class: " +
                               DescribeWin32Error(GetLastError()));
  }

  std::unique_ptr<Win32Ui> ui(new Win32Ui(instance));
  // Created hidden: its size depends on the DPI of the monitor it lands on.
  HWND window =
      CreateWindowExW(0, kWindowClass, kWindowTitle, kWindowStyle, CW_USEDEFAULT, CW_USEDEFAULT,
                      kClientWidth, kClientHeight, nullptr, nullptr, instance, ui.get());
  if (!window) {
    return Status::Unavailable("cannot open the window (no desktop?): " +
                               DescribeWin32Error(GetLastError()));
  }
  ui->dpi_ = DpiOf(window);
  ui->CreateFonts();

  const SIZE size = WindowSizeFor(ui->Px(kClientWidth), ui->Px(kClientHeight), ui->dpi_);
  MONITORINFO monitor{};
  monitor.cbSize = sizeof monitor;
  RECT area{0, 0, size.cx, size.cy};
  if (GetMonitorInfoW(MonitorFromWindow(window, MONITOR_DEFAULTTOPRIMARY), &monitor)) {
    area = monitor.rcWork;
  }
  const int x = area.left + std::max(0L, (area.right - area.left - size.cx) / 2);
  const int y = area.top + std::max(0L, (area.bottom - area.top - size.cy) / 2);
  SetWindowPos(window, nullptr, x, y, size.cx, size.cy, SWP_NOZORDER | SWP_NOACTIVATE);
  ShowWindow(window, SW_SHOWNORMAL);
  UpdateWindow(window);
  SetForegroundWindow(window);
  return ui;
}

LRESULT CALLBACK Win32Ui::WindowProc(HWND window, UINT message, WPARAM wparam, LPARAM lparam) {
  if (message == WM_NCCREATE) {
    auto* ui = static_cast<Win32Ui*>(reinterpret_cast<CREATESTRUCTW*>(lparam)->lpCreateParams);
    SetWindowLongPtrW(window, GWLP_USERDATA, reinterpret_cast<LONG_PTR>(ui));
    ui->window_ = window;
    std::lock_guard lock(ui->mutex_);
    ui->post_target_ = window;
  }
  auto* ui = reinterpret_cast<Win32Ui*>(GetWindowLongPtrW(window, GWLP_USERDATA));
  if (!ui) return DefWindowProcW(window, message, wparam, lparam);
  if (message == WM_NCDESTROY) {  // the last message: the window is gone after it
    SetWindowLongPtrW(window, GWLP_USERDATA, 0);
    ui->window_ = nullptr;
    return DefWindowProcW(window, message, wparam, lparam);
  }
  return ui->OnMessage(message, wparam, lparam);
}

LRESULT Win32Ui::OnMessage(UINT message, WPARAM wparam, LPARAM lparam) {
  switch (message) {
    case WM_PAINT: {
      PAINTSTRUCT paint;
      HDC dc = BeginPaint(window_, &paint);
      Paint(dc);
      EndPaint(window_, &paint);
      return 0;
    }
    case WM_ERASEBKGND:
      return 1;  // Paint covers every pixel; erasing first would flicker
    case kStateChanged:
      SyncButtons();
      InvalidateRect(window_, nullptr, FALSE);
      return 0;
    case kWorkerDone:
      DestroyWindow(window_);
      return 0;
    case WM_TIMER:
      if (wparam == kCountdownTimer) InvalidateRect(window_, nullptr, FALSE);
      return 0;
    case WM_COMMAND: {
      const int id = LOWORD(wparam);
      const int code = HIWORD(wparam);
      if (code == BN_SETFOCUS) {
        SetDefaultButton(reinterpret_cast<HWND>(lparam));
        return 0;
      }
      if (code != BN_CLICKED) break;
      if (id == kRestartId) Choose(FinalChoice::kRestart);
      if (id == kRetryId) Choose(FinalChoice::kRetry);
      if (id == kCloseId) Choose(FinalChoice::kClose);
      if (id == IDOK && default_button_) {
        SendMessageW(window_, WM_COMMAND, MAKEWPARAM(GetDlgCtrlID(default_button_), BN_CLICKED),
                     reinterpret_cast<LPARAM>(default_button_));
      }
      if (id == IDCANCEL) OnCancel();
      return 0;
    }
    case DM_GETDEFID:
      // IsDialogMessage asks this on Enter: the focused button, as in a dialog box.
      if (default_button_) return MAKELRESULT(GetDlgCtrlID(default_button_), DC_HASDEFID);
      return 0;
    case WM_KEYDOWN:
      if (wparam == VK_ESCAPE) {
        OnCancel();
        return 0;
      }
      break;
    case WM_SETFOCUS:
      if (focused_button_ && IsWindow(focused_button_)) SetFocus(focused_button_);
      return 0;
    case WM_CTLCOLORBTN:
      return reinterpret_cast<LRESULT>(background_brush_ ? background_brush_
                                                         : GetStockObject(WHITE_BRUSH));
    case WM_DPICHANGED: {
      dpi_ = HIWORD(wparam);
      DeleteFonts();
      CreateFonts();
      const RECT* suggested = reinterpret_cast<const RECT*>(lparam);
      SetWindowPos(window_, nullptr, suggested->left, suggested->top,
                   suggested->right - suggested->left, suggested->bottom - suggested->top,
                   SWP_NOZORDER | SWP_NOACTIVATE);
      for (HWND button : buttons_)
        SendMessageW(button, WM_SETFONT, reinterpret_cast<WPARAM>(body_font_), TRUE);
      LayoutButtons();
      InvalidateRect(window_, nullptr, FALSE);
      return 0;
    }
    case WM_SIZE:
      LayoutButtons();
      InvalidateRect(window_, nullptr, FALSE);
      return 0;
    case WM_CLOSE: {
      {
        std::lock_guard lock(mutex_);
        if (!closed_ && !asking_ && !worker_done_) closed_mid_run_ = true;
        closed_ = true;
      }
      changed_.notify_all();
      DestroyWindow(window_);
      return 0;
    }
    case WM_DESTROY: {
      {
        std::lock_guard lock(mutex_);
        post_target_ = nullptr;
        closed_ = true;  // a late AskFinal must not wait for a window that is gone
      }
      changed_.notify_all();
      if (countdown_timer_) KillTimer(window_, kCountdownTimer);
      buttons_.clear();
      default_button_ = focused_button_ = nullptr;
      PostQuitMessage(0);
      return 0;
    }
  }
  return DefWindowProcW(window_, message, wparam, lparam);
}

void Win32Ui::PostLocked(UINT message) {
  if (post_target_) PostMessageW(post_target_, message, 0, 0);
}

void Win32Ui::Choose(FinalChoice choice) {
  {
    std::lock_guard lock(mutex_);
    if (!asking_ || choice_) return;
    choice_ = choice;
  }
  changed_.notify_all();
}

// Esc: the answer "Close" at the end; closing the window before it.
void Win32Ui::OnCancel() {
  bool asking;
  {
    std::lock_guard lock(mutex_);
    asking = asking_;
  }
  if (asking) {
    Choose(FinalChoice::kClose);
  } else {
    PostMessageW(window_, WM_CLOSE, 0, 0);
  }
}

void Win32Ui::ShowChecks(const std::vector<CheckLine>& lines) {
  std::lock_guard lock(mutex_);
  checks_ = lines;
  PostLocked(kStateChanged);
}

void Win32Ui::ShowScreen(const Screen& screen) {
  std::lock_guard lock(mutex_);
  screen_ = screen;
  has_screen_ = true;
  PostLocked(kStateChanged);
}

void Win32Ui::Log(const std::string& line) {
  std::function<void(const std::string&)> sink;
  {
    std::lock_guard lock(mutex_);
    sink = log_sink_;
  }
  if (sink) sink(line);
}

void Win32Ui::SetLogSink(std::function<void(const std::string&)> sink) {
  std::lock_guard lock(mutex_);
  log_sink_ = std::move(sink);
}

bool Win32Ui::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

FinalChoice Win32Ui::AskFinal(bool can_restart, bool can_retry,
                              std::chrono::seconds restart_countdown) {
  std::unique_lock lock(mutex_);
  if (closed_) return FinalChoice::kClose;
  asking_ = true;
  can_restart_ = can_restart;
  can_retry_ = can_retry;
  choice_.reset();
  if (can_restart && restart_countdown.count() > 0) {
    countdown_end_ = steady_clock::now() + restart_countdown;
  }
  PostLocked(kStateChanged);

  auto answered = [this] { return choice_.has_value() || closed_; };
  if (countdown_end_) {
    if (!changed_.wait_until(lock, *countdown_end_, answered)) choice_ = FinalChoice::kRestart;
  } else {
    changed_.wait(lock, answered);
  }
  const FinalChoice choice = choice_.value_or(FinalChoice::kClose);
  asking_ = false;
  choice_.reset();
  countdown_end_.reset();
  PostLocked(kStateChanged);
  return choice;
}

int Win32Ui::RunMessageLoop(std::function<int()> work) {
  std::thread worker([this, work = std::move(work)] {
    const int result = work();
    {
      std::lock_guard lock(mutex_);
      worker_done_ = true;
      worker_result_ = result;
      PostLocked(kWorkerDone);
    }
    changed_.notify_all();
  });

  MSG message;
  while (GetMessageW(&message, nullptr, 0, 0) > 0) {
    // Tab, Shift+Tab, Enter, Esc and mnemonics for the buttons, as in a dialog box.
    if (window_ && IsDialogMessageW(window_, &message)) continue;
    TranslateMessage(&message);
    DispatchMessageW(&message);
  }

  std::unique_lock lock(mutex_);
  // Closed mid-run, the workflow may sit in a long poll for a minute; do not wait for that.
  if (!changed_.wait_for(lock, std::chrono::seconds(2), [this] { return worker_done_; })) {
    worker_abandoned_ = true;
    lock.unlock();
    worker.detach();
    return kExitCancelled;
  }
  const int result = closed_mid_run_ ? static_cast<int>(kExitCancelled) : worker_result_;
  lock.unlock();
  worker.join();
  return result;
}

Win32Ui::View Win32Ui::CopyView() {
  std::lock_guard lock(mutex_);
  return View{screen_, has_screen_, checks_, asking_, countdown_end_};
}

void Win32Ui::CreateFonts() {
  title_font_ = MakeFont(Px(28), FW_SEMIBOLD);
  body_font_ = MakeFont(Px(17), FW_NORMAL);
  strong_font_ = MakeFont(Px(17), FW_SEMIBOLD);
  small_font_ = MakeFont(Px(14), FW_NORMAL);
}

void Win32Ui::DeleteFonts() {
  for (HFONT* font : {&title_font_, &body_font_, &strong_font_, &small_font_}) {
    if (*font) DeleteObject(*font);
    *font = nullptr;
  }
}

// The buttons exist exactly while the worker waits in AskFinal.
void Win32Ui::SyncButtons() {
  bool asking, can_restart, can_retry, countdown;
  {
    std::lock_guard lock(mutex_);
    asking = asking_;
    can_restart = can_restart_;
    can_retry = can_retry_;
    countdown = countdown_end_.has_value();
  }
  if (!asking) {
    for (HWND button : buttons_) DestroyWindow(button);
    buttons_.clear();
    default_button_ = focused_button_ = nullptr;
    if (countdown_timer_) KillTimer(window_, kCountdownTimer);
    countdown_timer_ = false;
    return;
  }
  if (!buttons_.empty()) return;
  auto add = [&](int id, const wchar_t* text) {
    HWND button = CreateWindowExW(
        0, L"BUTTON", text, WS_CHILD | WS_VISIBLE | WS_TABSTOP | BS_PUSHBUTTON | BS_NOTIFY, 0, 0,
        Px(kButtonWidth), Px(kButtonHeight), window_,
        reinterpret_cast<HMENU>(static_cast<INT_PTR>(id)), instance_, nullptr);
    if (!button) return;
    SendMessageW(button, WM_SETFONT, reinterpret_cast<WPARAM>(body_font_), FALSE);
    buttons_.push_back(button);
  };
  if (can_restart) add(kRestartId, L"&Restart now");
  if (can_retry) add(kRetryId, L"&Retry");
  add(kCloseId, L"&Close");
  LayoutButtons();
  if (!buttons_.empty()) {
    // The first button is the likely answer: restart when done, retry when it failed.
    SetDefaultButton(buttons_.front());
    SetFocus(buttons_.front());
  }
  if (countdown) countdown_timer_ = SetTimer(window_, kCountdownTimer, 250, nullptr) != 0;
}

void Win32Ui::SetDefaultButton(HWND button) {
  if (std::find(buttons_.begin(), buttons_.end(), button) == buttons_.end()) return;
  for (HWND b : buttons_) {
    SendMessageW(b, BM_SETSTYLE, b == button ? BS_DEFPUSHBUTTON : BS_PUSHBUTTON, TRUE);
  }
  default_button_ = focused_button_ = button;
}

// Right-aligned in the bottom margin, in the order created.
void Win32Ui::LayoutButtons() {
  if (buttons_.empty() || !window_) return;
  RECT client;
  GetClientRect(window_, &client);
  const int width = Px(kButtonWidth);
  const int height = Px(kButtonHeight);
  const int gap = Px(kButtonGap);
  const int count = static_cast<int>(buttons_.size());
  int x = client.right - Px(kMargin) - count * width - (count - 1) * gap;
  const int y = client.bottom - Px(24) - height;
  for (HWND button : buttons_) {
    SetWindowPos(button, nullptr, x, y, width, height, SWP_NOZORDER | SWP_NOACTIVATE);
    x += width + gap;
  }
}

void Win32Ui::Paint(HDC target) {
  RECT client;
  GetClientRect(window_, &client);
  const int width = client.right;
  const int height = client.bottom;
  if (width <= 0 || height <= 0) return;
  const View view = CopyView();

  // Drawn off screen and copied in one go, so the window never shows a half-drawn picture.
  HDC dc = CreateCompatibleDC(target);
  HBITMAP bitmap = CreateCompatibleBitmap(target, width, height);
  HGDIOBJ previous_bitmap = SelectObject(dc, bitmap);
  HGDIOBJ previous_font = GetCurrentObject(dc, OBJ_FONT);
  const QrPlacement qr = Draw(dc, width, height, view);
  BitBlt(target, 0, 0, width, height, dc, 0, 0, SRCCOPY);
  SelectObject(dc, previous_font);
  SelectObject(dc, previous_bitmap);
  if (!snapshot_path_.empty()) WriteSnapshot(dc, bitmap, width, height, view, qr);
  DeleteObject(bitmap);
  DeleteDC(dc);

  if (view.screen.tone != painted_tone_ || !background_brush_) {
    if (background_brush_) DeleteObject(background_brush_);
    background_brush_ = CreateSolidBrush(ToColor(ToneBackground(view.screen.tone)));
    painted_tone_ = view.screen.tone;
    for (HWND button : buttons_) InvalidateRect(button, nullptr, TRUE);
  }
}

Win32Ui::QrPlacement Win32Ui::Draw(HDC dc, int width, int height, const View& view) {
  const Screen& screen = view.screen;
  const Rgb background = ToneBackground(screen.tone);
  const COLORREF white = RGB(255, 255, 255);
  const COLORREF label_color = Dimmed(background, 72);
  const COLORREF secondary_color = Dimmed(background, 85);

  RECT all{0, 0, width, height};
  HBRUSH background_brush = CreateSolidBrush(ToColor(background));
  FillRect(dc, &all, background_brush);
  DeleteObject(background_brush);
  SetBkMode(dc, TRANSPARENT);

  const int margin = Px(kMargin);
  const int bottom =
      height - Px(24) - (view.asking ? Px(kButtonHeight) + Px(16) : 0);  // above the buttons
  int y = Px(24);
  y += DrawTextIn(dc, title_font_, white, screen.title, RECT{margin, y, width - margin, bottom});
  y += Px(16);
  const int body_top = y;

  // The QR code on the right, in whole pixels per module so every module edge is sharp.
  QrPlacement qr;
  int text_right = width - margin;
  if (!screen.qr_rows.empty()) {
    const int modules = static_cast<int>(screen.qr_rows.size());
    const int with_quiet_zone = modules + 2 * kQrQuietModules;
    // Room for the approval link under the code, so a phone-less user can type it.
    const int link_room = screen.approval_url.empty() ? 0 : 3 * LineHeight(dc, small_font_) + Px(8);
    const int fit = std::min(Px(kQrMaxSide), bottom - body_top - link_room);
    const int module_px = std::max(1, fit / with_quiet_zone);
    const int side = module_px * with_quiet_zone;
    const int left = width - margin - side;
    RECT square{left, body_top, left + side, body_top + side};
    FillRect(dc, &square, static_cast<HBRUSH>(GetStockObject(WHITE_BRUSH)));
    qr = QrPlacement{left + kQrQuietModules * module_px, body_top + kQrQuietModules * module_px,
                     module_px, modules};
    HBRUSH dark = static_cast<HBRUSH>(GetStockObject(BLACK_BRUSH));
    for (int row = 0; row < modules; ++row) {
      const std::string& bits = screen.qr_rows[row];
      for (int column = 0; column < static_cast<int>(bits.size()); ++column) {
        if (bits[column] != '1') continue;
        RECT module{qr.left + column * module_px, qr.top + row * module_px,
                    qr.left + (column + 1) * module_px, qr.top + (row + 1) * module_px};
        FillRect(dc, &module, dark);
      }
    }
    if (!screen.approval_url.empty()) {
      SelectObject(dc, small_font_);
      SetTextColor(dc, Dimmed(background, 85));
      const int line_height = LineHeight(dc, small_font_);
      int link_y = body_top + side + Px(8);
      for (const std::wstring& line :
           WrapAnywhere(dc, small_font_, Widen(screen.approval_url), side)) {
        RECT box{left, link_y, left + side, link_y + line_height};
        DrawTextW(dc, line.c_str(), static_cast<int>(line.size()), &box,
                  DT_CENTER | DT_TOP | DT_SINGLELINE | DT_NOPREFIX);
        link_y += line_height;
      }
    }
    text_right = left - margin;
  }

  // The device and the request: a label column and a value column.
  const std::pair<const char*, const std::string*> facts[] = {
      {"Manufacturer", &screen.device.manufacturer},
      {"Model", &screen.device.model},
      {"Serial number", &screen.device.serial_number},
  };
  const bool any_fact = std::any_of(std::begin(facts), std::end(facts),
                                    [](const auto& fact) { return !fact.second->empty(); });
  const int value_left = margin + Px(kLabelWidth);
  auto row = [&](const char* label, const std::string& value) {
    const int label_height = DrawTextIn(dc, small_font_, label_color, label,
                                        RECT{margin, y + Px(2), value_left - Px(8), bottom});
    const int value_height = DrawTextIn(dc, body_font_, white, value.empty() ? "-" : value,
                                        RECT{value_left, y, text_right, bottom});
    y += std::max(label_height + Px(2), value_height) + Px(4);
  };
  if (any_fact) {
    for (const auto& [label, value] : facts) row(label, *value);
  }
  if (!screen.request_id.empty()) row("Request id", screen.request_id);
  if (any_fact || !screen.request_id.empty()) y += Px(12);

  const RECT text_box{margin, y, text_right, bottom};
  y += DrawTextIn(dc, body_font_, white, screen.instruction, text_box);
  if (!screen.instruction.empty()) y += Px(12);

  std::string status = screen.status_line;
  if (!view.has_screen && view.checks.empty()) status = "Starting…";
  if (!status.empty() && !screen.elapsed.empty()) status += "  ·  " + screen.elapsed;
  y += DrawTextIn(dc, strong_font_, white, status, RECT{margin, y, text_right, bottom});
  if (!status.empty()) y += Px(6);

  y += DrawTextIn(dc, small_font_, screen.reconnecting ? white : secondary_color, screen.detail,
                  RECT{margin, y, text_right, bottom});
  if (!screen.detail.empty()) y += Px(12);

  // The checks, until there is a request to show: problems first, as many as fit.
  if (screen.request_id.empty() && !view.checks.empty()) {
    std::vector<CheckLine> lines = view.checks;
    std::stable_sort(lines.begin(), lines.end(), [](const CheckLine& a, const CheckLine& b) {
      return static_cast<int>(a.outcome) > static_cast<int>(b.outcome);
    });
    int ok = 0, warnings = 0, failed = 0;
    for (const CheckLine& line : lines) {
      (line.outcome == CheckOutcome::kOk        ? ok
       : line.outcome == CheckOutcome::kWarning ? warnings
                                                : failed)++;
    }
    std::string summary = "Checks: " + std::to_string(ok) + " OK";
    if (warnings)
      summary += ", " + std::to_string(warnings) + " warning" + (warnings > 1 ? "s" : "");
    if (failed) summary += ", " + std::to_string(failed) + " failed";
    y += DrawTextIn(dc, small_font_, label_color, summary, RECT{margin, y, text_right, bottom},
                    DT_SINGLELINE | DT_END_ELLIPSIS);
    y += Px(4);

    const int row_height =
        std::max(LineHeight(dc, body_font_), LineHeight(dc, small_font_)) + Px(3);
    const int rows_that_fit = std::max(0, (bottom - y) / row_height);
    const int total = static_cast<int>(lines.size());
    const int shown = total <= rows_that_fit ? total : std::max(0, rows_that_fit - 1);
    const int word_width = Px(76);
    for (int i = 0; i < shown; ++i) {
      const CheckLine& line = lines[i];
      DrawTextIn(dc, line.outcome == CheckOutcome::kOk ? body_font_ : strong_font_, white,
                 OutcomeWord(line.outcome), RECT{margin, y, margin + word_width, y + row_height},
                 DT_SINGLELINE);
      std::string text = line.name;
      if (!line.detail.empty()) text += " - " + line.detail;
      DrawTextIn(dc, small_font_, secondary_color, text,
                 RECT{margin + word_width, y + Px(2), text_right, y + row_height},
                 DT_SINGLELINE | DT_END_ELLIPSIS);
      y += row_height;
    }
    if (shown < total && rows_that_fit > 0) {
      const bool rest_ok = lines[shown].outcome == CheckOutcome::kOk;
      DrawTextIn(dc, small_font_, label_color,
                 "… and " + std::to_string(total - shown) + " more" + (rest_ok ? ", all OK" : ""),
                 RECT{margin, y, text_right, y + row_height}, DT_SINGLELINE);
    }
  }

  // The restart countdown, left of the buttons.
  if (view.asking && view.countdown_end) {
    const auto left = *view.countdown_end - steady_clock::now();
    const long long seconds = std::max<long long>(
        0, (std::chrono::duration_cast<std::chrono::milliseconds>(left).count() + 999) / 1000);
    const int button_top = height - Px(24) - Px(kButtonHeight);
    DrawTextIn(dc, strong_font_, white, "Restarting in " + std::to_string(seconds) + " s",
               RECT{margin, button_top, width / 2, button_top + Px(kButtonHeight)},
               DT_SINGLELINE | DT_VCENTER);
  }
  return qr;
}

// AP_UI_SNAPSHOT: the client area as a 24-bit BMP, and where the QR modules are, for tests.
void Win32Ui::WriteSnapshot(HDC dc, HBITMAP bitmap, int width, int height, const View& view,
                            const QrPlacement& qr) {
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
  WriteSnapshotFile(snapshot_path_, bmp);

  const std::string json =
      std::string("{\"tone\":\"") + ToneName(view.screen.tone) +
      "\",\"qr_left\":" + std::to_string(qr.left) + ",\"qr_top\":" + std::to_string(qr.top) +
      ",\"module_px\":" + std::to_string(qr.module_px) +
      ",\"qr_size\":" + std::to_string(qr.modules) + ",\"width\":" + std::to_string(width) +
      ",\"height\":" + std::to_string(height) + ",\"dpi\":" + std::to_string(dpi_) +
      ",\"buttons\":" + std::to_string(buttons_.size()) + "}\n";
  WriteSnapshotFile(snapshot_path_ + L".json", json);
}

}  // namespace apm::client
