"""tls_probe against real local TLS servers (tests/lab/serve_lab.py, run in a subprocess on 127.0.0.1).

The servers live in their own process, so the descriptor and thread counts taken here see only the probe's side.
"""

import gc
import json
import os
import socket
import subprocess
import sys
import threading
import time
import warnings

import pki
import pytest
import serve_lab

from ansible_collections.apexone.certificates.plugins.module_utils import _tls_probe as tp
from ansible_collections.apexone.certificates.plugins.module_utils._x509 import thumbprint

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MODULE = os.path.join(REPO, "plugins", "modules", "tls_probe.py")
SERVE_LAB = os.path.join(REPO, "tests", "lab", "serve_lab.py")
NAME = "apex-probe.lab.example"


def _write(folder, name, text):
    path = folder / name
    path.write_text(text)
    return str(path)


@pytest.fixture(scope="module")
def tls10():
    return serve_lab.tls10_supported()


@pytest.fixture(scope="module")
def servers(lab_pki, tmp_path_factory, tls10):
    """One server per case; yields {case: port} and the PEM of what each serves."""
    folder = tmp_path_factory.mktemp("probe-servers")
    key = pki.rsa_key(2048, slot=600)
    chain = pki.pem(lab_pki.intermediate.cert) + pki.pem(lab_pki.root.cert)
    _key, good = lab_pki.server(NAME, key=key)
    _key, expired = lab_pki.server(NAME, key=key, not_before=pki.NOW - 400 * pki.DAY, not_after=pki.NOW - 10 * pki.DAY)
    _key, wrong = lab_pki.server("apex-other.lab.example", key=key)
    _key, selfsigned = pki.make_cert(NAME, issuer=None, key=key)
    key_file = _write(folder, "key.pem", pki.key_pem(key))
    files = {
        "good": _write(folder, "good.pem", pki.pem(good) + chain),
        "expired": _write(folder, "expired.pem", pki.pem(expired) + chain),
        "wrong_name": _write(folder, "wrong.pem", pki.pem(wrong) + chain),
        "self_signed": _write(folder, "self.pem", pki.pem(selfsigned)),
        "no_intermediate": _write(folder, "leaf.pem", pki.pem(good)),
    }
    spec = [{"name": case, "kind": "tls", "cert": path, "key": key_file} for case, path in files.items()]
    if tls10:
        spec.append({"name": "tls10", "kind": "tls", "cert": files["good"], "key": key_file,
                     "tls_min": "TLSv1", "tls_max": "TLSv1"})
    spec += [{"name": "silent", "kind": "silent"}, {"name": "http", "kind": "http"}, {"name": "closed", "kind": "closed"}]
    spec_file = _write(folder, "spec.json", json.dumps(spec))
    proc = subprocess.Popen(
        [sys.executable, SERVE_LAB, "--spec", spec_file, "--lifetime", "300"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        ports = json.loads(proc.stdout.readline())
        yield {
            "ports": ports,
            "good": good,
            "chain": [lab_pki.intermediate.cert, lab_pki.root.cert],
            "ca": lab_pki.root.pem,
        }
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


def probe(servers, case, *, server_name=NAME, timeout=3.0, ca=True, **kwargs):
    targets = tp.parse_endpoints([{"host": "127.0.0.1", "port": servers["ports"][case], "server_name": server_name}])
    ca_certs = tp.load_ca(servers["ca"]) if ca else None
    (result,) = tp.probe_endpoints(targets, timeout=timeout, ca=ca_certs, **kwargs)
    return result


def codes(result):
    return [p["code"] for p in result["problems"]]


# ---------------------------------------------------------------------------------------------------------
# Verdicts on what the servers serve


def test_good_chain(servers):
    result = probe(servers, "good")
    assert result["ok"] is True, result
    assert result["error"] is None and result["error_code"] is None
    assert result["thumbprint"] == thumbprint(servers["good"])
    assert result["subject_cn"] == NAME
    assert result["san_dns"] == [NAME]
    assert result["chain_source"] == "served"
    assert result["chain_pem"] == [pki.pem(c) for c in servers["chain"]]  # as sent, in order
    assert result["certificate_pem"] == pki.pem(servers["good"])
    assert result["chain_valid"] is True and result["hostname_valid"] is True
    assert result["tls_version"] in ("TLSv1.2", "TLSv1.3")
    assert 360 <= result["days_left"] <= 366
    assert result["problems"] == []


def test_good_chain_without_ca_gives_no_chain_verdict(servers):
    result = probe(servers, "good", ca=False)
    assert result["ok"] is True
    assert result["chain_valid"] is None


def test_expired(servers):
    result = probe(servers, "expired")
    assert result["ok"] is False
    assert result["error"] is None  # it answered: a verdict, not an error
    assert codes(result) == ["expired"]
    assert result["days_left"] < 0


def test_wrong_name(servers):
    result = probe(servers, "wrong_name")
    assert result["ok"] is False
    assert result["hostname_valid"] is False
    assert result["chain_valid"] is True
    assert codes(result) == ["cn_mismatch", "hostname_not_in_san"]


def test_the_name_checked_is_the_server_name(servers):
    result = probe(servers, "wrong_name", server_name="apex-other.lab.example")
    assert result["ok"] is True
    assert result["server_name"] == "apex-other.lab.example"


def test_self_signed(servers):
    result = probe(servers, "self_signed")
    assert result["ok"] is False
    assert "self_signed" in codes(result)
    assert "chain_untrusted" in codes(result)
    assert result["chain_valid"] is False
    assert result["chain_pem"] == []


def test_missing_intermediate(servers):
    result = probe(servers, "no_intermediate")
    assert result["ok"] is False
    assert codes(result) == ["chain_incomplete"]
    assert result["chain_valid"] is False
    assert result["chain_pem"] == []


def test_tls10_only_server_is_read_and_flagged(servers, tls10):
    if not tls10:
        pytest.skip("this machine's OpenSSL cannot complete a TLS 1.0 handshake (disabled at build or by policy)")
    result = probe(servers, "tls10")
    assert result["tls_version"] == "TLSv1"
    assert codes(result) == ["tls_legacy_version"]
    assert result["problems"][0]["severity"] == "warning"
    assert result["ok"] is True


# ---------------------------------------------------------------------------------------------------------
# Endpoints that give no certificate


def test_port_that_accepts_and_never_answers_times_out(servers):
    started = time.monotonic()
    result = probe(servers, "silent", timeout=1.0)
    elapsed = time.monotonic() - started
    assert result["error_code"] == "timeout"
    assert "no TLS handshake completed within 1 s" in result["error"]
    assert result["ok"] is False and result["thumbprint"] is None
    assert 0.9 <= elapsed < 2.5


def test_closed_port_is_refused(servers):
    result = probe(servers, "closed")
    assert result["error_code"] == "refused"
    assert result["error"] == f"connection refused: nothing listens on port {servers['ports']['closed']}"


def test_plain_http_port_is_not_tls(servers):
    result = probe(servers, "http")
    assert result["error_code"] == "not_tls", result["error"]
    assert result["error"].startswith("the endpoint answered, but not with TLS")


def test_unresolvable_name(monkeypatch):
    def no_such_name(host, *args, **kwargs):  # no resolver is asked: the tests use 127.0.0.1 only
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(tp.socket, "getaddrinfo", no_such_name)
    (result,) = tp.probe_endpoints(tp.parse_endpoints(["apex-nowhere.invalid:4343"]), timeout=3)
    assert result["error_code"] == "dns"
    assert result["error"] == "the name does not resolve (Name or service not known)"


def test_one_bad_endpoint_never_fails_the_others(servers):
    ports = servers["ports"]
    endpoints = [
        {"host": "127.0.0.1", "port": ports[case], "server_name": NAME, "label": case}
        for case in ("silent", "good", "closed", "http", "expired")
    ]
    results = tp.probe_endpoints(tp.parse_endpoints(endpoints), timeout=1.0, ca=tp.load_ca(servers["ca"]))
    assert [r["label"] for r in results] == ["silent", "good", "closed", "http", "expired"]  # input order
    assert [r["error_code"] for r in results] == ["timeout", None, "refused", "not_tls", None]
    assert [r["ok"] for r in results] == [False, True, False, False, False]


def test_many_endpoints_concurrently_leak_nothing(servers):
    """300 endpoints (a third hang, a third refuse, a third answer) in about one timeout; no fd or thread left."""
    ports = servers["ports"]
    endpoints = [
        {"host": "127.0.0.1", "port": ports[case], "server_name": NAME}
        for _round in range(100)
        for case in ("silent", "closed", "good")
    ]
    targets = tp.parse_endpoints(endpoints)
    tp.probe_endpoints(targets[:3], timeout=1.0)  # warm up (lazy imports, OpenSSL tables)
    fds_before = len(os.listdir("/proc/self/fd"))
    threads_before = threading.active_count()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)  # "unclosed <socket>": a socket left to the collector
        started = time.monotonic()
        results = tp.probe_endpoints(targets, timeout=1.5, concurrency=300)
        elapsed = time.monotonic() - started
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert len(results) == 300
    assert sum(r["error_code"] == "timeout" for r in results) == 100
    assert sum(r["error_code"] == "refused" for r in results) == 100
    assert sum(r["ok"] for r in results) == 100
    assert elapsed < 6, f"{elapsed:.1f} s: the probes did not run concurrently"
    assert len(os.listdir("/proc/self/fd")) == fds_before
    assert threading.active_count() == threads_before


def test_concurrency_bounds_the_waves(servers):
    """With concurrency 2, four hanging endpoints take two timeouts."""
    targets = tp.parse_endpoints([f"127.0.0.1:{servers['ports']['silent']}"] * 4)
    started = time.monotonic()
    results = tp.probe_endpoints(targets, timeout=0.5, concurrency=2)
    elapsed = time.monotonic() - started
    assert [r["error_code"] for r in results] == ["timeout"] * 4
    assert 0.95 <= elapsed < 2.5


# ---------------------------------------------------------------------------------------------------------
# Endpoint parsing


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("apex01.corp.example:4343", [("apex01.corp.example", 4343, "apex01.corp.example:4343")]),
        ("apex01.corp.example", [("apex01.corp.example", 4343, "apex01.corp.example:4343"),
                                 ("apex01.corp.example", 443, "apex01.corp.example:443")]),
        ("[2001:db8::1]:443", [("2001:db8::1", 443, "[2001:db8::1]:443")]),
        ("[::1]", [("::1", 4343, "[::1]:4343"), ("::1", 443, "[::1]:443")]),
        ("2001:db8::1", [("2001:db8::1", 4343, "[2001:db8::1]:4343"), ("2001:db8::1", 443, "[2001:db8::1]:443")]),
        ({"host": "10.0.0.5", "port": "8443"}, [("10.0.0.5", 8443, "10.0.0.5:8443")]),
    ],
)
def test_endpoint_forms(item, expected):
    targets = tp.parse_endpoints([item])
    assert [(t["host"], t["port"], t["endpoint"]) for t in targets] == expected


