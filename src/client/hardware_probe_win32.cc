// The device facts from WMI: serial, manufacturer, model and the MDM hardware hash.
#include "client/win32_text.h"  // first: <windows.h> before the COM headers

#include <objbase.h>
#include <oleauto.h>
#include <wbemidl.h>

#include <string>
#include <string_view>

#include "client/catalogue.h"
#include "client/hardware_probe.h"
#include "core/text.h"

namespace apm::client {
namespace {

template <typename T>
class ComRef {
 public:
  ComRef() = default;
  ComRef(const ComRef&) = delete;
  ComRef& operator=(const ComRef&) = delete;
  ~ComRef() {
    if (p_) p_->Release();
  }
  T* get() const { return p_; }
  T* operator->() const { return p_; }
  T** out() { return &p_; }
  void** out_void() { return reinterpret_cast<void**>(&p_); }

 private:
  T* p_ = nullptr;
};

class Bstr {
 public:
  explicit Bstr(const wchar_t* text) : bstr_(SysAllocString(text)) {}
  Bstr(const Bstr&) = delete;
  Bstr& operator=(const Bstr&) = delete;
  ~Bstr() { SysFreeString(bstr_); }
  BSTR get() const { return bstr_; }

 private:
  BSTR bstr_;
};

// COM on the calling thread for as long as this lives (the workflow's thread, not the GUI's).
class ComScope {
 public:
  ComScope() : hr_(CoInitializeEx(nullptr, COINIT_MULTITHREADED)) {}
  ComScope(const ComScope&) = delete;
  ComScope& operator=(const ComScope&) = delete;
  ~ComScope() {
    if (SUCCEEDED(hr_)) CoUninitialize();
  }
  // RPC_E_CHANGED_MODE: the thread is already an STA, which serves in-process WMI as well.
  bool usable() const { return SUCCEEDED(hr_) || hr_ == RPC_E_CHANGED_MODE; }
  HRESULT hr() const { return hr_; }

 private:
  HRESULT hr_;
};

Status WmiError(std::string_view what, HRESULT hr) {
  return Status::Unavailable("cannot read " + std::string(what) + " through WMI (HRESULT " +
                             HexCode(static_cast<uint32_t>(hr)) + ")");
}

// Opens a WMI namespace with the security the queries need.
HRESULT Connect(IWbemLocator* locator, const wchar_t* name, ComRef<IWbemServices>* services) {
  Bstr path(name);
  HRESULT hr = locator->ConnectServer(path.get(), nullptr, nullptr, nullptr, 0, nullptr, nullptr,
                                      services->out());
  if (FAILED(hr)) return hr;
  return CoSetProxyBlanket(services->get(), RPC_C_AUTHN_WINNT, RPC_C_AUTHZ_NONE, nullptr,
                           RPC_C_AUTHN_LEVEL_CALL, RPC_C_IMP_LEVEL_IMPERSONATE, nullptr, EOAC_NONE);
}

// The first instance of a query's result and its string properties.
class WmiRow {
 public:
  HRESULT Query(IWbemServices* services, const wchar_t* wql) {
    Bstr language(L"WQL");
    Bstr query(wql);
    ComRef<IEnumWbemClassObject> rows;
    HRESULT hr = services->ExecQuery(language.get(), query.get(),
                                     WBEM_FLAG_FORWARD_ONLY | WBEM_FLAG_RETURN_IMMEDIATELY, nullptr,
                                     rows.out());
    if (FAILED(hr)) return hr;
    ULONG returned = 0;
    hr = rows->Next(WBEM_INFINITE, 1, row_.out(), &returned);
    if (FAILED(hr)) return hr;
    return returned == 1 ? S_OK : static_cast<HRESULT>(WBEM_E_NOT_FOUND);
  }

  // The trimmed text of a string property; "" when it is null or not a string.
  std::string Text(const wchar_t* property) {
    VARIANT value;
    VariantInit(&value);
    std::string text;
    if (SUCCEEDED(row_->Get(property, 0, &value, nullptr, nullptr)) && value.vt == VT_BSTR &&
        value.bstrVal != nullptr) {
      text = Trim(Narrow(std::wstring_view(value.bstrVal, SysStringLen(value.bstrVal))));
    }
    VariantClear(&value);
    return text;
  }

