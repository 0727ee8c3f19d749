#include "tenantsim/forged_token.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string_view>

#include "core/base64.h"

namespace apm::sim {

using json = nlohmann::json;

std::string ForgeToken(const std::string& token, const std::string& fault, const json& jwks) {
  size_t d1 = token.find('.'), d2 = token.rfind('.');
  std::string header_part = token.substr(0, d1);
  std::string payload_part = token.substr(d1 + 1, d2 - d1 - 1);
  auto decode = [](std::string_view part) {
    Result<std::string> text = Base64UrlDecodeNoPad(part);
    return text.ok() ? *text : std::string("{}");
  };
  json header = json::parse(decode(header_part), nullptr, false);
  if (fault == "tampered") {
    json payload = json::parse(decode(payload_part), nullptr, false);
    payload["groups"] = json::array({"00000000-0000-4000-8000-00000000beef"});
    return header_part + "." + Base64UrlEncodeNoPad(payload.dump()) + token.substr(d2);
  }
  if (fault == "alg-none") {
    header["alg"] = "none";
    return Base64UrlEncodeNoPad(header.dump()) + "." + payload_part + ".";
  }
  if (fault == "hs256") {
    header["alg"] = "HS256";
    std::string signed_part = Base64UrlEncodeNoPad(header.dump()) + "." + payload_part;
    std::string key = jwks["keys"][0].value("n", "");
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_length = 0;
    HMAC(EVP_sha256(), key.data(), int(key.size()),
         reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(), mac,
         &mac_length);
    return signed_part + "." +
           Base64UrlEncodeNoPad(std::string_view(reinterpret_cast<char*>(mac), mac_length));
  }
  return token;  // claim faults were applied before signing
}

}  // namespace apm::sim
