// Upload forms as anyone may post them: the first line is the Content-Type, the rest the body.
// Never crash; every part's content lies inside the body; a form read is read the same again
// after being written back with the same boundary.
#include <cstdlib>

#include "fuzz_input.h"
#include "server/http/multipart.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = apm::fuzz::Bytes(data, size);
  size_t nl = input.find('\n');
  std::string_view type = input.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
  apm::Result<std::vector<apm::FormPart>> parts = apm::ParseMultipartForm(type, body, 8);
  if (!parts.ok()) return 0;
  const std::string boundary = "fuzz-boundary-0d5e";
  std::string again;
  bool writable = true;
  for (const apm::FormPart& p : *parts) {
    if (p.content.data() < body.data() ||
        p.content.data() + p.content.size() > body.data() + body.size()) {
      std::abort();
    }
    // Written back only when nothing in it needs quoting rules we do not write.
    for (std::string_view text : {std::string_view(p.name), std::string_view(p.content_type)}) {
      writable &= text.find_first_of("\"\\\r\n") == std::string_view::npos;
    }
    writable &= p.content.find("--" + boundary) == std::string_view::npos &&
                (!p.filename || p.filename->find_first_of("\"\\\r\n") == std::string::npos);
    again += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + p.name + "\"" +
             (p.filename ? "; filename=\"" + *p.filename + "\"" : "") + "\r\n" +
             (p.content_type.empty() ? "" : "Content-Type: " + p.content_type + "\r\n") + "\r\n" +
             std::string(p.content) + "\r\n";
  }
  if (!writable || parts->empty()) return 0;
  again += "--" + boundary + "--\r\n";
  apm::Result<std::vector<apm::FormPart>> reread =
      apm::ParseMultipartForm("multipart/form-data; boundary=" + boundary, again, 8);
  if (!reread.ok() || reread->size() != parts->size()) std::abort();
  for (size_t i = 0; i < parts->size(); ++i) {
    const apm::FormPart &a = (*parts)[i], &b = (*reread)[i];
    if (a.name != b.name || a.filename != b.filename || a.content != b.content) std::abort();
  }
  return 0;
}
