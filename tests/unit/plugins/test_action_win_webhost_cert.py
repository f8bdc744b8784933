"""The win_webhost_cert action plugin: checks on the controller, legacy re-pack, no secret in results."""

import base64
import os
import subprocess
import sys
from unittest.mock import MagicMock

import pki
import pytest
from ansible.errors import AnsibleActionFail
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.template import Templar

from ansible_collections.apexone.certificates.plugins.action.win_webhost_cert import (
    ActionModule,
    needs_legacy_pfx,
    windows_build,
)
from ansible_collections.apexone.certificates.plugins.module_utils import _x509

PASSWORD = "Act10n-Pfx-Secret"
HOST = "apex01.corp.example"


@pytest.fixture
def pfx_files(tmp_path, lab_pki, server):
    key, cert = server
    files = {
        "good": pki.make_pfx(key, cert, [lab_pki.intermediate.cert], password=PASSWORD),
        "aes": pki.make_pfx(key, cert, [lab_pki.intermediate.cert], password=PASSWORD, encryption="aes"),
        "expired": pki.make_pfx(
            key,
            lab_pki.server(HOST, key=key, not_before=pki.NOW - 90 * pki.DAY, not_after=pki.NOW - pki.DAY)[1],
            password=PASSWORD,
        ),
    }
    paths = {}
    for name, data in files.items():
        path = tmp_path / f"{name}.pfx"
        path.write_bytes(data)
        paths[name] = str(path)
    paths["ca"] = str(tmp_path / "root.pem")
    (tmp_path / "root.pem").write_text(lab_pki.root.pem)
    return paths


def make_action(args):
    task = Task()
    task.args = args
    loader = DataLoader()
    action = ActionModule(task, MagicMock(), PlayContext(), loader, Templar(loader=loader), None)
    action._execute_module = MagicMock(
        return_value={"changed": True, "invocation": {"module_args": {**args, "_pfx_b64": "AAAA"}}}
    )
    return action


def test_good_pfx_is_sent_base64_and_scrubbed_from_the_result(pfx_files):
    action = make_action({"src": pfx_files["good"], "password": PASSWORD, "hostname": HOST, "ca_path": pfx_files["ca"]})
    result = action.run(task_vars={"ansible_facts": {"distribution_version": "10.0.20348.0"}})
    sent = action._execute_module.call_args.kwargs["module_args"]
    assert base64.b64decode(sent["_pfx_b64"]) == open(pfx_files["good"], "rb").read()
    assert action._execute_module.call_args.kwargs["module_name"] == "apexone.certificates.win_webhost_cert"
    assert "_pfx_b64" not in result["invocation"]["module_args"]
    assert result["certificate"]["subject_cn"] == HOST
    assert result["certificate"]["repacked_legacy"] is False


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("expired", {"hostname": HOST}, "refusing to import"),
        ("good", {"hostname": "other.corp.example"}, "cn_mismatch"),
        ("good", {"password": "wrong"}, "the password is wrong"),
        ("good", {"hostname": HOST, "pfx_legacy_encryption": "sometimes"}, "pfx_legacy_encryption must be one of"),
    ],
)
def test_bad_input_is_refused_before_any_connection(pfx_files, name, args, message):
    action = make_action({"src": pfx_files[name], "password": PASSWORD, **args})
    with pytest.raises(AnsibleActionFail) as caught:
        action.run(task_vars={})
    assert message in str(caught.value)
    assert PASSWORD not in str(caught.value)
    action._execute_module.assert_not_called()


def test_base64_src_is_decoded_in_memory(pfx_files, tmp_path):
    encoded = tmp_path / "good.b64"
    encoded.write_text(base64.encodebytes(open(pfx_files["good"], "rb").read()).decode())
    action = make_action({"src": str(encoded), "src_encoding": "base64", "password": PASSWORD, "hostname": HOST})
    action.run(task_vars={"ansible_facts": {"distribution_version": "10.0.20348.0"}})
    sent = action._execute_module.call_args.kwargs["module_args"]
    assert base64.b64decode(sent["_pfx_b64"]) == open(pfx_files["good"], "rb").read()
    refused = make_action({"src": pfx_files["good"], "src_encoding": "base64", "password": PASSWORD})
    with pytest.raises(AnsibleActionFail, match="not valid base64"):
        refused.run(task_vars={})


