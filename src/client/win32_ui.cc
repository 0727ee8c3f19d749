#include "client/win32_ui.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <string>
#include <thread>
#include <utility>

#include "client/catalogue.h"
#include "client/messages.h"
#include "client/win32_paint.h"

namespace apm::client {

using std::chrono::steady_clock;

namespace {

constexpr wchar_t kWindowClass[] = L"ApmAutopilotRegistration";

constexpr UINT kStateChanged = WM_APP + 1;  // the worker changed what is shown
constexpr UINT kWorkerDone = WM_APP + 2;    // the workflow returned
constexpr UINT_PTR kCountdownTimer = 1;

constexpr int kRestartId = 101;
constexpr int kRetryId = 102;
constexpr int kCloseId = 103;
constexpr int kCollectId = 104;

// Layout at 96 DPI; everything is scaled by the window's DPI.
constexpr int kClientWidth = 800;
constexpr int kClientHeight = 500;

constexpr DWORD kWindowStyle =
    WS_OVERLAPPED | WS_CAPTION | WS_SYSMENU | WS_MINIMIZEBOX | WS_CLIPCHILDREN;

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

// Windows' "Make text bigger" setting in percent (100 when unset or out of its range).
int TextScalePercent() {
  DWORD value = 0;
  DWORD size = sizeof value;
  if (RegGetValueW(HKEY_CURRENT_USER, L"Software\\Microsoft\\Accessibility", L"TextScaleFactor",
                   RRF_RT_REG_DWORD, nullptr, &value, &size) != ERROR_SUCCESS ||
      value < 100 || value > 225) {
    return 100;
  }
  return static_cast<int>(value);
}

// A High Contrast theme is on. AP_HIGH_CONTRAST=1 says so too: Wine always answers no, and its
// test sets the system colours and needs the path taken.
bool HighContrastOn() {
  wchar_t forced[4] = {};
  if (GetEnvironmentVariableW(L"AP_HIGH_CONTRAST", forced, 4) == 1 && forced[0] == L'1') {
    return true;
  }
  HIGHCONTRASTW high_contrast{};
  high_contrast.cbSize = sizeof high_contrast;
  return SystemParametersInfoW(SPI_GETHIGHCONTRAST, sizeof high_contrast, &high_contrast, 0) &&
         (high_contrast.dwFlags & HCF_HIGHCONTRASTON);
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

}  // namespace

Win32Ui::Win32Ui(HINSTANCE instance) : instance_(instance) {
  wchar_t path[MAX_PATH];
  const DWORD length = GetEnvironmentVariableW(L"AP_UI_SNAPSHOT", path, MAX_PATH);
  if (length > 0 && length < MAX_PATH) snapshot_path_.assign(path, length);
}

Win32Ui::~Win32Ui() {
  if (window_) DestroyWindow(window_);
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
  HWND window = CreateWindowExW(0, kWindowClass, Widen(Text(Msg::kWindowTitle)).c_str(),
                                kWindowStyle, CW_USEDEFAULT, CW_USEDEFAULT, kClientWidth,
                                kClientHeight, nullptr, nullptr, instance, ui.get());
  if (!window) {
    return Status::Unavailable("cannot open the window (no desktop?): " +
                               DescribeWin32Error(GetLastError()));
  }
  ui->requested_text_percent_ = TextScalePercent();
  ui->ApplyFonts(DpiOf(window));
  ui->CenterOnMonitor();
  ShowWindow(window, SW_SHOWNORMAL);
  UpdateWindow(window);
  SetForegroundWindow(window);
  return ui;
}

// The text size to use: the one asked for, or less where the monitor's work area has no room
// for the window it makes (the whole window grows with the text, so less text than asked
// rather than text cut off).
int Win32Ui::FittingTextPercent(UINT dpi) const {
  const int asked = requested_text_percent_;
  const int width = MulDiv(kClientWidth, static_cast<int>(dpi) * asked, 96 * 100);
  const int height = MulDiv(kClientHeight, static_cast<int>(dpi) * asked, 96 * 100);
  const SIZE outer = WindowSizeFor(width, height, dpi);
  MONITORINFO monitor{};
  monitor.cbSize = sizeof monitor;
  if (asked <= 100 ||
      !GetMonitorInfoW(MonitorFromWindow(window_, MONITOR_DEFAULTTOPRIMARY), &monitor)) {
    return asked;
  }
  // The room for the client area: the work area less the frame.
  const double room_width = monitor.rcWork.right - monitor.rcWork.left - (outer.cx - width);
  const double room_height = monitor.rcWork.bottom - monitor.rcWork.top - (outer.cy - height);
  const double room = std::min({1.0, room_width / width, room_height / height});
  return std::max(100, static_cast<int>(asked * room));
}

// Makes the fonts for `dpi` and the text size, and gives the buttons the new one at once (the
// old fonts are gone after Reset).
void Win32Ui::ApplyFonts(UINT dpi) {
  fonts_.Reset(dpi, FittingTextPercent(dpi));
  for (HWND button : buttons_) {
    SendMessageW(button, WM_SETFONT, reinterpret_cast<WPARAM>(fonts_.body), TRUE);
  }
}

// The window's size for its fonts, centred in the monitor's work area and no larger than it.
void Win32Ui::CenterOnMonitor() {
  SIZE size = WindowSizeFor(fonts_.Px(kClientWidth), fonts_.Px(kClientHeight), fonts_.dpi());
  MONITORINFO monitor{};
  monitor.cbSize = sizeof monitor;
  RECT area{0, 0, size.cx, size.cy};
  if (GetMonitorInfoW(MonitorFromWindow(window_, MONITOR_DEFAULTTOPRIMARY), &monitor)) {
    area = monitor.rcWork;
  }
  size.cx = std::min(size.cx, area.right - area.left);
  size.cy = std::min(size.cy, area.bottom - area.top);
  const int x = area.left + (area.right - area.left - size.cx) / 2;
  const int y = area.top + (area.bottom - area.top - size.cy) / 2;
  SetWindowPos(window_, nullptr, x, y, size.cx, size.cy, SWP_NOZORDER | SWP_NOACTIVATE);
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
      std::optional<std::vector<AccessibleText>> exposed = Paint(dc);
      EndPaint(window_, &paint);
      if (exposed) overlay_.Update(window_, *exposed);  // none: nothing was painted (minimised)
      return 0;
    }
    case WM_SETTINGCHANGE:
    case WM_SYSCOLORCHANGE:
    case WM_THEMECHANGED:
      OnSettingsChanged();
      break;
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
    case WM_COMMAND:
      if (OnCommand(LOWORD(wparam), HIWORD(wparam), reinterpret_cast<HWND>(lparam))) return 0;
      break;
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
    case WM_DPICHANGED:
      OnDpiChanged(HIWORD(wparam), *reinterpret_cast<const RECT*>(lparam));
      return 0;
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
    case WM_DESTROY:
      OnDestroy();
      return 0;
  }
  return DefWindowProcW(window_, message, wparam, lparam);
}

