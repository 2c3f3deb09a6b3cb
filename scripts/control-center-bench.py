#!/usr/bin/env python3
# Benchmark (not a test) of the Control Center's CR list in headless Chromium: see
# docs/control-center.md ("Benchmark") for the setup (ork dev with 1000 CRs, ork control).
# Usage: scripts/control-center-bench.py http://127.0.0.1:18090 18555   (UI URL, a free port
# for chromedriver). Needs chromium and chromium-driver; stdlib only.
"""Time for the Control Center's CR list of 1000 CRs to be usable in headless Chromium
(navigation start to the table holding every row), over WebDriver with the stdlib only."""
import json, subprocess, sys, time, urllib.request

cc, port = sys.argv[1], int(sys.argv[2])
driver = subprocess.Popen(["chromedriver", f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
base = f"http://127.0.0.1:{port}"

def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=120))

for _ in range(100):
    try:
        call("GET", "/status"); break
    except Exception:
        time.sleep(0.1)
try:
    caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {"args": [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,800"]}}}}
    session = call("POST", "/session", caps)["value"]["sessionId"]
    s = f"/session/{session}"
    results = []
    for run in range(5):
        call("POST", s + "/url", {"url": "about:blank"})
        call("POST", s + "/url", {"url": f"{cc}/#/k/bench/crd/item"})
        # performance.now() is measured from this navigation's start.
        script = """
const done = arguments[0];
const t = () => { const rows = document.querySelectorAll('#cr-table tbody tr').length;
  if (rows >= 1000) done(performance.now()); else setTimeout(t, 5); };
t();"""
        call("POST", s + "/timeouts", {"script": 60000})
        ms = call("POST", s + "/execute/async", {"script": script, "args": []})["value"]
        # Then a filter keystroke: time to re-render the filtered table.
        filt = """
const done = arguments[0]; const input = document.getElementById('cr-filter');
const t0 = performance.now(); input.value = 'item-09'; input.dispatchEvent(new Event('input'));
requestAnimationFrame(() => done([performance.now() - t0, document.querySelectorAll('#cr-table tbody tr').length]));"""
        f = call("POST", s + "/execute/async", {"script": filt, "args": []})["value"]
        results.append((ms, f[0], f[1]))
        print(f"run {run}: list usable after {ms:.0f} ms; filter to {f[1]} rows in {f[0]:.1f} ms")
    call("DELETE", s)
finally:
    driver.terminate()
