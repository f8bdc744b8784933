"""Secrets (issue 7): the PFX password, the PFX itself and private keys never show, at any verbosity.

Preflight (the lab), replace (the test double) and audit (the lab's local TLS servers plus a double-backed host
read over "WinRM") each run once with ``-vvv`` *and* ``ANSIBLE_DEBUG=1`` with ``ANSIBLE_LOG_PATH``, the most
output Ansible can produce. Searched: stdout, stderr, the log file, the preflight summary, the JSON and HTML
report, the run records and the remote arguments the double recorded.

What counts as a leak: the password; any window of the base64 of a PFX or key file (with line breaks and JSON
escapes removed, so a re-wrapped copy is found too); and any base64 blob that decodes to a PKCS#12 file or a
private key, which also catches a PFX re-packed in memory (its bytes are not known in advance).
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys

import pki
import pytest
from cryptography.hazmat.primitives import serialization
from reliability_helpers import HOST, PASSWORD, REPO, Fleet, Material, b64
from secret_scan import compact, secret_blobs

pytestmark = pytest.mark.slow

SERVE_LAB = os.path.join(REPO, "tests", "lab", "serve_lab.py")


def windows(data: bytes) -> list[str]:
    """Three 48-character windows (start, middle, end) of the base64 of ``data``."""
    encoded = b64(data)
    middle = len(encoded) // 2
    return [encoded[:48], encoded[middle:middle + 48], encoded[-52:-4]]


def key_windows(key) -> list[str]:
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return windows(der)


def leaks(text: str, passwords: list[str], files: dict[str, list[str]]) -> list[str]:
    squeezed = compact(text)
    found = [f"password {p[:3]}..." for p in passwords if p in text or p in squeezed]
    for name, parts in files.items():
        found += [f"base64 of {name}" for part in parts if part in squeezed]
    return found + [f"secret DER in base64: {blob}" for blob in secret_blobs(text)]


_DEBUG_LINE_RE = re.compile(r"^ *\d+ \d+\.\d+(?: \[[^\]]*\])?: ")


def split_debug_lines(stdout: str) -> tuple[str, str]:
    """(ANSIBLE_DEBUG lines, the other lines) of an ansible-playbook output; a debug line runs until the next one
    or the next line that is not a continuation (debug messages can span lines)."""
    debug, other = [], []
    in_debug = False
    for line in stdout.splitlines():
        if _DEBUG_LINE_RE.match(line):
            in_debug = True
        elif line[:1] not in (" ", "\t", "") and not line.startswith(("}", "]", "'")):
            in_debug = False
        (debug if in_debug else other).append(line)
    return "\n".join(debug), "\n".join(other)


def debug_env(tmp_path, name: str) -> tuple[dict, str]:
    log = str(tmp_path / f"{name}.log")
    return {"ANSIBLE_DEBUG": "1", "ANSIBLE_LOG_PATH": log}, log


def gather(*paths) -> str:
    """The text of every file under the given files/folders."""
    out = []
    for path in paths:
        path = str(path)
        if os.path.isdir(path):
            for folder, _dirs, names in os.walk(path):
                out += [open(os.path.join(folder, n), errors="replace").read() for n in sorted(names)]
        elif os.path.exists(path):
            out.append(open(path, errors="replace").read())
    return "\n".join(out)


def test_the_detector_finds_what_it_must(tmp_path):
    """The leak detector itself: a PFX, a key and the password are found however they are wrapped."""
    material = Material()
    pfx = material.pfx(encryption="aes")
    key_pem = pki.key_pem(material.key)
    text = json.dumps({"x": base64.encodebytes(pfx).decode(), "k": key_pem, "p": f"pw={PASSWORD}"})
    found = leaks(text, [PASSWORD], {"pfx": windows(pfx)})
    assert "base64 of pfx" in found and f"password {PASSWORD[:3]}..." in found
    assert len(secret_blobs(text)) == 2  # the PFX and the key
    certificate_only = json.dumps({"certificate_pem": pki.pem(material.good), "chain": [material.lab.intermediate.pem]})
    assert leaks(certificate_only, [PASSWORD], {"pfx": windows(pfx)}) == []


def test_preflight_on_the_lab(ansible_env, lab, tmp_path):
    env, log = debug_env(tmp_path, "preflight")
    summary = tmp_path / "summary.json"
    proc = subprocess.run(
        ["ansible-playbook", "-vvv", "-i", lab["inventory"], os.path.join(REPO, "playbooks", "preflight.yml"),
         "-e", "apexone_cert_report_only=true", "-e", f"apexone_cert_summary_path={summary}"],
        env={**ansible_env, **env}, capture_output=True, text=True, check=False, timeout=300, cwd=str(tmp_path),
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    certs = lab["dir"] / "certs"
    files = {p.name: windows(p.read_bytes()) for p in sorted(certs.glob("*.pfx"))}
    for key_file in sorted(certs.glob("*key.pem")):
        key = serialization.load_pem_private_key(key_file.read_bytes(), None)
        files[key_file.name] = key_windows(key)
    assert len(files) >= 20  # every lab PFX and key is looked for
    everything = {"stdout": proc.stdout, "stderr": proc.stderr, "log": gather(log), "summary": gather(summary)}
    assert len(split_debug_lines(proc.stdout)[0]) > 1000 and "PLAY RECAP" in everything["log"]  # debug and log on
    found = {where: leaks(text, [lab["password"]], files) for where, text in everything.items()}
    assert found == {where: [] for where in everything}


@pytest.fixture(scope="module")
def replace_run(ansible_env, tmp_path_factory):
    """replace.yml on two simulated servers: an AES PFX file (re-packed in memory), the base64 text of a PFX."""
    tmp_path = tmp_path_factory.mktemp("replace-secrets")
    material = Material()
    fleet = Fleet(tmp_path, material)
    legacy = material.pfx()
    aes = material.pfx(encryption="aes")  # re-packed with 3DES in memory for the target: bytes not known here
    fleet.add("apex-aes", pfx=aes)
    base64_file = tmp_path / "apex-b64.pfx.txt"  # the AWX credential form: the base64 text of the PFX
    base64_file.write_text(b64(legacy))
    fleet.add("apex-b64", pfx=legacy, apexone_cert_pfx_base64_path=str(base64_file))
    del fleet.hosts["apex-b64"]["apexone_cert_pfx_path"]
    env, log = debug_env(tmp_path, "replace")
    proc = fleet.run(ansible_env, "replace.yml", "-vvv", "-f", "5", env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    recorded = {host: fleet.calls(host) for host in fleet.hosts}
    debug, other = split_debug_lines(proc.stdout)
    return {
        "recorded": recorded,
        "files": {"legacy PFX": windows(legacy), "AES PFX": windows(aes), "key": key_windows(material.key)},
        "texts": {"stdout (without debug lines)": other, "stderr": proc.stderr, "log": gather(log),
                  "remote": json.dumps(recorded), "run records": gather(tmp_path / "runs")},
        "debug": debug,
    }


def test_replace_against_the_double(replace_run):
    for host, calls in replace_run["recorded"].items():
        imports = [c for c in calls if c["module"].endswith("win_webhost_cert")]
        assert len(imports) == 1, host
        # the PFX and its password did travel, but only as masked no_log options
        assert imports[0]["args"]["_pfx_b64"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
        assert imports[0]["args"]["password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    texts = replace_run["texts"]
    assert "Pipelining is enabled" in texts["stdout (without debug lines)"]  # -vvv was on
    found = {where: leaks(text, [PASSWORD], replace_run["files"]) for where, text in texts.items()}
    assert found == {where: [] for where in texts}


def test_replace_debug_output_holds_no_secret(replace_run):
    assert len(replace_run["debug"]) > 1000  # ANSIBLE_DEBUG was on
    assert leaks(replace_run["debug"], [PASSWORD], replace_run["files"]) == []


def test_audit_of_the_lab_and_a_double_backed_host(ansible_env, lab, tmp_path):
    material = Material()
    fleet = Fleet(tmp_path, material)
    fleet.add("apex-winrm", apexone_cert_audit_endpoints=["127.0.0.1:9"])
    double_inventory = fleet.write_inventory()
    lab_inventory = tmp_path / "lab-audit.json"
    report = tmp_path / "report"
    env, log = debug_env(tmp_path, "audit")
    limit = "apex-good01,apex-good02,apex-keymismatch,apex-expired,apex-winrm"
    command = ["ansible-playbook", "-vvv", "-i", str(lab_inventory), "-i", double_inventory,
               os.path.join(REPO, "playbooks", "audit.yml"), "--limit", limit,
               "-e", f"apexone_cert_report_dir={report}", "-e", "apexone_cert_audit_timeout=2"]
    proc = subprocess.run(
        [sys.executable, SERVE_LAB, "--lab", str(lab["dir"]), "--inventory", str(lab_inventory), "--lifetime", "150",
         "--", *command],
        env={**ansible_env, **env, "ANSIBLE_CONNECTION_PLUGINS": os.path.join(REPO, "tests", "double",
                                                                              "connection_plugins")},
        capture_output=True, text=True, check=False, timeout=200, cwd=str(tmp_path),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    data = json.loads((report / "report.json").read_text())
    hosts = {h["host"]: h for h in data["hosts"]}
    assert set(hosts) == set(limit.split(","))
    assert hosts["apex-winrm"]["winrm"]["status"] == "ok" and hosts["apex-winrm"]["plan"]["status"] == "changes"
    assert [c["module"].rsplit(".", 1)[-1] for c in fleet.calls("apex-winrm")] == ["win_server_info"]
    certs = lab["dir"] / "certs"
    files = {p.name: windows(p.read_bytes()) for p in sorted(certs.glob("*.pfx"))}
    files["double PFX"] = windows(material.pfx())
    files["double key"] = key_windows(material.key)
    everything = {"stdout": proc.stdout, "stderr": proc.stderr, "log": gather(log), "report": gather(report)}
    assert "<html" in everything["report"] and "PLAY RECAP" in everything["log"]
    assert len(split_debug_lines(proc.stdout)[0]) > 1000  # ANSIBLE_DEBUG was on
    found = {where: leaks(text, [lab["password"], PASSWORD], files) for where, text in everything.items()}
    assert found == {where: [] for where in everything}
    assert HOST in everything["report"]