// Whether the command was handled.
bool Win32Ui::OnCommand(int id, int code, HWND control) {
  if (code == BN_SETFOCUS) {
    SetDefaultButton(control);
    return true;
  }
  if (code != BN_CLICKED) return false;
  if (id == kRestartId) Choose(FinalChoice::kRestart);
  if (id == kRetryId) Choose(FinalChoice::kRetry);
  if (id == kCloseId) Choose(FinalChoice::kClose);
  if (id == kCollectId) Choose(FinalChoice::kCollectDiagnostics);
  if (id == IDOK && default_button_) {
    SendMessageW(window_, WM_COMMAND, MAKEWPARAM(GetDlgCtrlID(default_button_), BN_CLICKED),
                 reinterpret_cast<LPARAM>(default_button_));
  }
  if (id == IDCANCEL) OnCancel();
  return true;
}

// High Contrast, system colours or the text size changed: repaint, and refit for a new size.
void Win32Ui::OnSettingsChanged() {
  const int text_percent = TextScalePercent();
  if (text_percent != requested_text_percent_) {
    requested_text_percent_ = text_percent;
    ApplyFonts(fonts_.dpi());
    CenterOnMonitor();
    LayoutButtons();
  }
  painted_tone_.reset();  // the buttons' background brush is made again
  InvalidateRect(window_, nullptr, FALSE);
}

void Win32Ui::OnDpiChanged(UINT dpi, const RECT& suggested) {
  ApplyFonts(dpi);
  SetWindowPos(window_, nullptr, suggested.left, suggested.top, suggested.right - suggested.left,
               suggested.bottom - suggested.top, SWP_NOZORDER | SWP_NOACTIVATE);
  LayoutButtons();
  InvalidateRect(window_, nullptr, FALSE);
}

