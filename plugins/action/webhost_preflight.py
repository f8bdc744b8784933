# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of webhost_preflight: every host's certificate checked on the controller in one task run.

Reads each host's apexone_cert_* variables (the role's defaults apply to what a host does not set), each PFX
or PEM file once, and checks them all with module_utils/_preflight.py (a pool of processes when it pays).
Connects to no host; executes no module.
"""

from __future__ import annotations

import json
import os
import tempfile
import time

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase

from ansible_collections.apexone.certificates.plugins.module_utils import _preflight, _x509

# The role's defaults for the variables read here (roles/webhost_certificate/defaults/main.yml; a unit test
# keeps the two the same).
DEFAULTS = {
    "apexone_cert_pfx_password": "",
    "apexone_cert_pfx_base64_path": "",
    "apexone_cert_key_password": "",
    "apexone_cert_ca_bundle_path": "",
    "apexone_cert_min_days": 30,
}
SOURCE_ERROR = (
    "set either apexone_cert_pfx_path (a PFX) or apexone_cert_cert_path and apexone_cert_key_path (PEM) for {host}, "
    "not both and not neither"
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("hosts", "now", "processes", "summary_path"))

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        started = time.perf_counter()
        args = self._task.args
        hosts = args.get("hosts")
        if hosts is None:
            hosts = task_vars.get("ansible_play_hosts") or []
        if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
            raise AnsibleActionFail("hosts must be a list of inventory host names")
        try:
            processes = int(args.get("processes") or 0)
        except (TypeError, ValueError):
            raise AnsibleActionFail(f"processes must be a whole number, not {args.get('processes')!r}") from None
        hostvars = task_vars.get("hostvars") or {}
        files: dict[str, tuple[bytes | None, str | None]] = {}  # one read per distinct file
        specs = [self._spec(host, hostvars[host] if host in hostvars else {}, args.get("now"), files)
                 for host in hosts]
        try:
            verdicts, used = _preflight.check_fleet(specs, processes)
        except _x509.CertificateError as exc:
            raise AnsibleActionFail(f"webhost_preflight: {exc}") from None
        for spec, verdict in zip(specs, verdicts, strict=True):
            verdict.setdefault("hostname", spec.get("hostname"))
        by_host = dict(zip(hosts, verdicts, strict=True))
        failed = [h for h in hosts if not by_host[h]["ok"]]
        summary = {
            "kind": "apexone.certificates.preflight",
            "version": 1,
            "hosts": by_host,
            "failed": len(failed),
        }
        if args.get("summary_path"):
            self._write_summary(args["summary_path"], summary)
        result.update({
            "changed": False,
            "verdicts": by_host,
            "failed_hosts": failed,
            "summary": {
                "hosts": len(hosts),
                "ok": len(hosts) - len(failed),
                "failed": len(failed),
                "warnings": sum(1 for v in verdicts if any(p["severity"] == "warning" for p in v["problems"])),
            },
            "processes": used,
            "seconds": round(time.perf_counter() - started, 3),
        })
        return result

    def _value(self, variables, name: str, default=None):
        try:
            value = variables[name] if name in variables else DEFAULTS.get(name, default)
        except AnsibleError as exc:  # a variable that does not template
            raise _SpecError(f"{name}: {to_native(exc)}") from None
        return default if value is None else value

    def _spec(self, host: str, variables, now, files: dict) -> dict:
        try:
            return self._spec_or_raise(host, variables, now, files)
        except _SpecError as exc:
            return {"error": str(exc), "hostname": variables.get("apexone_cert_hostname") if hasattr(variables, "get")
                    else None}

    def _spec_or_raise(self, host: str, variables, now, files: dict) -> dict:
        get = self._value
        spec = {
            "hostname": get(variables, "apexone_cert_hostname") or host,
            "min_days": get(variables, "apexone_cert_min_days", 30),
            "now": now,
        }
        pfx_path = get(variables, "apexone_cert_pfx_path", "") or ""
        has_pem = "apexone_cert_cert_path" in variables
        # As the role's defaults: a host's own PFX or PEM files win over a PFX injected for the whole job.
        source = pfx_path or ("" if has_pem else get(variables, "apexone_cert_pfx_base64_path", ""))
        if bool(source) == has_pem or has_pem != ("apexone_cert_key_path" in variables):
            raise _SpecError(SOURCE_ERROR.format(host=host))
        ca_path = get(variables, "apexone_cert_ca_bundle_path", "")
        if ca_path:
            spec["ca"] = self._read(ca_path, files).decode("utf-8", "surrogateescape")
        if source:
            spec.update({
                "pfx": self._read(source, files),
                "label": source,
                "password": get(variables, "apexone_cert_pfx_password", "") or None,
                "encoding": get(variables, "apexone_cert_pfx_encoding", "") or ("binary" if pfx_path else "base64"),
            })
        else:
            spec.update({
                "cert_pem": self._read(get(variables, "apexone_cert_cert_path"), files),
                "key_pem": self._read(get(variables, "apexone_cert_key_path"), files),
                "key_password": get(variables, "apexone_cert_key_password", "") or None,
            })
        return spec

    def _read(self, path, files: dict) -> bytes:
        if not isinstance(path, str) or not path:
            raise _SpecError(f"a certificate file path is empty or not text ({path!r})")
        if path not in files:
            files[path] = self._read_file(path)
        data, error = files[path]
        if error:
            raise _SpecError(error)
        return data

    def _read_file(self, path: str) -> tuple[bytes | None, str | None]:
        try:
            found = self._find_needle("files", path)
        except AnsibleError:
            return None, f"'{path}' was not found on the controller (searched the play's files paths)"
        real = self._loader.get_real_file(found, decrypt=True)
        try:
            with open(real, "rb") as handle:
                return handle.read(), None
        except OSError as exc:
            return None, f"'{path}': cannot read it on the controller ({exc.strerror})"
        finally:
            self._loader.cleanup_tmp_file(real)

    @staticmethod
    def _write_summary(path: str, summary: dict) -> None:
        folder = os.path.dirname(os.path.abspath(path))
        try:
            handle, temp = tempfile.mkstemp(dir=folder, prefix=".apexone-preflight-")
            with os.fdopen(handle, "w") as out:
                out.write(json.dumps(summary, indent=4, sort_keys=True) + "\n")
            os.chmod(temp, 0o644)
            os.replace(temp, path)
        except OSError as exc:
            raise AnsibleActionFail(f"cannot write the JSON summary {path}: {exc.strerror}") from None


class _SpecError(Exception):
    """A host's variables do not say which certificate to check (becomes that host's 'unreadable' verdict)."""
