// Browser tests: Chromium (playwright-core) signs in to apm-server through oidc-provider, with
// apm-tenant-sim as the tenant behind Graph. Starts everything itself; screenshots go to
// ARTIFACTS. Usage: node e2e.mjs <build dir> <artifacts dir>
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const build = path.resolve(process.argv[2] || 'build/default');
const artifacts = path.resolve(process.argv[3] || 'build/test-artifacts/browser');
fs.rmSync(artifacts, { recursive: true, force: true });  // no stale screenshots or logs
fs.mkdirSync(artifacts, { recursive: true });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-browser-'));
const here = path.dirname(new URL(import.meta.url).pathname);
const TENANT = '00000000-0000-4000-8000-000000000001';
const PROFILE_GROUP = '6a1c0f3e-5d2b-4c8a-9e71-2f4b8d0c6a15';
const children = [];
const failures = [];
const STEP_MS = 20000;

process.on('exit', () => { for (const { child } of children) if (child.exitCode === null) child.kill('SIGKILL'); });
function log(text) { console.log(`[browser-test] ${text}`); }
function check(ok, what) {
  log(`${ok ? 'ok' : 'FAILED'}: ${what}`);
  if (!ok) failures.push(what);
}
async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}
// Starts a process and waits until its output contains `ready`.
async function start(name, cmd, args, env, ready) {
  const logPath = path.join(tmp, `${name}.log`);
  const out = fs.openSync(logPath, 'w');
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', out, out] });
  children.push({ name, child, logPath });
  const end = Date.now() + 15000;
  while (Date.now() < end) {
    if (fs.readFileSync(logPath, 'utf8').includes(ready)) return child;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} did not start: ${fs.readFileSync(logPath, 'utf8').slice(-2000)}`);
}
async function api(method, url, body) {
  const r = await fetch(url, { method, headers: { 'Content-Type': 'application/json' }, body: body && JSON.stringify(body) });
  return { status: r.status, json: await r.json().catch(() => null) };
}

// --- set-up ----------------------------------------------------------------------------------
const simPort = await freePort();
const opPort = await freePort();
const selfPort = await freePort();
const deskPort = await freePort();
const simUrl = `http://127.0.0.1:${simPort}`;
const opUrl = `http://127.0.0.1:${opPort}`;
const selfUrl = `http://127.0.0.1:${selfPort}`;
const deskUrl = `http://127.0.0.1:${deskPort}`;

await start('sim', `${build}/src/tenantsim/apm-tenant-sim`,
  ['--listen', `127.0.0.1:${simPort}`, '--admin', '--tenant-id', TENANT, '--import-delay-ms=500',
   '--sync-visible-delay-ms=300', '--sync-delay-ms=800', '--profile-delay-ms=500',
   `--profile-group-id=${PROFILE_GROUP}`], {}, 'listening');
const simUsers = await (await fetch(`${simUrl}/_sim/users`)).json();
const group = Object.fromEntries(simUsers.groups.map((g) => [g.displayName, g.id]));
const oidOf = Object.fromEntries(simUsers.users.map((u) => [u.userPrincipalName, u.id]));
const users = {
  alice: { oid: oidOf['user@contoso.example'], name: 'Alice User', upn: 'alice@contoso.test', groups: [group['Autopilot Users']] },
  bob: { oid: oidOf['approver@contoso.example'], name: 'Bob Approver', upn: 'bob@contoso.test', groups: [group['Autopilot Approvers']] },
  carol: { oid: oidOf['viewer@contoso.example'], name: 'Carol Viewer', upn: 'carol@contoso.test', groups: [group['Autopilot Viewers']] },
  dave: { oid: oidOf['nogroups@contoso.example'], name: 'Dave Nobody', upn: 'dave@contoso.test', groups: [] },
  // In 210 groups: the token carries the overage claims; apm-server asks Graph (the simulator).
  erin: { oid: oidOf['overage@contoso.example'], name: 'Erin Overage', upn: 'erin@contoso.test', overage: true },
};
await start('op', 'node', [path.join(here, 'op.mjs')], {
  OP_PORT: String(opPort), RP_BASES: `${selfUrl},${deskUrl}`, TENANT_ID: TENANT,
  CLIENT_ID: 'apm-web', CLIENT_SECRET: 'apm-web-secret', USERS: JSON.stringify(users),
}, 'oidc-provider listening');

async function startServer(name, port, approvalMode, extra = []) {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'apm.toml'), [
    `TenantId = "${TENANT}"`, 'ClientId = "11111111-1111-4111-8111-111111111111"',
    `LoginEndpoint = "${simUrl}"`, `GraphEndpoint = "${simUrl}"`,
    'UseAutopilotProfileGroup = true', `AutopilotProfileGroup = "${PROFILE_GROUP}"`,
    'ImportPollMinSeconds = 0.2', 'ImportPollMaxSeconds = 1', `ApprovalMode = ${approvalMode}`,
    `SignInAuthority = "${opUrl}"`, 'SignInClientId = "apm-web"',
    `AuthorizationSecurityGroup = "${group['Autopilot Users']}"`,
    `ApproverSecurityGroup = "${group['Autopilot Approvers']}"`,
    `ViewerSecurityGroup = "${group['Autopilot Viewers']}"`, ...extra, '',
  ].join('\n'));
  await start(name, `${build}/src/server/apm-server`,
    ['--listen', `127.0.0.1:${port}`, '--data-dir', path.join(dir, 'data'), '--config', path.join(dir, 'apm.toml')],
    { APM_CLIENT_SECRET: 'simulator-secret', APM_SIGN_IN_CLIENT_SECRET: 'apm-web-secret' }, 'listening');
}
await startServer('self-service', selfPort, false);
// Warn mode: a device whose hash contradicts it is accepted and marked (the hostile-text test).
await startServer('helpdesk', deskPort, true, ['HashVerification = "warn"']);

