# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of win_webhost_cert: read and check the PFX on the controller, then pass it to the module.

The PFX never touches the remote disk: its bytes travel base64-encoded in the no_log option ``_pfx_b64``.
A certificate the checks refuse costs no connection to the server at all. In finish mode (``thumbprint`` without
``src``: a certificate enrolled on the server with certreq, issue 16) there is no PFX and the arguments go to the
module as they are.
"""

from __future__ import annotations

import base64
import re

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase

from ansible_collections.apexone.certificates.plugins.module_utils._x509 import (
    CertificateError,
    check_from_input,
    decode_pfx_text,
    pfx_info,
    repack_pfx_legacy,
    windows_cannot_import,
)

MODULE = "apexone.certificates.win_webhost_cert"
INTERNAL_OPTIONS = ("_pfx_b64",)


class MaskedArgs(dict):
    """Module arguments that print with their secrets masked.

    ansible-core logs ``module_args`` with ``%s`` in a debug line (ANSIBLE_DEBUG=1); the PFX and its password
    must not appear there. The values themselves reach the module unchanged.
    """

    SECRET = ("password", "_pfx_b64")

    def _masked(self) -> dict:
        return {k: ("********" if k in self.SECRET and v else v) for k, v in self.items()}

    def __repr__(self) -> str:
        return repr(self._masked())

    __str__ = __repr__


def windows_build(task_vars: dict) -> int | None:
    """The target's Windows build number from gathered facts or win_server_info, or None when unknown."""
    facts = task_vars.get("ansible_facts") or {}
    candidates = [
        task_vars.get("apexone_cert_windows_build"),
        facts.get("distribution_version"),
        task_vars.get("ansible_distribution_version"),
        facts.get("os_version"),
    ]
    for value in candidates:
        if value in (None, ""):
            continue
        if isinstance(value, int):
            return value
        match = re.match(r"^\d+\.\d+\.(\d+)", str(value))
        if match:
            return int(match.group(1))
        if str(value).isdigit():
            return int(value)
    return None


def needs_legacy_pfx(
    mode: str, encryption: str | None, build: int | None, certificate_encryption: str | None = "none"
) -> bool:
    """Whether to re-pack the PFX with 3DES/SHA-1 before sending it (pfx_legacy_encryption)."""
    if mode == "always":
        return True
    if mode == "never":
        return False
    # auto: a target older than Server 2019, or one whose version is unknown, gets the legacy form that every
    # Windows release imports, when either the key or the certificates are protected in a way it cannot read
    # (or in a way not known: an unknown encryption is never taken as a readable one).
    return windows_cannot_import(encryption, build) or windows_cannot_import(certificate_encryption, build)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        args = self._task.args.copy()
        for name in INTERNAL_OPTIONS:
            if name in args:
                raise AnsibleActionFail(f"{name} is an internal option and cannot be set")

        state = args.get("state", "present")
        certificate = None
        if state == "present" and (args.get("src") or not args.get("thumbprint")):
            certificate = self._prepare_pfx(args, task_vars)
        # else finish mode (issue 16): thumbprint without src, the certificate is in My with its key already (certreq
        # -accept); there is no PFX to read or send, and the module checks what is there.

        module_result = self._execute_module(module_name=MODULE, module_args=MaskedArgs(args), task_vars=task_vars)
        invocation = module_result.get("invocation", {}).get("module_args", {})
        for name in INTERNAL_OPTIONS:
            invocation.pop(name, None)
        if certificate is not None:
            module_result["certificate"] = certificate
        result.update(module_result)
        return result

    def _prepare_pfx(self, args: dict, task_vars: dict) -> dict:
        src = args.get("src")
        if not src:
            raise AnsibleActionFail("src is required with state=present: the path of the PFX on the controller (or, for "
                                    "a certificate enrolled on the server, thumbprint without src)")
        if args.get("chain") is not None:
            raise AnsibleActionFail("chain is for finish mode (thumbprint without src); with a PFX the intermediates "
                                    "come from the PFX")
        data = self._read_controller_file(src)
        password = args.get("password")
        try:
            if args.get("src_encoding", "binary") == "base64":
                data = decode_pfx_text(data)
            info = pfx_info(data, password)
        except CertificateError as exc:
            raise AnsibleActionFail(f"{src}: {exc}") from None

        hostname = args.get("hostname")
        ca_path = args.get("ca_path")
        ca = self._read_controller_file(ca_path).decode("utf-8", "replace") if ca_path else None
        try:
            # Without a host name only what belongs to the certificate itself is judged (key, dates, chain...).
            verdict = check_from_input(
                info, hostname=hostname, ca=ca, min_days=args.get("min_days") or 0, check_names=bool(hostname)
            )
        except CertificateError as exc:
            raise AnsibleActionFail(f"{src}: {exc}") from None
        if not verdict["ok"]:
            errors = [f"{p['code']}: {p['message']}" for p in verdict["problems"] if p["severity"] == "error"]
            raise AnsibleActionFail(
                f"refusing to import {src}: " + "; ".join(errors) + " (nothing was sent to the server)"
            )

        mode = args.get("pfx_legacy_encryption", "auto")
        if mode not in ("auto", "always", "never"):
            raise AnsibleActionFail(f"pfx_legacy_encryption must be one of auto, always, never, not {mode!r}")
        repacked = needs_legacy_pfx(
            mode, info.get("encryption"), windows_build(task_vars), info.get("certificate_encryption")
        )
        if repacked:
            try:
                data = repack_pfx_legacy(data, password)
            except CertificateError as exc:
                raise AnsibleActionFail(f"{src}: cannot re-pack with legacy encryption: {exc}") from None
        args["_pfx_b64"] = base64.b64encode(data).decode("ascii")
        return {
            "thumbprint": info["thumbprint"],
            "subject_cn": info["subject_cn"],
            "not_after": info["not_after"],
            "encryption": "PBE-SHA1-3DES" if repacked else info.get("encryption"),
            "repacked_legacy": repacked,
            "warnings": [p["message"] for p in verdict["problems"] if p["severity"] == "warning" and not repacked],
        }

    def _read_controller_file(self, path: str) -> bytes:
        try:
            found = self._find_needle("files", path)
        except AnsibleError as exc:
            raise AnsibleActionFail(f"{path}: not found on the controller ({to_native(exc)})") from None
        # Read and, when vault-encrypted, decrypt in memory: get_real_file would write the decrypted PFX to a
        # temporary file on the controller's disk, left behind if the process dies (#14).
        try:
            data, _plaintext = self._loader._get_file_contents(found)
        except AnsibleError as exc:
            raise AnsibleActionFail(f"{path}: cannot read it on the controller ({to_native(exc.message)})") from None
        return bytes(data)
