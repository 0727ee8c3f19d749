// UTF-8 <-> UTF-16 and error-code text for the Windows twins (Windows only).
#pragma once

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace apm::client {

// Invalid UTF-8 becomes U+FFFD rather than an error: these strings are for display and APIs.
// `code_page`: what `text` is in (CP_ACP for names legacy formats such as a cab's give).
inline std::wstring Widen(std::string_view text, UINT code_page = CP_UTF8) {
  if (text.empty()) return {};
  const int length =
      MultiByteToWideChar(code_page, 0, text.data(), static_cast<int>(text.size()), nullptr, 0);
  if (length <= 0) return {};
  std::wstring wide(static_cast<size_t>(length), L'\0');
  MultiByteToWideChar(code_page, 0, text.data(), static_cast<int>(text.size()), wide.data(),
                      length);
  return wide;
}

inline std::string Narrow(std::wstring_view text) {
  if (text.empty()) return {};
  const int length = WideCharToMultiByte(CP_UTF8, 0, text.data(), static_cast<int>(text.size()),
                                         nullptr, 0, nullptr, nullptr);
  if (length <= 0) return {};
  std::string narrow(static_cast<size_t>(length), '\0');
  WideCharToMultiByte(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), narrow.data(), length,
                      nullptr, nullptr);
  return narrow;
}

// "0x8004100E": how HRESULTs are written in Microsoft's documentation and forums.
inline std::string HexCode(uint32_t code) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08X", static_cast<unsigned>(code));
  return text;
}

// The system's own words for a Win32 (or Winsock) error code, without the trailing period and
// line break; "" when the system has none.
inline std::string SystemErrorText(DWORD code) {
  wchar_t* buffer = nullptr;
  const DWORD length = FormatMessageW(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
      nullptr, code, MAKELANGID(LANG_NEUTRAL, SUBLANG_DEFAULT), reinterpret_cast<wchar_t*>(&buffer),
      0, nullptr);
  if (length == 0 || buffer == nullptr) return {};
  std::wstring_view view(buffer, length);
  while (!view.empty() && (view.back() == L'\r' || view.back() == L'\n' || view.back() == L' ' ||
                           view.back() == L'.')) {
    view.remove_suffix(1);
  }
  std::string text = Narrow(view);
  LocalFree(buffer);
  return text;
}

// "error 5 (Access is denied)", or "error 5" when the system has no words for it.
inline std::string DescribeWin32Error(DWORD code) {
  std::string text = "error " + std::to_string(code);
  const std::string words = SystemErrorText(code);
  if (!words.empty()) text += " (" + words + ")";
  return text;
}

}  // namespace apm::client
