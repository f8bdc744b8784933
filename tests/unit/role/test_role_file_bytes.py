"""The role writes OfcIPCer.dat, Service.ini and apricot_config as bytes computed on the controller (compare-and-swap).

Through the real role and playbooks on the test double (tests/double): win_server_info returns the raw bytes with
their SHA-256, the plan computes the new bytes, and the writers replace a file only if it still has the SHA-256 that
was gathered. A file changed by someone else between the gathering and the write is not overwritten: the run fails
with a clear message, nothing is written to that file, and what was already changed is rolled back.
"""

import base64
import hashlib
import json
import os
import subprocess

import pki
import pytest
import winsim

from ansible_collections.apexone.certificates.plugins.module_utils import _x509

pytestmark = pytest.mark.slow

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CONNECTIONS = os.path.join(REPO, "tests", "double", "connection_plugins")
PASSWORD = "Bytes-Pfx-Secret-7"
HOST, FQDN = "apex01", "apex01.corp.example"
CAS_MESSAGE = "changed since the facts were gathered"


@pytest.fixture
def site(tmp_path):
    lab = pki.LabPki()
    (tmp_path / "root.pem").write_text(lab.root.pem)
    _k, old = pki.make_cert(FQDN, issuer=None, key=pki.rsa_key(2048, slot=720))
    key, new = lab.server(FQDN, key=pki.rsa_key(2048, slot=721))
    (tmp_path / f"{HOST}.pfx").write_bytes(pki.make_pfx(key, new, [lab.intermediate.cert], password=PASSWORD))
    state = winsim.new_state(old, hostname=FQDN)
    (tmp_path / f"{HOST}.json").write_text(json.dumps(state))
    inventory = {"all": {"hosts": {HOST: {
        "ansible_connection": "apexone_double", "apexone_double_state_dir": str(tmp_path),
        "apexone_cert_trusted_connections": ["apexone_double"],
        "apexone_cert_hostname": FQDN, "apexone_cert_pfx_path": str(tmp_path / f"{HOST}.pfx")}},
        "vars": {"apexone_cert_pfx_password": PASSWORD, "apexone_cert_ca_bundle_path": str(tmp_path / "root.pem"),
                 "apexone_cert_verify_tls": False, "apexone_cert_verify_settle": 0,
                 "apexone_cert_friendly_name": "Apex One web host 2026",
                 "apexone_cert_run_record_dir": str(tmp_path / "runs")}}}
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))
    return {"dir": tmp_path, "initial": winsim.comparable(state), "start": state, "new": _x509.thumbprint(new),
            "old": old}


def run(ansible_env, site, playbook, *extra):
    env = dict(ansible_env, ANSIBLE_CONNECTION_PLUGINS=CONNECTIONS)
    cmd = ["ansible-playbook", "-i", str(site["dir"] / "inventory.json"), os.path.join(REPO, "playbooks", playbook), *extra]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, timeout=300, cwd=str(site["dir"]))


def state(site):
    return json.loads((site["dir"] / f"{HOST}.json").read_text())


def save(site, current):
    (site["dir"] / f"{HOST}.json").write_text(json.dumps(current))


def record(site):
    return json.loads((site["dir"] / "runs" / f"{HOST}.json").read_text())


