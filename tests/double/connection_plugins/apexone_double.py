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
ENCODED_RE = re.compile(r"-EncodedCommand\s+([A-Za-z0-9+/=]+)")
REMOVE_RE = re.compile(r"Remove-Item '([^']+)' -Force")


LEGACY_SEPARATOR = b"\0\0\0\0"


def parse_legacy_payload(in_data: bytes) -> tuple[str, dict, str]:
    """The same from the payload of ansible-core 2.16 to 2.18: ``<exec_wrapper>\\0\\0\\0\\0<json manifest>``.

    The manifest carries ``module_entry`` (base64 of the module source) and ``module_args`` (with
    ``_ansible_module_name``); the minimum-versions lane runs the role with the oldest declared ansible-core.
    """
    manifest = json.loads(in_data.split(LEGACY_SEPARATOR, 1)[1])
    args = manifest["module_args"]
    source = base64.b64decode(manifest["module_entry"]).decode("utf-8", "replace")
    return str(args.get("_ansible_module_name", "")), args, source


def parse_payload(in_data: bytes) -> tuple[str, dict, str]:
    """(module name, module args, module source) from the exec wrapper input Ansible built."""
    if SEPARATOR not in in_data and LEGACY_SEPARATOR in in_data:
        return parse_legacy_payload(in_data)
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


def helper_action(in_data: bytes) -> dict | None:
    """The action of an exec wrapper payload that runs one of Ansible's own helper scripts (mkdtemp...), not a module."""
    if SEPARATOR not in in_data:
        return None
    try:
        manifest = json.loads(in_data.split(SEPARATOR, 1)[1])
    except ValueError:
        return None
    names = [a.get("name") for a in manifest.get("actions", [])]
    if "module_wrapper.ps1" in names or not manifest.get("actions"):
        return None
    return manifest["actions"][0]


def decode_command(cmd) -> str | None:
    """The script of a ``powershell ... -EncodedCommand <base64 UTF-16LE>`` command line, else None."""
    match = ENCODED_RE.search(cmd if isinstance(cmd, str) else " ".join(cmd or []))
    if not match:
        return None
    try:
        return base64.b64decode(match.group(1)).decode("utf-16-le")
    except ValueError:
        return None


# Options of the interface contracts (team plan) that the double accepts before the module declares them.
# Remove an entry when the module's $spec has the option: from then on the source decides.
CONTRACT_OPTIONS: dict[str, set] = {}
_KEY_RE = re.compile(r"(?:^|[;{\n])\s*([A-Za-z_][A-Za-z0-9_]*)\s*=")


def _block(source: str, start: int) -> tuple[int, int] | None:
    """(start, end) of the ``@{ ... }`` / ``{ ... }`` block whose opening brace is at or after ``start``."""
    open_at = source.find("{", start)
    if open_at < 0:
        return None
    depth, index, quote = 0, open_at, None
    while index < len(source):
        char = source[index]
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#":
            newline = source.find("\n", index)
            index = len(source) if newline < 0 else newline
            continue
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return open_at + 1, index
        index += 1
    return None


def _top_level(text: str) -> list[tuple[str, str]]:
    """(key, value text) of the top-level ``key = value`` entries of a hashtable body."""
    entries, depth, quote, statement_start = [], 0, None, 0
    for index, char in enumerate(text):
        if quote:
            if char == quote:
                quote = None
            continue
        if char in "'\"":
            quote = char
        elif char in "{(":
            depth += 1
        elif char in "})":
            depth -= 1
        elif depth == 0 and char in ";\n":
            entries.append(text[statement_start:index])
            statement_start = index + 1
    entries.append(text[statement_start:])
    out = []
    for entry in entries:
        match = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$", entry, re.S)
        if match:
            out.append((match.group(1), match.group(2)))
    return out


def spec_options(source: str) -> set[str] | None:
    """The option names and aliases of a module's ``$spec`` (PowerShell source), or None when not found."""
    match = re.search(r"\$spec\s*=\s*@\{", source)
    if not match:
        return None
    spec = _block(source, match.start())
    if spec is None:
        return None
    body = source[spec[0]:spec[1]]
    options = next((value for key, value in _top_level(body) if key == "options"), None)
    if options is None:
        return set()
    inner = _block(options, 0)
    if inner is None:
        return None
    names = set()
    for key, value in _top_level(options[inner[0]:inner[1]]):
        names.add(key)
        aliases = re.search(r"aliases\s*=\s*@?\(?([^)\n;}]*)", value)
        if aliases:
            names.update(re.findall(r"['\"]([^'\"]+)['\"]", aliases.group(1)))
    return names


