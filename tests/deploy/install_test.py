#!/usr/bin/env python3
"""The package installs and serves on a fresh Debian 12, and the image built from it keeps its
data on a volume. Needs root, debootstrap, podman and runc (scripts/test installs them).

Usage: install_test.py DEB [--cache DIR]

1. A Debian 12 minbase root file system (debootstrap; cached as DIR/bookworm-minbase.tar for
   a week, so that repeated runs here skip the download; CI starts without it).
2. The VM path: `apt-get install ./apm-server_*.deb` in a copy of that root, then apm-server
   started there as the unit's User= with the packaged /etc/apm/apm.toml, in a network
   namespace of its own (the packaged Listen, port 8080, cannot clash with this machine's).
   Checked: /healthz, a submission, /ap.exe, and that the store belongs to that user.
3. The container: deploy/container/Dockerfile built by podman on an image of the same root,
   run non-root with a volume; a submission is still there after `podman restart`.
"""
import argparse
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tarfile
import tempfile
import time

import served_checks

ROOT = served_checks.ROOT
CACHE_DAYS = 7
IMAGE = "localhost/apm-server:install-test"
BASE_IMAGE = "localhost/apm-install-test-base:bookworm"
# This machine's cgroups are v1 ("hybrid"), which crun refuses, and a container may not raise
# its limits above this process's: runc, with limits it may set.
PODMAN_RUN = ["--runtime", "runc", "--ulimit", "nofile=20000:20000", "--ulimit",
              "nproc=4096:4096"]


def log(message):
    print(f"install_test: {message}", flush=True)


def run(args, **kwargs):
    return subprocess.run(args, check=True, **kwargs)


def output(args):
    return run(args, capture_output=True, text=True).stdout.strip()


def root_is_open(tar):
    """Whether the root directory in `tar` is 0755 (an older test made one of 0700)."""
    with tarfile.open(tar) as t:
        for member in t:
            if member.name in (".", "./"):
                return member.mode & 0o755 == 0o755
    return False