// A device as the client submits it; the hash is generated by the C++ harness's rules in
// docs/examples (its serial must match, so the sample's hash is reused with its own serial).
const sample = JSON.parse(fs.readFileSync(path.join(here, '../../docs/examples/sample-request.json'), 'utf8'));
async function submit(base) {
  const r = await api('POST', `${base}/api/v1/requests`, sample);
  if (r.status !== 201 && r.status !== 200) throw new Error(`submit: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json.id;
}
async function waitState(base, id, state, ms = 30000) {
  const end = Date.now() + ms;
  let now = '';
  while (Date.now() < end) {
    now = (await api('GET', `${base}/api/v1/requests/${id}`)).json.state;
    if (now === state) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  log(`state of ${id} is ${now}, wanted ${state}`);
  return false;
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
async function context(options = {}) {
  const ctx = await browser.newContext(options);
  ctx.setDefaultTimeout(STEP_MS);
  return ctx;
}
// The provider's development login form, as a user fills it.
async function login(page, name) {
  await page.waitForSelector('input[name=login]');
  await page.fill('input[name=login]', name);
  await page.fill('input[name=password]', 'any');
  await page.click('button[type=submit]');
}
async function shot(page, name) { await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true }); }

// A request page reloads itself when its request changes; a goto that this reload overtakes
// is tried again rather than failing the test.
async function openLive(page, url) {
  for (let attempt = 0; ; attempt++) {
    try { return await page.goto(url); } catch (e) {
      const overtaken = /interrupted by another navigation|net::ERR_ABORTED/.test(String(e.message));
      if (attempt >= 5 || !overtaken) throw e;
    }
  }
}
async function scenario(name, body) {
  try { await body(); } catch (e) { check(false, `${name}: ${e.message.split('\n')[0]}`); }
}

await scenario('self-service from the QR link on a phone', async () => {
  const id = await submit(selfUrl);
  const ctx = await context({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const page = await ctx.newPage();
  await page.goto(`${selfUrl}/autopilot/${id}`);
  await login(page, 'alice');
  await page.waitForURL(`${selfUrl}/autopilot/${id}`);
  check(await page.isVisible('text=DEMO-0001'), 'self-service: the request page shows the serial');
  await shot(page, 'self-service-request');
  await page.click('button.approve');
  check(await waitState(selfUrl, id, 'completed'), 'self-service: the device is imported');
  await page.waitForSelector('.badge:text("completed")', { timeout: 30000 });
  await shot(page, 'self-service-completed');
  await ctx.close();
});

await scenario('helpdesk approval with group tag and comment', async () => {
  await api('POST', `${simUrl}/_sim/reset`);
  const id = await submit(deskUrl);
  const user = await context({ viewport: { width: 390, height: 844 } });
  const userPage = await user.newPage();
  await userPage.goto(`${deskUrl}/autopilot/${id}`);
  await login(userPage, 'alice');
  await userPage.waitForURL(`${deskUrl}/autopilot/${id}`);
  check(await userPage.isVisible('text=Call them and quote the request id'), 'helpdesk mode: the QR link says call your helpdesk');
  check(!(await userPage.isVisible('button.approve')), 'helpdesk mode: a general user has no Approve button');
  await user.close();
  const ctx = await context({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(`${deskUrl}/autopilot/approve-requests`);
  await login(page, 'bob');
  await page.waitForURL(/approve-requests/);
  await page.fill('input[name=q]', 'DEMO-0001');
  await page.click('form.search button');
  await shot(page, 'approve-requests');
  await page.click(`a[href="/autopilot/${id}"]`);
  await page.selectOption('select[name=group_tag]', 'Kiosk');
  await page.fill('textarea[name=comment]', 'desk 4, new hire');
  await shot(page, 'approver-request');
  await page.click('button.approve');
  check(await waitState(deskUrl, id, 'completed'), 'helpdesk: the approved device is imported');
  const devices = await (await fetch(`${simUrl}/_sim/devices`)).json();
  check(JSON.stringify(devices).includes('Kiosk'), 'helpdesk: the tenant has the device with group tag Kiosk');
  await ctx.close();
});

await scenario('viewer history', async () => {
  const ctx = await context({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(`${deskUrl}/autopilot/view-imports`);
  await login(page, 'carol');
  await page.waitForURL(/view-imports/);
  check(await page.isVisible('td:text("Kiosk")'), 'viewer: history shows the group tag');
  check(await page.isVisible('td:text("desk 4, new hire")'), 'viewer: history shows the comment');
  check(await page.isVisible('td:text("bob@contoso.test")'), 'viewer: history shows the approver');
  await shot(page, 'view-imports');
  await page.goto(`${deskUrl}/autopilot/audit`);
  check(await page.isVisible('td:text-is("approve")'), 'viewer: the audit shows the approval');
  await shot(page, 'audit');
  await ctx.close();
});

await scenario('access denied without groups', async () => {
  const ctx = await context();
  const page = await ctx.newPage();
  await page.goto(`${deskUrl}/autopilot/approve-requests`);
  await login(page, 'dave');
  await page.waitForSelector('h1');
  check((await page.textContent('h1')) === 'Access denied', 'no groups: access denied');
  check((await page.textContent('main')).includes('ApproverSecurityGroup'), 'no groups: the page names the role needed');
  await shot(page, 'access-denied');
  await ctx.close();
});

await scenario('group overage resolved through Graph', async () => {
  // The sample device was imported above; a registered serial would block self-service.
  await api('POST', `${simUrl}/_sim/reset`);
  const id = await submit(selfUrl);
  const ctx = await context();
  const page = await ctx.newPage();
  await page.goto(`${selfUrl}/autopilot/${id}`);
  await login(page, 'erin');
  await page.waitForURL(`${selfUrl}/autopilot/${id}`);
  check(await page.isVisible('button.approve'), 'overage: the user in 210 groups gets general access');
  await ctx.close();
});

await scenario('hostile device text renders as text', async () => {
  const hostile = { ...sample, serialNumber: '<script>window.pwned=1</script>"\'', model: '<img src=x onerror="window.pwned=2">"x\'' };
  const r = await api('POST', `${deskUrl}/api/v1/requests`, hostile);
  if (r.status !== 201) throw new Error(`submit: ${r.status} ${JSON.stringify(r.json)}`);
  const ctx = await context({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  let dialogs = 0;
  page.on('dialog', (d) => { dialogs++; d.dismiss(); });
  await page.goto(`${deskUrl}/autopilot/approve-requests`);
  await login(page, 'bob');
  await page.waitForURL(/approve-requests/);
  check(await page.getByText(hostile.serialNumber, { exact: true }).isVisible(), 'hostile: the list shows the serial as text');
  await openLive(page, `${deskUrl}/autopilot/${r.json.id}`);
  check((await page.textContent('main')).includes('<img src=x onerror="window.pwned=2">"x\''), 'hostile: the request page shows the model as text');
  check(await page.evaluate(() => window.pwned === undefined), 'hostile: no script ran');
  check(dialogs === 0, 'hostile: no dialog');
  await shot(page, 'hostile-text');
  await ctx.close();
});

await scenario('a cross-site POST is refused', async () => {
  const id = await submit(deskUrl);
  const ctx = await context();
  const page = await ctx.newPage();
  await page.goto(`${deskUrl}/autopilot/${id}`);
  await login(page, 'bob');
  await page.waitForURL(`${deskUrl}/autopilot/${id}`);
  // Even with a valid token (say it leaked), a form posted from another origin is refused.
  const csrf = await page.inputValue('form.decide input[name=csrf]');
  await openLive(page, `${opUrl}/.well-known/openid-configuration`);
  await page.evaluate(([target, token]) => {
    const form = document.createElement('form');
    form.method = 'POST';
    form.action = target;
    for (const [name, value] of [['csrf', token], ['group_tag', 'Kiosk']]) {
      const input = document.createElement('input');
      input.name = name;
      input.value = value;
      form.appendChild(input);
    }
    document.body.appendChild(form);
    form.submit();
  }, [`${deskUrl}/autopilot/${id}/approve`, csrf]);
  await page.waitForURL(`${deskUrl}/autopilot/${id}/approve`);
  check((await page.textContent('main')).includes('sent from another site'), 'cross-site: refused by the origin check');
  check((await api('GET', `${deskUrl}/api/v1/requests/${id}`)).json.state === 'pending_approval', 'cross-site: nothing changed');
  await shot(page, 'cross-site-refused');
  await ctx.close();
});

await scenario('a repaired device: shown to everyone, re-registered by the helpdesk', async () => {
  const repaired = JSON.parse(fs.readFileSync(path.join(here, '../../docs/examples/repaired-request.json'), 'utf8'));
  const seeded = await api('POST', `${simUrl}/_sim/registrations`, {
    serialNumber: 'DEMO-0002', manufacturer: 'LENOVO', model: '21R3001BUK', groupTag: 'Kiosk',
    purchaseOrderIdentifier: 'PO-4711', userPrincipalName: 'user@contoso.example', managedDeviceName: 'DESKTOP-OLDBOARD',
  });
  if (seeded.status !== 201) throw new Error(`seed: ${seeded.status}`);
  // Opens the request page until the server has looked the serial up (it does so within seconds).
  async function openWhenLookedUp(page, url) {
    for (let i = 0; i < 50; i++) {
      await openLive(page, url);
      if (await page.isVisible('#existing-registration')) return true;
      await new Promise((r) => setTimeout(r, 200));
    }
    return false;
  }

  const selfId = (await api('POST', `${selfUrl}/api/v1/requests`, repaired)).json.id;
  const user = await context({ viewport: { width: 390, height: 844 } });
  const userPage = await user.newPage();
  await userPage.goto(`${selfUrl}/autopilot/${selfId}`);
  await login(userPage, 'alice');
  await userPage.waitForURL(`${selfUrl}/autopilot/${selfId}`);
  check(await openWhenLookedUp(userPage, `${selfUrl}/autopilot/${selfId}`), 'repair: the self-service page shows the existing registration');
  check(!(await userPage.isVisible('button.approve')), 'repair: self-service is not offered an approval that would delete');
  check(await userPage.isVisible('#helpdesk-repair'), 'repair: self-service is told the helpdesk re-registers');
  await shot(userPage, 'repair-self-service');
  await user.close();

  const deskId = (await api('POST', `${deskUrl}/api/v1/requests`, repaired)).json.id;
  const ctx = await context({ viewport: { width: 1280, height: 1000 } });
  const page = await ctx.newPage();
  await page.goto(`${deskUrl}/autopilot/approve-requests`);
  await login(page, 'bob');
  await page.waitForURL(/approve-requests/);
  check(await openWhenLookedUp(page, `${deskUrl}/autopilot/${deskId}`), 'repair: the approver sees the existing registration');
  const card = await page.textContent('#existing-registration');
  check(card.includes('Already registered in Autopilot, group tag Kiosk, assigned to user@contoso.example'), 'repair: the summary names tag and user');
  check(card.includes('PO-4711') && card.includes('not carried over'), 'repair: the purchase order id and that it cannot be kept');
  check(card.includes('DESKTOP-OLDBOARD'), 'repair: the Intune device is named');
  check(await page.isVisible('input[name=action][value=re_register]'), 'repair: Re-register is offered');
  check(await page.isVisible('input[name=action][value=update_only]'), 'repair: Update only is offered');
  check(!(await page.isChecked('input[name=action][value=re_register]')), 'repair: nothing is preselected without UseReRegisterMode');
  check((await page.inputValue('select[name=group_tag]')) === 'Kiosk', 'repair: the group tag defaults to the old one');
  check((await page.inputValue('input[name=assigned_user]')) === 'user@contoso.example', 'repair: the user defaults to the old one');
  await page.check('input[name=action][value=re_register]');
  await shot(page, 'repair-approver');
  await page.click('button.approve');
  check(await waitState(deskUrl, deskId, 'completed', 60000), 'repair: the device is re-registered and completed');
  const stats = await (await fetch(`${simUrl}/_sim/stats`)).json();
  check(stats.autopilotDeletesBySerial['DEMO-0002'] === 1, 'repair: the old registration was deleted once');
  check(stats.managedDeviceDeletesBySerial['DEMO-0002'] === 1, 'repair: its Intune record was deleted once');
  check(stats.importsBySerial['DEMO-0002'] === 1, 'repair: the new hash was imported once');
  // The approver's page follows the request by itself until it is done.
  await page.waitForSelector('#request[data-terminal="true"]', { timeout: 30000 });
  check((await page.textContent('.timeline')).includes('Removing the old registration'), 'repair: the timeline shows the removal');
  await shot(page, 'repair-completed');
  await ctx.close();
});

await scenario('bulk upload on a phone, approval of all on a desktop', async () => {
  // docs/examples/reseller-devices.csv: four devices, a hash of another device, a broken hash.
  const file = path.join(here, '../../docs/examples/reseller-devices.csv');
  const phone = await context({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const phonePage = await phone.newPage();
  await phonePage.goto(`${selfUrl}/autopilot/upload`);
  await login(phonePage, 'bob');
  await phonePage.waitForURL(`${selfUrl}/autopilot/upload`);
  await shot(phonePage, 'upload-form-phone');
  await phonePage.setInputFiles('#upload input[type=file]', file);
  await phonePage.click('#upload button');
  await phonePage.waitForSelector('#upload-summary');
  check((await phonePage.textContent('#upload-summary')).includes('reseller-devices.csv: 6 rows. 4 new requests, 0 already open, 2 refused.'), 'upload: the summary counts new and refused rows');
  const refused = await phonePage.textContent('#refused-rows');
  check(refused.includes('DEMO-0199') && refused.includes('the Hardware Hash cannot be read'), 'upload: each refused row says why');
  check(await phonePage.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'upload: the result fits a 390 px screen');
  await shot(phonePage, 'upload-result-phone');
  await phone.close();

  const ctx = await context({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(`${selfUrl}/autopilot/upload`);
  await login(page, 'bob');
  await page.waitForURL(`${selfUrl}/autopilot/upload`);
  await page.setInputFiles('#upload input[type=file]', file);
  await page.click('#upload button');
  await page.waitForSelector('#upload-summary');
  check((await page.textContent('#upload-summary')).includes('0 new requests, 4 already open, 2 refused.'), 'upload: the same file again adds nothing');
  const ids = await page.$$eval('#accepted-rows a', (links) => links.map((a) => a.textContent));
  check(ids.length === 4, 'upload: four rows are requests');
  await page.selectOption('#approve-upload select[name=group_tag]', 'Shared');
  await page.fill('#approve-upload textarea[name=comment]', 'reseller delivery');
  await shot(page, 'upload-result');
  await page.click('#approve-upload button.approve');
  await page.waitForSelector('#approve-summary');
  check((await page.textContent('#approve-summary')).includes('4 approved'), 'upload: all four are approved together');
  await shot(page, 'upload-approved');
  let completed = 0;
  for (const id of ids) completed += (await waitState(selfUrl, id, 'completed', 60000)) ? 1 : 0;
  check(completed === 4, 'upload: every approved device is imported');
  const devices = (await (await fetch(`${simUrl}/_sim/devices`)).json()).autopilotDevices;
  const tagOf = Object.fromEntries(devices.map((d) => [d.serialNumber, d.groupTag]));
  check(tagOf['DEMO-0101'] === 'Kiosk' && tagOf['DEMO-0103'] === 'Shared', 'upload: a row keeps its Group Tag, the others get the chosen one');
  await ctx.close();
});

await scenario('service status for a viewer on a phone and a desktop', async () => {
  // One import that fails (the serial belongs to another tenant: 808), approved on the server.
  await api('POST', `${simUrl}/_sim/reset`);
  await api('POST', `${simUrl}/_sim/config`, { otherTenantSerials: ['DEMO-0001'] });
  const id = await submit(selfUrl);
  const dir = path.join(tmp, 'self-service');
  execFileSync(`${build}/src/server/apm-server`, ['--config', path.join(dir, 'apm.toml'),
    '--data-dir', path.join(dir, 'data'), 'request', 'approve', id], { env: { ...process.env, APM_CLIENT_SECRET: 'simulator-secret', APM_SIGN_IN_CLIENT_SECRET: 'apm-web-secret' } });
  check(await waitState(selfUrl, id, 'failed'), 'status: the import into another tenant fails');
  await api('POST', `${simUrl}/_sim/config`, { otherTenantSerials: [] });

  const phone = await context({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const phonePage = await phone.newPage();
  await phonePage.goto(`${selfUrl}/autopilot/status`);
  await login(phonePage, 'carol');
  await phonePage.waitForURL(`${selfUrl}/autopilot/status`);
  // The page serves figures up to 10 s old (ServiceStatus's cache): reload until the failure shows.
  for (const end = Date.now() + 15000; Date.now() < end && !(await phonePage.isVisible('#imports svg.chart rect.bar-bad'));) {
    await new Promise((r) => setTimeout(r, 1000));
    await phonePage.reload();
  }
  check(await phonePage.isVisible('#imports svg.chart rect.bar-ok'), 'status: the imports chart has completed bars');
  check(await phonePage.isVisible('#imports svg.chart rect.bar-bad'), 'status: the imports chart has a failed bar');
  check(await phonePage.isVisible('#steps svg.chart rect.bar-median'), 'status: the step chart has bars');
  check((await phonePage.textContent('#failures')).includes('808 ZtdDeviceAssignedToOtherTenant'), 'status: failures are listed by error code');
  check(await phonePage.isVisible(`#failures a[href="/autopilot/${id}"]`), 'status: a failure links to its request');
  const box = await phonePage.locator('#imports svg.chart').boundingBox();
  check(box && box.width <= 390 && box.height > 40, 'status: the chart scales to the phone');
  check(await phonePage.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'status: the page fits a 390 px screen');
  await shot(phonePage, 'status-phone');
  await phone.close();

  const ctx = await context({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(`${selfUrl}/autopilot/status`);
  await login(page, 'carol');
  await page.waitForURL(`${selfUrl}/autopilot/status`);
  // The set-up checks run at start-up; by now they have.
  check((await page.textContent('#checks')).includes('Checked'), 'status: the set-up checks are shown');
  check(await page.isVisible('#steps td:text-is("Import")'), 'status: the import step has its times');
  await shot(page, 'status');
  await ctx.close();
});

// `apm-server setup entra --certificate` from a tenant with nothing for apm-server, the admin
// signing in with the device code in the browser; then a server on the written configuration
// (its Graph token and its sign-in both by the certificate) imports a device an approver
// approved after signing in, and a second run changes nothing.
await scenario('set-up from an empty tenant', async () => {
  const emptyPort = await freePort();
  const emptyUrl = `http://127.0.0.1:${emptyPort}`;
  await start('empty-sim', `${build}/src/tenantsim/apm-tenant-sim`,
    ['--listen', `127.0.0.1:${emptyPort}`, '--admin', '--empty-tenant', '--tenant-id', TENANT,
     '--device-code-interval', '1', '--import-delay-ms=500', '--sync-visible-delay-ms=300',
     '--sync-delay-ms=800', '--profile-delay-ms=500'], {}, 'listening');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dir = path.join(tmp, 'set-up');
  fs.mkdirSync(dir);
  const config = path.join(dir, 'apm.toml');
  fs.writeFileSync(config, [`LoginEndpoint = "${emptyUrl}"`, `GraphEndpoint = "${emptyUrl}"`,
    `PublicUrl = "${url}"`, 'ImportPollMinSeconds = 0.2', 'ImportPollMaxSeconds = 1', ''].join('\n'));
  const ctx = await context({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  // Runs the command, enters its code on the device login page as the admin; its output.
  async function setUp(name) {
    const outPath = path.join(tmp, `${name}.log`);
    const out = fs.openSync(outPath, 'w');
    // A certificate rather than a secret: the server's Graph calls and its sign-in both use it.
    const child = spawn(`${build}/src/server/apm-server`, ['--config', config, 'setup', 'entra', '--tenant', TENANT, '--certificate'],
      { stdio: ['ignore', out, out] });
    children.push({ name, child, logPath: outPath });
    let prompt = null;
    for (const end = Date.now() + 15000; !prompt && Date.now() < end;) {
      prompt = fs.readFileSync(outPath, 'utf8').match(/open the page (\S+) and enter the code (\S+)/);
      if (!prompt) await new Promise((r) => setTimeout(r, 50));
    }
    if (!prompt) throw new Error(`${name}: no device code shown: ${fs.readFileSync(outPath, 'utf8')}`);
    await page.goto(prompt[1]);
    await page.fill('input#code', prompt[2]);
    if (name === 'set-up-1') await shot(page, 'setup-device-login');
    await page.click('button:has-text("admin@contoso.example")');
    check((await page.textContent('main')).includes('You have signed in'), `${name}: the admin signs in with the code`);
    const code = child.exitCode ?? await new Promise((r) => child.on('exit', r));
    const text = fs.readFileSync(outPath, 'utf8');
    check(code === 0, `${name}: the command succeeds (exit ${code})`);
    return text;
  }
  const first = await setUp('set-up-1');
  check(first.includes('+ create the app registration') && first.includes('+ grant admin consent to DeviceManagementServiceConfig.ReadWrite.All'),
    'set-up: the app registration is created with admin consent');
  check(fs.readFileSync(config, 'utf8').includes('ClientCertificateFile'), 'set-up: the configuration names the certificate');
  await start('set-up-server', `${build}/src/server/apm-server`,
    ['--listen', `127.0.0.1:${port}`, '--data-dir', path.join(dir, 'data'), '--config', config],
    {}, 'listening');
  const id = await submit(url);
  await page.goto(`${url}/autopilot/${id}`);
  // The simulator's sign-in page: the approver's id_token carries the approvers' group because
  // the set-up assigned it to the app (groups claim "ApplicationGroup").
  await page.click('button:has-text("approver@contoso.example")');
  await page.waitForURL(`${url}/autopilot/${id}`);
  check(await page.isVisible('button.approve'), 'set-up: the approver signs in and may approve');
  await page.click('button.approve');
  check(await waitState(url, id, 'completed'), 'set-up: the approved device is imported, synced and profiled');
  await shot(page, 'setup-imported');
  const second = await setUp('set-up-2');
  check(second.includes('Nothing to change'), 'set-up: a second run changes nothing');
  await ctx.close();
});

await browser.close();
for (const { child } of children) child.kill('SIGTERM');
if (failures.length) {
  for (const { name, logPath } of children) fs.copyFileSync(logPath, path.join(artifacts, `${name}.log`));
  log(`${failures.length} check(s) failed`);
  process.exit(1);
}
fs.rmSync(tmp, { recursive: true, force: true });
log(`all checks passed; screenshots in ${artifacts}`);