def calls(site):
    path = site["dir"] / f"{HOST}.calls.jsonl"
    entries = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    if path.exists():
        path.unlink()
    return entries


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_writers_get_bytes_and_the_gathered_sha256(ansible_env, site):
    before = state(site)
    proc = run(ansible_env, site, "replace.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    recorded = {c["module"].rsplit(".", 1)[-1]: c["args"] for c in calls(site)}
    for module, key, rel in (("win_agent_cert", None, winsim.OFCIPCER), ("win_cert_persistence", "service_ini", winsim.SERVICE_INI),
                             ("win_cert_persistence", "apricot_config", winsim.APRICOT)):
        args = recorded[module][key] if key else recorded[module]
        assert set(args) == {"content", "expected_sha256"}
        assert args["expected_sha256"] == hashlib.sha256(winsim.get_file(before, rel)).hexdigest()
        assert args["content"] == winsim.apex_files(state(site))[rel], f"{rel} holds exactly the bytes the controller computed"
    assert set(recorded["win_agent_cert"]) == {"content", "expected_sha256"}
    assert set(recorded["win_cert_persistence"]) == {"service_ini", "apricot_config"}
    # Backups are made outside PCCSRV (Pccnt\Common is deployed to agents), and the record keeps the old bytes.
    final = state(site)
    assert final["backups"] and all(path.startswith(winsim.BACKUP_FOLDER + "\\") for path in final["backups"])
    restores = {r["file"]: r for r in record(site)["restores"]}
    assert set(restores) == {"ofcipcer", "service_ini", "apricot_config"}
    assert restores["service_ini"]["content"] == winsim.apex_files(before)[winsim.SERVICE_INI]
    assert restores["service_ini"]["sha256"] == hashlib.sha256(winsim.get_file(final, winsim.SERVICE_INI)).hexdigest()
    assert restores["ofcipcer"]["backup_file"].startswith(winsim.BACKUP_FOLDER)
    # Only the edited lines changed in Service.ini: every other byte is kept.
    old_lines = winsim.get_file(before, winsim.SERVICE_INI).split(b"\r\n")
    new_lines = winsim.get_file(final, winsim.SERVICE_INI).split(b"\r\n")
    assert [line for line in new_lines if line not in old_lines] == [b"HTTPS_CERT=apex01.corp.example",
                                                                     b"HTTPS_CERT_FRIENDLY_NAME=Apex One web host 2026"]
    # The rollback playbook writes the old bytes back through the same compare-and-swap.
    proc = run(ansible_env, site, "rollback.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert winsim.apex_files(state(site)) == winsim.apex_files(before)
    rolled = [c for c in calls(site) if c["module"].rsplit(".", 1)[-1] in ("win_agent_cert", "win_cert_persistence")]
    assert [c["args"]["expected_sha256"] for c in rolled if "expected_sha256" in c["args"]] == [restores["ofcipcer"]["sha256"]]
    assert "OfcIPCer.dat" in proc.stdout and "Service.ini" in proc.stdout and "apricot_config" in proc.stdout


@pytest.mark.parametrize(
    ("rel", "failing_module"),
    [(winsim.SERVICE_INI, "win_cert_persistence"), (winsim.OFCIPCER, "win_agent_cert")],
)
def test_file_changed_between_gather_and_write_is_not_overwritten(ansible_env, site, rel, failing_module):
    current = state(site)
    edited = winsim.get_file(current, rel) + b"\r\n; edited by an administrator during the run\r\n"
    current["tamper"] = {"after": "win_server_info", "files": {rel: b64(edited)}}
    save(site, current)
    proc = run(ansible_env, site, "replace.yml")
    assert proc.returncode == 2, proc.stdout
    assert CAS_MESSAGE in proc.stdout and "Nothing was written" in proc.stdout
    step = "Name the new certificate" if failing_module == "win_cert_persistence" else "Write the public certificate"
    assert f"the replacement failed at '{step}" in proc.stdout
    final = state(site)
    assert winsim.get_file(final, rel) == edited, "the administrator's version is kept"
    expected = dict(winsim.apex_files(site["start"]), **{rel: b64(edited)})
    assert winsim.apex_files(final) == expected, "the other files are back to their gathered bytes (rolled back)"
    assert record(site)["status"] == "rolled_back"
    # Gathering again takes the edited file as it is; the next run converges and keeps the administrator's line.
    final.pop("tamper", None)
    save(site, final)
    calls(site)
    proc = run(ansible_env, site, "replace.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert b"; edited by an administrator during the run" in winsim.get_file(state(site), rel) or rel == winsim.OFCIPCER


def test_apricot_config_xml_is_read_and_written_under_its_own_name(ansible_env, site):
    current = state(site)
    winsim.set_file(current, "SRS\\apricot_config.xml", winsim.get_file(current, winsim.APRICOT))
    winsim.set_file(current, winsim.APRICOT, None)
    save(site, current)
    proc = run(ansible_env, site, "replace.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    final = state(site)
    assert winsim.get_file(final, winsim.APRICOT) is None, "no second file under the other name"
    assert b"<cert_friendly_name>Apex One web host 2026</cert_friendly_name>" in winsim.get_file(
        final, "SRS\\apricot_config.xml")
    calls(site)
    proc = run(ansible_env, site, "replace.yml")
    assert [c["module"].rsplit(".", 1)[-1] for c in calls(site)] == ["win_server_info"], "converged"