def base_root_tar(cache):
    """A Debian 12 minbase root file system as a tar file, made by debootstrap or reused."""
    os.makedirs(cache, exist_ok=True)
    tar = os.path.join(cache, "bookworm-minbase.tar")
    if (os.path.exists(tar) and time.time() - os.path.getmtime(tar) < CACHE_DAYS * 86400
            and root_is_open(tar)):
        log(f"Debian 12 root file system: {tar} (cached)")
        return tar
    work = tempfile.mkdtemp(prefix="apm-debootstrap-", dir=cache)
    # debootstrap makes the root itself, 0755: mkdtemp's 0700 would become the root's mode,
    # and no user but root could run anything in it.
    root = os.path.join(work, "root")
    try:
        started = time.monotonic()
        run(["debootstrap", "--variant=minbase", "bookworm", root, "http://deb.debian.org/debian"],
            stdout=subprocess.DEVNULL)
        run(["tar", "-C", root, "-cf", tar + ".part", "."])
        os.replace(tar + ".part", tar)
        log(f"Debian 12 root file system: debootstrap in {time.monotonic() - started:.0f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return tar


def first_match(root, path, pattern, what):
    """The first group of `pattern` in the installed file `path`, or CheckFailed naming `what`."""
    with open(os.path.join(root, path)) as f:
        m = re.search(pattern, f.read(), re.M)
    if not m:
        raise served_checks.CheckFailed(f"/{path} sets no {what}")
    return m.group(1)


def install_into_root(tar, deb, root):
    os.makedirs(root)
    run(["tar", "-C", root, "-xf", tar])
    shutil.copy(deb, os.path.join(root, "tmp", "apm-server.deb"))
    # apt in the root needs /proc; a mount namespace keeps that mount out of this machine's.
    script = (f"mount -t proc proc {root}/proc && chroot {root} sh -c 'apt-get update -q && "
              "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "
              "/tmp/apm-server.deb'")
    started = time.monotonic()
    result = subprocess.run(["unshare", "--mount", "--pid", "--fork", "sh", "-c", script],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise served_checks.CheckFailed("apt-get install in the fresh root failed:\n" +
                                        result.stdout[-3000:] + result.stderr[-3000:])
    # The maintainer scripts are quiet when all is well (debconf's note on a minimal system
    # without apt-utils is not ours).
    warnings = [line for line in (result.stdout + result.stderr).splitlines()
                if "warning" in line.lower() and not line.startswith("debconf:")]
    if warnings:
        raise served_checks.CheckFailed("the installation warned:\n" + "\n".join(warnings))
    # ASVS 2.10: the file the admin puts the Graph secret in is root's alone.
    secrets = os.stat(os.path.join(root, "etc/apm/apm.env"))
    if stat.S_IMODE(secrets.st_mode) != 0o600 or secrets.st_uid != 0:
        raise served_checks.CheckFailed(
            f"/etc/apm/apm.env is mode {oct(stat.S_IMODE(secrets.st_mode))} of uid "
            f"{secrets.st_uid}; it holds the secrets and must be 0600 root")
    log(f"installed into a fresh Debian 12 root in {time.monotonic() - started:.0f} s "
        "(dependencies from Debian's archive); /etc/apm/apm.env is 0600 root")


def serve_in_root(root):
    """Runs in a namespace of its own (see main): the installed server, as the unit runs it."""
    run(["ip", "link", "set", "lo", "up"])
    run(["mount", "-t", "proc", "proc", os.path.join(root, "proc")])
    user = first_match(root, "lib/systemd/system/apm-server.service", r"^User=(\S+)$", "User=")
    listen = first_match(root, "etc/apm/apm.toml", r'^Listen\s*=\s*"([^"]+)"', "Listen")
    url = "http://" + listen
    log_path = os.path.join(root, "tmp", "apm-server.log")
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}  # nothing of this machine's APM_* leaks in
    with open(log_path, "w") as log_file:
        server = subprocess.Popen(["chroot", f"--userspec={user}:{user}", root,
                                   "/usr/bin/apm-server", "--config", "/etc/apm/apm.toml"],
                                  stdout=log_file, stderr=subprocess.STDOUT, env=env)
    try:
        served_checks.wait_until_serving(url, alive=lambda: server.poll() is None)
        created = served_checks.submit_sample(url)
        with open(os.path.join(root, "usr/share/apm/clients/ap.exe"), "rb") as f:
            size = served_checks.served_ap_exe(url, f.read())
        uid = int(output(["chroot", root, "id", "-u", user]))
        store = os.path.join(root, "var/lib/apm/apm.db")
        if os.stat(store).st_uid != uid:
            raise served_checks.CheckFailed(f"{store} does not belong to {user}")
        log(f"the installed server ran as {user} (uid {uid}) with /etc/apm/apm.toml on "
            f"{listen}: /healthz, a submission ({created['id']}), /ap.exe ({size} bytes)")
    except served_checks.CheckFailed:
        with open(log_path) as f:
            sys.stderr.write(f.read())
        raise
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(15)


def packaged_file(deb, path):
    tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", deb], check=True, capture_output=True)
    return subprocess.run(["tar", "-xO", path], input=tar.stdout, check=True,
                          capture_output=True).stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def podman(*args, check=True, capture=True):
    return subprocess.run(["podman", *args], check=check, capture_output=capture, text=True)


def test_container(tar, deb, work):
    started = time.monotonic()
    with open(tar, "rb") as f:
        run(["podman", "import", "-", BASE_IMAGE], stdin=f, capture_output=True)
    context = os.path.join(work, "context")
    os.makedirs(context)
    for name in ("Dockerfile", "install-package.sh"):
        shutil.copy(os.path.join(ROOT, "deploy", "container", name), context)
    shutil.copy(deb, context)
    build = podman("build", *PODMAN_RUN[:2], "--network", "host", "--format", "docker",
                   "--build-arg", f"BASE={BASE_IMAGE}", "-t", IMAGE, context, check=False)
    if build.returncode != 0:
        raise served_checks.CheckFailed("podman build failed:\n" + build.stdout + build.stderr)
    log(f"image built from deploy/container/Dockerfile in {time.monotonic() - started:.0f} s")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    volume = "apm-install-test-data"
    podman("volume", "rm", "-f", volume, check=False)
    podman("volume", "create", volume)
    # The health check is run by hand below: its timer needs systemd, which is not here.
    podman("run", "-d", "--name", "apm-install-test", *PODMAN_RUN, "--health-interval", "disable",
           "-v", f"{volume}:/var/lib/apm", "-p", f"127.0.0.1:{port}:8080", IMAGE)
    served_checks.wait_until_serving(url)
    if podman("healthcheck", "run", "apm-install-test", check=False).returncode != 0:
        raise served_checks.CheckFailed("the image's HEALTHCHECK failed on a serving server")
    uid = podman("exec", "apm-install-test", "id", "-u").stdout.strip()
    if uid != "999":
        raise served_checks.CheckFailed(f"the container runs as uid {uid}, not 999 (apm)")
    # Graph and Entra are https: the image must trust the public certificate authorities.
    if podman("exec", "apm-install-test", "test", "-s", "/etc/ssl/certs/ca-certificates.crt",
              check=False).returncode != 0:
        raise served_checks.CheckFailed("the image has no CA certificates")
    created = served_checks.submit_sample(url)
    size = served_checks.served_ap_exe(url, packaged_file(deb, "./usr/share/apm/clients/ap.exe"))
    podman("restart", "apm-install-test")
    served_checks.wait_until_serving(url)
    again = served_checks.stored_request(url, created["id"])
    if again.get("serialNumber") != created.get("serialNumber"):
        raise served_checks.CheckFailed(f"after the restart the request differs: {again}")
    log(f"the container ran as uid {uid}, served /ap.exe ({size} bytes), and request "
        f"{created['id']} on its volume survived `podman restart`")


def remove_container_leftovers():
    podman("rm", "-f", "apm-install-test", check=False)
    podman("volume", "rm", "-f", "apm-install-test-data", check=False)
    podman("rmi", "-f", IMAGE, BASE_IMAGE, check=False)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("deb")
    parser.add_argument("--cache", default=os.path.join(ROOT, "build", "deploy-cache"))
    parser.add_argument("--serve-in", help=argparse.SUPPRESS)  # the namespaced half of step 2
    args = parser.parse_args()
    try:
        if args.serve_in:
            serve_in_root(args.serve_in)
            return
        deb = os.path.abspath(args.deb)
        tar = base_root_tar(args.cache)
        work = tempfile.mkdtemp(prefix="apm-install-")
        try:
            root = os.path.join(work, "root")
            install_into_root(tar, deb, root)
            # A network, mount and process namespace: port 8080 and /proc stay private.
            run(["unshare", "--net", "--mount", "--pid", "--fork", sys.executable,
                 os.path.abspath(__file__), deb, "--serve-in", root])
            try:
                test_container(tar, deb, work)
            finally:
                remove_container_leftovers()
        finally:
            shutil.rmtree(work, ignore_errors=True)
    except served_checks.CheckFailed as e:
        sys.exit(f"install_test: {e}")
    except subprocess.CalledProcessError as e:
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else e.stderr
        sys.exit(f"install_test: {' '.join(map(str, e.cmd))} failed ({e.returncode}): "
                 f"{(err or '')[-2000:]}")


if __name__ == "__main__":
    main()
