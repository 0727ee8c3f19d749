#include "client/resume_state.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace apm::client {
namespace {

struct ResumeStateTest : ::testing::Test {
  std::string dir = ::testing::TempDir() + "apm-resume-" +
                    ::testing::UnitTest::GetInstance()->current_test_info()->name();
  void SetUp() override { std::filesystem::remove_all(dir); }
  void TearDown() override { std::filesystem::remove_all(dir); }
};

TEST_F(ResumeStateTest, KeepsTheRequestForTheSameServerAndSerial) {
  ResumeState state(dir + "/nested");
  EXPECT_FALSE(state.Load("https://a", "S1").has_value());
  ASSERT_TRUE(state.Save({"https://a", "S1", "REQ1"}).ok());
  std::optional<SavedRequest> saved = ResumeState(dir + "/nested").Load("https://a", "S1");
  ASSERT_TRUE(saved.has_value());
  EXPECT_EQ(saved->request_id, "REQ1");
  EXPECT_FALSE(state.Load("https://b", "S1").has_value());  // another server
  EXPECT_FALSE(state.Load("https://a", "S2").has_value());  // another device
  state.Clear();
  EXPECT_FALSE(state.Load("https://a", "S1").has_value());
  // Ended, it is still the last request of the device there (its diagnostics go to it).
  std::optional<SavedRequest> last = state.LoadLast("https://a", "S1");
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->request_id, "REQ1");
  EXPECT_FALSE(state.LoadLast("https://a", "S2").has_value());
  // The next request replaces it, and is followed.
  ASSERT_TRUE(state.Save({"https://a", "S1", "REQ2"}).ok());
  EXPECT_EQ(state.Load("https://a", "S1")->request_id, "REQ2");
}

TEST_F(ResumeStateTest, ADamagedFileIsIgnored) {
  ResumeState state(dir);
  ASSERT_TRUE(state.Save({"https://a", "S1", "REQ1"}).ok());
  std::ofstream(state.path()) << "{not json";
  EXPECT_FALSE(state.Load("https://a", "S1").has_value());
  ASSERT_TRUE(state.Save({"https://a", "S1", "REQ2"}).ok());
  EXPECT_EQ(state.Load("https://a", "S1")->request_id, "REQ2");
}

TEST_F(ResumeStateTest, AnUnwritableDirectoryIsAnError) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/file") << "x";
  ResumeState state(dir + "/file/sub");
  EXPECT_FALSE(state.Save({"https://a", "S1", "REQ1"}).ok());
}

}  // namespace
}  // namespace apm::client
