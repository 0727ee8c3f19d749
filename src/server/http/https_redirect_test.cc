#include "server/http/https_redirect.h"

#include <gtest/gtest.h>

namespace apm {
namespace {

struct Redirect {
  int status = 0;
  std::string location;
};

Redirect Ask(const Config& config, uint16_t tls_port, const std::string& host,
             const std::string& target) {
  HttpsRedirectHandler handler(config, tls_port);
  InboundRequest req;
  req.message.method(http::verb::post);
  req.message.target(target);
  req.message.version(11);
  if (!host.empty()) req.message.set(http::field::host, host);
  Redirect out;
  handler.Handle(std::move(req), [&out](AnyResponse res, std::string_view) {
    if (auto* s = std::get_if<StringResponse>(&res)) {
      out.status = s->result_int();
      out.location = std::string((*s)[http::field::location]);
    }
  });
  return out;
}

TEST(HttpsRedirect, KeepsPathAndQueryOnTheRequestsHostAtTheTlsPort) {
  Config config;
  Redirect r = Ask(config, 8443, "apm.contoso.com:8080", "/api/v1/requests?wait=5");
  EXPECT_EQ(r.status, 308) << "308 keeps the method and body of a submission";
  EXPECT_EQ(r.location, "https://apm.contoso.com:8443/api/v1/requests?wait=5");
  EXPECT_EQ(Ask(config, 443, "apm.contoso.com", "/ap.exe").location,
            "https://apm.contoso.com/ap.exe");
  EXPECT_EQ(Ask(config, 443, "[2001:db8::1]:80", "/").location, "https://[2001:db8::1]/");
}

TEST(HttpsRedirect, PublicUrlDecidesWhereTo) {
  Config config;
  config.PublicUrl = "https://autopilot.contoso.com/";
  EXPECT_EQ(Ask(config, 8443, "10.0.0.4", "/autopilot/x").location,
            "https://autopilot.contoso.com/autopilot/x");
}

TEST(HttpsRedirect, AHostThatIsNotAHostNameIsRefused) {
  Config config;
  EXPECT_EQ(Ask(config, 443, "evil.example\"><script>", "/").status, 400);
  EXPECT_EQ(Ask(config, 443, "", "/").status, 400);
}

}  // namespace
}  // namespace apm
