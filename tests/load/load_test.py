#!/usr/bin/env python3
"""Load and abuse against a real apm-server (issue 18): many long-polls, slow clients, and a
flood of submissions from one address. Prints one line per check and a summary; exit 1 when a
check fails. Run by scripts/load, which builds the server first.

  long-polls  N clients (default 5,000, from 25 loopback addresses) hold ?wait=60 long-polls
              for 60 s: every one ends 304, none fails, and /healthz answers in < 100 ms
              throughout.
  slowloris   1,000 clients send their headers a byte a second: a normal client's requests
              take at most 100 ms longer than without them.
  flood       1,000,000 submissions from one address: each is answered (the first few 400, the
              rest 429 with Retry-After), and the server's RSS afterwards is within 10 MiB of
              what it was after the first 20,000.
"""
import argparse
import asyncio
import json
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SAMPLE = os.path.join(ROOT, "docs", "examples", "sample-request.json")
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def start_server(binary, tmp):
    config = os.path.join(tmp, "apm.toml")
    with open(config, "w") as f:
        f.write(f'DataDir = "{tmp}/data"\nAccessLog = false\n')
    log_path = os.path.join(tmp, "server.log")
    log = open(log_path, "w")
    proc = subprocess.Popen([binary, "--config", config, "--listen", "127.0.0.1:0"], stdout=log,
                            stderr=subprocess.STDOUT)
    end = time.time() + 20
    while time.time() < end:
        with open(log_path) as f:
            m = re.search(r"listening address=127\.0\.0\.1:(\d+)\D", f.read())
        if m:
            return proc, int(m.group(1)), log_path
        time.sleep(0.1)
    proc.kill()
    sys.exit("apm-server did not start: " + open(log_path).read())


def exchange(port, raw, source="127.0.0.1", timeout=10):
    """One request on a new connection; (status line, headers+body text, seconds)."""
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                  source_address=(source, 0)) as s:
        s.sendall(raw)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            m = re.search(rb"content-length: *(\d+)", head, re.I)
            if sep and m and len(body) >= int(m.group(1)):
                break
    return data.decode("latin-1"), time.perf_counter() - t0


def get(port, path, source="127.0.0.1", extra=""):
    return exchange(port, f"GET {path} HTTP/1.1\r\nHost: load\r\n{extra}\r\n".encode(), source)


def healthz_ms(port):
    text, took = get(port, "/healthz")
    return took * 1000 if text.startswith("HTTP/1.1 200") else float("inf")


# --- long-polls -------------------------------------------------------------------------------

async def one_poll(port, source, path, etag, results):
    t0 = time.monotonic()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
        writer.write(f"GET {path} HTTP/1.1\r\nHost: load\r\nIf-None-Match: {etag}\r\n"
                     f"Connection: close\r\n\r\n".encode())
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), timeout=90)
        writer.close()
        results.append((data.split(b"\r\n", 1)[0].decode("latin-1"), time.monotonic() - t0))
    except Exception as e:  # noqa: BLE001 - every failure is counted and reported
        results.append((f"error: {type(e).__name__}: {e}", time.monotonic() - t0))


def submit_sample(port):
    """Submits docs/examples/sample-request.json; its request's id and ETag."""
    with open(SAMPLE, "rb") as f:
        body = f.read()
    created, _ = exchange(port, b"POST /api/v1/requests HTTP/1.1\r\nHost: load\r\n"
                          b"Content-Type: application/json\r\nContent-Length: "
                          + str(len(body)).encode() + b"\r\n\r\n" + body)
    return (re.search(r'"id":"([^"]+)"', created).group(1),
            re.search(r"(?i)etag: *(\S+)", created).group(1))


async def long_polls(port, count, wait_s):
    rid, etag = submit_sample(port)
    path = f"/api/v1/requests/{rid}?wait={wait_s}"
    results = []
    # 200 clients per loopback address: under MaxConnectionsPerAddress (256).
    tasks = []
    for i in range(count):
        source = f"127.0.0.{2 + i // 200}"
        tasks.append(asyncio.create_task(one_poll(port, source, path, etag, results)))
        if i % 500 == 499:
            await asyncio.sleep(0.05)
    probes = []
    start = time.time()
    while len(results) < count and time.time() - start < wait_s + 30:
        probes.append(await asyncio.to_thread(healthz_ms, port))
        await asyncio.sleep(0.2)
    await asyncio.gather(*tasks)
    return results, probes, time.time() - start


# --- slowloris --------------------------------------------------------------------------------

