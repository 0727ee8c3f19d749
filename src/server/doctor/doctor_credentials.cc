// The doctor's look at how long the app's credential has left, so a secret that ends next
// week is fixed before the imports stop (the original tool's users learned it from failures).
#include "server/doctor/doctor.h"
#include "server/json_text.h"
#include "server/setup/app_certificate.h"
#include "server/setup/setup_files.h"

namespace apm {

void Doctor::AddExpiry(const std::string& check, const std::string& what, int64_t end_ms,
                       const std::string& renew) {
  constexpr int64_t kDayMs = 86'400'000;
  const std::string date = FormatTimestamp(end_ms).substr(0, 10);
  const int64_t left = end_ms - clock_.NowMs();
  const std::string days = std::to_string((left + kDayMs - 1) / kDayMs);  // started days count
  if (left <= 0) {
    Add(check, DoctorVerdict::kFailed, what + " ended on " + date, renew);
  } else if (left < kExpiryWarnDays * kDayMs) {
    Add(check, DoctorVerdict::kWarning, what + " ends in " + days + " days (" + date + ")", renew);
  } else {
    Add(check, DoctorVerdict::kOk, what + " ends in " + days + " days (" + date + ")");
  }
}

void Doctor::CheckCertificateExpiry() {
  const std::string renew =
      "upload a new certificate to the app registration (Certificates & secrets), point "
      "ClientCertificateFile and ClientPrivateKeyFile at it and restart the service";
  Result<std::string> text = ReadTextFile(config_.ClientCertificateFile);
  Result<CertificateFacts> facts =
      text.ok() ? ReadCertificateFacts(*text) : Result<CertificateFacts>(text.status());
  if (!facts.ok()) {
    Add("client certificate", DoctorVerdict::kWarning,
        "cannot read the end date of " + config_.ClientCertificateFile);
    return;
  }
  AddExpiry("client certificate", "the certificate", facts->end_ms, renew);
}

void Doctor::CheckSecretExpiry(GraphClient& client) {
  const std::string check = "client secret";
  GraphClient::Call call;
  call.url = "/v1.0/applications?$filter=appId%20eq%20'" + config_.ClientId +
             "'&$select=displayName,passwordCredentials";
  GraphClient::Answer a = client.Send(call);
  if (a.status == 401 || a.status == 403) {
    Add(check, DoctorVerdict::kOk,
        "its end date is not read: Graph shows it only to an app with Application.Read.All "
        "(optional; the portal shows it under Certificates & secrets)");
    return;
  }
  const nlohmann::json* apps = a.ok() && a.body.contains("value") ? &a.body["value"] : nullptr;
  if (!apps || !apps->is_array() || apps->empty() || !(*apps)[0].is_object()) {
    Add(check, DoctorVerdict::kWarning,
        "its end date could not be read: " +
            (a.ok() ? std::string("Graph lists no app registration with this ClientId")
                    : a.ToStatus("reading the app registration").message()));
    return;
  }
  // Graph shows a secret's first three characters ("hint"): they tell which secret is ours.
  const std::string hint = config_.ClientSecret.substr(0, 3);
  const nlohmann::json& app = (*apps)[0];
  const auto listed = app.find("passwordCredentials");
  const nlohmann::json secrets =
      listed != app.end() && listed->is_array() ? *listed : nlohmann::json::array();
  // Two secrets can begin alike (a rotation): the earlier end is the one to act on.
  std::optional<int64_t> end;
  for (const nlohmann::json& s : secrets) {
    if (StringMember(s, "hint") != hint) continue;
    std::optional<int64_t> ends = ParseTimestamp(StringMember(s, "endDateTime"));
    if (ends && (!end || *ends < *end)) end = ends;
  }
  if (!end) {
    // The token worked, so the value is right: Graph just does not show which secret it is.
    Add(check, DoctorVerdict::kWarning,
        "Graph shows no end date for a secret beginning like ClientSecret (the app has " +
            std::to_string(secrets.size()) + ")",
        "see when it ends under Certificates & secrets");
    return;
  }
  AddExpiry(check, "the client secret", *end,
            "add a new client secret under Certificates & secrets, put its Value in "
            "APM_CLIENT_SECRET, restart the service, then delete the old secret");
}

}  // namespace apm
