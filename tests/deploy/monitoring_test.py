#!/usr/bin/env python3
"""The shipped alert rules and dashboard use only metrics apm-server exports, and the rules
behave as their unit tests say.

Starts apm-tenant-sim and an apm-server using it (so the engine's metrics are exported), reads
/metrics, and checks every apm_* name in deploy/prometheus/apm-alerts.yml and
deploy/grafana/apm-dashboard.json against it; then runs `promtool check rules` and
`promtool test rules` (Debian's prometheus package)."""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RULES = os.path.join(ROOT, "deploy", "prometheus", "apm-alerts.yml")
RULE_TESTS = os.path.join(ROOT, "deploy", "prometheus", "apm-alerts.test.yml")
DASHBOARD = os.path.join(ROOT, "deploy", "grafana", "apm-dashboard.json")
PROFILE_GROUP = "3d2e1f00-0000-4000-8000-00000000beef"


def wait_for_port(log_path, seconds=15):
    end = time.time() + seconds
    while time.time() < end:
        with open(log_path) as f:
            m = re.search(r'listening address=127\.0\.0\.1:(\d+)\D|"address":"127\.0\.0\.1:(\d+)\D',
                          f.read())
        if m:
            return m.group(1) or m.group(2)
        time.sleep(0.1)
    with open(log_path) as f:
        sys.exit(f"did not start; its log:\n{f.read()}")


def start(args, log_path, env=None):
    log = open(log_path, "w")
    proc = subprocess.Popen(args + ["--listen", "127.0.0.1:0"], stdout=log,
                            stderr=subprocess.STDOUT, env=env)
    return proc, f"http://127.0.0.1:{wait_for_port(log_path)}"


def exported_families(metrics_text):
    """Metric names a scrape can select: each family, and a histogram's _bucket/_sum/_count."""
    names = set()
    for line in metrics_text.splitlines():
        m = re.match(r"# TYPE (\S+) (\S+)", line)
        if not m:
            continue
        names.add(m.group(1))
        if m.group(2) == "histogram":
            names.update(m.group(1) + s for s in ("_bucket", "_sum", "_count"))
    return names


def used_names(text):
    return set(re.findall(r"\bapm_[a-z_]+\b", text))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--server", required=True)
    p.add_argument("--sim", required=True)
    args = p.parse_args()
    promtool = shutil.which("promtool")
    if not promtool:
        sys.exit("promtool not found: apt-get install prometheus (scripts/test installs it)")

    tmp = tempfile.mkdtemp(prefix="apm-monitoring-")
    procs = []
    try:
        sim, sim_url = start([args.sim, "--admin", f"--profile-group-id={PROFILE_GROUP}"],
                             os.path.join(tmp, "sim.log"))
        procs.append(sim)
        config = os.path.join(tmp, "apm.toml")
        with open(config, "w") as f:
            f.write('TenantId = "00000000-0000-4000-8000-000000000001"\n'
                    'ClientId = "11111111-1111-4111-8111-111111111111"\n'
                    f'LoginEndpoint = "{sim_url}"\nGraphEndpoint = "{sim_url}"\n')
        env = dict(os.environ, APM_CLIENT_SECRET="simulator-secret")
        server, url = start([args.server, "--config", config, "--data-dir",
                             os.path.join(tmp, "data")], os.path.join(tmp, "server.log"), env)
        procs.append(server)
        urllib.request.urlopen(url + "/healthz", timeout=10).read()  # one request counted
        # The background set-up checks start with the server and take a second or so.
        deadline = time.time() + 20
        while True:
            with urllib.request.urlopen(url + "/metrics", timeout=10) as r:
                exported = exported_families(r.read().decode())
            if "apm_doctor_findings" in exported or time.time() > deadline:
                break
            time.sleep(0.2)

        failures = []
        with open(RULES) as f:
            rules_text = f.read()
        with open(DASHBOARD) as f:
            dashboard = json.load(f)
        expressions = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
        for source, names in (("rules", used_names(rules_text)),
                              ("dashboard", used_names("\n".join(expressions)))):
            if not names:
                failures.append(f"the {source} use no apm_ metric at all")
            for name in sorted(names - exported):
                failures.append(f"the {source} use {name}, which /metrics does not export")

        for cmd in ([promtool, "check", "rules", RULES], [promtool, "test", "rules", RULE_TESTS]):
            run = subprocess.run(cmd, capture_output=True, text=True,
                                 cwd=os.path.dirname(RULE_TESTS))
            if run.returncode != 0 or "SUCCESS" not in run.stdout:
                failures.append(f"{' '.join(cmd[1:3])} failed:\n{run.stdout}{run.stderr}")
        if failures:
            sys.exit("\n".join(failures))
        print(f"rules and dashboard use {len(used_names(rules_text) | used_names(' '.join(expressions)))} "
              f"metrics, all exported; promtool check and test rules pass")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:  # a server that hangs must not outlive the test
                proc.kill()
                proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
