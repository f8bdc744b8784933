"""win_webhost_cert's action plugin in finish mode (issue 16): thumbprint without src, no PFX read or sent."""

from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleActionFail
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.template import Templar

from ansible_collections.apexone.certificates.plugins.action.win_webhost_cert import ActionModule

THUMB = "2E3F5C8A9B1D4E6F708192A3B4C5D6E7F8091A2B"


def make_action(args):
    task = Task()
    task.args = args
    loader = DataLoader()
    action = ActionModule(task, MagicMock(), PlayContext(), loader, Templar(loader=loader), None)
    action._execute_module = MagicMock(return_value={"changed": True, "thumbprint": THUMB,
                                                     "invocation": {"module_args": dict(args)}})
    return action


def test_finish_mode_sends_the_arguments_as_they_are():
    args = {"thumbprint": THUMB, "friendly_name": "Apex One web host 2026", "chain": [], "exportable": False}
    action = make_action(args)
    result = action.run(task_vars={})
    sent = action._execute_module.call_args.kwargs["module_args"]
    assert dict(sent) == args and "_pfx_b64" not in sent
    assert "certificate" not in result and result["thumbprint"] == THUMB


def test_present_without_src_or_thumbprint_is_refused():
    with pytest.raises(AnsibleActionFail, match="thumbprint without src"):
        make_action({"friendly_name": "x"}).run(task_vars={})


def test_chain_with_a_pfx_is_refused(tmp_path):
    with pytest.raises(AnsibleActionFail, match="chain is for finish mode"):
        make_action({"src": str(tmp_path / "x.pfx"), "thumbprint": THUMB, "chain": []}).run(task_vars={})
