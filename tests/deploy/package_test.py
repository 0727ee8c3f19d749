#!/usr/bin/env python3
"""The Debian package holds what docs/deployment.md promises, depends on runtime libraries only,
and its apm-server serves with the packaged configuration.

Usage: package_test.py DEB   (scripts/package makes it; scripts/test runs both)

The packaged binary runs from the unpacked package with its /etc/apm/apm.toml; only the
machine-specific paths (data directory, listen address, the clients' location inside the
unpacked tree) are overridden through APM_* variables, as a container would."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import served_checks

EXPECTED_FILES = [
    "./usr/bin/apm-server",
    "./usr/share/apm/clients/ap.exe",
    "./usr/share/apm/clients/ap",
    "./etc/apm/apm.toml",
    "./lib/systemd/system/apm-server.service",
    "./usr/share/doc/apm-server/copyright",
    "./usr/share/doc/apm-server/changelog.gz",
    "./usr/share/doc/apm-server/deployment.md",
]


def fail(message):
    sys.exit(f"package_test: {message}")


def field(info, name):
    m = re.search(rf"^ {name}: (.*)$", info, re.M)
    return m.group(1) if m else ""


def main():
    if len(sys.argv) != 2:
        fail("usage: package_test.py DEB")
    deb = sys.argv[1]
    listing = subprocess.run(["dpkg-deb", "-c", deb], check=True, capture_output=True,
                             text=True).stdout
    paths = {line.split()[-1] for line in listing.splitlines()}
    for path in EXPECTED_FILES:
        if path not in paths:
            fail(f"{path} is not in the package")
    info = subprocess.run(["dpkg-deb", "-I", deb], check=True, capture_output=True,
                          text=True).stdout
    depends = field(info, "Depends")
    for library in ("libpq5", "libsqlite3-0", "libcurl4", "libqrencode4", "libssl3", "adduser",
                    "ca-certificates"):
        if library not in depends:
            fail(f"Depends lacks {library}: {depends}")
    if "-dev" in depends:
        fail(f"Depends names a development package: {depends}")
    control = tempfile.mkdtemp(prefix="apm-control-")
    subprocess.run(["dpkg-deb", "-e", deb, control], check=True)
    with open(os.path.join(control, "conffiles")) as f:
        if "/etc/apm/apm.toml" not in f.read().split():
            fail("/etc/apm/apm.toml is not a conffile")
    shutil.rmtree(control)

    tmp = tempfile.mkdtemp(prefix="apm-package-")
    server = None
    try:
        unpacked = os.path.join(tmp, "root")
        subprocess.run(["dpkg-deb", "-x", deb, unpacked], check=True)
        log_path = os.path.join(tmp, "server.log")
        env = dict(os.environ,
                   APM_DATA_DIR=os.path.join(tmp, "data"),
                   APM_LISTEN="127.0.0.1:0",
                   APM_CLIENT_WINDOWS_BINARY=f"{unpacked}/usr/share/apm/clients/ap.exe",
                   APM_CLIENT_POSIX_BINARY=f"{unpacked}/usr/share/apm/clients/ap")
        with open(log_path, "w") as log:
            server = subprocess.Popen([f"{unpacked}/usr/bin/apm-server", "--config",
                                       f"{unpacked}/etc/apm/apm.toml"], stdout=log,
                                      stderr=subprocess.STDOUT, env=env)
        port = None
        for _ in range(100):
            with open(log_path) as f:
                m = re.search(r'127\.0\.0\.1:(\d+)\D', f.read())
            if m:
                port = m.group(1)
                break
            time.sleep(0.1)
        if not port:
            with open(log_path) as f:
                fail("the packaged apm-server did not start:\n" + f.read())
        url = f"http://127.0.0.1:{port}"
        served_checks.wait_until_serving(url)
        created = served_checks.submit_sample(url)
        with open(f"{unpacked}/usr/share/apm/clients/ap.exe", "rb") as f:
            size = served_checks.served_ap_exe(url, f.read())
        print(f"package_test: {os.path.basename(deb)}: files, Depends, conffile; the packaged "
              f"server served /healthz, a submission ({created['id']}) and /ap.exe "
              f"({size} bytes)")
    except served_checks.CheckFailed as e:
        fail(str(e))
    finally:
        if server:
            server.terminate()
            server.wait(15)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
