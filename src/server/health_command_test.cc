#include "server/health_command.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace apm {
namespace {

// Answers every call with one result and remembers what was asked.
class CannedHttp : public OutboundHttp {
 public:
  explicit CannedHttp(Result<OutboundResponse> answer) : answer_(std::move(answer)) {}
  Result<OutboundResponse> Send(const OutboundRequest& request, SendReport*) override {
    asked.push_back(request.url);
    return answer_;
  }
  std::vector<std::string> asked;

 private:
  Result<OutboundResponse> answer_;
};

Config Listening(std::string listen, std::string certificate = "") {
  Config c;
  c.Listen = std::move(listen);
  c.TlsCertificateFile = std::move(certificate);
  return c;
}

TEST(LocalHealthUrl, AWildcardListenerIsAskedOnLoopback) {
  EXPECT_EQ(LocalHealthUrl(Listening("0.0.0.0:8080")), "http://127.0.0.1:8080/healthz");
  EXPECT_EQ(LocalHealthUrl(Listening("[::]:8080")), "http://127.0.0.1:8080/healthz");
  EXPECT_EQ(LocalHealthUrl(Listening(":9000")), "http://127.0.0.1:9000/healthz");
}

TEST(LocalHealthUrl, ANamedHostAndTlsAreKept) {
  EXPECT_EQ(LocalHealthUrl(Listening("10.0.0.5:80")), "http://10.0.0.5:80/healthz");
  EXPECT_EQ(LocalHealthUrl(Listening("0.0.0.0:8443", "/etc/apm/tls.crt")),
            "https://127.0.0.1:8443/healthz");
}

struct Parsed {
  CLI::App app;
  HealthCommand command{app};
  explicit Parsed(std::vector<std::string> args) {
    std::reverse(args.begin(), args.end());
    app.parse(args);
  }
};

OutboundResponse Answer(int status) {
  OutboundResponse r;
  r.status = status;
  return r;
}

TEST(HealthCommand, ServingIsZeroAndAnythingElseIsOne) {
  Parsed p({"healthcheck"});
  ASSERT_TRUE(p.command.chosen());
  CannedHttp ok(Answer(200));
  EXPECT_EQ(p.command.Run(Listening("0.0.0.0:8080"), ok), 0);
  EXPECT_EQ(ok.asked, std::vector<std::string>{"http://127.0.0.1:8080/healthz"});
  CannedHttp starting(Answer(503));
  EXPECT_EQ(p.command.Run(Listening("0.0.0.0:8080"), starting), 1);
  CannedHttp down(Status::Unavailable("connection refused"));
  EXPECT_EQ(p.command.Run(Listening("0.0.0.0:8080"), down), 1);
}

TEST(HealthCommand, AGivenUrlIsAskedAndItsCertificateIsChecked) {
  Parsed p({"healthcheck", "--url", "https://apm.contoso.com/healthz"});
  CannedHttp ok(Answer(200));
  Config tls = Listening("0.0.0.0:8443", "/etc/apm/tls.crt");
  EXPECT_EQ(p.command.Run(tls, ok), 0);
  EXPECT_EQ(ok.asked, std::vector<std::string>{"https://apm.contoso.com/healthz"});
  EXPECT_TRUE(p.command.VerifiesPeer());
  EXPECT_FALSE(Parsed({"healthcheck"}).command.VerifiesPeer());
}

}  // namespace
}  // namespace apm