def unsupported(name: str, args: dict, source: str) -> list[str]:
    """Options the module source does not declare (Ansible.Basic fails the module on them)."""
    declared = spec_options(source)
    if declared is None:
        return []
    allowed = declared | CONTRACT_OPTIONS.get(name.rsplit(".", 1)[-1], set())
    return sorted(k for k in args if not k.startswith("_ansible") and k not in allowed)


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

    def _record_extra(self, entry: dict) -> None:
        """Round trips that are not module calls (temporary folders, file transfers) go to <host>.extra.jsonl."""
        folder = self.get_option("state_dir")
        if folder:
            with open(os.path.join(folder, f"{self.get_option('remote_addr')}.extra.jsonl"), "a") as log:
                log.write(json.dumps(entry) + "\n")

    def _with_server(self, change):
        """Run ``change(server)`` on the locked state file and save the state."""
        state_path, _log_path = self._paths()
        with open(state_path, "r+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            server = winsim.ApexOneServer(json.load(handle))
            result = change(server)
            handle.seek(0)
            handle.truncate()
            json.dump(server.state, handle)
        return result

    def _housekeeping(self, cmd, in_data) -> tuple[int, bytes, bytes]:
        """Shell commands that are not modules: Ansible's remote temporary folder (create, remove), user expansion.

        A module run with pipelining needs none of them; a copy from the controller (win_copy) does. Each is one
        more round trip on a real WinRM connection, so each is recorded (not in calls.jsonl: those are modules).
        """
        action = helper_action(in_data) if in_data else None
        if action and action["name"] == "powershell_mkdtemp.ps1":
            folder = "C:\\Windows\\TEMP\\" + str(action["params"].get("Name") or "ansible-tmp")
            self._record_extra({"kind": "mkdtemp", "path": folder})
            return 0, (folder + "\r\n").encode(), b""
        script = decode_command(cmd)
        removed = REMOVE_RE.search(script or "")
        if removed:
            self._with_server(lambda server: server.remove_tree(removed.group(1)))
            self._record_extra({"kind": "remove", "path": removed.group(1)})
            return 0, b"", b""
        self._record_extra({"kind": action["name"] if action else "shell"})
        return 0, b"", b""

    def exec_command(self, cmd, in_data=None, sudoable=True):
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        if not in_data or helper_action(in_data) is not None:
            # Shell housekeeping (temp folders, user expansion): a Windows host answers with nothing to report.
            return self._housekeeping(cmd, in_data)
        name, args, source = parse_payload(in_data)
        state_path, log_path = self._paths()
        with open(state_path, "r+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            state = json.load(handle)
            server = winsim.ApexOneServer(state)
            check_mode = bool(args.get("_ansible_check_mode"))
            module_args = {k: v for k, v in args.items() if not k.startswith("_ansible")}
            try:
                extra = unsupported(name, module_args, source)
                if extra:
                    # What Ansible.Basic answers; the module does nothing.
                    raise winsim.ModuleFailure(
                        f"Unsupported parameters for ({name}) module: {', '.join(extra)}. Supported parameters "
                        f"include: {', '.join(sorted(spec_options(source) or []))}")
                result = server.call(name, module_args, check_mode=check_mode)
                rc = 0
            except (winsim.ModuleFailure, KeyError, ValueError) as exc:
                result = {"changed": False, **getattr(exc, "partial", {}), "failed": True, "msg": str(exc)}
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
        """A file sent from the controller (win_copy does that; the collection never does): kept in the state."""
        super().put_file(in_path, out_path)
        with open(in_path, "rb") as handle:
            data = handle.read()
        self._with_server(lambda server: server.write_path(out_path, data))
        self._record_extra({"kind": "put_file", "path": out_path, "bytes": len(data)})

    def fetch_file(self, in_path, out_path):
        raise AnsibleError("apexone_double: file transfer is not simulated")

    def close(self):
        self._connected = False
