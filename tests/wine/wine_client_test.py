#!/usr/bin/env python3
"""ap.exe under Wine against the real apm-server and apm-tenant-sim.

Checks: the size and DLL imports of ap.exe; the download route; `--help`; a console run with
--device-file to success; the GUI under Xvfb waiting for approval, on success and on failure,
with the background colour of each state and the QR code's modules where the server's matrix
says. Screenshots go to --artifacts for review.

Usage: wine_client_test.py --native-build build/default --exe build/mingw/src/client/ap.exe
                           --artifacts build/test-artifacts/wine
"""
import argparse
import base64
import hashlib
from http.cookiejar import CookieJar
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import zipfile
import zlib

WORKING = (0, 66, 117)
SUCCESS = (16, 124, 16)
FAILURE = (164, 38, 44)
PROFILE_GROUP = "6a1c0f3e-5d2b-4c8a-9e71-2f4b8d0c6a15"
TENANT = "00000000-0000-4000-8000-000000000001"
MAX_EXE_BYTES = 1024 * 1024
# Wine's virtual desktop: room for 144 DPI and text at 150 %; a program started on it sees the
# others' windows (the accessibility probe finds ap.exe's).
DESKTOP = "/desktop=ap,1600x1200"
SYSTEM_DLLS = {"advapi32.dll", "gdi32.dll", "kernel32.dll", "msvcrt.dll", "ole32.dll", "oleacc.dll",
               "oleaut32.dll", "shell32.dll", "user32.dll", "winhttp.dll", "ws2_32.dll",
               "shcore.dll", "comctl32.dll", "api-ms-win-crt-runtime-l1-1-0.dll", "cabinet.dll"}

failures = []


def log(text):
    print(f"[wine-test] {text}", flush=True)


def check(condition, what):
    if condition:
        log(f"ok: {what}")
    else:
        log(f"FAILED: {what}")
        failures.append(what)
    return condition


