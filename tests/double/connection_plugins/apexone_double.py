# Test double: a connection plugin that plays a Windows host running Apex One.
"""Connection plugin used only by the tests (not shipped in the collection).

Ansible builds the real PowerShell payload for each Windows module (exec wrapper manifest, module source,
module_utils resolved from the ``#AnsibleRequires`` lines, arguments) exactly as it would for WinRM. This
connection reads that payload instead of sending it, answers from the simulated server in ``winsim.py``, and
records every remote call, with the module's ``no_log`` options (read from the ``$spec`` of the module source
that was sent) masked, to ``<state_dir>/<host>.calls.jsonl``. The simulated server state lives in
``<state_dir>/<host>.json``.
"""

from __future__ import annotations

DOCUMENTATION = """
name: apexone_double
short_description: Simulated Windows host running Apex One (tests only)
description:
  - Answers Windows module calls from a simulated Apex One server and records them.
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

import base64
import fcntl
import json
import os
import re
import sys

from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.plugins.connection import ConnectionBase

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import winsim

SEPARATOR = b"\n\0\0\0\0\n"
NO_LOG_RE = re.compile(r"(\w+)\s*=\s*@\{[^{}]*?no_log\s*=\s*\$true", re.IGNORECASE)
MASK = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def parse_payload(in_data: bytes) -> tuple[str, dict, str]:
    """(module name, module args, module source) from the exec wrapper input Ansible built."""
    if SEPARATOR not in in_data:
        raise AnsibleError("apexone_double: the input is not an exec wrapper payload")
    _bootstrap, manifest = in_data.split(SEPARATOR, 1)
    exec_manifest = json.loads(manifest)
    action = next(a for a in exec_manifest["actions"] if a["name"] == "module_wrapper.ps1")
    script = action["params"]["Script"]
    args = next(v["Value"] for v in action["params"]["Variables"] if v["Name"] == "complex_args")
    # ansible-core 2.19 exec manifest: scripts[<name>]["script"] is the base64 of the module source.
    source = base64.b64decode(exec_manifest["scripts"][script]["script"]).decode("utf-8", "replace")
    return script.rsplit(".", 1)[0], args, source


def scrub(args: dict, source: str) -> dict:
    """Mask the options the module declares no_log, as Ansible does in results."""
    secret = {m.group(1) for m in NO_LOG_RE.finditer(source)}
    return {k: (MASK if k in secret and v not in (None, "") else v) for k, v in args.items() if not k.startswith("_ansible")}


class Connection(ConnectionBase):
    transport = "apexone_double"
    module_implementation_preferences = (".ps1", ".exe", "")
    allow_executable = False
    has_pipelining = True
    allow_extras = True

    def __init__(self, *args, **kwargs):
        self.always_pipeline_modules = True
        self.has_native_async = False
        self._shell_type = "powershell"
        super().__init__(*args, **kwargs)

    def _connect(self):
        self._connected = True
        return self

    def _paths(self):
        folder = self.get_option("state_dir")
        host = self.get_option("remote_addr")
        if not folder:
            raise AnsibleConnectionFailure("apexone_double: set apexone_double_state_dir")
        return os.path.join(folder, f"{host}.json"), os.path.join(folder, f"{host}.calls.jsonl")

    def exec_command(self, cmd, in_data=None, sudoable=True):
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        if not in_data:
            # Shell housekeeping (temp folders, user expansion): a Windows host answers with nothing to report.
            return 0, b"", b""
        name, args, source = parse_payload(in_data)
        state_path, log_path = self._paths()
        with open(state_path, "r+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            state = json.load(handle)
            server = winsim.ApexOneServer(state)
            check_mode = bool(args.get("_ansible_check_mode"))
            module_args = {k: v for k, v in args.items() if not k.startswith("_ansible")}
            try:
                result = server.call(name, module_args, check_mode=check_mode)
                rc = 0
            except (winsim.ModuleFailure, KeyError, ValueError) as exc:
                result = {"failed": True, "msg": str(exc), "changed": False}
                rc = 1
            with open(log_path, "a") as log:
                log.write(json.dumps({"module": name, "args": scrub(args, source), "check_mode": check_mode,
                                      "changed": result.get("changed"), "failed": rc != 0}) + "\n")
            handle.seek(0)
            handle.truncate()
            json.dump(server.state, handle)
        result["invocation"] = {"module_args": scrub(args, source)}
        return rc, json.dumps(result).encode(), b""

    def put_file(self, in_path, out_path):
        raise AnsibleError("apexone_double: file transfer is not simulated; the collection never copies files")

    def fetch_file(self, in_path, out_path):
        raise AnsibleError("apexone_double: file transfer is not simulated")

    def close(self):
        self._connected = False
