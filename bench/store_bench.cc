// Micro-benchmarks of the pieces on the request path: hash decoding, durable inserts
// (synchronous=FULL, one fsync per request) and status reads. Results: docs/performance.md.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "core/base64.h"
#include "core/hardware_hash.h"
#include "core/testing/hash_builder.h"
#include "server/clock.h"
#include "server/store/sql_request_store.h"
#include "server/store/sqlite_connection.h"

namespace apm {
namespace {

std::string BenchDir() {
  const char* dir = std::getenv("BENCH_DIR");
  std::filesystem::path p = dir ? dir : std::filesystem::temp_directory_path();
  p /= "apm-bench-" + std::to_string(getpid());
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

StoredRequest MakeRequest(int64_t n, const std::string& hash) {
  SystemClock clock;
  StoredRequest r;
  r.id = "bench-" + std::to_string(n) + "-" + std::to_string(getpid());
  r.serial_number = "SER" + std::to_string(n);
  r.manufacturer = "LENOVO";
  r.model = "21R3001BUK";
  r.hardware_hash = hash;
  r.hash_fingerprint = "0123456789ab";
  r.client_address = "10.0." + std::to_string(n % 250) + ".1";
  r.api = "v1";
  r.verification = "verified";
  r.state = RequestState::kPendingApproval;
  r.step = "Waiting for approval";
  r.created_at = r.updated_at = clock.NowMs();
  r.expires_at = r.created_at + 3600000;
  return r;
}

void BM_DecodeHardwareHash(benchmark::State& state) {
  std::string text = testing::HashText(testing::HashBuilder::Laptop().Build());
  for (auto _ : state) {
    Result<std::string> blob = Base64Decode(text);
    Result<HardwareHashInfo> info = DecodeHardwareHash(*blob);
    benchmark::DoNotOptimize(info);
  }
}
BENCHMARK(BM_DecodeHardwareHash);

// One durable commit per request, as the server does for each 201. With several threads the
// inserts share the single writer.
void BM_StoreCreateDurable(benchmark::State& state) {
  static std::string dir;
  static std::unique_ptr<SqlRequestStore> store;
  static std::string hash = testing::HashText(testing::HashBuilder::Laptop().Build());
  static std::atomic<int64_t> n{0};
  if (state.thread_index() == 0) {
    dir = BenchDir();
    store = std::move(SqlRequestStore::Open(dir + "/apm.db")).value();
  }
  for (auto _ : state) {
    Result<CreateOutcome> c = store->Create(MakeRequest(n++, hash), 1000000, "");
    if (!c.ok() || c->kind != CreateOutcome::Kind::kCreated) state.SkipWithError("create failed");
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    store.reset();
    std::filesystem::remove_all(dir);
  }
}
BENCHMARK(BM_StoreCreateDurable)->UseRealTime()->Threads(1)->Threads(2)->Threads(8);

// The price of durability: one transaction inserting a 4 KB row, committed with
// synchronous=FULL (the store's choice: fsync of the WAL at every commit) or NORMAL (fsync
// only at checkpoints: survives a crash, may lose the last commits on power loss).
void BM_SqliteCommit(benchmark::State& state) {
  std::string dir = BenchDir();
  auto conn = std::move(SqliteConnection::Open(dir + "/raw.db")).value();
  (void)conn->Exec(state.range(0) ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  (void)conn->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  std::string value(4000, 'h');
  for (auto _ : state) {
    auto s = conn->Statement("INSERT INTO t (v) VALUES (?1)");
    s->Bind(1, value);
    if (s->Step() != SqlStep::kDone) state.SkipWithError("insert failed");
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(state.range(0) ? "synchronous=FULL" : "synchronous=NORMAL");
  conn.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SqliteCommit)->Arg(1)->Arg(0)->UseRealTime();

void BM_StoreGet(benchmark::State& state) {
  static std::string dir;
  static std::unique_ptr<SqlRequestStore> store;
  if (state.thread_index() == 0) {
    dir = BenchDir();
    store = std::move(SqlRequestStore::Open(dir + "/apm.db")).value();
    std::string hash = testing::HashText(testing::HashBuilder::Laptop().Build());
    for (int i = 0; i < 1000; ++i) (void)store->Create(MakeRequest(i, hash), 1000000, "");
  }
  int64_t i = state.thread_index();
  for (auto _ : state) {
    Result<StoredRequest> r = store->Get(MakeRequest(i++ % 1000, "").id);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    store.reset();
    std::filesystem::remove_all(dir);
  }
}
BENCHMARK(BM_StoreGet)->UseRealTime()->Threads(1)->Threads(2);

}  // namespace
}  // namespace apm

BENCHMARK_MAIN();
