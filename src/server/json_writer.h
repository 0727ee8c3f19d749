// A minimal streaming JSON writer for the hottest answers (status polls). nlohmann/json builds
// a tree of allocated nodes first; writing straight into one string measured ~2x faster per
// poll (docs/performance.md). Everything else uses nlohmann/json.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace apm {

class JsonWriter {
 public:
  JsonWriter() { out_.reserve(512); }  // a status answer fits: one allocation
  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }
  JsonWriter& Key(std::string_view k) {
    Separate();
    Quoted(k);
    out_.push_back(':');
    after_key_ = true;
    return *this;
  }
  JsonWriter& String(std::string_view v) {
    Separate();
    Quoted(v);
    return *this;
  }
  JsonWriter& Int(int64_t v) {
    Separate();
    out_ += std::to_string(v);
    return *this;
  }
  JsonWriter& Bool(bool v) {
    Separate();
    out_ += v ? "true" : "false";
    return *this;
  }
  JsonWriter& Null() {
    Separate();
    out_ += "null";
    return *this;
  }
  std::string Take() { return std::move(out_); }

 private:
  JsonWriter& Open(char c) {
    Separate();
    out_.push_back(c);
    first_.push_back(true);
    return *this;
  }
  JsonWriter& Close(char c) {
    out_.push_back(c);
    first_.pop_back();
    return *this;
  }
  void Separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_.empty()) {
      if (!first_.back()) out_.push_back(',');
      first_.back() = false;
    }
  }
  // Input is valid UTF-8 (validation guarantees it); only quotes, backslashes and control
  // characters need escaping.
  void Quoted(std::string_view s) {
    out_.push_back('"');
    size_t run = 0;  // start of the current run of characters that need no escaping
    for (size_t i = 0; i < s.size(); ++i) {
      auto u = static_cast<unsigned char>(s[i]);
      if (u >= 0x20 && u != '"' && u != '\\') continue;
      out_.append(s.data() + run, i - run);
      run = i + 1;
      if (u >= 0x20) {
        out_.push_back('\\');
        out_.push_back(char(u));
      } else {
        static constexpr char kHex[] = "0123456789abcdef";
        out_ += "\\u00";
        out_.push_back(kHex[u >> 4]);
        out_.push_back(kHex[u & 15]);
      }
    }
    out_.append(s.data() + run, s.size() - run);
    out_.push_back('"');
  }

  std::string out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace apm
