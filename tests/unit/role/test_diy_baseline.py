"""The benchmark's DIY baseline (tests/bench/diy_replace.yml) against the test double.

make bench counts the remote calls of this playbook to compare them with the role's; these checks keep that
comparison honest: the double answers the generic modules the DIY playbook uses, the playbook really does the KB
steps (the role's own plan finds nothing left of them), and its calls are counted the same way as the role's.
"""

import json
import os
import subprocess

import pki
import pytest
import winsim
from cryptography.hazmat.primitives import serialization

from ansible_collections.apexone.certificates.plugins.module_utils import _x509
from ansible_collections.apexone.certificates.plugins.module_utils._apexone_files import enrich_server_info

pytestmark = pytest.mark.slow

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CONNECTIONS = os.path.join(REPO, "tests", "double", "connection_plugins")
DIY = os.path.join(REPO, "tests", "bench", "diy_replace.yml")
PASSWORD = "Diy-Baseline-Secret-7"
FRIENDLY = "Apex One web host DIY"
FQDN = "apex09.corp.example"


@pytest.fixture
def host(tmp_path):
    lab = pki.LabPki()
    _k, old = pki.make_cert(FQDN, issuer=None, key=pki.rsa_key(2048, slot=740))
    key, new = lab.server(FQDN, key=pki.rsa_key(2048, slot=741))
    (tmp_path / "apex09.pfx").write_bytes(
        pki.make_pfx(key, new, [lab.intermediate.cert], password=PASSWORD, friendly_name=FRIENDLY))
    (tmp_path / "apex09.cer").write_bytes(new.public_bytes(serialization.Encoding.DER))
    (tmp_path / "root.pem").write_text(lab.root.pem)
    (tmp_path / "apex09.json").write_text(json.dumps(winsim.new_state(old, hostname=FQDN)))
    inventory = {"all": {"hosts": {"apex09": {
        "ansible_connection": "apexone_double", "apexone_double_state_dir": str(tmp_path),
        "apexone_cert_trusted_connections": ["apexone_double"],
        "diy_pfx_path": str(tmp_path / "apex09.pfx"), "diy_cer_path": str(tmp_path / "apex09.cer"),
        "diy_pfx_password": PASSWORD, "diy_hostname": FQDN, "diy_friendly_name": FRIENDLY,
        "diy_client_auth_trust_mode": 2,
        "apexone_cert_hostname": FQDN, "apexone_cert_pfx_path": str(tmp_path / "apex09.pfx"),
        "apexone_cert_pfx_password": PASSWORD, "apexone_cert_ca_bundle_path": str(tmp_path / "root.pem"),
        "apexone_cert_friendly_name": FRIENDLY, "apexone_cert_verify_tls": False, "apexone_cert_verify_settle": 0,
        "apexone_cert_run_record_dir": str(tmp_path / "runs"),
    }}}}
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))
    return {"dir": tmp_path, "new": _x509.thumbprint(new), "old": _x509.thumbprint(old)}


def run(ansible_env, host, playbook, *extra):
    env = dict(ansible_env, ANSIBLE_CONNECTION_PLUGINS=CONNECTIONS)
    cmd = ["ansible-playbook", "-i", str(host["dir"] / "inventory.json"), playbook, *extra]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, timeout=300, cwd=str(host["dir"]))


def recorded(host, kind):
    path = host["dir"] / f"apex09.{kind}.jsonl"
    if not path.exists():
        return []
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    path.unlink()
    return entries


def test_diy_playbook_does_the_kb_steps_and_pays_for_every_task(ansible_env, host):
    proc = run(ansible_env, host, DIY)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    calls = recorded(host, "calls")
    modules = [c["module"].rsplit(".", 1)[-1] for c in calls]
    assert modules == (["win_copy", "win_copy", "win_certificate_store"] * 2
                       + ["win_iis_webbinding", "win_regedit"] + ["win_service"] * 3 + ["win_lineinfile"] * 4
                       + ["win_service"] * 3)
    # win_copy from the controller: a temporary folder, the transfer, the clean-up, twice.
    assert [e["kind"] for e in recorded(host, "extra")] == ["mkdtemp", "put_file", "remove"] * 2
    assert all(c["args"].get("password") in (None, "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER") for c in calls)

    state = json.loads((host["dir"] / "apex09.json").read_text())
    server = winsim.ApexOneServer(state)
    site = next(s for s in state["iis"]["sites"] if s["name"] == "OfficeScan")
    assert winsim.binding_certificate(state, site["bindings"][1])[0] == host["new"]
    assert state["http_sys"][0]["thumbprint"] == host["new"]
    assert winsim._thumb_of(winsim.get_file(state, winsim.OFCIPCER)) == host["new"]
    assert server._find("My", host["new"])["friendly_name"] == FRIENDLY
    assert server._find("TrustedPeople", host["new"]) is not None
    assert winsim.reg_get(state, winsim.SCHANNEL_KEY, "ClientAuthTrustMode") == 2
    assert {s["status"] for s in state["services"].values()} == {"running"}
    info = enrich_server_info(server.m_win_server_info({}, False))  # raw bytes, read on the controller
    assert info["service_ini"]["https_cert"] == FQDN
    assert info["service_ini"]["https_cert_friendly_name"] == FRIENDLY
    assert (info["apricot_config"]["cert_cn"], info["apricot_config"]["cert_friendly_name"]) == (FQDN, FRIENDLY)
    # The temporary folders are gone; the PFX the DIY playbook copied stays on the server.
    install = winsim.install_path(state).lower()
    assert [k for k in state["files"] if not k.startswith(install)] == ["c:\\windows\\temp\\apexone-webhost.pfx"]

    # The role's plan finds none of the KB steps 3-7 left to do.
    proc = run(ansible_env, host, os.path.join(REPO, "playbooks", "replace.yml"), "--check")
    assert proc.returncode == 0, proc.stdout[-3000:]
    for step in ("win_agent_cert", "win_iis_https_binding", "win_cert_persistence", "win_schannel_trust"):
        assert f": {step} -" not in proc.stdout
    assert [c["module"].rsplit(".", 1)[-1] for c in recorded(host, "calls")] == ["win_server_info"]

    # Run again: nothing is left to change, yet every task is paid for and the services restart.
    proc = run(ansible_env, host, DIY)
    assert proc.returncode == 0, proc.stdout[-3000:]
    again = recorded(host, "calls")
    assert len(again) == 16
    assert [c["module"].rsplit(".", 1)[-1] for c in again if c["changed"]] == ["win_service"] * 6
    assert recorded(host, "extra") == []