def test_server_name_and_label_from_a_dict():
    (target,) = tp.parse_endpoints(
        [{"host": "10.0.0.5", "port": 4343, "server_name": "Apex01.Corp.Example.", "label": "apex01"}]
    )
    assert target["server_name"] == "apex01.corp.example"
    assert target["label"] == "apex01"


def test_default_ports_can_be_changed():
    assert [t["port"] for t in tp.parse_endpoints(["apex01"], default_ports=[8443])] == [8443]


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("apex01:0", "endpoint 1: the port must be a number from 1 to 65535, not 0"),
        ("apex01:65536", "endpoint 1: the port must be a number from 1 to 65535, not 65536"),
        ("apex01:https", "endpoint 1: the port must be a number from 1 to 65535, not 'https'"),
        ("a:b:c", "endpoint 1: 'a:b:c' is neither host:port nor an IPv6 address"),
        ("[apex01]:443", "endpoint 1: '[apex01]' is not an IPv6 address"),
        (":443", "endpoint 1: the host is empty"),
        ({"port": 443}, "endpoint 1: 'host' is required"),
        ({"host": "a", "prot": 443}, "endpoint 1: unknown key(s) prot"),
        ({"host": "a:443", "port": 443}, "endpoint 1: the port is given twice"),
        (42, "endpoint 1: expected 'host:port' or a dict"),
        ({"host": "a", "server_name": "bad name!"}, "endpoint 1: hostname 'bad name!' is not a valid DNS name"),
    ],
)
def test_bad_endpoints_are_refused(item, message):
    with pytest.raises(tp.EndpointError) as caught:
        tp.parse_endpoints([item])
    assert str(caught.value).startswith(message)


