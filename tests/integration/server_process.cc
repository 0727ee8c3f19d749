#include "server_process.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "core/testing/hash_builder.h"

namespace apm::itest {

namespace fs = std::filesystem;

std::string ServerProcess::Binary() {
  return APM_SERVER_BINARY;
}

std::unique_ptr<ServerProcess> ServerProcess::TenantSim(std::vector<std::string> args) {
  auto p = std::make_unique<ServerProcess>();
  p->binary_ = APM_SIM_BINARY;
  p->sim_args_ = std::move(args);
  return p;
}

ServerProcess::ServerProcess(std::string config_toml, std::map<std::string, std::string> env)
    : env_(std::move(env)) {
  binary_ = Binary();
  static std::atomic<int> counter{0};
  dir_ = (fs::temp_directory_path() /
          ("apm-itest-" + std::to_string(getpid()) + "-" + std::to_string(counter++)))
             .string();
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  data_dir_ = dir_ + "/data";
  log_path_ = dir_ + "/server.log";
  if (!config_toml.empty()) {
    config_path_ = dir_ + "/apm.toml";
    std::ofstream(config_path_) << config_toml;
  }
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Kill9();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

uint16_t ServerProcess::FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

bool ServerProcess::Start() {
  std::vector<std::string> args = {binary_, "--listen", "127.0.0.1:" + std::to_string(fixed_port_)};
  if (binary_ != Binary()) {
    args.insert(args.end(), sim_args_.begin(), sim_args_.end());
  } else {
    args.push_back("--data-dir");
    args.push_back(data_dir_);
  }
  if (!config_path_.empty()) {
    args.push_back("--config");
    args.push_back(config_path_);
  }
  // Truncate the log so the port we read is this run's.
  std::ofstream(log_path_, std::ios::trunc).close();
  pid_t parent = getpid();
  pid_ = fork();
  if (pid_ == 0) {
    // A test that crashes (a sanitizer's abort) runs no destructor: its servers die with it.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(125);
    int fd = ::open(log_path_.c_str(), O_WRONLY | O_APPEND);
    dup2(fd, 1);
    dup2(fd, 2);
    for (const auto& [k, v] : env_) setenv(k.c_str(), v.c_str(), 1);
    if (open_file_limit_ > 0) {
      rlimit limit{rlim_t(open_file_limit_), rlim_t(open_file_limit_)};
      if (setrlimit(RLIMIT_NOFILE, &limit) != 0) _exit(126);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string text = log();
    // The "listening" line, in the text or the JSON log format.
    for (const char* marker : {"listening address=127.0.0.1:", "\"address\":\"127.0.0.1:"}) {
      size_t at = text.find(marker);
      if (at == std::string::npos) continue;
      // Only a whole number: the line may be half written ("…:45" of "…:45123").
      const size_t digits = at + std::strlen(marker);
      const size_t end = text.find_first_not_of("0123456789", digits);
      if (end != std::string::npos && end > digits) {
        port_ = uint16_t(std::stoi(text.substr(digits, end - digits)));
        return true;
      }
    }
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

int ServerProcess::Stop(int sig, std::chrono::milliseconds wait) {
  if (pid_ <= 0) return -1;
  kill(pid_, sig);
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < deadline) {
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

void ServerProcess::Kill9() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string ServerProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool ServerProcess::WaitForLog(const std::string& text) const {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (log().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

int ServerProcess::RunCommand(const std::vector<std::string>& args, std::string* out) const {
  // The same settings and environment as the server, as an admin on its machine has them.
  std::string cmd;
  for (const auto& [name, value] : env_) cmd += name + "='" + value + "' ";
  cmd += Binary();
  if (!config_path_.empty()) cmd += " --config " + config_path_;
  cmd += " --data-dir " + data_dir_;
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
  int status = pclose(p);
  if (out) *out = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

namespace {

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t WriteHeader(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  std::string line(data, size * n);
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*headers)[name] = value;
  }
  return size * n;
}

}  // namespace

HttpResult Http(const std::string& method, const std::string& url, const std::string& body,
                const std::vector<std::string>& headers, bool insecure_tls) {
  HttpResult r;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (!body.empty() || method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, long(body.size()));
  }
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  list = curl_slist_append(list, "Expect:");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 90L);
  if (insecure_tls) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  CURLcode rc = curl_easy_perform(curl);
  if (rc != CURLE_OK) r.error = curl_easy_strerror(rc);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return r;
}

std::string LaptopHash(const std::string& serial, const std::string& manufacturer,
                       const std::string& model) {
  return testing::HashText(testing::HashBuilder::Laptop(serial, manufacturer, model).Build());
}

std::string SubmitBody(const std::string& serial, const std::string& manufacturer,
                       const std::string& model) {
  return nlohmann::json{{"serialNumber", serial},
                        {"manufacturer", manufacturer},
                        {"model", model},
                        {"hardwareHash", LaptopHash(serial, manufacturer, model)},
                        {"clientVersion", "2.0.0"}}
      .dump();
}

std::string ResellerCsv(const std::string& prefix, int rows) {
  std::string csv = "Device Serial Number,Windows Product ID,Hardware Hash,Group Tag\r\n";
  for (int i = 0; i < rows; ++i) {
    std::string serial = prefix + std::to_string(1000 + i);
    std::string hash = LaptopHash(serial);
    if (i == 17) hash = "bm90IGEgaGFzaA==";             // not a hash
    if (i == 30) hash = LaptopHash(prefix + "OTHER1");  // another device's hash
    if (i == 41) serial.clear();                        // no serial
    csv += serial + ",," + hash + (i % 2 ? ",Kiosk" : ",") + "\r\n";
  }
  csv += prefix + "9999,,T0FN\r\n";  // a column short
  std::string utf16 = "\xFF\xFE";
  for (char c : csv) {
    utf16 += c;
    utf16 += '\0';
  }
  return utf16;
}

std::string SimTenantConfig(const std::string& sim_url, const std::string& tenant_id) {
  return "TenantId = \"" + tenant_id + "\"\n" +
         "ClientId = \"11111111-1111-4111-8111-111111111111\"\n"
         "LoginEndpoint = \"" +
         sim_url +
         "\"\n"
         "GraphEndpoint = \"" +
         sim_url +
         "\"\n"
         "UseAutopilotProfileGroup = true\n"
         "AutopilotProfileGroup = \"" +
         std::string(kSimProfileGroup) +
         "\"\n"
         "ImportPollMinSeconds = 0.2\n"
         "ImportPollMaxSeconds = 1\n"
         // The background checks call Graph outside the engine's lease and budget: off where
         // a test counts calls (WebTest's status page turns them on with the environment).
         "DoctorIntervalHours = 0\n";
}

}  // namespace apm::itest