async def slow_client(port, source, stop, held):
    """Sends a header a byte a second; counts itself in `held` if still connected at the end."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
        writer.write(b"GET / HTTP/1.1\r\nHost: load\r\nX-Slow: ")
        while not stop.is_set():
            await asyncio.sleep(1)
            if reader.at_eof():
                return
            writer.write(b"a")
            await writer.drain()
        held.append(1)
        writer.close()
    except Exception:  # noqa: BLE001 - the server may close slow clients: that is its defence
        pass


def normal_client_ms(port, rid, n):
    times = []
    for _ in range(n):
        for path in ("/healthz", f"/api/v1/requests/{rid}"):
            text, took = get(port, path, source="127.0.0.99")
            times.append(took * 1000 if text.startswith("HTTP/1.1 200") else float("inf"))
    return times


async def slowloris(port, count, seconds):
    rid, _ = submit_sample(port)
    baseline = await asyncio.to_thread(normal_client_ms, port, rid, 100)
    stop, held = asyncio.Event(), []
    tasks = [asyncio.create_task(slow_client(port, f"127.0.1.{1 + i // 250}", stop, held))
             for i in range(count)]
    await asyncio.sleep(3)
    under = []
    end = time.time() + seconds
    while time.time() < end:
        under += await asyncio.to_thread(normal_client_ms, port, rid, 10)
    stop.set()
    await asyncio.gather(*tasks)
    return baseline, under, len(held)


# --- flood ------------------------------------------------------------------------------------

FLOOD_BODY = b'{"serialNumber":"FLOOD"}'
FLOOD_REQUEST = (b"POST /api/v1/requests HTTP/1.1\r\nHost: load\r\nContent-Type: application/json"
                 b"\r\nContent-Length: " + str(len(FLOOD_BODY)).encode() + b"\r\n\r\n" + FLOOD_BODY)


def flood_connection(port, total, batch, counts, lock):
    """Pipelines `total` submissions in batches; tallies the status codes answered."""
    s = socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.200", 0))
    s.settimeout(30)
    sent, local, buf = 0, {}, bytearray()
    while sent < total:
        n = min(batch, total - sent)
        s.sendall(FLOOD_REQUEST * n)
        sent += n
        seen = 0
        while seen < n:
            chunk = s.recv(1 << 20)
            if not chunk:
                raise RuntimeError("the server closed a flooding connection")
            buf += chunk
            while True:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    break
                head = bytes(buf[:end]).lower()
                m = re.search(rb"\r\ncontent-length: *(\d+)", head)
                size = end + 4 + (int(m.group(1)) if m else 0)
                if len(buf) < size:
                    break
                code = head[9:12].decode()
                local[code] = local.get(code, 0) + 1
                if code == "429" and b"\r\nretry-after: " not in head:
                    local["429 without Retry-After"] = local.get("429 without Retry-After", 0) + 1
                del buf[:size]
                seen += 1
    s.close()
    with lock:
        for k, v in local.items():
            counts[k] = counts.get(k, 0) + v


def flood(port, total, connections=4, batch=250):
    counts, lock = {}, threading.Lock()
    shares = [total // connections + (1 if i < total % connections else 0)
              for i in range(connections)]
    threads = [threading.Thread(target=flood_connection, args=(port, n, batch, counts, lock))
               for n in shares]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counts, time.time() - t0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--server", required=True)
    p.add_argument("--polls", type=int, default=5000)
    p.add_argument("--wait", type=int, default=60)
    p.add_argument("--slow", type=int, default=1000)
    p.add_argument("--flood", type=int, default=1_000_000)
    args = p.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = args.polls + args.slow + 200
    if hard != resource.RLIM_INFINITY and hard < need:
        sys.exit(f"the open-file limit is {hard}; this test needs {need}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, need), hard))

    tmp = tempfile.mkdtemp(prefix="apm-load-")
    server, port, log_path = start_server(args.server, tmp)
    try:
        print(f"apm-server pid {server.pid} on port {port}; its log: {log_path}", flush=True)
        idle_rss = rss_kib(server.pid)

        results, probes, took = asyncio.run(long_polls(port, args.polls, args.wait))
        held = [t for r, t in results if r.startswith("HTTP/1.1 304") and t >= args.wait - 1]
        errors = [r for r, t in results if not r.startswith("HTTP/1.1 304")]
        check(len(held) == args.polls,
              f"long-polls: {len(held)} of {args.polls} held for {args.wait} s, then 304 "
              f"(shortest hold {min(t for _, t in results):.1f} s; {len(errors)} other answers"
              f"{': ' + errors[0] if errors else ''}); {took:.0f} s")
        check(max(probes) < 100,
              f"long-polls: /healthz in {max(probes):.1f} ms at worst, "
              f"{statistics.median(probes):.1f} ms median, over {len(probes)} probes")
        print(f"     server RSS {idle_rss / 1024:.1f} MiB idle, "
              f"{rss_kib(server.pid) / 1024:.1f} MiB after the long-polls", flush=True)

        # 20 s: within IdleTimeoutSeconds (30), so every slow client is still there throughout.
        baseline, under, held = asyncio.run(slowloris(port, args.slow, 20))
        worst = max(under)
        limit = statistics.median(baseline) + 100
        check(held == args.slow and worst < limit,
              f"slowloris: {held} of {args.slow} slow clients held throughout; a normal client's requests took "
              f"{statistics.median(baseline):.1f} ms median alone, {statistics.median(under):.1f} "
              f"ms median and {worst:.1f} ms at worst beside them (limit {limit:.1f} ms)")

        warm, _ = flood(port, 20_000)
        before = rss_kib(server.pid)
        counts, took = flood(port, args.flood)
        after = rss_kib(server.pid)
        answered = sum(v for k, v in counts.items() if len(k) == 3)
        # The limiter refills a token a second (SubmitRatePerMinute = 60): that many get through
        # to validation (400), every other one is 429.
        let_through = counts.get("400", 0)
        check(answered == args.flood and counts.get("429", 0) + let_through == args.flood and
              let_through <= took + 2 and "429 without Retry-After" not in counts,
              f"flood: {answered:,} of {args.flood:,} submissions answered in {took:.0f} s "
              f"({args.flood / took:,.0f}/s): {counts}")
        check(after - before < 10 * 1024,
              f"flood: RSS {before / 1024:.1f} MiB before, {after / 1024:.1f} MiB after "
              f"({(after - before) / 1024:+.1f} MiB)")
        text, _ = get(port, "/healthz")
        check(text.startswith("HTTP/1.1 200"), "the server still answers after all of it")
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(("load test passed" if not failures else f"load test FAILED: {failures}"), flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
