#include "client/win32_accessibility.h"

#include <algorithm>

#include <initguid.h>  // oleacc.h's GUIDs defined here: liboleacc.a's symbols are jump thunks
#include <oleacc.h>

namespace apm::client {
namespace {

// UI Automation's LiveSetting property (UIAutomationClient.h), set through MSAA's dynamic
// annotation; mingw-w64's headers do not have it.
DEFINE_GUID(kLiveSettingProperty, 0xc12bcd8e, 0x2a8e, 0x4950, 0x8a, 0xe7, 0x36, 0x25, 0x11, 0x1d,
            0x58, 0xeb);
constexpr LONG kLiveSettingPolite = 1;
constexpr LONG kLiveSettingAssertive = 2;
constexpr DWORD kLiveRegionChanged = 0x8019;  // EVENT_OBJECT_LIVEREGIONCHANGED (Windows 8+)

// An overlay text paints nothing and takes no click: the parent's painting shows through. The
// empty window region says the same on Windows; Wine keeps no empty region (it takes one
// without rectangles for "no region"), so the control itself must stay out of sight. After
// its creation the Static's own procedure is not called: it paints at once when its text is set
// (Wine's does, with GetDC). The class stays "Static", which is what screen readers go by, and
// DefWindowProc keeps the text and announces its changes.
LRESULT CALLBACK SilentStatic(HWND window, UINT message, WPARAM wparam, LPARAM lparam) {
  switch (message) {
    case WM_PAINT: {
      PAINTSTRUCT paint;
      BeginPaint(window, &paint);
      EndPaint(window, &paint);
      return 0;
    }
    case WM_ERASEBKGND:
      return 1;
    case WM_NCHITTEST:
      return HTTRANSPARENT;
    default:
      return DefWindowProcW(window, message, wparam, lparam);
  }
}

VARIANT LongVariant(LONG value) {
  VARIANT variant;
  VariantInit(&variant);
  variant.vt = VT_I4;
  variant.lVal = value;
  return variant;
}

}  // namespace

AccessibleOverlay::~AccessibleOverlay() {
  if (properties_) properties_->Release();
}

void AccessibleOverlay::Forget() {
  for (const Piece& piece : pieces_) ClearAnnotations(piece);
  pieces_.clear();
}

// Windows keeps annotations by window handle: cleared before the window goes, so a later window
// with the same handle does not inherit them.
void AccessibleOverlay::ClearAnnotations(const Piece& piece) {
  if (!properties_) return;
  const MSAAPROPID annotated[] = {PROPID_ACC_ROLE, kLiveSettingProperty};
  properties_->ClearHwndProps(piece.window, OBJID_CLIENT, CHILDID_SELF, annotated, 2);
}

void AccessibleOverlay::Update(HWND parent, const std::vector<AccessibleText>& texts) {
  std::vector<Piece> kept;
  HWND previous = HWND_TOP;
  for (const AccessibleText& text : texts) {
    auto same = std::find_if(pieces_.begin(), pieces_.end(),
                             [&](const Piece& piece) { return piece.key == text.key; });
    if (same != pieces_.end()) {
      kept.push_back(std::move(*same));
      pieces_.erase(same);
    } else {
      // WS_EX_TRANSPARENT: the parent (WS_CLIPCHILDREN) paints where it lies, too.
      HWND window = CreateWindowExW(WS_EX_TRANSPARENT, L"STATIC", L"",
                                    WS_CHILD | WS_VISIBLE | SS_LEFT | SS_NOPREFIX, 0, 0, 0, 0,
                                    parent, nullptr, GetModuleHandleW(nullptr), nullptr);
      if (!window) continue;
      // Nothing of it is drawn or clicked: the parent's painting shows through.
      SetWindowRgn(window, CreateRectRgn(0, 0, 0, 0), FALSE);
      SetWindowLongPtrW(window, GWLP_WNDPROC, reinterpret_cast<LONG_PTR>(&SilentStatic));
      kept.push_back({text.key, window, "", text.role});
      Annotate(kept.back());
    }
    Piece& piece = kept.back();
    // In reading order, before the buttons (the order a screen reader walks the children).
    SetWindowPos(piece.window, previous, text.box.left, text.box.top,
                 text.box.right - text.box.left, text.box.bottom - text.box.top,
                 SWP_NOACTIVATE | SWP_NOREDRAW);
    previous = piece.window;
    if (piece.role != text.role) {
      piece.role = text.role;
      Annotate(piece);
    }
    if (piece.name != text.name) {
      piece.name = text.name;
      SetWindowTextW(piece.window, Widen(text.name).c_str());  // raises a name change
      if (piece.role == AccessibleRole::kLiveText ||
          piece.role == AccessibleRole::kPoliteLiveText) {
        NotifyWinEvent(kLiveRegionChanged, piece.window, OBJID_CLIENT, CHILDID_SELF);
      }
    }
  }
  for (const Piece& gone : pieces_) {
    ClearAnnotations(gone);
    DestroyWindow(gone.window);
  }
  pieces_ = std::move(kept);
}

// The role and live setting through dynamic annotation, where Windows has it.
void AccessibleOverlay::Annotate(const Piece& piece) {
  if (!asked_for_properties_) {
    asked_for_properties_ = true;
    CoInitializeEx(nullptr, COINIT_APARTMENTTHREADED);  // the window's thread; once is enough
    if (FAILED(CoCreateInstance(CLSID_AccPropServices, nullptr, CLSCTX_INPROC_SERVER,
                                IID_IAccPropServices, reinterpret_cast<void**>(&properties_)))) {
      properties_ = nullptr;
    }
  }
  if (!properties_) return;
  const LONG role =
      piece.role == AccessibleRole::kGraphic ? ROLE_SYSTEM_GRAPHIC : ROLE_SYSTEM_STATICTEXT;
  properties_->SetHwndProp(piece.window, OBJID_CLIENT, CHILDID_SELF, PROPID_ACC_ROLE,
                           LongVariant(role));
  if (piece.role == AccessibleRole::kLiveText || piece.role == AccessibleRole::kPoliteLiveText) {
    const LONG setting =
        piece.role == AccessibleRole::kLiveText ? kLiveSettingAssertive : kLiveSettingPolite;
    properties_->SetHwndProp(piece.window, OBJID_CLIENT, CHILDID_SELF, kLiveSettingProperty,
                             LongVariant(setting));
  } else {
    const MSAAPROPID live[] = {kLiveSettingProperty};
    properties_->ClearHwndProps(piece.window, OBJID_CLIENT, CHILDID_SELF, live, 1);
  }
}

}  // namespace apm::client
