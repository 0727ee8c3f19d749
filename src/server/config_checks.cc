// The cross-setting rules LoadConfig applies after reading (and main after the command line):
// each part names the first setting that cannot work, and why.
#include <algorithm>
#include <cctype>

#include "core/guid.h"
#include "server/config.h"
#include "server/decision_hooks.h"
#include "server/notify/event_messages.h"
#include "server/store/pg_connection.h"

namespace apm {

bool IsLoopbackHttpUrl(std::string_view url) {
  for (std::string_view host : {"http://127.0.0.1", "http://localhost", "http://[::1]"}) {
    if (!url.starts_with(host)) continue;
    // The authority must end there (a port at most): http://localhost.example.net and
    // http://localhost:1@example.net are other machines.
    std::string_view rest = url.substr(host.size());
    if (rest.starts_with(':')) {
      rest.remove_prefix(1);
      while (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest.front()))) {
        rest.remove_prefix(1);
      }
    }
    return rest.empty() || rest.front() == '/';
  }
  return false;
}

namespace {

Status Bad(const std::string& key, const std::string& why) {
  return Status::InvalidArgument(key + " " + why);
}

// Listening, logging, limits and request handling.
Status ValidateService(const Config& c) {
  if (c.HashVerification != "enforce" && c.HashVerification != "warn" &&
      c.HashVerification != "off") {
    return Bad("HashVerification", "must be enforce, warn or off");
  }
  if (c.LogFormat != "text" && c.LogFormat != "json")
    return Bad("LogFormat", "must be text or json");
  static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  if (std::none_of(std::begin(kLevels), std::end(kLevels),
                   [&](const char* l) { return c.LogLevel == l; })) {
    return Bad("LogLevel", "must be one of trace, debug, info, warn, error, critical, off");
  }
  if (c.Listen.find(':') == std::string::npos) return Bad("Listen", "must be ADDRESS:PORT");
  if (c.DataDir.empty()) return Bad("DataDir", "is required");
  if (!c.DatabaseUrl.empty() && !IsPostgresUrl(c.DatabaseUrl)) {
    return Bad("DatabaseUrl",
               "must be a PostgreSQL URI (postgresql://…) or a libpq key=value string");
  }
  if (c.DatabasePoolSize < 1 || c.DatabasePoolSize > 200) {
    return Bad("DatabasePoolSize", "must be between 1 and 200");
  }
  if (c.DatabaseStatementTimeoutSeconds < 1 || c.DatabaseStatementTimeoutSeconds > 600) {
    return Bad("DatabaseStatementTimeoutSeconds", "must be between 1 and 600");
  }
  if (c.EngineFailoverSeconds < 3 || c.EngineFailoverSeconds > 600) {
    return Bad("EngineFailoverSeconds", "must be between 3 and 600");
  }
  if (c.TlsCertificateFile.empty() != c.TlsKeyFile.empty()) {
    return Bad(c.TlsKeyFile.empty() ? "TlsKeyFile" : "TlsCertificateFile",
               "is required when the other TLS file is set");
  }
  if (!c.HttpRedirectListen.empty()) {
    std::string_view redirect_port =
        std::string_view(c.HttpRedirectListen).substr(c.HttpRedirectListen.rfind(':') + 1);
    if (c.HttpRedirectListen.find(':') == std::string::npos || redirect_port.empty()) {
      return Bad("HttpRedirectListen", "must be ADDRESS:PORT");
    }
    // Both listeners set SO_REUSEPORT: on one port the kernel would share TLS clients out to
    // the redirect listener.
    if (redirect_port == std::string_view(c.Listen).substr(c.Listen.rfind(':') + 1)) {
      return Bad("HttpRedirectListen", "must use another port than Listen");
    }
  }
  if (!c.HttpRedirectListen.empty() && c.TlsCertificateFile.empty() &&
      c.PublicUrl.rfind("https://", 0) != 0) {
    return Bad("HttpRedirectListen",
               "redirects to https: set TlsCertificateFile, or an https:// PublicUrl when a proxy "
               "in front terminates TLS");
  }
  if (!c.PublicUrl.empty() && c.PublicUrl.rfind("http://", 0) != 0 &&
      c.PublicUrl.rfind("https://", 0) != 0) {
    return Bad("PublicUrl", "must start with http:// or https://");
  }
  if (!c.ClientSigningKeyFile.empty() && c.ClientSigningCertificateFile.empty()) {
    return Bad("ClientSigningCertificateFile", "is required when ClientSigningKeyFile is set");
  }
  if (c.Threads < 0 || c.Threads > 256) return Bad("Threads", "must be between 0 and 256");
  if (c.MaxBodyBytes < 1024 || c.MaxBodyBytes > 16 * 1024 * 1024) {
    return Bad("MaxBodyBytes", "must be between 1024 and 16777216");
  }
  if (c.MaxUploadBytes < 1024 * 1024 || c.MaxUploadBytes > 64 * 1024 * 1024) {
    return Bad("MaxUploadBytes", "must be between 1048576 and 67108864");
  }
  if (c.DoctorIntervalHours < 0 || c.DoctorIntervalHours > 24 * 31) {
    return Bad("DoctorIntervalHours", "must be between 0 (never in the server) and 744 (a month)");
  }
  if (c.MaxConnections < 0 || c.MaxConnections > 1'000'000) {
    return Bad("MaxConnections", "must be between 0 (from the open-file limit) and 1000000");
  }
  if (c.MaxConnectionsPerAddress < 0 || c.MaxConnectionsPerAddress > 1'000'000) {
    return Bad("MaxConnectionsPerAddress", "must be between 0 (no cap) and 1000000");
  }
  if (c.IdleTimeoutSeconds < 1) return Bad("IdleTimeoutSeconds", "must be at least 1");
  if (c.ShutdownGraceSeconds < 0) return Bad("ShutdownGraceSeconds", "must not be negative");
  if (c.MaintenanceIntervalSeconds < 1)
    return Bad("MaintenanceIntervalSeconds", "must be at least 1");
  if (c.Timeout < 1) return Bad("Timeout", "must be at least 1 minute");
  if (c.HistoryDays < 1) return Bad("HistoryDays", "must be at least 1 day");
  if (!(c.SubmitRatePerMinute > 0)) return Bad("SubmitRatePerMinute", "must be positive");
  if (c.SubmitBurst < 1) return Bad("SubmitBurst", "must be at least 1");
  if (c.MaxOpenRequestsPerAddress < 1)
    return Bad("MaxOpenRequestsPerAddress", "must be at least 1");
  if (c.MaxWaitSeconds < 1 || c.MaxWaitSeconds > 60) {
    return Bad("MaxWaitSeconds", "must be between 1 and 60");
  }
  return Status::Ok();
}

// The profile group, the Graph credentials, the request budget and the import engine.
Status ValidateGraph(const Config& c) {
  if (c.UseAutopilotProfileGroup && c.AutopilotProfileGroup.empty()) {
    return Bad("AutopilotProfileGroup", "is required when UseAutopilotProfileGroup is true");
  }
  if (c.graph_configured()) {
    if (c.ClientId.empty()) return Bad("ClientId", "is required when TenantId is set");
    if (c.ClientSecret.empty() == c.ClientCertificateFile.empty()) {
      return c.ClientSecret.empty()
                 ? Bad("ClientSecret",
                       "(or ClientCertificateFile) is required when TenantId is set; set it as "
                       "APM_CLIENT_SECRET")
                 : Bad("ClientSecret",
                       "and ClientCertificateFile are both set; configure exactly one of them");
    }
    for (const auto& [name, url] :
         {std::pair{"LoginEndpoint", &c.LoginEndpoint}, {"GraphEndpoint", &c.GraphEndpoint}}) {
      if (url->rfind("https://", 0) != 0 && url->rfind("http://", 0) != 0)
        return Bad(name, "must start with https://");
    }
  } else if (!c.ClientId.empty() || !c.ClientSecret.empty() || !c.ClientCertificateFile.empty()) {
    return Bad("TenantId",
               "is required when ClientId, ClientSecret or ClientCertificateFile is set");
  }
  if (c.GraphWritesPer20Seconds < 1 || c.GraphRequestsPer20Seconds < c.GraphWritesPer20Seconds) {
    return Bad("GraphWritesPer20Seconds",
               "must be at least 1 and not above GraphRequestsPer20Seconds");
  }
  if (c.ImportWorkers < 1 || c.ImportWorkers > 64) return Bad("ImportWorkers", "must be 1 to 64");
  if (!(c.ImportReconcileDelaySeconds >= 0 && c.ImportReconcileDelaySeconds <= 3600)) {
    return Bad("ImportReconcileDelaySeconds", "must be between 0 and 3600");
  }
  if (c.MaxActiveImports < 1) return Bad("MaxActiveImports", "must be at least 1");
  if (!(c.ImportPollMinSeconds >= 0.05) || !(c.ImportPollMaxSeconds >= c.ImportPollMinSeconds)) {
    return Bad("ImportPollMinSeconds", "must be at least 0.05 and not above ImportPollMaxSeconds");
  }
  for (const auto& [name, v] : {std::pair{"ImportStepTimeoutMinutes", c.ImportStepTimeoutMinutes},
                                {"SyncStepTimeoutMinutes", c.SyncStepTimeoutMinutes},
                                {"GroupStepTimeoutMinutes", c.GroupStepTimeoutMinutes},
                                {"ProfileStepTimeoutMinutes", c.ProfileStepTimeoutMinutes}}) {
    if (v < 1) return Bad(name, "must be at least 1 minute");
  }
  return Status::Ok();
}

// The manufacturer and model filters and the approvers' group tags.
Status ValidateAllowLists(const Config& c) {
  if (c.UseManufacturersFilter && c.Manufacturers.empty()) {
    return Bad("Manufacturers", "is required when UseManufacturersFilter is true");
  }
  if (c.UseModelsFilter && c.Models.empty()) {
    return Bad("Models", "is required when UseModelsFilter is true");
  }
  if (c.UseApprovalModeGroupTags && c.ApprovalModeGroupTags.empty()) {
    return Bad("ApprovalModeGroupTags", "is required when UseApprovalModeGroupTags is true");
  }
  return Status::Ok();
}

// An absolute URL: the scheme, a host of letters, digits, dots and hyphens with an optional
// port (no IPv6 literal: a CSP source cannot name one, and curl would read its brackets as a
// glob), then a path of visible ASCII without any character of `refused`; a '%' only as a %XX
// escape (cmd.exe expands %NAME%).
bool AbsoluteUrl(std::string_view url, bool https_only, std::string_view refused) {
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else if (!https_only && rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    return false;
  }
  size_t slash = rest.find('/');
  std::string_view host = rest.substr(0, slash);
  if (host.empty() || host.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                             "0123456789.-:") != std::string_view::npos) {
    return false;
  }
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  for (size_t i = 0; i < path.size(); ++i) {
    auto u = static_cast<unsigned char>(path[i]);
    if (u <= 0x20 || u >= 0x7f || refused.find(path[i]) != std::string_view::npos) return false;
    if (path[i] == '%' &&
        (i + 2 >= path.size() || !std::isxdigit(static_cast<unsigned char>(path[i + 1])) ||
         !std::isxdigit(static_cast<unsigned char>(path[i + 2])))) {
      return false;
    }
  }
  return true;
}