def test_every_bad_endpoint_is_listed():
    with pytest.raises(tp.EndpointError) as caught:
        tp.parse_endpoints(["good:443", "bad:0", "ok", "worse:x"])
    assert "endpoint 2:" in str(caught.value) and "endpoint 4:" in str(caught.value)


# ---------------------------------------------------------------------------------------------------------
# The module itself (run as Ansible runs it: a Python process with the arguments in a JSON file)


def run_module(tmp_path, args, pythonpath=()):
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*pythonpath, os.path.join(REPO, ".build", "src")])
    proc = subprocess.run([sys.executable, MODULE, str(args_file)], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    return json.loads(proc.stdout)


def test_module_in_check_mode_probes_and_changes_nothing(servers, tmp_path):
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text(servers["ca"])
    result = run_module(tmp_path, {
        "endpoints": [
            {"host": "127.0.0.1", "port": servers["ports"]["good"], "server_name": NAME, "label": "apex01"},
            f"127.0.0.1:{servers['ports']['closed']}",
        ],
        "ca_path": str(ca_file),
        "timeout": 2,
        "_ansible_check_mode": True,
    })
    assert result.get("failed") is not True, result
    assert result["changed"] is False
    good, closed = result["probes"]
    assert good["ok"] is True and good["label"] == "apex01" and good["chain_valid"] is True
    assert closed["error_code"] == "refused"
    assert result["summary"] == {"total": 2, "answered": 1, "ok": 1, "errors": 1}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"endpoints": ["apex01:0"]}, "bad endpoints: endpoint 1: the port must be a number from 1 to 65535, not 0"),
        ({"endpoints": ["a"], "timeout": 0}, "timeout must be a positive number of seconds, not 0"),
        ({"endpoints": ["a"], "concurrency": 0}, "concurrency must be from 1 to 1000, not 0"),
        ({"endpoints": ["a"], "ca_bundle": "not a certificate"}, "bad CA bundle: the CA bundle is neither PEM"),
        ({"endpoints": ["a"], "ca_path": "/nonexistent/ca.pem"}, "cannot read ca_path /nonexistent/ca.pem"),
        ({"endpoints": ["a"], "ca_bundle": "x", "ca_path": "/x"}, "parameters are mutually exclusive: ca_bundle|ca_path"),
        ({"endpoints": ["a"], "invalid_endpoints": "ignore"}, "value of invalid_endpoints must be one of: fail, report"),
    ],
)
def test_module_fails_only_for_bad_arguments(tmp_path, args, message):
    result = run_module(tmp_path, args)
    assert result["failed"] is True
    assert result["msg"].startswith(message), result["msg"]


