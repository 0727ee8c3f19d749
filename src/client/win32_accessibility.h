// What a screen reader (Narrator, NVDA) finds in the window: each painted text as a real
// Static control over the place it is painted, with an empty window region so it neither hides
// the painting nor takes the mouse. The current step and the reason are live regions, announced
// when they change; the QR code is a graphic with its description.
#pragma once

#include "client/win32_paint.h"  // <windows.h>

#include <string>
#include <vector>

struct IAccPropServices;

namespace apm::client {

class AccessibleOverlay {
 public:
  AccessibleOverlay() = default;
  ~AccessibleOverlay();
  AccessibleOverlay(const AccessibleOverlay&) = delete;
  AccessibleOverlay& operator=(const AccessibleOverlay&) = delete;

  // Makes the Static children of `parent` say `texts`, in reading order, where they are
  // painted, ahead of the other children (the buttons) in the order a screen reader walks. A
  // piece keeps its control while its key stays, so only real changes are announced.
  void Update(HWND parent, const std::vector<AccessibleText>& texts);
  // The parent is being destroyed, and its children with it.
  void Forget();

 private:
  struct Piece {
    std::string key;
    HWND window;
    std::string name;
    AccessibleRole role;
  };
  void Annotate(const Piece& piece);
  void ClearAnnotations(const Piece& piece);

  std::vector<Piece> pieces_;
  IAccPropServices* properties_ = nullptr;  // Windows' dynamic annotation; absent under Wine
  bool asked_for_properties_ = false;
};

}  // namespace apm::client