def wait_until(predicate, seconds, what):
    end = time.time() + seconds
    while time.time() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(f"timed out after {seconds} s waiting for {what}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_cab(files):
    """A cabinet (MS-CAB, one folder, MSZIP as Windows' tools write it) of `files`:
    [(name, bytes)]. Each 32 KiB block is its own deflate stream after "CK". A name given as
    bytes is written as it is (the ANSI code page's); a str one as UTF-8, flagged so when it is
    not ASCII."""
    data = b"".join(content for _, content in files)
    blocks = []
    for i in range(0, len(data), 32768):
        deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
        packed = b"CK" + deflate.compress(data[i:i + 32768]) + deflate.flush()
        blocks.append(struct.pack("<IHH", 0, len(packed), len(data[i:i + 32768])) + packed)
    entries, offset = b"", 0
    for name, content in files:
        raw_name = name if isinstance(name, bytes) else name.encode()
        utf8 = 0x80 if isinstance(name, str) and not name.isascii() else 0  # _A_NAME_IS_UTF
        entries += struct.pack("<IIHHHH", len(content), offset, 0, 0x5b7e, 0x7800, 0x20 | utf8)
        entries += raw_name + b"\0"
        offset += len(content)
    files_at = 36 + 8
    data_at = files_at + len(entries)
    blocks_bytes = b"".join(blocks)
    header = struct.pack("<4sIIIIIBBHHHHH", b"MSCF", 0, data_at + len(blocks_bytes), 0, files_at, 0,
                         3, 1, 1, len(files), 0, 0x1234, 0)
    return header + struct.pack("<IHH", data_at, len(blocks), 1) + entries + blocks_bytes


def holds_hash(data, hash_b64):
    """Whether `data` holds 16 characters of the hash: as base64, in hex, or 16 of its raw bytes
    that are not plain text (the hash's SMBIOS strings are the device's names, shown on purpose).
    Runs of one or two characters (padding) are not the hash's own."""
    raw = base64.b64decode(hash_b64)
    reg_hex = ",".join(f"{b:02x}" for b in raw)
    forms = ((hash_b64.encode(), True), (raw, False), (raw.hex().encode(), True),
             (raw.hex().upper().encode(), True), (reg_hex.encode(), True),
             (hash_b64.encode("utf-16-le"), True), (raw.hex().encode("utf-16-le"), True),
             (reg_hex.encode("utf-16-le"), True))
    for text, plain_ok in forms:
        for i in range(len(text) - 15):
            run = text[i:i + 16]
            if len(set(run)) < 3 or (not plain_ok and all(32 <= b < 127 for b in run)):
                continue
            if run in data:
                return True
    return False


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """Cookies kept, redirects not followed: the sign-in through apm-tenant-sim's user picker."""

    def __init__(self):
        self.opener = urllib.request.build_opener(
            NoRedirect, urllib.request.HTTPCookieProcessor(CookieJar()))

    def send(self, url, form=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(urllib.request.Request(url, data=data), timeout=20) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def sign_in(self, server, oid):
        status, headers, _ = self.send(server + "/signin?return=/autopilot/approve-requests")
        provider = headers["Location"]
        _, _, picker = self.send(provider)
        form = dict(re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">',
                               picker.decode()))
        form = {k: v.replace("&amp;", "&") for k, v in form.items()}
        form["user"] = oid
        _, headers, _ = self.send(provider.split("?")[0], form)
        callback = headers["Location"]
        status, _, _ = self.send(callback if "://" in callback else server + callback)
        return status


class Service:
    """apm-server or apm-tenant-sim on a loopback port of its own choosing (or `port`)."""

    def __init__(self, args, log_path, env=None, port=0):
        self.log_path = log_path
        self.log_file = open(log_path, "w")
        self.proc = subprocess.Popen(args + ["--listen", f"127.0.0.1:{port}"],
                                     stdout=self.log_file, stderr=subprocess.STDOUT, env=env)
        port = wait_until(self._port, 15, f"{args[0]} to listen")
        self.url = f"http://127.0.0.1:{port}"

    def _port(self):
        with open(self.log_path) as f:
            m = re.search(r'listening address=127\.0\.0\.1:(\d+)\D|"address":"127\.0\.0\.1:(\d+)\D',
                          f.read())
        return m and (m.group(1) or m.group(2))

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def http(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def read_bmp(path):
    """24- or 32-bit uncompressed BMP -> (width, height, pixel(x, y) -> (r, g, b))."""
    with open(path, "rb") as f:
        data = f.read()
    offset = struct.unpack_from("<I", data, 10)[0]
    width, height = struct.unpack_from("<ii", data, 18)
    bpp = struct.unpack_from("<H", data, 28)[0]
    step = bpp // 8
    stride = (width * step + 3) & ~3
    top_down = height < 0
    height = abs(height)

    def pixel(x, y):
        row = y if top_down else height - 1 - y
        i = offset + row * stride + x * step
        return data[i + 2], data[i + 1], data[i]

    return width, height, pixel


def near(a, b, tolerance=6):
    return all(abs(x - y) <= tolerance for x, y in zip(a, b))


def count_colour_in_png(path, colour):
    """Pixels of exactly `colour` in a screenshot (via ImageMagick's PPM output)."""
    ppm = subprocess.run(["/usr/bin/convert", path, "-depth", "8", "ppm:-"], check=True,
                         capture_output=True).stdout
    header = re.match(rb"P6\s+(\d+)\s+(\d+)\s+(\d+)\s", ppm)
    body = ppm[header.end():]
    target = bytes(colour)
    return sum(1 for i in range(0, len(body), 3) if body[i:i + 3] == target)


def count_colour_in_bmp(path, colour):
    """Pixels of exactly `colour` in the window's own snapshot."""
    width, height, pixel = read_bmp(path)
    return sum(1 for y in range(height) for x in range(width) if pixel(x, y) == tuple(colour))


class Test:
    def __init__(self, args):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix="apm-wine-")
        self.artifacts = os.path.abspath(args.artifacts)
        os.makedirs(self.artifacts, exist_ok=True)
        native = os.path.abspath(args.native_build)
        self.server_bin = f"{native}/src/server/apm-server"
        self.sim_bin = f"{native}/src/tenantsim/apm-tenant-sim"
        self.exe = os.path.abspath(args.exe)
        self.probe = os.path.join(os.path.dirname(self.exe), "ap_accessibility_probe.exe")
        self.wine_env = dict(os.environ, WINEPREFIX=os.path.join(self.tmp, "prefix"),
                             WINEDEBUG="-all", WINEDLLOVERRIDES="mscoree,mshtml=")
        self.services = []
        self.xvfb = None

    # --- set-up -------------------------------------------------------------------------------
    def start_services(self):
        # The helpdesk server (sign-in through the simulator) listens where the simulator knows.
        self.helpdesk_port = free_port()
        self.sim = Service([self.sim_bin, "--admin", "--import-delay-ms=500",
                            "--sync-visible-delay-ms=300", "--sync-delay-ms=800",
                            "--profile-delay-ms=500", f"--profile-group-id={PROFILE_GROUP}",
                            f"--tenant-id={TENANT}",
                            f"--redirect-uri=http://127.0.0.1:{self.helpdesk_port}/signin-oidc"],
                           os.path.join(self.tmp, "sim.log"))
        self.services.append(self.sim)
        self.data = os.path.join(self.tmp, "data")
        self.server = self.start_server("server", self.data,
                                        f'UseAutopilotProfileGroup = true\n'
                                        f'AutopilotProfileGroup = "{PROFILE_GROUP}"\n'
                                        f'ImportPollMinSeconds = 0.2\nImportPollMaxSeconds = 1\n'
                                        f'ApprovalMode = false\nClientWindowsBinary = "{self.exe}"\n')

    def start_server(self, name, data, settings, port=0):
        """apm-server with the simulator as its tenant, `settings` added, its log `name`.log."""
        os.makedirs(data)
        config = os.path.join(self.tmp, f"{name}.toml")
        with open(config, "w") as f:
            f.write(f'TenantId = "{TENANT}"\n'
                    f'ClientId = "11111111-1111-4111-8111-111111111111"\n'
                    f'LoginEndpoint = "{self.sim.url}"\nGraphEndpoint = "{self.sim.url}"\n' +
                    settings)
        env = dict(os.environ, APM_CLIENT_SECRET="simulator-secret")
        server = Service([self.server_bin, "--data-dir", data, "--config", config],
                         os.path.join(self.tmp, f"{name}.log"), env, port)
        self.services.append(server)
        return server

    def admin(self, *args):
        out = subprocess.run([self.server_bin, "--data-dir", self.data, *args],
                             capture_output=True, text=True)
        check(out.returncode == 0, f"apm-server {' '.join(args[:2])} ({out.stderr.strip()})")
        return out.stdout

    def device(self, name, sample="sample-request.json"):
        with open(os.path.join(os.path.dirname(__file__), "../../docs/examples", sample)) as f:
            body = json.load(f)
        path = os.path.join(self.tmp, f"{name}.json")
        with open(path, "w") as f:
            json.dump(body, f)
        return body, path

    @staticmethod
    def win_path(path):
        return "Z:" + path.replace("/", "\\")

    def ap_args(self, name, device_path):
        return ["--allow-http", "--skip-checks", "--device-file", self.win_path(device_path),
                "--state-dir", self.win_path(os.path.join(self.tmp, "state-" + name)),
                self.server.url]

    def open_request(self, body):
        """The client's open request, with its QR matrix: the server answers a second
        submission of the same serial with it."""
        status, text = http("POST", self.server.url + "/api/v1/requests", body)
        assert status == 200, f"expected the open request, got {status}: {text[:200]}"
        return json.loads(text)

    # --- checks -------------------------------------------------------------------------------
    def test_binary(self):
        size = os.path.getsize(self.exe)
        check(size <= MAX_EXE_BYTES, f"ap.exe is {size} bytes (limit {MAX_EXE_BYTES})")
        dump = subprocess.run(["x86_64-w64-mingw32-objdump", "-p", self.exe], check=True,
                              capture_output=True, text=True).stdout
        dlls = {m.lower() for m in re.findall(r"DLL Name: (\S+)", dump)}
        check(dlls and dlls <= SYSTEM_DLLS, f"ap.exe imports only system DLLs: {sorted(dlls)}")
        status, exe = http("GET", self.server.url + "/ap.exe")
        with open(self.exe, "rb") as f:
            check(status == 200 and exe == f.read(), "the server serves ap.exe byte for byte")
        downloaded = os.path.join(self.tmp, "ap.exe")
        with open(downloaded, "wb") as f:
            f.write(exe)
        self.exe_run = downloaded  # what `curl -o ap.exe` would have fetched

    def test_signed_client(self):
        """ClientSigningCertificateFile: the server signs ap.exe at start-up with osslsigncode and
        serves the signed copy, which verifies and still runs; the home page shows the SHA-256 of
        what is served; without a certificate nothing is signed. The version resource is ours."""
        version = subprocess.run([self.server_bin, "--version"], check=True, capture_output=True,
                                 text=True).stdout.split()[-1]
        with open(self.exe, "rb") as f:
            exe = f.read()
        # A String entry: header, key, its NUL, padding to 4 bytes (none after "ProductVersion"
        # at offset 36), then the value.
        marker = "ProductVersion".encode("utf-16le") + b"\0\0" + version.encode("utf-16le")
        check(marker in exe, f"ap.exe's version resource says ProductVersion {version}")
        unsigned = subprocess.run(["osslsigncode", "verify", "-in", self.exe_run],
                                  capture_output=True, text=True)
        check(unsigned.returncode != 0 and "No signature found" in unsigned.stdout + unsigned.stderr,
              "without a signing certificate the served ap.exe carries no signature")
        keys = os.path.join(self.tmp, "signing")
        os.makedirs(keys)
        cert, key = os.path.join(keys, "cert.pem"), os.path.join(keys, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=Autopilot Manager test code signing", "-keyout", key,
                        "-out", cert, "-addext", "extendedKeyUsage=codeSigning"],
                       check=True, capture_output=True)
        config = os.path.join(keys, "apm.toml")
        with open(config, "w") as f:
            f.write(f'ClientWindowsBinary = "{self.exe}"\n'
                    f'ClientSigningCertificateFile = "{cert}"\nClientSigningKeyFile = "{key}"\n')
        signer = Service([self.server_bin, "--data-dir", os.path.join(keys, "data"),
                          "--config", config], os.path.join(self.tmp, "signing-server.log"))
        self.services.append(signer)
        status, signed = http("GET", signer.url + "/ap.exe")
        check(status == 200 and len(signed) > len(exe), "the signing server serves a larger ap.exe")
        check(len(signed) <= MAX_EXE_BYTES, f"the signed ap.exe is {len(signed)} bytes")
        path = os.path.join(self.tmp, "ap-signed.exe")
        with open(path, "wb") as f:
            f.write(signed)
        verified = subprocess.run(["osslsigncode", "verify", "-CAfile", cert, "-in", path],
                                  capture_output=True, text=True)
        check(verified.returncode == 0 and "Signature verification: ok" in verified.stdout,
              "osslsigncode verifies the served ap.exe against the test certificate "
              f"({verified.stdout.strip()[-200:]} {verified.stderr.strip()[-200:]})")
        _, home = http("GET", signer.url + "/")
        digest = hashlib.sha256(signed).hexdigest()
        check(f"SHA-256: <code>{digest}</code> (Authenticode-signed)" in home.decode(),
              "the home page shows the SHA-256 of the signed ap.exe it serves")
        ran = subprocess.run(["wine", path, "--help"], env=self.wine_env, capture_output=True,
                             text=True, timeout=120)
        check(ran.returncode == 0 and "Exit codes" in ran.stdout,
              f"the signed ap.exe still runs (exit {ran.returncode})")
        signer.stop()
        self.services.remove(signer)

    def test_help(self):
        out = subprocess.run(["wine", self.exe_run, "--help"], env=self.wine_env,
                             capture_output=True, text=True, timeout=120)
        check(out.returncode == 0 and "Exit codes" in out.stdout, "ap.exe --help")

    def console_run(self, name, sample, before_approval, approve_args):
        """Runs ap.exe --console on the device in docs/examples/`sample`, approves its request
        with `approve_args` once `before_approval(rid)` has returned; the exit code and output."""
        body, path = self.device(name, sample)
        out_path = os.path.join(self.artifacts, f"{name}.txt")
        with open(out_path, "w") as out:
            proc = subprocess.Popen(["wine", self.exe_run, "--console"] +
                                    self.ap_args(name, path),
                                    env=self.wine_env, stdout=out, stderr=subprocess.STDOUT)

        def request_id():
            m = re.search(r"Request id\s+(\S+)", open(out_path).read())
            return m and m.group(1)
        rid = wait_until(request_id, 60, f"the {name} client's request id")
        before_approval(rid)
        self.admin("request", "approve", rid, *approve_args)
        return proc.wait(90), open(out_path).read(), body

    def test_console_success(self):
        rc, text, body = self.console_run("console-run", "sample-request.json", lambda rid: None, [])
        check(rc == 0, f"console ap.exe exits 0 (got {rc})")
        check("Your device is ready" in text, "console ap.exe reports the device ready")
        check(body["hardwareHash"][:40] not in text, "the console output has no hash")

    def test_diagnostics(self):
        """ap.exe --collect-diagnostics: one zip in the folder (Python's zipfile reads it), with
        the registry's Autopilot key, the device, and never the hash."""
        key = r"HKLM\SOFTWARE\Microsoft\Provisioning\Diagnostics\Autopilot"
        folder = os.path.join(self.tmp, "usb")
        body, path = self.device("diagnostics")
        # Windows' MdmDiagnosticsTool.exe (a stand-in: Wine has none) and the report it writes:
        # two files that hold the hash as Windows' tools write it, two that do not (one spanning
        # three compressed blocks), two whose names a zip cannot take (outside, twice), and two
        # named in the ANSI code page and in flagged UTF-8.
        raw = base64.b64decode(body["hardwareHash"])
        reg = ("Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\"
               "Microsoft\\Windows\\CurrentVersion\\Provisioning]\r\n\"DeviceHash\"=hex:" +
               ",".join(f"{b:02x}" for b in raw[:64]) + "\r\n")
        provisioning_log = b"provisioning started\n" + b"".join(
            f"step {n}: {hashlib.sha256(str(n).encode()).hexdigest()}\n".encode()
            for n in range(1000))
        cab = os.path.join(self.tmp, "mdm-report.cab")
        with open(cab, "wb") as f:
            f.write(make_cab([
                ("TpmHliInfo_Output.txt", b"TPM present: true\r\n"),
                ("MdmDiagReport_RegistryDump.reg", b"\xff\xfe" + reg.encode("utf-16-le")),
                ("AutopilotDDSZTDFile.json",
                 json.dumps({"ZtdDeviceHash": body["hardwareHash"]}).encode()),
                ("logs\\provisioning.log", provisioning_log),
                ("..\\outside.txt", b"not from the report\n"),
                (b"Caf\xe9.txt", b"a name in the ANSI code page\n"),
                ("Übersicht.txt", b"a name in UTF-8\n"),
                ("TpmHliInfo_Output.txt", b"a second TPM report\r\n")]))
        tool = os.path.join(self.wine_env["WINEPREFIX"], "drive_c", "windows", "system32",
                            "MdmDiagnosticsTool.exe")
        shutil.copy(os.path.join(os.path.dirname(self.exe), "ap_fake_mdm_diagnostics.exe"), tool)
        tenant = "00000000-0000-4000-8000-000000000001"
        self.registry([(key, "CloudAssignedTenantDomain", "REG_SZ", "contoso.onmicrosoft.com"),
                       (key, "CloudAssignedTenantId", "REG_SZ", tenant)])
        try:
            out = subprocess.run(["wine", self.exe_run, "--console", "--collect-diagnostics",
                                  "--diagnostics-folder", self.win_path(folder),
                                  "--device-file", self.win_path(path), "--allow-http",
                                  "--skip-checks", self.server.url],
                                 env=dict(self.wine_env, AP_FAKE_MDM_CAB=self.win_path(cab)),
                                 capture_output=True, timeout=120)
        finally:
            os.remove(tool)
            # Gone again: with it, every later run would stop at "already has a profile".
            self.registry([(key, "CloudAssignedTenantDomain", None, None),
                           (key, "CloudAssignedTenantId", None, None)])
        zips = [os.path.join(folder, n) for n in os.listdir(folder)] if os.path.isdir(folder) else []
        if not check(out.returncode == 0 and len(zips) == 1,
                     f"diagnostics: ap.exe wrote one zip (exit {out.returncode}, {zips})"):
            return
        shutil.copy(zips[0], os.path.join(self.artifacts, "diagnostics.zip"))
        with zipfile.ZipFile(zips[0]) as bundle:
            check(bundle.testzip() is None, "diagnostics: every file's CRC is right")
            names = bundle.namelist()
            registry = bundle.read("system/registry.txt").decode("utf-8", "replace")
            summary = bundle.read("summary.txt").decode("utf-8", "replace")
            mdm = {n: bundle.read(n) for n in names if n.startswith("system/mdm")}
            check(not any(holds_hash(bundle.read(n), body["hardwareHash"]) for n in names),
                  "diagnostics: no file holds any of the hash, in any form")
        check(names[:3] == ["summary.txt", "checks.txt", "ap.log"], f"diagnostics: {names}")
        check(mdm.get("system/mdm/TpmHliInfo_Output.txt") == b"TPM present: true\r\n" and
              mdm.get("system/mdm/logs/provisioning.log") == provisioning_log and
              # Windows-1252 reads "Café"; Wine in a UTF-8 locale takes UTF-8 as its ANSI code
              # page, where the lone byte is U+FFFD. Either way the file is kept, named in UTF-8.
              b"a name in the ANSI code page\n" in (mdm.get("system/mdm/Café.txt"),
                                                     mdm.get("system/mdm/Caf\ufffd.txt")) and
              mdm.get("system/mdm/Übersicht.txt") == b"a name in UTF-8\n" and
              b"exit code 0" in mdm.get("system/mdm-diagnostics.txt", b""),
              f"diagnostics: MdmDiagnosticsTool's compressed report is in it, opened "
              f"({sorted(mdm)})")
        notes = mdm.get("system/mdm-diagnostics.txt", b"").decode("utf-8", "replace")
        check('left out: ../outside.txt (its name has "..")' in notes and
              "left out: TpmHliInfo_Output.txt (a second file of that name)" in notes and
              "system/mdm/outside.txt" not in mdm,
              f"diagnostics: the report's files a zip cannot take are named, left out ({notes!r})")
        check("system/mdm/MdmDiagReport_RegistryDump.reg (it held part of the hardware hash)" in
              summary and
              "system/mdm/AutopilotDDSZTDFile.json (it held part of the hardware hash)" in summary,
              "diagnostics: the report's files that hold the hash (a UTF-16 .reg, the ZTD JSON) "
              "are left out and named")
        check("CloudAssignedTenantDomain = contoso.onmicrosoft.com" in registry,
              "diagnostics: the Autopilot registry key is in it")
        check("assigned to contoso.onmicrosoft.com" in summary and "DEMO-0001" in summary,
              "diagnostics: the summary names the device and its profile")
        with open(zips[0], "rb") as f:
            raw = f.read()
        check(body["hardwareHash"][:40].encode() not in raw, "diagnostics: no hash in the zip")

    def test_diagnostics_to_helpdesk(self):
        """ap.exe sends its bundle to its request: on a server with sign-in an approver finds it
        on the request's page and downloads it, a general user is refused, it holds no hash,
        and it goes when the request is purged."""
        _, text = http("GET", self.sim.url + "/_sim/users")
        users = json.loads(text)
        oid = {u["userPrincipalName"]: u["id"] for u in users["users"]}
        group = {g["displayName"]: g["id"] for g in users["groups"]}
        data = os.path.join(self.tmp, "helpdesk-data")
        server = self.start_server("helpdesk-server", data,
                                   f'SignInAuthority = "{self.sim.url}/{TENANT}/v2.0"\n'
                                   f'AuthorizationSecurityGroup = "{group["Autopilot Users"]}"\n'
                                   f'ApproverSecurityGroup = "{group["Autopilot Approvers"]}"\n'
                                   f'ViewerSecurityGroup = "{group["Autopilot Viewers"]}"\n'
                                   f'ApprovalMode = true\nMaintenanceIntervalSeconds = 1\n',
                                   self.helpdesk_port)
        body, path = self.device("helpdesk")
        args = ["--console", "--allow-http", "--skip-checks", "--device-file", self.win_path(path),
                "--state-dir", self.win_path(os.path.join(self.tmp, "state-helpdesk")), server.url]
        submitted = subprocess.run(["wine", self.exe_run, "--no-wait"] + args, env=self.wine_env,
                                   capture_output=True, text=True, timeout=120)
        m = re.search(r"Request id\s+(\S+)", submitted.stdout)
        if not check(submitted.returncode == 0 and m, "helpdesk: ap.exe submitted "
                     f"(exit {submitted.returncode})"):
            return
        rid = m.group(1)
        sent = subprocess.run(["wine", self.exe_run, "--collect-diagnostics"] + args,
                              env=self.wine_env, capture_output=True, text=True, timeout=120)
        with open(os.path.join(self.artifacts, "diagnostics-sent.txt"), "w") as f:
            f.write(sent.stdout + sent.stderr)
        check(sent.returncode == 0 and f"sent to your helpdesk with request {rid}" in sent.stdout,
              f"helpdesk: ap.exe sent its diagnostics to request {rid} (exit {sent.returncode})")
        link = f"/autopilot/{rid}/diagnostics/1"
        approver, general = Browser(), Browser()
        check(approver.sign_in(server.url, oid["approver@contoso.example"]) == 302,
              "helpdesk: the approver signs in")
        check(general.sign_in(server.url, oid["user@contoso.example"]) == 302,
              "helpdesk: a general user signs in")
        status, _, page = approver.send(server.url + f"/autopilot/{rid}")
        check(status == 200 and b"Diagnostics from the device" in page and
              f'href="{link}"'.encode() in page,
              "helpdesk: the request's page lists the bundle for the approver")
        status, headers, bundle = approver.send(server.url + link)
        check(status == 200 and headers["Content-Type"] == "application/zip",
              f"helpdesk: the approver downloads it ({status})")
        with open(os.path.join(self.artifacts, "diagnostics-downloaded.zip"), "wb") as f:
            f.write(bundle)
        with zipfile.ZipFile(os.path.join(self.artifacts, "diagnostics-downloaded.zip")) as z:
            check(z.testzip() is None and rid in z.read("summary.txt").decode(),
                  "helpdesk: the downloaded zip is whole and names the request")
            check(not any(holds_hash(z.read(n), body["hardwareHash"]) for n in z.namelist()),
                  "helpdesk: no file of the bundle holds any of the hash")
        status, _, page = general.send(server.url + f"/autopilot/{rid}")
        check(status == 200 and b"Diagnostics from the device" not in page,
              "helpdesk: a general user's page does not list it")
        status, _, _ = general.send(server.url + link)
        check(status == 403, f"helpdesk: a general user is refused the bundle ({status})")
        # Rejected, then older than the history kept: the purge takes the bundle with it.
        out = subprocess.run([self.server_bin, "--data-dir", data, "request", "reject", rid,
                              "--reason", "wine test"], capture_output=True, text=True)
        check(out.returncode == 0, f"helpdesk: rejected ({out.stderr.strip()})")
        with sqlite3.connect(os.path.join(data, "apm.db"), timeout=10) as db:
            db.execute("UPDATE requests SET finished_at = 1 WHERE id = ?", (rid,))

        def purged():
            with sqlite3.connect(os.path.join(data, "apm.db"), timeout=10) as db:
                return db.execute("SELECT count(*) FROM request_diagnostics").fetchone()[0] == 0
        wait_until(purged, 15, "the purge of the rejected request")
        status, _, _ = approver.send(server.url + link)
        check(status == 404, f"helpdesk: the bundle went with its request ({status})")
        server.stop()
        self.services.remove(server)

    def start_xvfb(self):
        for display in range(90, 110):
            if not os.path.exists(f"/tmp/.X11-unix/X{display}") and \
                    not os.path.exists(f"/tmp/.X{display}-lock"):
                break
        self.display = f":{display}"
        self.xvfb = subprocess.Popen(["Xvfb", self.display, "-screen", "0", "1600x1200x24",
                                      "-nolisten", "tcp"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_until(lambda: os.path.exists(f"/tmp/.X11-unix/X{display}"), 10, "Xvfb")

    def screenshot(self, name):
        path = os.path.join(self.artifacts, f"{name}.png")
        subprocess.run(["import", "-display", self.display, "-window", "root", path], check=True)
        return path

    def use_japanese_ui_font(self):
        """What a Japanese Windows has: a title-bar font with Japanese glyphs (Wine's is Tahoma,
        which has none). The caption font is a LOGFONTW in the registry."""
        logfont = struct.pack("<5l8B", -11, 0, 0, 0, 700, 0, 0, 0, 128, 0, 0, 0, 0)
        logfont += "IPAGothic".encode("utf-16-le").ljust(64, b"\0")
        self.registry([(r"HKCU\Control Panel\Desktop\WindowMetrics", "CaptionFont",
                        "REG_BINARY", logfont.hex())])

    def set_dpi(self, dpi):
        """The DPI Windows' display settings give (Wine reads it at the next start)."""
        self.registry([(r"HKCU\Control Panel\Desktop", "LogPixels", "REG_DWORD", str(dpi))])

    def registry(self, entries):
        """Sets (key, value, type, data) entries in the prefix's registry; data None deletes."""
        for key, value, kind, data in entries:
            command = (["wine", "reg", "delete", key, "/v", value, "/f"] if data is None else
                       ["wine", "reg", "add", key, "/v", value, "/t", kind, "/d", data, "/f"])
            subprocess.run(command, env=self.wine_env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        subprocess.run(["wineserver", "-w"], env=self.wine_env)

    def walk_window(self, what):
        """The window's children as an automation client (a screen reader) gets them:
        (role, window class, name) each."""
        out = subprocess.run(["wine", "explorer", DESKTOP, self.probe],
                             env=dict(self.wine_env, DISPLAY=self.display),
                             capture_output=True, timeout=60)
        text = out.stdout.decode("utf-8", "replace")
        with open(os.path.join(self.artifacts, f"{what}-accessible.txt"), "w") as f:
            f.write(text + out.stderr.decode("utf-8", "replace"))
        return [tuple(line.split("\t", 3)[1:]) for line in text.splitlines()
                if line.startswith("child\t") and line.count("\t") >= 3]

    def collect_from_red_screen(self, name, request):
        """The red screen's Collect diagnostics button, pressed as a click does: the bundle
        reaches the failed request on the server, and the window says so."""
        pressed = subprocess.run(["wine", "explorer", DESKTOP, self.probe, "--press",
                                  "Collect diagnostics"],
                                 env=dict(self.wine_env, DISPLAY=self.display),
                                 capture_output=True, timeout=60)
        if not check(b"pressed" in pressed.stdout, f"{name}: the Collect diagnostics button is "
                     f"there to press ({pressed.stderr.decode('utf-8', 'replace').strip()})"):
            return

        def bundles():
            with sqlite3.connect(os.path.join(self.data, "apm.db"), timeout=10) as db:
                return db.execute("SELECT count(*) FROM request_diagnostics WHERE request_id = ?",
                                  (request["id"],)).fetchone()[0]
        said = f"The diagnostics were sent to your helpdesk with request {request['id']}."

        def window_says():
            return said in [n for _, _, n in self.walk_window(f"{name}-diagnostics")]
        for _ in range(60):
            if bundles() and window_says():
                break
            time.sleep(1)
        check(bundles() == 1, f"{name}: the bundle reached request {request['id']} on the server")
        check(window_says(), f"{name}: the red screen says '{said}'")
        self.screenshot(f"{name}-diagnostics")

    def gui_run(self, name, finish, language=None, dpi=96, locale=None, args=(),
                announce=None, env_extra=None, background=None, then=None):
        """Runs the GUI client; `finish(request)` ends the request. With `language`, each
        screen must be in it, at `dpi`, with no text cut off and no glyph missing. `locale`
        is the Unix locale Wine takes the user's UI language from. With `announce` (the outcome's
        words), a screen reader's view of each screen is checked, and that announcement.
        `background`: the colour expected instead of the tone's (High Contrast). `then(name,
        request)` runs last, on the outcome's screen."""
        body, path = self.device(name)
        snap = os.path.join(self.tmp, f"{name}.bmp")
        env = dict(self.wine_env, DISPLAY=self.display, AP_UI_SNAPSHOT=self.win_path(snap),
                   **(env_extra or {}))
        if locale:
            env.update(LANG=locale, LC_ALL=locale)
        if dpi != 96:
            self.set_dpi(dpi)
        proc = subprocess.Popen(["wine", "explorer", DESKTOP, self.exe_run, *args] +
                                self.ap_args(name, path), env=env,
                                stdout=open(os.path.join(self.tmp, f"{name}.out"), "w"),
                                stderr=subprocess.STDOUT)

        def snapshot_with(tone):
            try:
                with open(snap + ".json") as f:
                    info = json.load(f)
            except (OSError, ValueError):
                return None
            return info if info.get("tone") == tone and os.path.exists(snap) else None
        try:
            info = wait_until(lambda: (lambda i: i if i and i.get("qr_size") else None)(
                snapshot_with("working")), 60, f"{name}: the window waiting for approval")
            time.sleep(0.5)  # let the desktop finish drawing before the root screenshot
            shot = self.screenshot(f"{name}-waiting")
            shutil.copy(snap, os.path.join(self.artifacts, f"{name}-waiting.bmp"))
            request = self.open_request(body)
            self.check_screen(snap, info, background or WORKING, f"{name} waiting",
                              request["qr"]["rows"])
            self.check_words(info, language, dpi, f"{name} waiting")
            on_screen = count_colour_in_png(shot, background or WORKING)
            check(on_screen > 100_000,
                  f"{name} waiting: the screenshot shows the window in its colour")
            # What is on the screen is what the window painted: the screen reader's overlay
            # controls stay out of sight (no button covers anything on this screen).
            painted = count_colour_in_bmp(snap, background or WORKING)
            check(on_screen >= 0.98 * painted, f"{name} waiting: nothing covers the painting "
                  f"({on_screen} of {painted} background pixels on the screen)")
            events = None
            if announce:
                self.check_reader_waiting(name, request)
                events = subprocess.Popen(["wine", "explorer", DESKTOP, self.probe, "--events",
                                           "60", "--until", announce],
                                          env=dict(self.wine_env, DISPLAY=self.display),
                                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
                time.sleep(2)  # the probe hooks the window's events before the outcome
            tone = finish(request["id"])
            colour = background or (SUCCESS if tone == "success" else FAILURE)
            info = wait_until(lambda: snapshot_with(tone), 60, f"{name}: the {tone} screen")
            time.sleep(0.5)
            shot = self.screenshot(f"{name}-{tone}")
            shutil.copy(snap, os.path.join(self.artifacts, f"{name}-{tone}.bmp"))
            self.check_screen(snap, info, colour, f"{name} {tone}", None)
            self.check_words(info, language, dpi, f"{name} {tone}")
            check(count_colour_in_png(shot, colour) > 100_000,
                  f"{name} {tone}: the screenshot shows the window in its colour")
            if events:
                self.check_reader_outcome(name, tone, events, announce)
            if then:
                then(name, request)
            return info
        finally:
            proc.kill()
            subprocess.run(["wineserver", "-k"], env=self.wine_env)
            proc.wait()
            if dpi != 96:
                self.set_dpi(96)

    def check_reader_waiting(self, name, request):
        """While waiting: the step, the request id, the QR code by its description."""
        children = wait_until(lambda: (lambda c: c if len(c) >= 6 else None)(
            self.walk_window(f"{name}-waiting")), 30, f"{name}: the window's accessible texts")
        names = [n for _, _, n in children]
        log(f"{name} waiting, as a screen reader gets it: {children}")
        check("Waiting for approval" in names, f"{name} waiting: the step has a name")
        check(f"Request id: {request['id']}" in names, f"{name} waiting: the request id")
        qr = [n for n in names if n.startswith("QR code to approve this device")]
        check(len(qr) == 1 and request["approvalUrl"] in qr[0],
              f"{name} waiting: the QR code's description holds its link ({qr})")
        # A real Static control: Windows reads it as "text" (Wine's MSAA says "client").
        check([(c, r in ("text", "client")) for r, c, n in children
               if n == "Waiting for approval"] == [("Static", True)],
              f"{name} waiting: the step is a text control")

    def check_reader_outcome(self, name, tone, events, headline):
        """The outcome is announced (a live region), and each button is found by name."""
        out, _ = events.communicate(timeout=60)
        lines = out.decode("utf-8", "replace").splitlines()
        with open(os.path.join(self.artifacts, f"{name}-events.txt"), "w") as f:
            f.write("\n".join(lines))
        check(f"event\tlive\t{headline}" in lines,
              f"{name} {tone}: '{headline}' is announced ({[l for l in lines if 'live' in l]})")
        buttons = [n for role, cls, n in self.walk_window(f"{name}-{tone}")
                   if cls == "Button" and role in ("push button", "client")]
        want = (["Restart now", "Close"] if tone == "success"
                else ["Retry", "Collect diagnostics", "Close"])
        check(buttons == want, f"{name} {tone}: the buttons {want} by name (found {buttons})")

    def check_words(self, info, language, dpi, what):
        """The window measured every text it drew against its box, every character against
        the font's glyphs and every word against its line (win32_paint.cc): nothing cut off,
        nothing drawn as a box, no word broken inside."""
        if language is None:
            return
        check(info.get("language") == language,
              f"{what}: in {language} (the window says {info.get('language')})")
        check(info.get("dpi") == dpi, f"{what}: at {dpi} DPI (the window says {info.get('dpi')})")
        check(info.get("clipped_texts") == 0,
              f"{what}: no text cut off ({info.get('clipped_texts')} did not fit)")
        check(info.get("missing_glyphs") == 0,
              f"{what}: every character has a glyph ({info.get('missing_glyphs')} missing)")
        check(info.get("broken_words") == 0,
              f"{what}: every word fits its line ({info.get('broken_words')} too wide)")

    def check_screen(self, bmp, info, background, what, qr_rows):
        width, height, pixel = read_bmp(bmp)
        check(width >= 640 and height >= 400, f"{what}: window {width}x{height}")
        corners = [pixel(2, 2), pixel(width - 3, 2), pixel(2, height - 3)]
        check(all(near(c, background, 0) for c in corners),
              f"{what}: background {background} (corners {corners})")
        if qr_rows is None:
            return
        size, m = info["qr_size"], info["module_px"]
        left, top = info["qr_left"], info["qr_top"]
        check(size == len(qr_rows) and m >= 2, f"{what}: QR {size} modules of {m} px")
        wrong = 0
        for r, row in enumerate(qr_rows):
            for c, bit in enumerate(row):
                # Every pixel of the module, not only its centre: crisp means no blending.
                for dx, dy in ((0, 0), (m - 1, 0), (0, m - 1), (m - 1, m - 1), (m // 2, m // 2)):
                    colour = pixel(left + c * m + dx, top + r * m + dy)
                    want = (0, 0, 0) if bit == "1" else (255, 255, 255)
                    wrong += not near(colour, want, 0)
        check(wrong == 0, f"{what}: every QR module where the matrix says ({wrong} wrong pixels)")
        quiet = [pixel(left - 4 * m + 1, top + r) for r in range(0, size * m, m)]
        check(all(near(q, (255, 255, 255), 0) for q in quiet), f"{what}: white quiet zone")

    def test_console_repair(self):
        """A repaired device (its serial registered with the old motherboard): ap.exe shows the
        removal of the old registration, then the import."""
        status, text = http("POST", self.sim.url + "/_sim/registrations", {
            "serialNumber": "DEMO-0002", "manufacturer": "LENOVO", "model": "21R3001BUK",
            "groupTag": "Kiosk", "managedDeviceName": "DESKTOP-OLDBOARD"})
        check(status == 201, f"the simulator holds DEMO-0002 from before ({status})")

        def wait_for_lookup(rid):
            def looked_up():
                out = subprocess.run([self.server_bin, "--data-dir", self.data, "request", "show",
                                      rid], capture_output=True, text=True).stdout
                return '"registration"' in out
            wait_until(looked_up, 30, "the server's lookup of DEMO-0002")
        rc, text, _ = self.console_run("console-repair", "repaired-request.json", wait_for_lookup,
                                       ["--re-register"])
        check(rc == 0, f"repair: console ap.exe exits 0 (got {rc})")
        removing = text.find("Removing the old registration")
        uploading = text.find("Uploading the device to Autopilot")
        check(0 <= removing < uploading, "repair: ap.exe shows the removal before the import")
        check("Your device is ready" in text, "repair: ap.exe reports the device ready")

    def test_accessibility(self, approve, reject):
        """A screen reader's view, then High Contrast (system colours), then larger text."""
        http("POST", self.sim.url + "/_sim/reset")
        self.gui_run("gui-screen-reader", approve, announce="Your device is ready")
        self.gui_run("gui-screen-reader-rejected", reject, announce="The request was rejected")
        colours = r"HKCU\Control Panel\Colors"
        self.registry([(colours, "Window", "REG_SZ", "0 0 0"),
                       (colours, "WindowText", "REG_SZ", "255 255 0")])
        try:
            info = self.gui_run("gui-high-contrast", reject,
                                env_extra={"AP_HIGH_CONTRAST": "1"}, background=(0, 0, 0))
            _, _, pixel = read_bmp(os.path.join(self.artifacts, "gui-high-contrast-failure.bmp"))
            yellow = sum(pixel(x, y) == (255, 255, 0)
                         for x in range(0, info["width"], 2) for y in range(0, info["height"], 2))
            check(info.get("high_contrast") and yellow > 200,
                  f"High Contrast: the system's colours, text in WindowText ({yellow} px)")
        finally:
            self.registry([(colours, "Window", "REG_SZ", "255 255 255"),
                           (colours, "WindowText", "REG_SZ", "0 0 0")])
        text_size = r"HKCU\Software\Microsoft\Accessibility"
        self.registry([(text_size, "TextScaleFactor", "REG_DWORD", "150")])
        try:
            info = self.gui_run("gui-text-150", reject, language="en")
            check(info.get("text_percent") == 150 and info.get("width") == 1200,
                  f"text size 150%: the window grew with its words ({info.get('width')} px)")
        finally:
            self.registry([(text_size, "TextScaleFactor", "REG_DWORD", None)])

    def run(self):
        try:
            self.start_services()
            self.test_binary()
            log("creating the Wine prefix")
            subprocess.run(["wineboot", "-i"], env=self.wine_env, timeout=180,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.test_help()
            self.test_signed_client()
            self.test_console_success()
            self.test_console_repair()
            self.test_diagnostics()
            self.test_diagnostics_to_helpdesk()
            http("POST", self.sim.url + "/_sim/reset")  # the same sample device imports again
            self.start_xvfb()

            def approve(rid):
                self.admin("request", "approve", rid)
                return "success"

            def reject(rid):
                self.admin("request", "reject", rid, "--reason", "wine test")
                return "failure"
            self.gui_run("gui-approved", approve)
            self.gui_run("gui-rejected", reject, then=self.collect_from_red_screen)
            # German from the user's locale (GetUserPreferredUILanguages), Japanese from
            # --language; both at 144 DPI, the long words and the CJK text.
            for language, extra in (("de", {"locale": "de_DE.UTF-8"}),
                                    ("ja", {"args": ("--language", "ja")})):
                if language == "ja":
                    self.use_japanese_ui_font()
                http("POST", self.sim.url + "/_sim/reset")  # DEMO-0001 imports once more
                self.gui_run(f"gui-{language}-144dpi-approved", approve, language, 144, **extra)
                self.gui_run(f"gui-{language}-144dpi-rejected", reject, language, 144, **extra)
            self.test_accessibility(approve, reject)
        except Exception as e:  # a broken step is a failure with its reason, not a traceback
            failures.append(f"{type(e).__name__}: {e}")
            log(f"FAILED: {type(e).__name__}: {e}")
            for name in ("server.log", "sim.log"):
                path = os.path.join(self.tmp, name)
                if os.path.exists(path):
                    shutil.copy(path, os.path.join(self.artifacts, name))
        finally:
            for s in self.services:
                s.stop()
            if self.xvfb:
                self.xvfb.send_signal(signal.SIGTERM)
                self.xvfb.wait()
            subprocess.run(["wineserver", "-k"], env=self.wine_env)
            shutil.rmtree(self.tmp, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--native-build", required=True)
    parser.add_argument("--exe", required=True)
    parser.add_argument("--artifacts", required=True)
    Test(parser.parse_args()).run()
    if failures:
        log(f"{len(failures)} check(s) failed: " + "; ".join(failures))
        sys.exit(1)
    log(f"all checks passed; screenshots in {parser.parse_args().artifacts}")


if __name__ == "__main__":
    main()
