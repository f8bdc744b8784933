"""playbooks/rollback.yml against planted run records (issue #14): refused before any remote change.

One ansible-playbook run, one simulated server per attack (tests/double). Each host must fail with a message that
names the problem, after exactly one remote call (the read-only win_server_info) and with its server unchanged.
A control host with a genuine record is rolled back in the same run, so a harness where nothing runs cannot pass.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import subprocess

import pki
import pytest
import winsim
from cryptography.hazmat.primitives import serialization

from ansible_collections.apexone.certificates.plugins.module_utils import _x509
from ansible_collections.apexone.certificates.plugins.plugin_utils import _run_record as rr

pytestmark = pytest.mark.slow

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CONNECTIONS = os.path.join(REPO, "tests", "double", "connection_plugins")
FQDN = "apex01.corp.example"
INSTALL = winsim.INSTALL
OFCIPCER = f"{INSTALL}\\Pccnt\\Common\\OfcIPCer.dat"
USERS = "S-1-5-32-545"


def run(ansible_env, folder, inventory, playbook, *extra):
    env = dict(ansible_env, ANSIBLE_CONNECTION_PLUGINS=CONNECTIONS)
    cmd = ["ansible-playbook", "-i", str(inventory), os.path.join(REPO, "playbooks", playbook), *extra]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, timeout=300, cwd=str(folder))


@pytest.fixture(scope="module")
def material(lab_pki):
    _k, old = pki.make_cert(FQDN, issuer=None, key=pki.rsa_key(2048, slot=820))
    _k2, new = pki.make_cert(FQDN, issuer=None, key=pki.rsa_key(2048, slot=821))
    _k3, attacker = pki.make_cert("attacker.example", issuer=None, key=pki.rsa_key(2048, slot=822))
    return {"old": old, "new": new, "attacker": attacker, "intermediate": lab_pki.intermediate.cert}


def plant(state: dict, text: str, protection: dict | None = None) -> None:
    """A run record in the double's registry, with the key's security (admin-only unless overridden)."""
    winsim.reg_set(state, winsim.RUN_RECORD_KEY, winsim.RUN_RECORD_VALUE, text)
    state["registry"][winsim.RUN_RECORD_KEY.lower()]["security"] = dict(winsim.ADMIN_ONLY_KEY, **(protection or {}))


def replaced_state(material):
    """A server after a replacement: bound to the new certificate, OfcIPCer.dat rewritten (compare-and-swap)."""
    state = winsim.new_state(material["old"], hostname=FQDN)
    server = winsim.ApexOneServer(state)
    new = winsim.cert_record(material["new"], has_key=True, friendly_name="Apex One 2026")
    state["stores"]["My"].append(new)
    state["stores"]["CA"].append(winsim.cert_record(material["intermediate"]))
    before = winsim.get_file(state, winsim.OFCIPCER)
    written = server.call("win_agent_cert", {
        "content": base64.b64encode(material["new"].public_bytes(serialization.Encoding.DER)).decode(),
        "expected_sha256": hashlib.sha256(before).hexdigest()})
    server.call("win_iis_https_binding", {"thumbprint": new["thumbprint"], "site_name": "OfficeScan"})
    return state, written


def genuine_record(state_before, material, written):
    """The record the role writes for that replacement (the previous OfcIPCer.dat bytes, for the writer)."""
    facts = winsim.ApexOneServer(copy.deepcopy(state_before)).call("win_server_info", {})
    record = rr.start_record(facts, {"new_thumbprint": _x509.thumbprint(material["new"]),
                                     "old_thumbprints": [_x509.thumbprint(material["old"])]},
                             "apex01", "2026-11-30T08:00:00Z")
    old = _x509.thumbprint(material["old"])
    record.update(binding_restore=[{"thumbprint": old, "bindings": [b["binding"] for b in record["bindings_before"]
                                                                    if b["thumbprint"] == old]}],
                  services_stop=[], services_restore=[])
    record.update(status="applied", imported=True, bindings_moved=True, schannel_changed=False, roots_moved=[],
                  services_stopped=True, restores=[{
                      "file": "ofcipcer", "path": OFCIPCER,
                      "content": base64.b64encode(winsim.get_file(state_before, winsim.OFCIPCER)).decode(),
                      "sha256": written["sha256"], "backup_file": written["backup_file"]}])
    return record


def test_planted_records_are_refused_before_any_change(ansible_env, tmp_path, material):
    before = winsim.new_state(material["old"], hostname=FQDN)
    state, written = replaced_state(material)
    good = genuine_record(before, material, written)
    evil_exe = dict(good, restores=[{"path": f"{INSTALL}\\ofcservice.exe",
                                     "backup_file": "C:\\Users\\Public\\Downloads\\evil.exe"}])
    intermediate = _x509.thumbprint(material["intermediate"])
    promotion = dict(good, roots_moved=[{"thumbprint": intermediate, "subject": "CN=Apex Lab Issuing CA",
                                         "already_in_ca": False}])
    trust_zero = dict(good, schannel_changed=True, schannel_previous=0)
    attacker = _x509.thumbprint(material["attacker"])
    rebind = dict(good, old_thumbprint=attacker,
                  binding_restore=[{"thumbprint": attacker, "bindings": ["*:4343:"]}])
    weak = {"writers": ["S-1-5-18", "S-1-5-32-544", USERS]}
    attacks = {
        # name: (server record or None, key protection, controller-side planted file, expected message)
        "planted-on-controller": (None, None, evil_exe, r"the server has no run record"),
        "evil-exe": (evil_exe, None, None, r"restores\[0\]\.path .*ofcservice\.exe.* is not one of the files"),
        "evil-exe-weak-key": (evil_exe, weak, None, rf"can be written by {USERS}"),
        "root-promotion": (promotion, None, None, rf"roots_moved\[0\] {intermediate} is not listed in roots_before"),
        "trust-mode-0": (trust_zero, weak, None, rf"can be written by {USERS}"),
        "attacker-rebind": (rebind, None, None, r"rebind to [0-9A-F]{40}, which its bindings_before does not list"),
        "hostile-name": (good, None, None, r"'\.\./\.\./x/owned' is not a safe file name"),
    }
    runs = tmp_path / "runs"
    runs.mkdir()
    (tmp_path / "apexone-runs").mkdir()
    hosts = {}
    for name, (record, protection, planted, _match) in attacks.items():
        host_state = copy.deepcopy(state)
        if record is not None:
            plant(host_state, json.dumps(record), protection)
        (tmp_path / f"{name}.json").write_text(json.dumps(host_state))
        inventory_name = "../../x/owned" if name == "hostile-name" else name
        if planted is not None:  # where the old rollback.yml read records from: both places
            for folder in (runs, tmp_path / "apexone-runs"):
                (folder / f"{inventory_name}.json").write_text(json.dumps(dict(planted, status="applied")))
        hosts[inventory_name] = {"ansible_host": name}
    control = copy.deepcopy(state)
    plant(control, json.dumps(good))
    (tmp_path / "control.json").write_text(json.dumps(control))
    hosts["control"] = {"ansible_host": "control"}
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"hosts": hosts, "vars": {
        "ansible_connection": "apexone_double", "apexone_double_state_dir": str(tmp_path),
        "apexone_cert_trusted_connections": ["apexone_double"], "apexone_cert_run_record_dir": str(runs)}}}))

    proc = run(ansible_env, tmp_path, inventory, "rollback.yml")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output
    for name, (_record, _protection, _planted, match) in attacks.items():
        recorded = [json.loads(line)["module"].rsplit(".", 1)[-1] for line in
                    (tmp_path / f"{name}.calls.jsonl").read_text().splitlines()] if (
                        tmp_path / f"{name}.calls.jsonl").exists() else []
        expected_calls = [] if name == "hostile-name" else ["win_server_info"]
        assert recorded == expected_calls, (name, recorded)
        final = json.loads((tmp_path / f"{name}.json").read_text())
        assert winsim.comparable(final) == winsim.comparable(state), name
        assert final["services"] == state["services"]
        assert __import__("re").search(match, output), (name, match)
    assert "nothing was changed" in output
    assert not (tmp_path.parent / "x").exists() and not (tmp_path / "x").exists()
    # The control host was rolled back from its genuine server record, and its record says so.
    control_final = json.loads((tmp_path / "control.json").read_text())
    site = next(x for x in control_final["iis"]["sites"] if x["name"] == "OfficeScan")
    assert all(winsim.binding_certificate(control_final, b)[0] == _x509.thumbprint(material["old"])
               for b in site["bindings"] if b["protocol"] == "https")
    assert winsim.get_file(control_final, winsim.OFCIPCER) == winsim.get_file(before, winsim.OFCIPCER)
    record_text = winsim.reg_get(control_final, winsim.RUN_RECORD_KEY, winsim.RUN_RECORD_VALUE)
    assert json.loads(record_text)["status"] == "rolled_back"
    assert json.loads((runs / "control.json").read_text())["status"] == "rolled_back"


def test_replace_refuses_a_hostile_inventory_name_before_any_change(ansible_env, tmp_path, material, lab_pki):
    key, new = lab_pki.server(FQDN, key=pki.rsa_key(2048, slot=823))
    (tmp_path / "new.pfx").write_bytes(pki.make_pfx(key, new, [lab_pki.intermediate.cert], password="Pfx-Secret-9"))
    (tmp_path / "root.pem").write_text(lab_pki.root.pem)
    state = winsim.new_state(material["old"], hostname=FQDN)
    (tmp_path / "owned.json").write_text(json.dumps(state))
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"hosts": {"../../x/owned": {"ansible_host": "owned"}}, "vars": {
        "ansible_connection": "apexone_double", "apexone_double_state_dir": str(tmp_path),
        "apexone_cert_trusted_connections": ["apexone_double"], "apexone_cert_hostname": FQDN,
        "apexone_cert_pfx_path": str(tmp_path / "new.pfx"), "apexone_cert_pfx_password": "Pfx-Secret-9",
        "apexone_cert_ca_bundle_path": str(tmp_path / "root.pem"), "apexone_cert_verify_tls": False,
        "apexone_cert_verify_settle": 0, "apexone_cert_friendly_name": "Apex One 2026", "apexone_cert_run_record_dir": str(tmp_path / "runs")}}}))
    proc = run(ansible_env, tmp_path, inventory, "replace.yml")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "'../../x/owned' is not a safe file name" in proc.stdout
    recorded = [json.loads(line)["module"] for line in (tmp_path / "owned.calls.jsonl").read_text().splitlines()]
    assert [m.rsplit(".", 1)[-1] for m in recorded] == ["win_server_info"]
    assert winsim.comparable(json.loads((tmp_path / "owned.json").read_text())) == winsim.comparable(state)
    assert not (tmp_path.parent / "x").exists()


def test_insecure_transport_is_refused_before_connecting(ansible_env, tmp_path):
    """replace.yml over WinRM http + Basic: refused on the controller; the host does not even exist."""
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(
        "all:\n  hosts:\n    apex01:\n      ansible_host: 192.0.2.1\n      ansible_connection: winrm\n"
        "      ansible_port: 5985\n      ansible_user: Administrator\n      ansible_password: not-used\n"
        "      apexone_cert_hostname: apex01.corp.example\n      apexone_cert_pfx_path: /nonexistent.pfx\n"
        "      apexone_cert_pfx_password: x\n      apexone_cert_friendly_name: x\n"
    )
    proc = run(ansible_env, tmp_path, inventory, "replace.yml")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "refusing to send the PFX and its password over this connection" in proc.stdout
    assert "transport 'plaintext' over http sends everything in clear text" in proc.stdout
    assert "apexone_cert_allow_insecure_transport: true" in proc.stdout
    assert "UNREACHABLE" not in proc.stdout  # it never tried to connect
    proc = run(ansible_env, tmp_path, inventory, "rollback.yml")
    assert proc.returncode == 2 and "refusing to send the credentials and the rollback commands" in proc.stdout
    assert "UNREACHABLE" not in proc.stdout
