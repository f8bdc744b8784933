"""The fleet preflight: webhost_preflight action and module_utils/_preflight, against the per-host path."""

import base64
import os
from unittest.mock import MagicMock

import pki
import pytest
import yaml
from ansible.errors import AnsibleActionFail
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.template import Templar

from ansible_collections.apexone.certificates.plugins.action import webhost_preflight
from ansible_collections.apexone.certificates.plugins.module_utils import _preflight, _x509

PASSWORD = "Fleet-Pfx-Secret-1"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
NOW = pki.NOW.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def fleet(lab_pki, tmp_path_factory):
    """Six hosts: good PFX, expired, PEM pair, base64 PFX, wrong password, PFX without its intermediate."""
    folder = tmp_path_factory.mktemp("fleet")
    (folder / "root.pem").write_text(lab_pki.root.pem)
    key = pki.rsa_key(2048, slot=640)
    hosts = {}
    for name in ("good", "expired", "pem", "b64", "wrongpw", "nochain"):
        fqdn = f"apex-{name}.corp.example"
        kwargs = {"not_before": pki.NOW - 90 * pki.DAY, "not_after": pki.NOW - pki.DAY} if name == "expired" else {}
        _key, cert = lab_pki.server(fqdn, key=key, **kwargs)
        chain = [] if name == "nochain" else [lab_pki.intermediate.cert]
        data = pki.make_pfx(key, cert, chain, password=PASSWORD)
        variables = {"apexone_cert_hostname": fqdn, "apexone_cert_ca_bundle_path": str(folder / "root.pem"),
                     "apexone_cert_pfx_password": PASSWORD}
        if name == "pem":
            (folder / "pem.crt").write_text(pki.pem(cert) + lab_pki.intermediate.pem)
            (folder / "pem.key").write_text(pki.key_pem(key))
            variables.update({"apexone_cert_cert_path": str(folder / "pem.crt"),
                              "apexone_cert_key_path": str(folder / "pem.key")})
            del variables["apexone_cert_pfx_password"]
        elif name == "b64":
            (folder / "b64.txt").write_text(base64.encodebytes(data).decode())
            variables["apexone_cert_pfx_base64_path"] = str(folder / "b64.txt")
        else:
            (folder / f"{name}.pfx").write_bytes(data)
            variables["apexone_cert_pfx_path"] = str(folder / f"{name}.pfx")
        if name == "wrongpw":
            variables["apexone_cert_pfx_password"] = "not-it"
        hosts[name] = variables
    hosts["nothing"] = {}
    return hosts


def make_action(args):
    task = Task()
    task.args = args
    loader = DataLoader()
    return webhost_preflight.ActionModule(task, MagicMock(), PlayContext(), loader, Templar(loader=loader), None)


def run(hostvars, **args):
    action = make_action({"now": NOW, **args})
    return action.run(task_vars={"hostvars": hostvars, "ansible_play_hosts": list(hostvars)})


def per_host_verdict(variables):
    """What the role's per-host path gives: the pfx_info lookup, then the webhost_cert_check filter."""
    ca = open(variables["apexone_cert_ca_bundle_path"]).read()
    if "apexone_cert_cert_path" in variables:
        return _x509.check_from_input(open(variables["apexone_cert_cert_path"]).read(),
                                      hostname=variables["apexone_cert_hostname"], ca=ca,
                                      key=open(variables["apexone_cert_key_path"]).read(), now=NOW)
    if "apexone_cert_pfx_base64_path" in variables:
        data = _x509.decode_pfx_text(open(variables["apexone_cert_pfx_base64_path"], "rb").read())
    else:
        data = open(variables["apexone_cert_pfx_path"], "rb").read()
    info = _x509.pfx_info(data, variables["apexone_cert_pfx_password"])
    return _x509.check_from_input(info, hostname=variables["apexone_cert_hostname"], ca=ca, now=NOW)


