// The window of ap.exe: one GDI window painted in the tone of the outcome (blue, green, red)
// with the device facts, the request id, the QR code and the current step.
//
// Threads: the thread that calls Create and RunMessageLoop owns the window and pumps its
// messages; the workflow runs on a worker thread started by RunMessageLoop and calls the Ui
// methods, which copy the data under a mutex and ask the window to repaint.
#pragma once

#include "client/win32_accessibility.h"  // <windows.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "client/ui.h"
#include "core/status.h"

namespace apm::client {

class Win32Ui : public Ui {
 public:
  // Opens the window (shown at once); an error when there is no desktop to open it on.
  static Result<std::unique_ptr<Win32Ui>> Create(HINSTANCE instance);
  ~Win32Ui() override;
  Win32Ui(const Win32Ui&) = delete;
  Win32Ui& operator=(const Win32Ui&) = delete;

  void ShowChecks(const std::vector<CheckLine>& lines) override;
  void ShowScreen(const Screen& screen) override;
  void Log(const std::string& line) override;
  // kClose at once when the window was closed.
  FinalChoice AskFinal(bool can_restart, bool can_retry, bool can_collect,
                       std::chrono::seconds restart_countdown) override;

  // Runs `work` on a worker thread and pumps messages until it returns (then closes the
  // window) or the user closes the window. Returns the worker's result, or kExitCancelled when
  // the window was closed before the end.
  int RunMessageLoop(std::function<int()> work);

  // The user closed the window (or pressed Esc).
  bool closed() const;
  // The window was closed mid-run and the worker did not stop within a moment (it may be in a
  // long poll): it still runs and uses the environment, so the caller must end the process
  // (ExitProcess) instead of destroying that environment.
  bool worker_abandoned() const { return worker_abandoned_; }

  // Where Log lines go besides nowhere (e.g. stderr with --verbose); called on any thread.
  void SetLogSink(std::function<void(const std::string&)> sink);

 private:
  explicit Win32Ui(HINSTANCE instance);
  static LRESULT CALLBACK WindowProc(HWND window, UINT message, WPARAM wparam, LPARAM lparam);
  LRESULT OnMessage(UINT message, WPARAM wparam, LPARAM lparam);
  bool OnCommand(int id, int code, HWND control);
  void OnDpiChanged(UINT dpi, const RECT& suggested);
  void OnSettingsChanged();
  void CenterOnMonitor();
  int FittingTextPercent(UINT dpi) const;
  void ApplyFonts(UINT dpi);
  void OnDestroy();

  // Asks the GUI thread to bring the window up to date; needs mutex_.
  void PostLocked(UINT message);
  void Choose(FinalChoice choice);
  void OnCancel();
  WindowContent CopyContent();
  std::optional<std::vector<AccessibleText>> Paint(HDC target);
  void SyncButtons();
  void LayoutButtons();
  void SetDefaultButton(HWND button);
  int Px(int pixels_at_96_dpi) const { return fonts_.Px(pixels_at_96_dpi); }

  // GUI thread only.
  HINSTANCE instance_;
  HWND window_ = nullptr;
  WindowFonts fonts_;                  // at the window's DPI and (fitting) text size
  int requested_text_percent_ = 100;   // Windows' text size; fonts_ may use less to fit
  HBRUSH background_brush_ = nullptr;  // the painted tone, for the buttons' corners
  std::optional<Tone> painted_tone_;   // the tone of background_brush_; none: make it again
  bool painted_high_contrast_ = false;
  AccessibleOverlay overlay_;  // the painted texts, for screen readers
  std::vector<HWND> buttons_;
  HWND default_button_ = nullptr;
  HWND focused_button_ = nullptr;
  bool buttons_cut_ = false;  // the buttons are wider than the window: counted as clipped
  bool countdown_timer_ = false;
  std::wstring snapshot_path_;  // AP_UI_SNAPSHOT: tests read the painted pixels from here

  // Shared with the worker.
  mutable std::mutex mutex_;  // guards the members below (with changed_)
  std::condition_variable changed_;
  HWND post_target_ = nullptr;  // the window while it exists
  Screen screen_;
  bool has_screen_ = false;
  std::vector<CheckLine> checks_;
  bool asking_ = false;
  bool can_restart_ = false;
  bool can_retry_ = false;
  bool can_collect_ = false;
  std::optional<std::chrono::steady_clock::time_point> countdown_end_;
  std::optional<FinalChoice> choice_;
  bool closed_ = false;
  bool closed_mid_run_ = false;
  bool worker_done_ = false;
  int worker_result_ = 0;
  std::function<void(const std::string&)> log_sink_;

  bool worker_abandoned_ = false;
};

}  // namespace apm::client