void Win32Ui::OnDestroy() {
  {
    std::lock_guard lock(mutex_);
    post_target_ = nullptr;
    closed_ = true;  // a late AskFinal must not wait for a window that is gone
  }
  changed_.notify_all();
  if (countdown_timer_) KillTimer(window_, kCountdownTimer);
  buttons_.clear();
  overlay_.Forget();
  default_button_ = focused_button_ = nullptr;
  PostQuitMessage(0);
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

FinalChoice Win32Ui::AskFinal(bool can_restart, bool can_retry, bool can_collect,
                              std::chrono::seconds restart_countdown) {
  std::unique_lock lock(mutex_);
  if (closed_) return FinalChoice::kClose;
  asking_ = true;
  can_restart_ = can_restart;
  can_retry_ = can_retry;
  can_collect_ = can_collect;
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

WindowContent Win32Ui::CopyContent() {
  std::lock_guard lock(mutex_);
  return WindowContent{screen_, has_screen_, checks_, asking_, countdown_end_, HighContrastOn()};
}

// The buttons exist exactly while the worker waits in AskFinal.
void Win32Ui::SyncButtons() {
  bool asking, can_restart, can_retry, can_collect, countdown;
  {
    std::lock_guard lock(mutex_);
    asking = asking_;
    can_restart = can_restart_;
    can_retry = can_retry_;
    can_collect = can_collect_;
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
  auto add = [&](int id, Msg text) {
    HWND button =
        CreateWindowExW(0, L"BUTTON", Widen(Text(text)).c_str(),
                        WS_CHILD | WS_VISIBLE | WS_TABSTOP | BS_PUSHBUTTON | BS_NOTIFY, 0, 0,
                        Px(kButtonWidth), Px(kButtonHeight), window_,
                        reinterpret_cast<HMENU>(static_cast<INT_PTR>(id)), instance_, nullptr);
    if (!button) return;
    SendMessageW(button, WM_SETFONT, reinterpret_cast<WPARAM>(fonts_.body), FALSE);
    buttons_.push_back(button);
  };
  if (can_restart) add(kRestartId, Msg::kButtonRestart);
  if (can_retry) add(kRetryId, Msg::kButtonRetry);
  if (can_collect) add(kCollectId, Msg::kButtonCollectDiagnostics);
  add(kCloseId, Msg::kButtonClose);
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

// Right-aligned in the bottom margin, in the order created, each as wide as its words need.
void Win32Ui::LayoutButtons() {
  if (buttons_.empty() || !window_) return;
  RECT client;
  GetClientRect(window_, &client);
  const int height = Px(kButtonHeight);
  const int gap = Px(kButtonGap);
  std::vector<int> widths;
  int total = 0;
  HDC dc = GetDC(window_);
  HGDIOBJ previous_font = SelectObject(dc, fonts_.body);
  for (HWND button : buttons_) {
    wchar_t caption[128] = {};
    const int length = GetWindowTextW(button, caption, static_cast<int>(std::size(caption)));
    RECT measured{0, 0, 0, 0};
    DrawTextW(dc, caption, length, &measured, DT_CALCRECT | DT_SINGLELINE);
    widths.push_back(
        std::max(Px(kButtonWidth), static_cast<int>(measured.right) + Px(2 * kButtonPadding)));
    total += widths.back();
  }
  SelectObject(dc, previous_font);
  ReleaseDC(window_, dc);
  int x = client.right - Px(kMargin) - total - (static_cast<int>(buttons_.size()) - 1) * gap;
  buttons_cut_ = x < Px(kMargin);
  const int y = client.bottom - Px(kBottomMargin) - height;
  for (size_t i = 0; i < buttons_.size(); ++i) {
    SetWindowPos(buttons_[i], nullptr, x, y, widths[i], height, SWP_NOZORDER | SWP_NOACTIVATE);
    x += widths[i] + gap;
  }
}

// Paints the window; returns what a screen reader is to get of it (nullopt: no room to paint).
std::optional<std::vector<AccessibleText>> Win32Ui::Paint(HDC target) {
  RECT client;
  GetClientRect(window_, &client);
  const int width = client.right;
  const int height = client.bottom;
  if (width <= 0 || height <= 0) return std::nullopt;
  const WindowContent content = CopyContent();

  // Drawn off screen and copied in one go, so the window never shows a half-drawn picture.
  HDC dc = CreateCompatibleDC(target);
  HBITMAP bitmap = CreateCompatibleBitmap(target, width, height);
  HGDIOBJ previous_bitmap = SelectObject(dc, bitmap);
  HGDIOBJ previous_font = GetCurrentObject(dc, OBJ_FONT);
  PaintedWindow painted = PaintWindow(dc, width, height, content, fonts_);
  if (buttons_cut_) ++painted.clipped_texts;
  BitBlt(target, 0, 0, width, height, dc, 0, 0, SRCCOPY);
  SelectObject(dc, previous_font);
  SelectObject(dc, previous_bitmap);
  if (!snapshot_path_.empty()) {
    WriteUiSnapshot(snapshot_path_, dc, bitmap, width, height, painted, content.screen.tone, fonts_,
                    buttons_.size());
  }
  DeleteObject(bitmap);
  DeleteDC(dc);

  if (content.screen.tone != painted_tone_ || content.high_contrast != painted_high_contrast_ ||
      !background_brush_) {
    if (background_brush_) DeleteObject(background_brush_);
    background_brush_ =
        CreateSolidBrush(BackgroundColorRef(content.screen.tone, content.high_contrast));
    painted_tone_ = content.screen.tone;
    painted_high_contrast_ = content.high_contrast;
    for (HWND button : buttons_) InvalidateRect(button, nullptr, TRUE);
  }
  return std::move(painted.exposed);
}

}  // namespace apm::client
