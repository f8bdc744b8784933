# Test double for the minimum-versions lane (hack/lane.py): apexone_double plus the module's own option check.
"""Connection plugin used only by the minimum-versions lane (not shipped in the collection).

It is the ``apexone_double`` connection (tests/double) with one addition: before the simulated server answers,
the options Ansible sent are checked against the argument spec of the module source that was sent, as
``Ansible.Basic.AnsibleModule`` does on Windows. An option that the lane's ansible.windows (or the collection's
own module) does not know fails the task with Ansible.Basic's message. The specs come from the JSON file named by
``APEXONE_LANE_SPECS`` (hack/lane.py writes it from the ``$spec`` of each module, read by
tests/unit/powershell/pwsh_static.py); a module without a literal ``$spec`` (legacy Parse-Args, like win_copy)
accepts any option, on Windows as here.
"""

from __future__ import annotations

DOCUMENTATION = """
name: apexone_lane
short_description: Simulated Windows host running Apex One that checks module options (tests only)
description:
  - The apexone_double connection, checking module options against the module's argument spec first.
author: apexone.certificates maintainers (@apexone-certificates)
options:
  state_dir:
    description: Folder that holds <host>.json (server state) and <host>.calls.jsonl (recorded calls).
    type: path
    vars:
      - name: apexone_double_state_dir
    env:
      - name: APEXONE_DOUBLE_STATE_DIR
  remote_addr:
    description: The host name (file name of its state).
    type: str
    default: inventory_hostname
    vars:
      - name: inventory_hostname
      - name: ansible_host
"""

import json  # noqa: E402  (DOCUMENTATION first, as Ansible plugins do)
import os  # noqa: E402
import sys  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "double", "connection_plugins"))

import apexone_double  # noqa: E402


def _specs() -> dict:
    path = os.environ.get("APEXONE_LANE_SPECS")
    if not path:
        return {}
    with open(path) as handle:
        return json.load(handle)


def option_problem(module: str, args: dict, specs: dict) -> str | None:
    """Ansible.Basic's error for ``args`` sent to ``module``, or None when its spec accepts them."""
    leaf = module.rsplit(".", 1)[-1]
    spec = specs.get(leaf)
    if spec is None:
        return None
    given = [k for k in args if not k.startswith("_ansible_")]
    unsupported = sorted(k for k in given if k not in spec["options"])
    if unsupported:
        return (f"Unsupported parameters for ({leaf}) module: {', '.join(unsupported)}. "
                f"Supported parameters include: {', '.join(spec['options'])}")
    missing = sorted(k for k in spec["required"] if args.get(k) is None)
    if missing:
        return f"missing required arguments: {', '.join(missing)}"
    return None


class Connection(apexone_double.Connection):
    transport = "apexone_lane"

    def exec_command(self, cmd, in_data=None, sudoable=True):
        if in_data and apexone_double.helper_action(in_data) is None:
            name, args, _source = apexone_double.parse_payload(in_data)
            problem = option_problem(name, args, _specs())
            if problem:
                _state, log_path = self._paths()
                with open(log_path, "a") as log:
                    log.write(json.dumps({"module": name, "args": sorted(args), "failed": True,
                                          "lane_option_error": problem}) + "\n")
                return 1, json.dumps({"failed": True, "changed": False, "msg": problem}).encode(), b""
        return super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