// The home page's words and links (the original's keys) and the Front Door check.
Status ValidateHomePageAndEdge(const Config& c) {
  // Only the logo's origin reaches the CSP, and the attribute is escaped.
  if (!c.HomepageCompanyLogoImageUrl.empty() &&
      !AbsoluteUrl(c.HomepageCompanyLogoImageUrl, true, "\"")) {
    return Bad("HomepageCompanyLogoImageUrl",
               "must be an https:// URL whose host is a name (not an IPv6 address), without "
               "spaces or quotes");
  }
  for (const auto& [name, text] :
       {std::pair{"HomepageHeadlineSentenceApprovalMode", &c.HomepageHeadlineSentenceApprovalMode},
        {"HomepageHeadlineSentenceNonApprovalMode", &c.HomepageHeadlineSentenceNonApprovalMode},
        {"CustomHomepageImportInstructions", &c.CustomHomepageImportInstructions}}) {
    if (text->size() > 4000) return Bad(name, "must be at most 4000 bytes");
  }
  // They go on a cmd.exe command line, quoted where needed (home_page.cc); curl globs on
  // brackets and braces.
  constexpr std::string_view kRefusedOnTheCommandLine = "\"[]{}";
  if (!c.HomepageImportCommandUrls.empty() &&
      (c.HomepageImportCommandUrls.size() != 2 ||
       !AbsoluteUrl(c.HomepageImportCommandUrls[0], false, kRefusedOnTheCommandLine) ||
       !AbsoluteUrl(c.HomepageImportCommandUrls[1], false, kRefusedOnTheCommandLine))) {
    return Bad("HomepageImportCommandUrls",
               "must be two http(s) URLs, the client's download and the server's, whose hosts "
               "are names, without spaces, quotes, brackets or braces, and '%' only in %XX");
  }
  for (const std::string& id : c.RequiredFrontDoorId) {
    if (!IsGuid(id)) {
      return Bad("RequiredFrontDoorId",
                 "must be the Front Door profile's ID (a GUID, from its Overview page), got \"" +
                     id + "\"");
    }
  }
  return Status::Ok();
}

