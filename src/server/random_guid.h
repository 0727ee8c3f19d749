// A fresh random GUID from the operating system's CSPRNG (via OpenSSL).
#pragma once

#include <string>

namespace apm {

std::string RandomGuid();

}  // namespace apm
