"""tls_probe at fleet scale (issue 7): 1000 endpoints, a third hang, a third refuse, a third answer.

The servers run in their own process (tests/lab/serve_lab.py, on 127.0.0.1), so the descriptors and threads
counted here are the probe's own. The bound: with concurrency C, N endpoints run in ceil(N / C) waves, and no wave
can last longer than the per-endpoint timeout, so everything is answered within waves x timeout (plus the time of
the answers themselves, which is small next to a timeout).
"""

from __future__ import annotations

import gc
import json
import math
import os
import subprocess
import sys
import threading
import time
import warnings

import pki
import pytest

from ansible_collections.apexone.certificates.plugins.module_utils import _tls_probe as tp
from ansible_collections.apexone.certificates.plugins.module_utils._x509 import thumbprint

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SERVE_LAB = os.path.join(REPO, "tests", "lab", "serve_lab.py")
NAME = "apex-scale.lab.example"
ENDPOINTS = 1000
CONCURRENCY = 250
TIMEOUT = 1.5


@pytest.fixture(scope="module")
def servers(lab_pki, tmp_path_factory):
    folder = tmp_path_factory.mktemp("scale-servers")
    key = pki.rsa_key(2048, slot=960)
    _key, cert = lab_pki.server(NAME, key=key)
    (folder / "cert.pem").write_text(pki.pem(cert) + lab_pki.intermediate.pem + lab_pki.root.pem)
    (folder / "key.pem").write_text(pki.key_pem(key))
    spec = [{"name": "good", "kind": "tls", "cert": str(folder / "cert.pem"), "key": str(folder / "key.pem")},
            {"name": "silent", "kind": "silent"}, {"name": "closed", "kind": "closed"}]
    (folder / "spec.json").write_text(json.dumps(spec))
    proc = subprocess.Popen([sys.executable, SERVE_LAB, "--spec", str(folder / "spec.json"), "--lifetime", "120"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        yield {"ports": json.loads(proc.stdout.readline()), "thumbprint": thumbprint(cert), "ca": lab_pki.root.pem}
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.slow
def test_1000_endpoints_a_third_hang_a_third_refuse_a_third_answer(servers, monkeypatch):
    ports = servers["ports"]
    kinds = ["silent", "closed", "good"]
    endpoints = [{"host": "127.0.0.1", "port": ports[kinds[i % 3]], "server_name": NAME, "label": f"{kinds[i % 3]}-{i}"}
                 for i in range(ENDPOINTS)]
    targets = tp.parse_endpoints(endpoints)
    ca = tp.load_ca(servers["ca"])
    tp.probe_endpoints(targets[:3], timeout=TIMEOUT, ca=ca)  # warm up: lazy imports, OpenSSL tables

    # Count the probes in flight, to show the limit is reached and never passed.
    in_flight, peak, lock = [0], [0], threading.Lock()
    real_probe_one = tp.probe_one

    def counting_probe_one(*args, **kwargs):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        try:
            return real_probe_one(*args, **kwargs)
        finally:
            with lock:
                in_flight[0] -= 1

    monkeypatch.setattr(tp, "probe_one", counting_probe_one)
    gc.collect()
    fds_before, threads_before = open_fds(), threading.active_count()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)  # "unclosed <socket>": a socket left to the collector
        started = time.monotonic()
        results = tp.probe_endpoints(targets, timeout=TIMEOUT, concurrency=CONCURRENCY, ca=ca)
        elapsed = time.monotonic() - started
        gc.collect()

    waves = math.ceil(ENDPOINTS / min(CONCURRENCY, tp.MAX_CONCURRENCY))
    assert elapsed <= waves * TIMEOUT + 3.0, f"{elapsed:.1f} s for {waves} waves of at most {TIMEOUT} s"
    assert elapsed >= TIMEOUT  # the hanging third did hang until the timeout
    assert CONCURRENCY // 2 <= peak[0] <= CONCURRENCY, peak[0]  # in parallel, never past the limit
    assert [r["label"] for r in results] == [e["label"] for e in endpoints]  # every endpoint, in order
    by_kind = {kind: [r for r in results if r["label"].startswith(kind)] for kind in kinds}
    assert {r["error_code"] for r in by_kind["silent"]} == {"timeout"}
    assert all(r["elapsed_ms"] <= TIMEOUT * 1000 + 500 for r in by_kind["silent"])
    assert {r["error_code"] for r in by_kind["closed"]} == {"refused"}
    assert all(r["ok"] and r["thumbprint"] == servers["thumbprint"] and r["chain_valid"] for r in by_kind["good"])
    assert sum(len(v) for v in by_kind.values()) == ENDPOINTS
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert open_fds() == fds_before
    assert threading.active_count() == threads_before