def test_each_host_gets_the_verdict_of_the_per_host_check(fleet):
    result = run(fleet)
    verdicts = result["verdicts"]
    for name in ("good", "expired", "pem", "b64", "nochain"):
        assert verdicts[name] == per_host_verdict(fleet[name]), name
    assert [p["code"] for p in verdicts["good"]["problems"]] == []
    assert [p["code"] for p in verdicts["expired"]["problems"]] == ["expired"]
    assert [p["code"] for p in verdicts["nochain"]["problems"]] == ["chain_incomplete"]
    assert result["failed_hosts"] == ["expired", "wrongpw", "nochain", "nothing"]
    assert result["summary"] == {"hosts": 7, "ok": 3, "failed": 4, "warnings": 0}
    assert result["changed"] is False and result["processes"] == 1


def test_unreadable_hosts_say_why_and_what_to_do(fleet):
    verdicts = run(fleet)["verdicts"]
    (problem,) = verdicts["wrongpw"]["problems"]
    assert problem["code"] == "unreadable" and problem["severity"] == "error"
    assert problem["message"] == (
        f"'{fleet['wrongpw']['apexone_cert_pfx_path']}': could not decrypt the PFX: the password is wrong or the file "
        "is damaged (check apexone_cert_pfx_password / the vault value, PFX passwords are case-sensitive; if the "
        "password is right, copy the file again)")
    assert "not-it" not in str(verdicts)
    assert verdicts["nothing"] == {
        "ok": False, "thumbprint": None, "subject_cn": None, "not_after": None, "days_left": None, "hostname": None,
        "problems": [{"code": "unreadable", "severity": "error", "message":
                      "set either apexone_cert_pfx_path (a PFX) or apexone_cert_cert_path and apexone_cert_key_path "
                      "(PEM) for nothing, not both and not neither"}]}
    missing = run({"gone": {"apexone_cert_pfx_path": "/nonexistent/x.pfx"}})["verdicts"]["gone"]
    assert missing["problems"][0]["message"] == (
        "'/nonexistent/x.pfx' was not found on the controller (searched the play's files paths)")


def test_summary_file_is_the_json_the_playbook_documents(fleet, tmp_path):
    path = tmp_path / "summary.json"
    result = run(fleet, summary_path=str(path))
    import json

    summary = json.loads(path.read_text())
    assert summary == {"kind": "apexone.certificates.preflight", "version": 1, "hosts": result["verdicts"],
                       "failed": 4}


def test_worker_processes_give_the_same_verdicts(fleet):
    one = run(fleet, processes=1)
    three = run(fleet, processes=3)
    assert three["processes"] == 3
    assert three["verdicts"] == one["verdicts"]


def test_a_worker_that_fails_has_its_part_checked_here(fleet, monkeypatch):
    monkeypatch.setattr(_preflight, "_WORKER", "import sys; sys.exit(3)")
    result = run(fleet, processes=2)
    assert result["processes"] == 1  # the worker delivered nothing; its hosts were checked in this process
    assert result["verdicts"] == run(fleet, processes=1)["verdicts"]


def test_pool_only_when_it_pays(monkeypatch):
    assert _preflight.pool_size(10) == 1
    assert _preflight.pool_size(5, processes=8) == 5
    monkeypatch.setattr(_preflight.os, "sched_getaffinity", lambda _pid: {0, 1})
    assert _preflight.pool_size(_preflight.POOL_MIN_HOSTS) == 2
    assert _preflight.pool_size(5000) == 2


def test_missing_library_is_one_clear_task_error(fleet, monkeypatch):
    monkeypatch.setattr(_x509, "HAS_ASN1CRYPTO", False)
    with pytest.raises(AnsibleActionFail, match="pip install asn1crypto"):
        run(fleet)


def test_bad_arguments():
    with pytest.raises(AnsibleActionFail, match="hosts must be a list"):
        run({}, hosts="all")
    with pytest.raises(AnsibleActionFail, match="processes must be a whole number"):
        run({}, processes="many")


def test_defaults_are_the_roles():
    with open(os.path.join(REPO, "roles", "webhost_certificate", "defaults", "main.yml")) as handle:
        role = yaml.safe_load(handle)
    for name, value in webhost_preflight.DEFAULTS.items():
        assert role[name] == value, name
