#include "server/http/multipart.h"

#include <map>

#include "core/text.h"

namespace apm {
namespace {

// RFC 2046 §5.1.1: 1 to 70 characters from this set, not ending in a space.
bool ValidBoundary(std::string_view b) {
  if (b.empty() || b.size() > 70 || b.back() == ' ') return false;
  constexpr std::string_view kAllowed = "'()+_,-./:=? ";
  for (char c : b) {
    bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && kAllowed.find(c) == std::string_view::npos) return false;
  }
  return true;
}

// A header value's leading token and its `; name=value` parameters (names lower-cased, quoted
// values unquoted). A backslash is an ordinary character: browsers send file names as they are
// (WHATWG: `"`, CR and LF percent-encoded), and a boundary has none. nullopt for an
// unterminated quoted value.
struct TokenWithParams {
  std::string token;
  std::map<std::string, std::string> params;
};
std::optional<TokenWithParams> ParseTokenWithParams(std::string_view v) {
  TokenWithParams out;
  size_t i = v.find(';');
  out.token = AsciiLower(Trim(v.substr(0, i)));
  while (i != std::string_view::npos && i < v.size()) {
    ++i;  // past ';'
    size_t eq = v.find('=', i);
    size_t semi = v.find(';', i);
    if (eq == std::string_view::npos || (semi != std::string_view::npos && semi < eq)) {
      i = semi;  // a parameter without a value: skipped
      continue;
    }
    std::string name = AsciiLower(Trim(v.substr(i, eq - i)));
    size_t j = eq + 1;
    while (j < v.size() && (v[j] == ' ' || v[j] == '\t')) ++j;
    std::string value;
    if (j < v.size() && v[j] == '"') {
      ++j;
      bool closed = false;
      for (; j < v.size(); ++j) {
        if (v[j] == '"') {
          closed = true;
          ++j;
          break;
        } else {
          value += v[j];
        }
      }
      if (!closed) return std::nullopt;
      i = v.find(';', j);
    } else {
      semi = v.find(';', j);
      value = Trim(v.substr(j, semi == std::string_view::npos ? v.size() - j : semi - j));
      i = semi;
    }
    out.params.emplace(std::move(name), std::move(value));  // the first of a repeated name
  }
  return out;
}

// The part's headers (CRLF-separated lines) into `part`; an error for a line that is no header
// or a part that is not a named form field.
Status ReadPartHeaders(std::string_view headers, FormPart* part) {
  bool disposition = false;
  while (!headers.empty()) {
    size_t end = headers.find("\r\n");
    std::string_view line = headers.substr(0, end);
    headers = end == std::string_view::npos ? std::string_view() : headers.substr(end + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Status::InvalidArgument("a part has a header line without a name");
    }
    std::string name = AsciiLower(Trim(line.substr(0, colon)));
    std::string_view value = line.substr(colon + 1);
    if (name == "content-type") {
      part->content_type = Trim(value);
    } else if (name == "content-disposition") {
      std::optional<TokenWithParams> d = ParseTokenWithParams(value);
      if (!d) return Status::InvalidArgument("a part's Content-Disposition has an open quote");
      if (d->token != "form-data") {
        return Status::InvalidArgument("a part's Content-Disposition is not form-data");
      }
      auto n = d->params.find("name");
      if (n == d->params.end() || n->second.empty()) {
        return Status::InvalidArgument("a part has no field name");
      }
      part->name = n->second;
      if (auto f = d->params.find("filename"); f != d->params.end()) part->filename = f->second;
      disposition = true;
    }
  }
  if (!disposition) return Status::InvalidArgument("a part has no Content-Disposition");
  return Status::Ok();
}

}  // namespace

bool IsMultipartForm(std::string_view content_type) {
  std::optional<TokenWithParams> v = ParseTokenWithParams(content_type);
  return v && v->token == "multipart/form-data";
}

Result<std::vector<FormPart>> ParseMultipartForm(std::string_view content_type,
                                                 std::string_view body, size_t max_parts) {
  std::optional<TokenWithParams> type = ParseTokenWithParams(content_type);
  if (!type) return Status::InvalidArgument("the Content-Type has an unterminated quote");
  if (type->token != "multipart/form-data") {
    return Status::InvalidArgument("the body is not multipart/form-data");
  }
  auto b = type->params.find("boundary");
  if (b == type->params.end() || !ValidBoundary(b->second)) {
    return Status::InvalidArgument("the Content-Type has no valid boundary");
  }
  const std::string delimiter = "--" + b->second;
  const std::string inner = "\r\n" + delimiter;  // every delimiter after the first
  size_t pos;
  if (body.starts_with(delimiter)) {
    pos = 0;
  } else if (size_t found = body.find(inner); found != std::string_view::npos) {
    pos = found + 2;  // past a preamble
  } else {
    return Status::InvalidArgument("the body has no part boundary");
  }
  std::vector<FormPart> parts;
  for (;;) {
    size_t p = pos + delimiter.size();
    if (body.substr(p, 2) == "--") return parts;  // the close delimiter; an epilogue is ignored
    while (p < body.size() && (body[p] == ' ' || body[p] == '\t')) ++p;  // transport padding
    if (body.substr(p, 2) != "\r\n") {
      return Status::InvalidArgument("a boundary line is not followed by a line break");
    }
    p += 2;
    if (parts.size() == max_parts) {
      return Status::InvalidArgument("the form has more than " + std::to_string(max_parts) +
                                     " parts");
    }
    // The headers end at an empty line (at once when the part has none).
    const bool no_headers = body.substr(p, 2) == "\r\n";
    size_t blank = no_headers ? p : body.find("\r\n\r\n", p);
    if (blank == std::string_view::npos) {
      return Status::InvalidArgument("the body ends inside a part's headers");
    }
    std::string_view headers = body.substr(p, blank - p);
    size_t content = blank + (no_headers ? 2 : 4);
    size_t end = body.find(inner, content);
    if (end == std::string_view::npos) {
      return Status::InvalidArgument("the body ends inside a part (no closing boundary)");
    }
    FormPart& part = parts.emplace_back();
    if (Status s = ReadPartHeaders(headers, &part); !s.ok()) return s;
    part.content = body.substr(content, end - content);
    pos = end + 2;
  }
}

}  // namespace apm
