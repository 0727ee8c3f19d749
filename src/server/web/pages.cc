#include "server/web/pages.h"

namespace apm::web {
namespace {

using kainjow::mustache::mustache;

constexpr char kLayout[] = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
{{#auto_refresh}}<meta http-equiv="refresh" content="10">{{/auto_refresh}}
<title>{{title}} · Autopilot Manager</title>
<link rel="stylesheet" href="/static/app.css"></head>
<body><header><a class="brand" href="/">Autopilot Manager</a><nav>
{{#approver}}<a href="/autopilot/approve-requests">Pending requests</a><a href="/autopilot/upload">Upload devices</a>{{/approver}}
{{#viewer}}<a href="/autopilot/view-imports">Import history</a><a href="/autopilot/audit">Audit</a><a href="/autopilot/status">Service status</a>{{/viewer}}
</nav>{{#user}}<form class="signout" method="post" action="/signout"><span>{{user}}</span>
<input type="hidden" name="csrf" value="{{csrf}}"><button>Sign out</button></form>{{/user}}
</header><main>{{{content}}}</main><script src="/static/app.js"></script></body></html>
)html";

constexpr char kMessage[] = R"html(<h1>{{heading}}</h1><p>{{text}}</p>
{{#link}}<p><a class="button" href="{{href}}">{{label}}</a></p>{{/link}})html";

constexpr char kSignedOut[] = R"html(<h1>You are signed out</h1>
<p>You can close this window.</p><p><a class="button" href="/signin">Sign in again</a></p>)html";

constexpr char kRequest[] = R"html(<h1>Device registration</h1>
<section class="card state-{{state}}" id="request" data-id="{{id}}" data-etag="{{etag}}" data-terminal="{{terminal}}">
<p class="status"><span class="badge" id="state">{{state_label}}</span>
<span id="step">{{step}}</span></p>
{{#error}}<p class="error" id="error">{{error}}</p>{{/error}}
<dl>
<dt>Request id</dt><dd><code>{{id}}</code></dd>
<dt>Serial number</dt><dd>{{serial}}</dd>
<dt>Manufacturer</dt><dd>{{manufacturer}}</dd>
<dt>Model</dt><dd>{{model}}</dd>
{{^corporate_identifier}}<dt>Hash check</dt><dd>{{verification_text}}</dd>{{/corporate_identifier}}
{{#function_validation}}<dt>Validation function</dt><dd>{{function_validation}}</dd>{{/function_validation}}
{{#corporate_identifier}}<dt>Corporate identifier</dt><dd><code>{{corporate_identifier}}</code> (Autopilot device preparation: registered without a hardware hash)</dd>{{/corporate_identifier}}
<dt>TPM</dt><dd>{{tpm}}</dd>
<dt>Requested</dt><dd><time datetime="{{created_iso}}">{{created}}</time> ({{age}} ago)</dd>
{{#approved_by}}<dt>Approved by</dt><dd>{{approved_by}}</dd>{{/approved_by}}
{{#group_tag}}<dt>Group tag</dt><dd>{{group_tag}}</dd>{{/group_tag}}
{{#comment}}<dt>Comment</dt><dd>{{comment}}</dd>{{/comment}}
</dl></section>
{{#removal_asked}}<p class="notice" id="removal-asked">The device's user asks to remove its Intune record (<code>ap -e</code>), so that it can enroll again. Its Autopilot registration stays.</p>{{/removal_asked}}
{{#registration_summary}}<section class="card existing" id="existing-registration"><h2>Existing registration</h2>
<p class="notice">{{registration_summary}}</p>
<dl>{{#registration_rows}}<dt>{{label}}</dt><dd>{{value}}</dd>{{/registration_rows}}</dl>
</section>{{/registration_summary}}
{{#expired_notice}}<p class="notice">This request has expired: nobody approved it in time. Start the client on the device again to send a new one.</p>{{/expired_notice}}
{{#helpdesk}}<p class="notice">This device is approved by your helpdesk. Call them and quote the request id.</p>{{/helpdesk}}
{{#can_decide}}
{{#approve_blocked}}<p class="notice" id="helpdesk-repair">This device is already registered. If it was repaired (a new motherboard), the helpdesk must re-register it: call them and quote the request id. After a reset it needs nothing: restart it.</p>{{/approve_blocked}}
{{^approve_blocked}}
<form method="post" action="/autopilot/{{id}}/approve" class="card decide">
<input type="hidden" name="csrf" value="{{csrf}}">
{{#self_reregister}}<input type="hidden" name="action" value="re_register"><input type="hidden" name="registration_id" value="{{self_reregister}}">
<p class="notice">Approving replaces the existing registration of this device with the new one.</p>{{/self_reregister}}
{{#approver_fields}}
{{#actions}}<fieldset class="actions"><legend>This serial number is already registered. What should happen?</legend>
<input type="hidden" name="registration_id" value="{{registration_id}}">
{{^removal_asked}}<label><input type="radio" name="action" value="re_register" required{{#reregister_checked}} checked{{/reregister_checked}}> <b>Re-register</b>: remove the old registration (and its Intune record) and import this hash (a repaired device)</label>
<label><input type="radio" name="action" value="update_only" required> <b>Update only</b>: set the group tag, name and user on the existing registration and import nothing (a reset device)</label>{{/removal_asked}}
{{#can_remove}}<label><input type="radio" name="action" value="remove_intune_record" required{{#removal_asked}} checked{{/removal_asked}}> <b>Remove the Intune record</b> only, so the device can enroll again</label>{{/can_remove}}
</fieldset>{{/actions}}
<label>Group tag <select name="group_tag">{{#tags}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/tags}}</select></label>
<label>Device name <input name="device_name" maxlength="15" placeholder="(keep the default)"></label>
<label>Assigned user <input name="assigned_user" type="email" placeholder="user@contoso.com" value="{{assigned_user}}"></label>
<label>Comment <textarea name="comment" maxlength="500"></textarea></label>
{{/approver_fields}}
<button class="approve" name="decision" value="approve">Approve</button>
</form>{{/approve_blocked}}
<form method="post" action="/autopilot/{{id}}/reject" class="card decide">
<input type="hidden" name="csrf" value="{{csrf}}">
<label>Reason (shown on the device) <input name="reason" maxlength="200"></label>
<button class="reject">Reject</button>
</form>
{{/can_decide}}
{{#has_diagnostics}}<section class="card" id="diagnostics"><h2>Diagnostics from the device</h2>
<table><thead><tr><th>Sent</th><th>File</th><th>Size</th><th>From</th></tr></thead><tbody>
{{#diagnostics}}<tr><td><time datetime="{{at_iso}}">{{at}}</time></td><td><a href="{{href}}" download>{{file_name}}</a></td><td>{{size}}</td><td>{{address}}</td></tr>{{/diagnostics}}
</tbody></table></section>{{/has_diagnostics}}
{{#diagnostics_unavailable}}<p class="notice">The device's diagnostics cannot be listed right now.</p>{{/diagnostics_unavailable}}
{{#has_timeline}}<h2>Progress</h2><ol class="timeline">{{#timeline}}<li><time>{{at}}</time> {{text}}</li>{{/timeline}}</ol>{{/has_timeline}})html";

constexpr char kApproveRequests[] = R"html(<h1>Pending requests</h1>
<form class="search" method="get"><input name="q" value="{{q}}" placeholder="Request id or serial number">
<button>Search</button></form>
{{^has_requests}}<p>No pending requests{{#q}} match “{{q}}”{{/q}}.</p>{{/has_requests}}
{{#has_requests}}<table><thead><tr><th>Requested</th><th>Serial</th><th>Manufacturer</th><th>Model</th><th>Hash check</th><th>Id</th></tr></thead><tbody>
{{#requests}}<tr><td><time datetime="{{created_iso}}">{{created}}</time></td><td>{{serial}}{{#registered}}<br><span class="badge registered" title="{{registered}}">already registered</span>{{/registered}}</td><td>{{manufacturer}}</td><td>{{model}}</td><td>{{verification}}</td><td><a href="/autopilot/{{id}}">{{id}}</a></td></tr>{{/requests}}
</tbody></table>{{/has_requests}})html";

constexpr char kUpload[] = R"html(<h1>Upload devices</h1>
<p>A CSV file as Get-WindowsAutopilotInfo writes it: <code>Device Serial Number</code>, <code>Windows Product ID</code>, <code>Hardware Hash</code>, and optionally <code>Group Tag</code> and <code>Assigned User</code>; UTF-16 or UTF-8; up to {{max_mb}} MB. Each row becomes a request, checked like a device's own. Nothing is imported until you approve.</p>
<form method="post" action="/autopilot/upload" enctype="multipart/form-data" class="card" id="upload">
<input type="hidden" name="csrf" value="{{csrf}}">
<label>CSV file <input type="file" name="file" accept=".csv,text/csv" required></label>
<button>Upload</button></form>)html";

constexpr char kUploadResult[] = R"html(<h1>Uploaded devices</h1>
<p class="notice" id="upload-summary">{{file}}: {{rows}} rows. {{created}} new requests, {{existing}} already open, {{refused}} refused.</p>
{{#has_refused}}<h2>Refused rows</h2>
<table class="upload" id="refused-rows"><thead><tr><th>Line</th><th>Serial</th><th>Why</th></tr></thead><tbody>
{{#refused_rows}}<tr><td>{{line}}</td><td>{{serial}}</td><td>{{reason}}</td></tr>{{/refused_rows}}
</tbody></table>{{/has_refused}}
{{#has_accepted}}<form method="post" action="/autopilot/upload/approve" class="card decide" id="approve-upload">
<input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="ids" value="{{ids}}">
<label>Group tag for rows without one <select name="group_tag">{{#tags}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/tags}}</select></label>
<label>Comment <textarea name="comment" maxlength="500"></textarea></label>
<button class="approve">Approve all {{accepted}}</button></form>
<h2>Accepted rows</h2>
<table class="upload" id="accepted-rows"><thead><tr><th>Line</th><th>Serial</th><th>Request</th><th>Group tag</th></tr></thead><tbody>
{{#accepted_rows}}<tr><td>{{line}}</td><td>{{serial}}</td><td><a href="/autopilot/{{id}}">{{id}}</a>{{#existing}} (already open){{/existing}}</td><td>{{group_tag}}</td></tr>{{/accepted_rows}}
</tbody></table>{{/has_accepted}}
<p><a class="button" href="/autopilot/upload">Upload another file</a></p>)html";

constexpr char kUploadApproved[] = R"html(<h1>Uploaded devices approved</h1>
<p class="notice" id="approve-summary">{{approved}} approved; they are imported as fast as Graph allows.{{#failed_count}} {{failed_count}} not approved (below).{{/failed_count}}</p>
{{#has_failed}}<table id="not-approved"><thead><tr><th>Serial</th><th>Request</th><th>Why</th></tr></thead><tbody>
{{#failed}}<tr><td>{{serial}}</td><td><a href="/autopilot/{{id}}">{{id}}</a></td><td>{{reason}}</td></tr>{{/failed}}
</tbody></table>{{/has_failed}}
{{#viewer}}<p><a class="button" href="/autopilot/view-imports">Import history</a></p>{{/viewer}})html";

constexpr char kViewImports[] = R"html(<h1>Import history</h1>
<form class="search" method="get">
<label>State <select name="state"><option value="">any</option>{{#states}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/states}}</select></label>
<label>From <input type="date" name="from" value="{{from}}"></label>
<label>To <input type="date" name="to" value="{{to}}"></label>
<button>Filter</button> <a href="/autopilot/view-imports.csv?{{query}}">CSV</a></form>
{{^has_jobs}}<p>No imports match.</p>{{/has_jobs}}
{{#has_jobs}}<table><thead><tr><th>Approved</th><th>Serial</th><th>State</th><th>Model</th><th>Group tag</th><th>Approver</th><th>Comment</th><th>Outcome</th><th>Finished</th><th>Timeline</th></tr></thead><tbody>
{{#jobs}}<tr><td><time datetime="{{approved_iso}}">{{approved}}</time></td><td><a href="/autopilot/{{id}}">{{serial}}</a></td><td><span class="badge">{{state}}</span></td><td>{{manufacturer}} {{model}}</td><td>{{group_tag}}</td><td>{{approver}}</td><td>{{comment}}</td><td>{{outcome}}</td><td>{{finished}}</td><td class="timeline-cell">{{timeline}}</td></tr>{{/jobs}}
</tbody></table>{{/has_jobs}})html";

constexpr char kAudit[] = R"html(<h1>Audit</h1>
<p><a href="/autopilot/audit.csv">CSV</a></p>
<table><thead><tr><th>When</th><th>Who</th><th>Address</th><th>What</th><th>Request</th><th>Detail</th></tr></thead><tbody>
{{#events}}<tr><td><time datetime="{{at_iso}}">{{at}}</time></td><td>{{who}}</td><td>{{address}}</td><td>{{action}}</td><td>{{request_id}}</td><td>{{detail}}</td></tr>{{/events}}
</tbody></table>)html";

constexpr char kStatus[] = R"html(<h1>Service status</h1>
<section class="card" id="checks"><h2>Set-up checks</h2>
{{#doctor}}<p>Checked {{at}} ({{ago}} ago): {{summary}}.</p>
{{#has_problems}}<ul class="findings">{{#problems}}<li class="finding-{{verdict}}"><span class="mark" aria-hidden="true">{{mark}}</span> <strong>{{check}}</strong> <span class="sr">({{verdict}})</span>: {{text}}{{#fix}}<br><span class="fix">Fix: {{fix}}</span>{{/fix}}</li>{{/problems}}</ul>{{/has_problems}}
{{#has_passed}}<details><summary>{{passed_count}} checks passed</summary><ul class="findings">{{#passed}}<li class="finding-ok"><span class="mark" aria-hidden="true">✔</span> {{check}}: {{text}}</li>{{/passed}}</ul></details>{{/has_passed}}{{/doctor}}
{{^doctor}}<p>{{doctor_none}}</p>{{/doctor}}</section>
<section class="card" id="imports"><h2>Imports per day</h2>
<p>Last 30 days: <strong>{{completed}}</strong> completed, <strong>{{failed}}</strong> failed.</p>
{{{imports_svg}}}
<p class="legend"><span class="key bar-ok"></span> completed <span class="key bar-bad"></span> failed</p>
{{#has_days}}<details><summary>By day</summary><table class="keep"><thead><tr><th>Day (UTC)</th><th>Completed</th><th>Failed</th></tr></thead><tbody>
{{#days}}<tr><td>{{day}}</td><td>{{completed}}</td><td>{{failed}}</td></tr>{{/days}}
</tbody></table></details>{{/has_days}}</section>
<section class="card" id="steps"><h2>Time per step</h2>
{{#has_steps}}{{{steps_svg}}}
<p class="legend"><span class="key bar-median"></span> median <span class="key bar-p90"></span> 90th percentile</p>
<table class="keep"><thead><tr><th>Step</th><th>Measured</th><th>Median</th><th>p90</th></tr></thead><tbody>
{{#steps}}<tr><td>{{label}}</td><td>{{count}}</td><td>{{median}}</td><td>{{p90}}</td></tr>{{/steps}}
</tbody></table>{{/has_steps}}
{{^has_steps}}<p>No step ended in the last 30 days.</p>{{/has_steps}}</section>
<section class="card" id="failures"><h2>Failures by error</h2>
{{#has_failures}}<table><thead><tr><th>Error</th><th>Count</th><th>Recent requests</th></tr></thead><tbody>
{{#failures}}<tr><td>{{error}}</td><td>{{count}}</td><td>{{#ids}}<a href="/autopilot/{{id}}">{{id}}</a> {{/ids}}</td></tr>{{/failures}}
</tbody></table>{{/has_failures}}
{{^has_failures}}<p>No import failed in the last 30 days.</p>{{/has_failures}}</section>
<section class="card" id="waiting"><h2>Waiting for approval</h2>
<p><strong>{{pending}}</strong> waiting{{#oldest_age}}; the oldest has waited {{oldest_age}}{{/oldest_age}}.</p>
{{#approver}}{{#waiting}}<p><a class="button" href="/autopilot/approve-requests">Pending requests</a></p>{{/waiting}}{{/approver}}</section>
<section class="card" id="graph"><h2>Microsoft Graph</h2>
{{#graph}}<dl><dt>Intune writes</dt><dd>{{intune_writes}} of {{intune_write_limit}} per {{window}} s</dd>
<dt>Intune requests</dt><dd>{{intune_requests}} of {{intune_request_limit}} per {{window}} s</dd>
<dt>Directory requests</dt><dd>{{directory_requests}} of {{directory_request_limit}} per window</dd>
<dt>Throttled (429)</dt><dd>{{throttled}} since the engine started here</dd></dl>{{/graph}}
{{^graph}}<p>This instance does not run the import engine now (another instance does, or none has started it).</p>{{/graph}}</section>
<p class="note">Figures read {{figures_at}}; they are read again when older than 10 seconds. The same numbers are in /metrics.{{#capped}} Many requests changed in these 30 days: the figures are of the {{cap}} most recently changed.{{/capped}}</p>)html";

constexpr char kCss[] =
    R"css(:root{--blue:#0067b8;--ink:#1b1b1b;--line:#d0d7de;--ok:#107c10;--bad:#a4262c}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--ink);background:#f5f7fa}
header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;padding:.6rem 1rem;background:#00426f;color:#fff}
header a{color:#fff;text-decoration:none}header nav{display:flex;flex-wrap:wrap;gap:.2rem 1rem;flex:1}.brand{font-weight:600}
.signout{display:flex;gap:.5rem;align-items:center;font-size:.9rem}.signout button{background:transparent;color:#fff;border:1px solid #fff}
main{max-width:60rem;margin:0 auto;padding:1rem}h1{font-size:1.5rem}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:1rem;margin:1rem 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;margin:0}dt{color:#555}dd{margin:0;overflow-wrap:anywhere}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:1rem;background:#e8eef5;font-weight:600}
.state-completed .badge{background:#dff6dd;color:var(--ok)}.state-failed .badge,.state-rejected .badge,.state-expired .badge,.state-not_allowed .badge{background:#fde7e9;color:var(--bad)}
.error{color:var(--bad)}.notice{background:#fff4ce;padding:.8rem;border-radius:8px}
label{display:block;margin:.5rem 0}input,select,textarea{display:block;width:100%;font:inherit;padding:.5rem;border:1px solid var(--line);border-radius:6px}
button,.button{font:inherit;padding:.6rem 1.2rem;border-radius:6px;border:0;background:var(--blue);color:#fff;cursor:pointer;text-decoration:none;display:inline-block}
button.reject{background:var(--bad)}button.approve{background:var(--ok)}
fieldset.actions{border:1px solid var(--line);border-radius:6px}fieldset.actions label{display:block;padding-left:1.6rem;text-indent:-1.6rem}fieldset.actions input{width:auto;display:inline;margin:0 .5rem 0 0}
.badge.registered{background:#fff4ce;font-size:.8rem}
.search{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end}.search input,.search select{width:auto}
table{width:100%;border-collapse:collapse;background:#fff}th,td{text-align:left;padding:.4rem;border-bottom:1px solid var(--line);vertical-align:top}
table.upload td:first-child{width:4rem}
.timeline{padding-left:1.2rem}.timeline-cell{font-size:.8rem;color:#555;min-width:16rem}code{overflow-wrap:anywhere}
.chart{width:100%;height:auto;font-size:11px}.chart text{fill:#444}.chart .grid{stroke:#e1e4e8}.chart .hover{fill:transparent}
.bar-ok{fill:var(--ok);background:var(--ok)}.bar-bad{fill:var(--bad);background:var(--bad)}.bar-p90{fill:#9ec5e8;background:#9ec5e8}.bar-median{fill:var(--blue);background:var(--blue)}
.legend{font-size:.85rem;color:#555}.key{display:inline-block;width:.8rem;height:.8rem;margin:0 .2rem 0 .6rem;vertical-align:-.05rem}
.findings{list-style:none;padding:0}.findings li{padding:.3rem 0;border-bottom:1px solid var(--line);overflow-wrap:anywhere}td{overflow-wrap:anywhere}.fix{color:#555;font-size:.9rem}
.finding-ok .mark{color:var(--ok)}.finding-warning .mark{color:#8a6d00}.finding-failed .mark{color:var(--bad)}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}.note{font-size:.85rem;color:#555}
@media (max-width:40rem){.chart{font-size:20px}table{font-size:.85rem}table:not(.keep) th:nth-child(n+4),table:not(.keep) td:nth-child(n+4){display:none}}
)css";

// Live progress on a request's page: long-polls the v1 status and reloads on a change.
constexpr char kJs[] = R"js((function () {
  var card = document.getElementById('request');
  if (!card || card.dataset.terminal === 'true') return;
  var url = '/api/v1/requests/' + encodeURIComponent(card.dataset.id) + '?wait=25';
  function poll() {
    fetch(url, {headers: {'If-None-Match': card.dataset.etag}, cache: 'no-store'})
      .then(function (r) {
        if (r.status === 200) { location.reload(); return; }
        setTimeout(poll, r.status === 304 ? 100 : 5000);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  poll();
})();
)js";

std::string Render(const char* text, const TemplateData& data) {
  mustache tmpl{std::string(text)};
  if (!tmpl.is_valid()) return "template error: " + tmpl.error_message();
  return tmpl.render(data);
}

const char* TemplateText(PageTemplate page) {
  switch (page) {
    case PageTemplate::kMessage:
      return kMessage;
    case PageTemplate::kRequest:
      return kRequest;
    case PageTemplate::kApproveRequests:
      return kApproveRequests;
    case PageTemplate::kUpload:
      return kUpload;
    case PageTemplate::kUploadResult:
      return kUploadResult;
    case PageTemplate::kUploadApproved:
      return kUploadApproved;
    case PageTemplate::kViewImports:
      return kViewImports;
    case PageTemplate::kAudit:
      return kAudit;
    case PageTemplate::kStatus:
      return kStatus;
    case PageTemplate::kSignedOut:
      return kSignedOut;
  }
  return kMessage;
}

}  // namespace

std::string RenderPage(const Frame& frame, PageTemplate page, const TemplateData& data) {
  TemplateData layout;
  layout.set("title", frame.title);
  if (!frame.user.empty()) layout.set("user", frame.user);  // "" would show the section
  layout.set("csrf", frame.csrf);
  layout.set("approver", frame.approver);
  layout.set("viewer", frame.viewer);
  layout.set("auto_refresh", frame.auto_refresh);
  layout.set("content", Render(TemplateText(page), data));
  return Render(kLayout, layout);
}

bool StaticAsset(std::string_view name, std::string* body, std::string* content_type) {
  if (name == "app.css") {
    *body = kCss;
    *content_type = "text/css; charset=utf-8";
    return true;
  }
  if (name == "app.js") {
    *body = kJs;
    *content_type = "text/javascript; charset=utf-8";
    return true;
  }
  return false;
}

}  // namespace apm::web