// Sign-in, when configured: a partial configuration is refused rather than left open.
Status ValidateSignIn(const Config& c) {
  // A partial sign-in configuration is refused rather than left open.
  for (const auto& [name, group] :
       {std::pair{"AuthorizationSecurityGroup", &c.AuthorizationSecurityGroup},
        {"ApproverSecurityGroup", &c.ApproverSecurityGroup},
        {"ViewerSecurityGroup", &c.ViewerSecurityGroup}}) {
    if (!group->empty() && !IsGuid(*group)) return Bad(name, "must be a group's object id");
  }
  if (c.ApprovalMode && c.ApproverSecurityGroup.empty()) {
    return Bad("ApproverSecurityGroup",
               "is required for sign-in when ApprovalMode is true (only approvers approve)");
  }
  if (!c.ApprovalMode && c.AuthorizationSecurityGroup.empty()) {
    return Bad("AuthorizationSecurityGroup",
               "is required for sign-in when ApprovalMode is false (self-service)");
  }
  if (c.sign_in_authority().empty()) {
    return Bad("SignInAuthority", "is required for sign-in (or set TenantId)");
  }
  // Keys and discovery travel over this URL: plain http only on this machine (tests, demo).
  std::string authority = c.sign_in_authority();
  if (authority.rfind("https://", 0) != 0 && !IsLoopbackHttpUrl(authority)) {
    return Bad("SignInAuthority",
               "must start with https:// (plain http only for a provider on this machine)");
  }
  if (c.sign_in_client_id().empty()) {
    return Bad("SignInClientId", "is required for sign-in (or set ClientId)");
  }
  if (c.sign_in_client_secret().empty() && !c.sign_in_uses_certificate()) {
    return Bad("SignInClientSecret",
               "is required for sign-in (APM_SIGN_IN_CLIENT_SECRET, or ClientSecret, or the "
               "ClientCertificateFile of the same app)");
  }
  if (c.SessionIdleMinutes < 1) return Bad("SessionIdleMinutes", "must be at least 1");
  if (c.SessionMaxHours < 1) return Bad("SessionMaxHours", "must be at least 1");
  if (c.SignInClockSkewSeconds < 0 || c.SignInClockSkewSeconds > 600) {
    return Bad("SignInClockSkewSeconds", "must be between 0 and 600");
  }
  return Status::Ok();
}