def test_internal_option_cannot_be_set(pfx_files):
    action = make_action({"src": pfx_files["good"], "_pfx_b64": "AAAA"})
    with pytest.raises(AnsibleActionFail, match="_pfx_b64 is an internal option"):
        action.run(task_vars={})


def test_missing_src_is_refused():
    action = make_action({"password": PASSWORD})
    with pytest.raises(AnsibleActionFail, match="src is required"):
        action.run(task_vars={})


@pytest.mark.parametrize(
    ("build", "mode", "expected"),
    [("10.0.14393.0", "auto", True), ("10.0.17763.0", "auto", False), (None, "auto", True),
     ("10.0.20348.0", "never", False), ("10.0.20348.0", "always", True)],
)
def test_aes_pfx_is_repacked_for_old_windows(pfx_files, build, mode, expected):
    action = make_action({"src": pfx_files["aes"], "password": PASSWORD, "pfx_legacy_encryption": mode})
    facts = {"ansible_facts": {"distribution_version": build}} if build else {}
    result = action.run(task_vars=facts)
    sent = base64.b64decode(action._execute_module.call_args.kwargs["module_args"]["_pfx_b64"])
    info = _x509.pfx_info(sent, PASSWORD)
    assert result["certificate"]["repacked_legacy"] is expected
    assert (info["encryption"] == "PBE-SHA1-3DES") is expected
    assert info["thumbprint"] == result["certificate"]["thumbprint"]


def test_windows_build_and_decision_helpers():
    assert windows_build({"ansible_facts": {"distribution_version": "10.0.14393.0"}}) == 14393
    assert windows_build({"apexone_cert_windows_build": 17763}) == 17763
    assert windows_build({"ansible_facts": {"os_version": "6.3.9600"}}) == 9600
    assert windows_build({}) is None
    assert needs_legacy_pfx("auto", "PBE-SHA1-3DES", None) is False
    assert needs_legacy_pfx("auto", "PBES2/AES-256-CBC/PBKDF2-SHA-256", 14393) is True


@pytest.mark.slow
def test_refused_pfx_costs_no_connection_under_ansible_playbook(ansible_env, pfx_files, tmp_path):
    """A host that cannot be reached: a refused certificate fails with our message, not 'unreachable'."""
    inventory = tmp_path / "inventory.ini"
    inventory.write_text(
        "apex-unreachable ansible_host=127.0.0.1 ansible_port=9 ansible_connection=winrm "
        "ansible_user=nobody ansible_password=x ansible_winrm_transport=ntlm "
        f"ansible_python_interpreter={sys.executable}\n"
    )
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - name: import\n      apexone.certificates.win_webhost_cert:\n"
        f"        src: {pfx_files['expired']}\n        password: '{{{{ pfx_password }}}}'\n        hostname: {HOST}\n"
        "        friendly_name: Apex One 2026\n"
    )
    proc = subprocess.run(
        ["ansible-playbook", "-vvv", "-i", str(inventory), str(playbook), "-e", f"pfx_password={PASSWORD}"],
        env=ansible_env, capture_output=True, text=True, check=False, timeout=180,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output
    assert "refusing to import" in output and "expired" in output
    assert "unreachable=0" in output
    assert PASSWORD not in output
    assert base64.b64encode(open(pfx_files["expired"], "rb").read()).decode()[:40] not in output
    assert os.path.exists(pfx_files["expired"])


def test_module_arguments_print_masked():
    from ansible_collections.apexone.certificates.plugins.action.win_webhost_cert import MaskedArgs

    args = MaskedArgs({"password": PASSWORD, "_pfx_b64": "QUJD", "friendly_name": "FN"})
    assert PASSWORD not in str(args) and "QUJD" not in repr(args) and "FN" in str(args)
    assert "%s" % args == str(args)  # noqa: UP031 - the form ansible-core logs module_args with
    assert args["password"] == PASSWORD and dict(args)["_pfx_b64"] == "QUJD"
