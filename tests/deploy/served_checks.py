"""What every deployed apm-server must do, checked over HTTP: shared by the package, root file
system and container tests (tests/deploy/*_test.py)."""
import json
import os
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


class CheckFailed(Exception):
    pass


def wait_until_serving(url, seconds=30, alive=lambda: True):
    """Polls /healthz until it answers 200; `alive` says whether waiting still makes sense."""
    end = time.monotonic() + seconds
    last = "no answer"
    while time.monotonic() < end and alive():
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=5) as r:
                if r.status == 200:
                    return
                last = f"status {r.status}"
        except (urllib.error.URLError, ConnectionError, OSError) as e:
            last = str(e)
        time.sleep(0.2)
    raise CheckFailed(f"{url}/healthz did not answer 200: {last}")


def submit_sample(url):
    """Submits docs/examples/sample-request.json; returns the stored request."""
    with open(os.path.join(ROOT, "docs", "examples", "sample-request.json"), "rb") as f:
        body = f.read()
    req = urllib.request.Request(url + "/api/v1/requests", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            created = json.load(r)
            if r.status != 201 or created.get("state") != "pending_approval":
                raise CheckFailed(f"the submission was answered {r.status}: {created}")
    except urllib.error.HTTPError as e:
        raise CheckFailed(f"the submission was answered {e.code}: {e.read()[:500]!r}") from e
    return created


def stored_request(url, request_id):
    """The request as the server has it now, or CheckFailed."""
    try:
        with urllib.request.urlopen(f"{url}/api/v1/requests/{request_id}", timeout=10) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        raise CheckFailed(f"request {request_id} is not there: {e.code}") from e


def served_ap_exe(url, packaged_ap_exe):
    """Checks that /ap.exe is the packaged client; returns its size."""
    try:
        with urllib.request.urlopen(url + "/ap.exe", timeout=10) as r:
            served = r.read()
    except urllib.error.HTTPError as e:
        raise CheckFailed(f"/ap.exe was answered {e.code}") from e
    if served != packaged_ap_exe or not served.startswith(b"MZ"):
        raise CheckFailed("/ap.exe is not the packaged ap.exe")
    return len(served)
