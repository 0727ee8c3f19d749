// Server-rendered pages: mustache templates (kainjow, HTML-escaped by default) in one layout,
// and the static CSS and JavaScript they use (no CDN; the CSP allows only this server).
#pragma once

#include <kainjow/mustache.hpp>
#include <string>
#include <string_view>

namespace apm::web {

using TemplateData = kainjow::mustache::data;

enum class PageTemplate {
  kMessage,          // heading, text, optional link
  kRequest,          // /autopilot/{id}
  kApproveRequests,  // /autopilot/approve-requests
  kUpload,           // /autopilot/upload: the form
  kUploadResult,     // what became of each row, and "approve all"
  kUploadApproved,   // what "approve all" did
  kViewImports,      // /autopilot/view-imports
  kAudit,            // /autopilot/audit
  kStatus,           // /autopilot/status
  kSignedOut,
};

// What every page shows around its body.
struct Frame {
  std::string title;
  std::string user;  // UPN of the signed-in user, "" when anonymous
  std::string csrf;  // for the sign-out form
  bool approver = false;
  bool viewer = false;
  bool auto_refresh = false;  // reload every 10 s (a list with running imports)
};

std::string RenderPage(const Frame& frame, PageTemplate page, const TemplateData& data);

// /static/<name>: its content and type; false when there is no such asset.
bool StaticAsset(std::string_view name, std::string* body, std::string* content_type);

}  // namespace apm::web
