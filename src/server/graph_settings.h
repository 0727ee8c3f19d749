// What a configuration says about reaching Microsoft Graph: the app's credentials and the
// client's endpoint and budget. The server's engine and `apm-server doctor` build from the same.
#pragma once

#include "server/config.h"
#include "server/graph/graph_client.h"
#include "server/graph/token_source.h"

namespace apm {

AppCredentials GraphCredentials(const Config& config);
GraphClient::Options GraphClientOptions(const Config& config);

}  // namespace apm
