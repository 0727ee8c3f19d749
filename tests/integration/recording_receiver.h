// Stand-in for the services the server calls out to (a customer's Azure Functions app, a
// webhook receiver, a Teams workflow): a real HTTP server on a loopback port that answers
// POST /api/{name} from a script and keeps every call it got, headers and body as they arrived.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "server/http/http_server.h"
#include "server/http/responses.h"

namespace apm::itest {

class RecordingReceiver : public HttpHandler {
 public:
  struct Answer {
    int status = 200;
    std::string body;
    std::chrono::milliseconds delay{0};  // before answering (a slow or hanging function)
  };
  struct Call {
    std::string function;  // "validate", …: the path after /api/
    std::string key;       // x-functions-key, "" when absent
    std::string content_type;
    std::string body;
    std::map<std::string, std::string> headers;  // lower-case names
    int status = 0;                              // what it was answered
  };

  RecordingReceiver() : server_(Options(), *this, nullptr) {}
  ~RecordingReceiver() override {
    std::vector<std::thread> delayed;
    {
      std::lock_guard lock(mu_);
      stopping_ = true;  // later calls are answered at once
      delayed.swap(delayed_);
    }
    for (std::thread& t : delayed) t.join();  // their replies go out before the server stops
    server_.Shutdown();
  }

  bool Start() { return server_.Start().ok(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_.port()) + "/api"; }

  void Script(const std::string& function, Answer answer) {
    std::lock_guard lock(mu_);
    answers_[function] = std::move(answer);
  }
  // The first call carrying each webhook-id is answered 503 (a receiver that fails at first).
  void FailFirstAttemptOfEachEvent() {
    std::lock_guard lock(mu_);
    fail_first_attempt_ = true;
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
      Call call{function,
                std::string(req.message["x-functions-key"]),
                std::string(req.message[http::field::content_type]),
                req.message.body(),
                {},
                0};
      for (const auto& field : req.message) {
        std::string name(field.name_string());
        for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
        call.headers[name] = std::string(field.value());
      }
      if (auto it = answers_.find(function); it != answers_.end()) answer = it->second;
      const std::string id = call.headers["webhook-id"];
      if (fail_first_attempt_ && !id.empty() && seen_ids_.insert(id).second) {
        answer = {503, "", {}};
      }
      call.status = answer.status;
      calls_.push_back(std::move(call));
    }
    StringResponse res =
        Respond(req, http::status(answer.status), answer.body, "application/json; charset=utf-8");
    std::lock_guard lock(mu_);
    if (answer.delay.count() == 0 || stopping_) return reply(std::move(res), "/api/{function}");
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
  bool stopping_ = false;
  bool fail_first_attempt_ = false;
  std::set<std::string> seen_ids_;
  HttpServer server_;
};

}  // namespace apm::itest