 private:
  ComRef<IWbemClassObject> row_;
};

// Why Windows gave no hash, in words for the user (client_app adds what works instead).
std::string HashProblem(HRESULT hr) {
  constexpr HRESULT kInvalidNamespace = HRESULT(0x8004100EL), kInvalidClass = HRESULT(0x80041010L),
                    kAccessDenied = HRESULT(0x80041003L);
  if (hr == kInvalidNamespace || hr == kInvalidClass) return Text(Msg::kHashNoMdmBridge);
  if (hr == kAccessDenied || hr == E_ACCESSDENIED) return Text(Msg::kHashNeedsAdministrator);
  if (FAILED(hr)) return Text(Msg::kHashQueryFailed, {HexCode(uint32_t(hr))});
  return Text(Msg::kHashEmpty);
}

class WmiHardwareProbe : public HardwareProbe {
 public:
  Result<DeviceFacts> Read() override {
    ComScope com;
    if (!com.usable()) return WmiError("COM (CoInitializeEx)", com.hr());
    // Process-wide; a second call (or one by a host process) answers RPC_E_TOO_LATE.
    HRESULT hr = CoInitializeSecurity(nullptr, -1, nullptr, nullptr, RPC_C_AUTHN_LEVEL_DEFAULT,
                                      RPC_C_IMP_LEVEL_IMPERSONATE, nullptr, EOAC_NONE, nullptr);
    if (FAILED(hr) && hr != RPC_E_TOO_LATE) return WmiError("COM security", hr);

    ComRef<IWbemLocator> locator;
    hr = CoCreateInstance(CLSID_WbemLocator, nullptr, CLSCTX_INPROC_SERVER, IID_IWbemLocator,
                          locator.out_void());
    if (FAILED(hr)) return WmiError("the WMI locator", hr);

    DeviceFacts facts;
    facts.source = "WMI";
    {
      ComRef<IWbemServices> cimv2;
      if (FAILED(hr = Connect(locator.get(), L"ROOT\\CIMV2", &cimv2))) {
        return WmiError("root\\cimv2", hr);
      }
      WmiRow bios;
      if (FAILED(hr = bios.Query(cimv2.get(), L"SELECT SerialNumber FROM Win32_BIOS"))) {
        return WmiError("Win32_BIOS", hr);
      }
      facts.serial_number = bios.Text(L"SerialNumber");

      WmiRow system;
      if (FAILED(hr = system.Query(cimv2.get(),
                                   L"SELECT Manufacturer, Model FROM Win32_ComputerSystem"))) {
        return WmiError("Win32_ComputerSystem", hr);
      }
      facts.manufacturer = system.Text(L"Manufacturer");
      facts.model = system.Text(L"Model");

      // Lenovo puts a machine-type code in Model; the name people know is the product Version.
      if (EqualsIgnoreCase(facts.manufacturer, "LENOVO")) {
        WmiRow product;
        if (FAILED(hr = product.Query(cimv2.get(),
                                      L"SELECT Version FROM Win32_ComputerSystemProduct"))) {
          return WmiError("Win32_ComputerSystemProduct", hr);
        }
        if (std::string version = product.Text(L"Version"); !version.empty()) {
          facts.model = version;
        }
      }
    }

    // The hash needs the MDM bridge (absent in WinPE and Wine) and an elevated or SYSTEM
    // process; without it the facts go on with an empty hash and the workflow explains.
    ComRef<IWbemServices> dmmap;
    hr = Connect(locator.get(), L"ROOT\\CIMV2\\MDM\\DMMAP", &dmmap);
    if (SUCCEEDED(hr)) {
      WmiRow details;
      hr = details.Query(dmmap.get(),
                         L"SELECT * FROM MDM_DevDetail_Ext01 WHERE InstanceID='Ext' AND "
                         L"ParentID='./DevDetail'");
      if (SUCCEEDED(hr)) facts.hardware_hash = details.Text(L"DeviceHardwareData");
    }
    if (facts.hardware_hash.empty()) facts.hash_problem = HashProblem(hr);
    return facts;
  }
};

}  // namespace

std::unique_ptr<HardwareProbe> NewPlatformHardwareProbe() {
  return std::make_unique<WmiHardwareProbe>();
}

}  // namespace apm::client
