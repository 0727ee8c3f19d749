// The fixture of the store test suites (sql_request_store_test.cc, sql_diagnostics_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "server/clock.h"
#include "server/store/sql_request_store.h"
#include "server/store/testing/pending_request.h"
#include "server/store/testing/store_backend.h"

namespace apm::testing {

// A store on a fresh database of the backend the test is run for; each suite deriving from it
// is instantiated for SQLite and PostgreSQL, so every backend runs the same tests.
class SqlStoreFixture : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { Reopen(); }
  void TearDown() override { store_.reset(); }
  void Reopen() {
    store_.reset();
    auto s = db_.Open();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  // The single value of a query run behind the store's back.
  int64_t QueryInt(const char* sql) {
    auto c = db_.Connect();
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return -1;
    auto q = (*c)->Statement(sql);
    EXPECT_TRUE(q.ok());
    if (!q.ok() || q->Step() != SqlStep::kRow) return -1;
    return q->Int(0);
  }

  StoredRequest Make(const std::string& id, const std::string& serial,
                     const std::string& addr = "192.0.2.1") {
    return PendingRequest(id, serial, addr, clock_.NowMs());
  }

  TestDatabase db_{GetParam()};
  ManualClock clock_;
  std::unique_ptr<SqlRequestStore> store_;
};

}  // namespace apm::testing