def test_module_without_cryptography_says_what_to_install(tmp_path):
    blocker = tmp_path / "blocked" / "cryptography"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('cryptography is blocked for this test')\n")
    result = run_module(tmp_path, {"endpoints": ["127.0.0.1:1"]}, pythonpath=[str(tmp_path / "blocked")])
    assert result["failed"] is True
    assert "Failed to import the required Python library (cryptography)" in result["msg"]


def test_invalid_entries_can_be_reported_instead_of_failing(servers):
    endpoints = [
        {"host": "127.0.0.1", "port": servers["ports"]["good"], "server_name": NAME, "label": "apex01"},
        {"host": "127.0.0.1:0", "label": "apex02"},
        "apex03:https",
    ]
    with pytest.raises(tp.EndpointError):
        tp.parse_endpoints(endpoints)
    results = tp.probe_endpoints(tp.parse_endpoints(endpoints, invalid="report"), timeout=2)
    assert [(r["label"], r["error_code"]) for r in results] == [("apex01", None), ("apex02", "invalid"),
                                                                (None, "invalid")]
    assert results[1]["error"] == "invalid endpoint: the port must be a number from 1 to 65535, not 0"
    assert results[1]["endpoint"] == "127.0.0.1:0" and results[1]["host"] is None
    assert results[0]["ok"] is True
