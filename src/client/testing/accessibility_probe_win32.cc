// ap_accessibility_probe.exe: what a screen reader gets from ap.exe's window, for the Wine test
// (tests/wine/wine_client_test.py). A separate process, as Narrator is: it walks the window's
// children through MSAA (AccessibleObjectFromWindow, AccessibleChildren) and, with
// --events SECONDS [--until NAME], prints the name and live-region changes the window raises
// meanwhile (until NAME is announced). With --press NAME it presses the button of that caption
// (without its '&'), as a click does: the button's BN_CLICKED to the window.
//
// Output, UTF-8, one line each: "child<TAB>role<TAB>class<TAB>name" (the class of a child window,
// "-" for a simple element) and "event<TAB>kind<TAB>name". Wine's MSAA gives every window the
// role "client"; Windows gives a Static "text" and a Button "push button".
#include <windows.h>

#include <initguid.h>  // IID_IAccessible defined here: liboleacc.a's symbol is a jump thunk
#include <oleacc.h>

#include <cstdio>
#include <cwchar>
#include <string>
#include <vector>

namespace {

constexpr wchar_t kWindowClass[] = L"ApmAutopilotRegistration";  // win32_ui.cc
constexpr DWORD kLiveRegionChanged = 0x8019;
std::wstring awaited;  // --until: the live announcement that ends the watch
bool heard = false;    // EVENT_OBJECT_LIVEREGIONCHANGED

std::string Utf8(const std::wstring& text) {
  const int size = WideCharToMultiByte(CP_UTF8, 0, text.c_str(), static_cast<int>(text.size()),
                                       nullptr, 0, nullptr, nullptr);
  std::string out(static_cast<size_t>(size), '\0');
  WideCharToMultiByte(CP_UTF8, 0, text.c_str(), static_cast<int>(text.size()), out.data(), size,
                      nullptr, nullptr);
  return out;
}

std::wstring TakeBstr(BSTR text) {
  std::wstring out = text ? std::wstring(text, SysStringLen(text)) : L"";
  SysFreeString(text);
  return out;
}

std::wstring RoleText(LONG role) {
  wchar_t text[128] = {};
  GetRoleTextW(static_cast<DWORD>(role), text, 128);
  return text;
}

// Name and role of `child` of `parent` (a full object, or a simple element of the parent).
void PrintChild(IAccessible* parent, VARIANT& child) {
  IAccessible* object = parent;
  VARIANT self;
  VariantInit(&self);
  self.vt = VT_I4;
  self.lVal = CHILDID_SELF;
  VARIANT* id = &self;
  wchar_t window_class[64] = L"-";
  if (child.vt == VT_DISPATCH && child.pdispVal) {
    // A child window: its client object carries the name and role, as a screen reader reads.
    IAccessible* window_object = nullptr;
    HWND child_window = nullptr;
    if (FAILED(child.pdispVal->QueryInterface(IID_IAccessible,
                                              reinterpret_cast<void**>(&window_object)))) {
      return;
    }
    WindowFromAccessibleObject(window_object, &child_window);
    window_object->Release();
    if (child_window) RealGetWindowClassW(child_window, window_class, 64);
    if (!child_window ||
        FAILED(AccessibleObjectFromWindow(child_window, static_cast<DWORD>(OBJID_CLIENT),
                                          IID_IAccessible, reinterpret_cast<void**>(&object)))) {
      return;
    }
  } else {
    id = &child;
  }
  BSTR name = nullptr;
  object->get_accName(*id, &name);
  VARIANT role;
  VariantInit(&role);
  object->get_accRole(*id, &role);
  std::printf("child\t%s\t%s\t%s\n", Utf8(role.vt == VT_I4 ? RoleText(role.lVal) : L"?").c_str(),
              Utf8(window_class).c_str(), Utf8(TakeBstr(name)).c_str());
  if (object != parent) object->Release();
}

int PrintChildren(HWND window) {
  IAccessible* client = nullptr;
  const HRESULT hr = AccessibleObjectFromWindow(window, static_cast<DWORD>(OBJID_CLIENT),
                                                IID_IAccessible, reinterpret_cast<void**>(&client));
  if (FAILED(hr)) {
    std::fprintf(stderr, "AccessibleObjectFromWindow failed: 0x%08lx\n",
                 static_cast<unsigned long>(hr));
    return 3;
  }
  long count = 0;
  client->get_accChildCount(&count);
  std::vector<VARIANT> children(static_cast<size_t>(count));
  long obtained = 0;
  if (count > 0) AccessibleChildren(client, 0, count, children.data(), &obtained);
  for (long i = 0; i < obtained; ++i) {
    PrintChild(client, children[i]);
    VariantClear(&children[i]);
  }
  client->Release();
  return 0;
}

void CALLBACK OnEvent(HWINEVENTHOOK, DWORD event, HWND window, LONG object, LONG child, DWORD,
                      DWORD) {
  if (event != EVENT_OBJECT_NAMECHANGE && event != kLiveRegionChanged) return;
  IAccessible* accessible = nullptr;
  VARIANT id;
  VariantInit(&id);
  if (FAILED(AccessibleObjectFromEvent(window, static_cast<DWORD>(object),
                                       static_cast<DWORD>(child), &accessible, &id))) {
    return;
  }
  BSTR name = nullptr;
  accessible->get_accName(id, &name);
  const std::wstring text = TakeBstr(name);
  if (event == kLiveRegionChanged && !awaited.empty() && text == awaited) heard = true;
  std::printf("event\t%s\t%s\n", event == kLiveRegionChanged ? "live" : "name", Utf8(text).c_str());
  std::fflush(stdout);
  accessible->Release();
  VariantClear(&id);
}

// --press: the first Button child whose caption, without '&', is `name`.
struct PressTarget {
  std::wstring name;
  HWND button = nullptr;
};

BOOL CALLBACK FindButton(HWND child, LPARAM data) {
  auto* target = reinterpret_cast<PressTarget*>(data);
  wchar_t window_class[64] = {};
  wchar_t caption[256] = {};
  GetClassNameW(child, window_class, 64);
  GetWindowTextW(child, caption, 256);
  std::wstring plain;
  for (const wchar_t* c = caption; *c; ++c) {
    if (*c != L'&') plain.push_back(*c);
  }
  if (_wcsicmp(window_class, L"Button") == 0 && plain == target->name) {
    target->button = child;
    return FALSE;
  }
  return TRUE;
}

int Press(HWND window, const wchar_t* name) {
  PressTarget target{name};
  for (int tries = 0; tries < 50 && !target.button; ++tries) {
    EnumChildWindows(window, &FindButton, reinterpret_cast<LPARAM>(&target));
    if (!target.button) Sleep(100);
  }
  if (!target.button) {
    std::fprintf(stderr, "no button \"%s\"\n", Utf8(name).c_str());
    return 3;
  }
  const int id = GetDlgCtrlID(target.button);
  PostMessageW(window, WM_COMMAND, MAKEWPARAM(id, BN_CLICKED),
               reinterpret_cast<LPARAM>(target.button));
  std::printf("pressed\t%s\n", Utf8(name).c_str());
  return 0;
}

}  // namespace