// The audit export (notify/audit_export.h).
Status ValidateAuditExport(const Config& c) {
  if (!c.UseLogAnalytics) return Status::Ok();
  if (!c.graph_configured()) {
    return Bad("UseLogAnalytics",
               "needs the app registration (TenantId, ClientId and its secret or certificate)");
  }
  const std::string& url = c.LogsIngestionEndpoint;
  if (url.empty() || (!url.starts_with("https://") && !IsLoopbackHttpUrl(url))) {
    return Bad("LogsIngestionEndpoint",
               "must be the data collection rule's (or endpoint's) https:// logs ingestion URL");
  }
  const std::string& rule = c.LogsIngestionRuleId;
  bool hex = rule.size() == 36 && rule.starts_with("dcr-") &&
             std::all_of(rule.begin() + 4, rule.end(),
                         [](char ch) { return std::isxdigit(static_cast<unsigned char>(ch)); });
  if (!hex) {
    return Bad("LogsIngestionRuleId",
               "must be the rule's immutable id, dcr- and 32 hex digits (its Overview page)");
  }
  const std::string& stream = c.LogsIngestionStream;
  if (!(stream.starts_with("Custom-") || stream.starts_with("Microsoft-")) ||
      stream.find_first_of("/?#% ") != std::string::npos) {
    return Bad("LogsIngestionStream", "must be the rule's stream name, e.g. Custom-Audit_CL");
  }
  return Status::Ok();
}

}  // namespace

Status ValidateConfig(const Config& c) {
  for (Status (*part)(const Config&) :
       {ValidateService, ValidateGraph, ValidateAllowLists, ValidateHomePageAndEdge,
        ValidateDecisionHookSettings, ValidateNotificationSettings, ValidateAuditExport}) {
    if (Status s = part(c); !s.ok()) return s;
  }
  if (c.sign_in_configured()) return ValidateSignIn(c);
  return Status::Ok();
}

}  // namespace apm
