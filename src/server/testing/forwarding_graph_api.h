// A GraphApi that passes every call to another one: tests derive from it and override only the
// call whose behaviour they change (a slow answer, a counted delete).
#pragma once

#include "server/graph/graph_api.h"

namespace apm::testing {

class ForwardingGraphApi : public GraphApi {
 public:
  explicit ForwardingGraphApi(GraphApi& inner) : inner_(inner) {}

  Result<std::vector<ImportRecord>> Import(std::span<const ImportItem> items) override {
    return inner_.Import(items);
  }
  Result<std::vector<ImportRecord>> FindImports(const std::string& serial) override {
    return inner_.FindImports(serial);
  }
  Result<std::vector<ImportRecord>> ListImports() override { return inner_.ListImports(); }
  std::vector<Result<std::optional<ImportRecord>>> GetImports(
      std::span<const std::string> ids) override {
    return inner_.GetImports(ids);
  }
  std::vector<Status> DeleteImports(std::span<const std::string> ids) override {
    return inner_.DeleteImports(ids);
  }
  bool HasSpareWrites() override { return inner_.HasSpareWrites(); }
  Result<std::vector<AutopilotDevice>> ListAutopilotDevices() override {
    return inner_.ListAutopilotDevices();
  }
  std::vector<Result<std::optional<AutopilotDevice>>> GetAutopilotDevices(
      std::span<const std::string> ids) override {
    return inner_.GetAutopilotDevices(ids);
  }
  std::vector<Result<std::optional<EntraDevice>>> FindEntraDevices(
      std::span<const std::string> ids) override {
    return inner_.FindEntraDevices(ids);
  }
  std::vector<Status> AddGroupMembers(const std::string& group,
                                      std::span<const std::string> ids) override {
    return inner_.AddGroupMembers(group, ids);
  }
  Status UpdateDeviceProperties(const std::string& id, const std::string& name,
                                const std::string& upn, const std::string& group_tag) override {
    return inner_.UpdateDeviceProperties(id, name, upn, group_tag);
  }
  Status SyncAutopilot() override { return inner_.SyncAutopilot(); }
  Result<std::vector<std::string>> GetMemberObjects(const std::string& user) override {
    return inner_.GetMemberObjects(user);
  }
  Result<std::vector<AutopilotDevice>> FindAutopilotDevices(const std::string& serial) override {
    return inner_.FindAutopilotDevices(serial);
  }
  std::vector<Result<std::optional<ManagedDevice>>> GetManagedDevices(
      std::span<const std::string> ids) override {
    return inner_.GetManagedDevices(ids);
  }
  std::vector<Status> DeleteManagedDevices(std::span<const std::string> ids) override {
    return inner_.DeleteManagedDevices(ids);
  }
  std::vector<Status> DeleteAutopilotDevices(std::span<const std::string> ids) override {
    return inner_.DeleteAutopilotDevices(ids);
  }
  Result<bool> CorporateIdentifierExists(const std::string& identifier) override {
    return inner_.CorporateIdentifierExists(identifier);
  }
  Result<bool> ImportCorporateIdentifier(const std::string& identifier) override {
    return inner_.ImportCorporateIdentifier(identifier);
  }

 protected:
  GraphApi& inner_;
};

}  // namespace apm::testing
