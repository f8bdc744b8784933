"""A vault-encrypted PFX is decrypted in memory on the controller (issue #14): no decrypted temporary file.

``DataLoader.get_real_file`` writes the decrypted bytes to a temporary file (kept if the process dies); the
win_webhost_cert action and the pfx_info lookup must not call it.
"""

from __future__ import annotations

import base64
from unittest.mock import MagicMock

import pki
import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import VaultLib, VaultSecret
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.template import Templar

from ansible_collections.apexone.certificates.plugins.action.win_webhost_cert import ActionModule
from ansible_collections.apexone.certificates.plugins.lookup.pfx_info import LookupModule

PASSWORD = "Vault-Pfx-Secret-7"
HOST = "apex01.corp.example"


@pytest.fixture
def vaulted(tmp_path, lab_pki, server):
    key, cert = server
    pfx = pki.make_pfx(key, cert, [lab_pki.intermediate.cert], password=PASSWORD)
    secret = VaultSecret(b"vault-password-for-tests")
    path = tmp_path / "vaulted.pfx"
    path.write_bytes(VaultLib([("default", secret)]).encrypt(pfx))
    loader = DataLoader()
    loader.set_vault_secrets([("default", secret)])

    def no_temp_file(*_args, **_kwargs):
        raise AssertionError("get_real_file writes the decrypted PFX to a temporary file")

    loader.get_real_file = no_temp_file
    return {"path": str(path), "pfx": pfx, "loader": loader}


def test_the_action_decrypts_the_vaulted_pfx_in_memory(vaulted):
    task = Task()
    task.args = {"src": vaulted["path"], "password": PASSWORD, "hostname": HOST}
    loader = vaulted["loader"]
    action = ActionModule(task, MagicMock(), PlayContext(), loader, Templar(loader=loader), None)
    action._execute_module = MagicMock(return_value={"changed": True, "invocation": {"module_args": {}}})
    action.run(task_vars={"ansible_facts": {"distribution_version": "10.0.20348.0"}})
    sent = action._execute_module.call_args.kwargs["module_args"]
    assert base64.b64decode(sent["_pfx_b64"]) == vaulted["pfx"]


def test_the_lookup_decrypts_the_vaulted_pfx_in_memory(vaulted):
    lookup = LookupModule(loader=vaulted["loader"])
    lookup.find_file_in_search_path = lambda _variables, _dir, term, ignore_missing=False: term
    # Options as ansible-core would resolve them (the plugin's config is not loaded outside a play).
    lookup.set_options = lambda **_kwargs: None
    lookup.get_option = {"password": PASSWORD, "encoding": "binary"}.get
    (info,) = lookup.run([vaulted["path"]], variables={}, password=PASSWORD)
    assert info["has_private_key"] is True and info["subject_cn"] == HOST
