#include "server/store/pg_change_listener.h"

#include <poll.h>

#include <chrono>

#include "server/logging.h"

namespace apm {

PgChangeListener::PgChangeListener(PgOptions options, std::function<void()> changed)
    : options_(std::move(options)), changed_(std::move(changed)) {}

PgChangeListener::~PgChangeListener() {
  Stop();
}

void PgChangeListener::Start() {
  thread_ = std::thread([this] { Run(); });
}

void PgChangeListener::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void PgChangeListener::Run() {
  bool first = true;
  while (!stopping_) {
    Result<std::unique_ptr<PgConnection>> conn = PgConnection::Open(options_);
    if (conn.ok() && (*conn)->Exec("LISTEN apm_changes").ok()) {
      if (!first) {
        LogInfo("change notifications resumed");
        changed_();  // one may have been missed while the link was down
      }
      first = false;
      Listen(**conn);
      if (stopping_) return;
      LogWarn("change notifications interrupted; polling the change feed meanwhile");
    }
    for (int i = 0; i < 10 && !stopping_; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

void PgChangeListener::Listen(PgConnection& conn) {
  while (!stopping_) {
    pollfd p{conn.Socket(), POLLIN, 0};
    int ready = ::poll(&p, 1, 250);  // wakes for Stop() four times a second
    if (ready < 0) return;
    if (ready == 0) continue;
    bool any = false;
    for (;;) {
      Result<std::string> channel = conn.NextNotification();
      if (!channel.ok()) return;
      if (channel->empty()) break;
      any = true;
      ++notifications_;
    }
    if (any) changed_();
    if (!conn.Healthy()) return;
  }
}

}  // namespace apm
