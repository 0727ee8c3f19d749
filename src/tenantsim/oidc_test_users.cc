// The identity provider's test users: parsed from --user, the defaults, and their groups.
#include <cstdio>
#include <set>

#include "core/sha256.h"
#include "core/text.h"
#include "tenantsim/graph_query.h"
#include "tenantsim/oidc_provider.h"

namespace apm::sim {
namespace {

using json = nlohmann::json;

// The groups a default overage user is in besides "Autopilot Users": 210 in all.
constexpr int kOverageFillerGroups = 209;

}  // namespace

// Test users

Result<TestUserSpec> ParseTestUserSpec(std::string_view text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t bar = text.find('|', start);
    parts.push_back(Trim(text.substr(start, bar == std::string_view::npos ? bar : bar - start)));
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  if (parts.size() > 4) {
    return Status::InvalidArgument(
        "expected \"upn|Display Name|group1,group2|role1,role2\", got more parts");
  }
  TestUserSpec spec;
  spec.upn = parts[0];
  if (spec.upn.empty() || spec.upn.find('@') == std::string::npos) {
    return Status::InvalidArgument("the user principal name must look like name@domain");
  }
  spec.display_name =
      parts.size() > 1 && !parts[1].empty() ? parts[1] : spec.upn.substr(0, spec.upn.find('@'));
  auto names = [](std::string_view list) {
    std::vector<std::string> out;
    while (!list.empty()) {
      size_t comma = list.find(',');
      std::string name = Trim(list.substr(0, comma));
      if (!name.empty()) out.push_back(name);
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
    return out;
  };
  if (parts.size() > 2) spec.groups = names(parts[2]);
  if (parts.size() > 3) spec.directory_roles = names(parts[3]);
  return spec;
}

std::vector<TestUserSpec> DefaultTestUsers(const std::string& domain) {
  std::vector<TestUserSpec> users = {
      {"approver@" + domain, "Avery Approver", {kApproversGroup}},
      {"user@" + domain, "Uma User", {kUsersGroup}},
      {"viewer@" + domain, "Vic Viewer", {kViewersGroup}},
      {"nogroups@" + domain, "Noel Nogroups", {}},
      {"overage@" + domain, "Olive Overage", {kUsersGroup}},
  };
  for (int i = 1; i <= kOverageFillerGroups; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "Overage Group %03d", i);
    users.back().groups.push_back(name);
  }
  users.push_back({"admin@" + domain, "Ada Admin", {}, {"Global Administrator"}});
  return users;
}

std::string StableObjectId(std::string_view kind, std::string_view name) {
  // The URL namespace of RFC 9562 appendix A, as bytes.
  static constexpr std::array<unsigned char, 16> kNamespace = {0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad,
                                                               0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0,
                                                               0x4f, 0xd4, 0x30, 0xc8};
  std::string input(kNamespace.begin(), kNamespace.end());
  input += "apm-tenant-sim:";
  input += kind;
  input += ':';
  input += name;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha1(), nullptr) != 1 || len < 16) {
    std::abort();  // SHA-1 is always built into OpenSSL's default provider
  }
  digest[6] = static_cast<unsigned char>((digest[6] & 0x0f) | 0x50);  // version 5
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3f) | 0x80);  // RFC variant
  char out[37];
  std::snprintf(
      out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
      digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
      digest[8], digest[9], digest[10], digest[11], digest[12], digest[13], digest[14], digest[15]);
  return out;
}

OidcProvider::OidcProvider(Identity& identity, GraphModel& model, const Clock& clock)
    : identity_(identity), model_(model), clock_(clock) {}

TestUser OidcProvider::AddTestUser(const TestUserSpec& spec) {
  std::map<std::string, std::string> group_ids;  // displayName -> id, existing groups first
  for (const json& g : model_.ListGroups()) {
    std::string name = StringMember(g, "displayName");
    if (!group_ids.contains(name)) group_ids[name] = StringMember(g, "id");
  }
  TestUser user;
  user.oid = StableObjectId("user", AsciiLower(spec.upn));
  user.upn = spec.upn;
  user.display_name = spec.display_name;
  model_.AddUser(spec.upn, spec.display_name, user.oid);
  if (!spec.directory_roles.empty()) model_.SetDirectoryRoles(user.oid, spec.directory_roles);
  for (const std::string& name : spec.groups) {
    auto found = group_ids.find(name);
    std::string id = found != group_ids.end()
                         ? found->second
                         : model_.AddGroup(name, true, StableObjectId("group", name));
    group_ids[name] = id;
    // An error here only means "already a member" (the user was added before).
    (void)model_.AddMember(id, user.oid);
    user.groups.emplace_back(name, id);
  }
  std::lock_guard lock(mu_);
  for (TestUser& u : users_) {
    if (u.oid != user.oid) continue;
    for (auto& g : user.groups) {
      if (std::find(u.groups.begin(), u.groups.end(), g) == u.groups.end()) u.groups.push_back(g);
    }
    u.display_name = user.display_name;
    return u;
  }
  users_.push_back(user);
  return user;
}

std::vector<TestUser> OidcProvider::test_users() const {
  std::lock_guard lock(mu_);
  return users_;
}

std::optional<TestUser> OidcProvider::FindTestUser(const std::string& upn_or_oid) const {
  std::lock_guard lock(mu_);
  for (const TestUser& u : users_) {
    if (EqualsIgnoreCase(u.upn, upn_or_oid) || EqualsIgnoreCase(u.oid, upn_or_oid)) return u;
  }
  return std::nullopt;
}

Status OidcProvider::set_id_token_fault(const std::string& fault) {
  static const std::set<std::string> kFaults = {
      "", "alg-none", "hs256", "tampered", "expired", "wrong-audience", "wrong-nonce"};
  if (!kFaults.count(fault)) return Status::InvalidArgument("unknown id_token fault " + fault);
  std::lock_guard lock(mu_);
  id_token_fault_ = fault;
  return Status::Ok();
}

void OidcProvider::set_group_overage_limit(size_t limit) {
  std::lock_guard lock(mu_);
  group_overage_limit_ = limit;
}

void OidcProvider::set_public_base_url(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  std::lock_guard lock(mu_);
  public_base_url_ = std::move(url);
}

std::string OidcProvider::Base(const std::string& base_url) const {
  std::lock_guard lock(mu_);
  return public_base_url_.empty() ? base_url : public_base_url_;
}

std::string OidcProvider::Issuer(const std::string& base_url) const {
  return Base(base_url) + "/" + identity_.tenant_id() + "/v2.0";
}

json OidcProvider::UsersJson() const {
  json users = json::array();
  for (const TestUser& u : test_users()) {
    json direct = json::array();
    for (const auto& [name, id] : u.groups) direct.push_back({{"id", id}, {"displayName", name}});
    users.push_back(
        {{"id", u.oid},
         {"userPrincipalName", u.upn},
         {"displayName", u.display_name},
         {"groups", std::move(direct)},
         {"memberOf", model_.MemberObjects(u.oid, false).value_or(std::vector<std::string>())}});
  }
  json groups = json::array();
  for (const json& g : model_.ListGroups()) {
    groups.push_back(
        {{"id", StringMember(g, "id")}, {"displayName", StringMember(g, "displayName")}});
  }
  return {{"users", std::move(users)}, {"groups", std::move(groups)}};
}

}  // namespace apm::sim