int wmain(int argc, wchar_t** argv) {
  CoInitializeEx(nullptr, COINIT_APARTMENTTHREADED);
  HWND window = nullptr;
  for (int tries = 0; tries < 100 && !window; ++tries) {
    window = FindWindowW(kWindowClass, nullptr);
    if (!window) Sleep(100);
  }
  if (!window) {
    std::fprintf(stderr, "no ap.exe window\n");
    return 2;
  }
  if (argc == 3 && std::wcscmp(argv[1], L"--press") == 0) {
    const int code = Press(window, argv[2]);
    CoUninitialize();
    return code;
  }
  if (argc >= 3 && std::wcscmp(argv[1], L"--events") == 0) {
    if (argc == 5 && std::wcscmp(argv[3], L"--until") == 0) awaited = argv[4];
    DWORD process = 0;
    GetWindowThreadProcessId(window, &process);
    HWINEVENTHOOK hook = SetWinEventHook(EVENT_OBJECT_NAMECHANGE, kLiveRegionChanged, nullptr,
                                         &OnEvent, process, 0, WINEVENT_OUTOFCONTEXT);
    const DWORD end = GetTickCount() + static_cast<DWORD>(_wtoi(argv[2])) * 1000;
    while (GetTickCount() < end && !heard) {
      MSG message;
      while (PeekMessageW(&message, nullptr, 0, 0, PM_REMOVE)) DispatchMessageW(&message);
      Sleep(20);
    }
    if (hook) UnhookWinEvent(hook);
  }
  const int code = PrintChildren(window);
  std::fflush(stdout);
  CoUninitialize();
  return code;
}
