// A registration from before the test, as a repaired laptop finds it: tag, purchase order id,
// assigned user and an Intune record (tests of the repair path, in the simulator and the engine).
#pragma once

#include <string>

#include "tenantsim/graph_model.h"

namespace apm::sim {

inline RegisteredDeviceSpec RepairedLaptop(const std::string& serial,
                                           const std::string& managed_device = "DESKTOP-OLD") {
  RegisteredDeviceSpec spec;
  spec.serial_number = serial;
  spec.manufacturer = "LENOVO";
  spec.model = "21R3001BUK";
  spec.group_tag = "Kiosk";
  spec.purchase_order_id = "PO-77";
  spec.user_principal_name = "ada@contoso.example";
  spec.managed_device_name = managed_device;
  spec.last_contacted_days_ago = 3;
  return spec;
}

}  // namespace apm::sim
