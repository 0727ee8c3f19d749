// The status page's charts as inline SVG, drawn on the server from numbers and dates only (no
// text from requests) and styled by app.css classes: the page needs no script and keeps a CSP
// without inline styles. Each chart has a title for screen readers; the page also shows its
// numbers as a table.
#pragma once

#include <string>
#include <vector>

#include "server/status/service_stats.h"

namespace apm::web {

// Stacked bars per UTC day: completed below, failed above; a label every seventh day.
std::string ImportsPerDaySvg(const std::vector<DayOutcomes>& days);
// A bar per measured step from 0 to its p90, the median marked, on a logarithmic time axis
// (steps take from seconds to days).
std::string StepTimesSvg(const std::vector<StepDurations>& steps);

}  // namespace apm::web
