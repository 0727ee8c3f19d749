// Stand-in for a customer's Azure Functions app: a real HTTP server on a loopback port that
// answers POST /api/{validate,grouptag,autoapproval} from a script and keeps every call it got,
// header and body as they arrived.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/http/http_server.h"
#include "server/http/responses.h"

namespace apm::itest {

class FunctionReceiver : public HttpHandler {
 public:
  struct Answer {
    int status = 200;
    std::string body;
    std::chrono::milliseconds delay{0};  // before answering (a slow or hanging function)
  };
  struct Call {
    std::string function;  // "validate", …
    std::string key;       // x-functions-key, "" when absent
    std::string content_type;
    std::string body;
  };

  FunctionReceiver() : server_(Options(), *this, nullptr) {}
  ~FunctionReceiver() override {
    {
      std::lock_guard lock(mu_);
      for (std::thread& t : delayed_) t.join();  // their replies go out before the server stops
    }
    server_.Shutdown();
  }

  bool Start() { return server_.Start().ok(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_.port()) + "/api"; }

  void Script(const std::string& function, Answer answer) {
    std::lock_guard lock(mu_);
    answers_[function] = std::move(answer);
  }
  std::vector<Call> calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }
  std::vector<std::string> functions() {
    std::vector<std::string> out;
    for (const Call& c : calls()) out.push_back(c.function);
    return out;
  }

  void Handle(InboundRequest req, Reply reply) override {
    const std::string prefix = "/api/";
    std::string function = req.path.starts_with(prefix) ? req.path.substr(prefix.size()) : "";
    Answer answer{404, "", {}};
    {
      std::lock_guard lock(mu_);
      calls_.push_back({function, std::string(req.message["x-functions-key"]),
                        std::string(req.message[http::field::content_type]), req.message.body()});
      if (auto it = answers_.find(function); it != answers_.end()) answer = it->second;
    }
    StringResponse res =
        Respond(req, http::status(answer.status), answer.body, "application/json; charset=utf-8");
    if (answer.delay.count() == 0) return reply(std::move(res), "/api/{function}");
    std::lock_guard lock(mu_);
    delayed_.emplace_back([answer, res = std::move(res), reply]() mutable {
      std::this_thread::sleep_for(answer.delay);
      reply(std::move(res), "/api/{function}");
    });
  }

 private:
  static HttpServerOptions Options() {
    HttpServerOptions o;
    o.listen = "127.0.0.1:0";
    o.threads = 2;
    o.access_log = false;
    o.shutdown_grace = std::chrono::seconds(1);
    return o;
  }

  std::mutex mu_;
  std::map<std::string, Answer> answers_;
  std::vector<Call> calls_;
  std::vector<std::thread> delayed_;
  HttpServer server_;
};

}  // namespace apm::itest
