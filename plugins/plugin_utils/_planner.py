# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The planner: facts of win_server_info + the desired certificate -> the list of actions needed.

Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.

Pure Python, no Ansible imports, no I/O: every decision about *what* to change on an Apex One server is made
here, on the controller, where it is unit-tested. The Windows modules only apply one well-defined change each.
An action is ``{step, steps, module, reason, reasons, args}``: ``args`` are the module options the role passes
(never a secret: the PFX and its password are added by the role).

Files (steps 4 and 7): win_server_info returns the raw bytes of OfcIPCer.dat, Service.ini and apricot_config; the
plan computes their new bytes here (_apexone_files) and passes them, with the SHA-256 of the gathered file, to
win_agent_cert / win_cert_persistence, which write only if the file is still what was gathered. ``files`` in the
plan lists each planned file change with a text diff (the writers themselves only report SHA-256 values).
"""

from __future__ import annotations

import ipaddress
import re
import typing as t

from ansible_collections.apexone.certificates.plugins.module_utils._apexone_files import (
    check_value,
    enrich_server_info,
    file_bytes,
    ofcipcer_content,
    set_apricot_cert,
    set_ini_values,
    sha256_hex,
    text_diff,
    write_args,
)
from ansible_collections.apexone.certificates.plugins.module_utils._x509 import (
    CertificateError,
    dns_name_matches,
    normalize_hostname,
    windows_cannot_import,
)

# KA-0004491: the step-7 fix needs OfficeScan XG build 5417 or later (any Apex One build has it).
STEP7_MIN_XG_BUILD = 5417
# KA-0010488 compares the certificate subject with Master_DomainName "before 1141"; what 1141 denotes is unclear
# (APEXONE_FACTS), and agents reach the server by the name they were installed with, so the planner compares on
# every version (a blocker unless the operator overrides it with allow_name_mismatch).

MODULE_CERT = "apexone.certificates.win_webhost_cert"
MODULE_AGENT = "apexone.certificates.win_agent_cert"
MODULE_BINDING = "apexone.certificates.win_iis_https_binding"
MODULE_PERSISTENCE = "apexone.certificates.win_cert_persistence"
MODULE_SCHANNEL = "apexone.certificates.win_schannel_trust"
MODULE_ROOTS = "apexone.certificates.win_root_store_hygiene"

# The order the role applies them in (KB order, the Schannel and root store changes before the binding so the
# first TLS handshake after the rebinding already sees them).
APPLY_ORDER = (MODULE_CERT, MODULE_ROOTS, MODULE_SCHANNEL, MODULE_AGENT, MODULE_BINDING, MODULE_PERSISTENCE)
SERVICE_KEYS = ("master", "ad_integration", "smart_protection")
MODULE_SERVICES = "apexone.certificates.win_apexone_services"
# win_server_info words (Win32_Service / ansible.windows.win_service_info) -> the status words of contract 4.
_STATE_TO_STATUS = {"started": "running", "stopped": "stopped", "start_pending": "start_pending",
                    "stop_pending": "stop_pending", "paused": "paused", "pause_pending": "pause_pending",
                    "continue_pending": "continue_pending"}
START_MODES = ("auto", "delayed", "manual", "disabled")


class PlanError(Exception):
    """The facts or the desired state are not usable; the message says what is missing."""


def _norm(thumbprint: t.Any) -> str:
    return re.sub(r"[^0-9A-Fa-f]", "", str(thumbprint or "")).upper()


def _get(mapping: t.Any, *path: str, default: t.Any = None) -> t.Any:
    for key in path:
        if not isinstance(mapping, dict) or key not in mapping or mapping[key] is None:
            return default
        mapping = mapping[key]
    return mapping


def _int(value: t.Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


class _Plan:
    def __init__(self) -> None:
        self.actions: dict[str, dict[str, t.Any]] = {}
        self.warnings: list[dict[str, str]] = []
        self.blockers: list[dict[str, str]] = []
        self.files: list[dict[str, t.Any]] = []

    def file_change(self, key: str, entry: dict, before: bytes | None, after: bytes, diff: str) -> dict[str, t.Any]:
        """Record a planned file change; returns the writer options for it."""
        args = write_args(entry, after)
        self.files.append({
            "file": key,
            "path": entry.get("path"),
            "sha256_before": args["expected_sha256"],
            "sha256_after": sha256_hex(after),
            "content_before": entry.get("content") if before is not None else None,
            "diff": diff,
        })
        return args

    def add(self, module: str, step: int, reason: str, **args: t.Any) -> None:
        action = self.actions.setdefault(
            module, {"module": module, "step": step, "steps": [], "reasons": [], "args": {}}
        )
        if step not in action["steps"]:
            action["steps"].append(step)
        action["step"] = min(action["steps"])
        action["reasons"].append(reason)
        action["args"].update(args)

    def warn(self, code: str, message: str) -> None:
        self.warnings.append({"code": code, "severity": "warning", "message": message})

    def block(self, code: str, message: str) -> None:
        self.blockers.append({"code": code, "severity": "error", "message": message})


def _validate_desired(desired: t.Any) -> dict[str, t.Any]:
    if not isinstance(desired, dict):
        raise PlanError("desired must be a dict (thumbprint, subject_cn, friendly_name, ...)")
    missing = [k for k in ("thumbprint", "subject_cn", "friendly_name") if not desired.get(k)]
    if missing:
        raise PlanError(f"desired is missing {', '.join(missing)}")
    thumbprint = _norm(desired["thumbprint"])
    if len(thumbprint) != 40:
        raise PlanError(f"desired.thumbprint {desired['thumbprint']!r} is not a SHA-1 thumbprint (40 hex characters)")
    mode = desired.get("client_auth_trust_mode")
    if mode not in (None, "") and _int(mode) not in (0, 1, 2):
        raise PlanError(f"client_auth_trust_mode must be 0, 1 or 2 (or null to leave it), not {mode!r}")
    ports = desired.get("ports") or []
    if not isinstance(ports, (list, tuple)):
        raise PlanError(f"ports must be a list of TCP ports (for example [4343]), not {ports!r}")
    readers = desired.get("key_readers") or []
    if not isinstance(readers, (list, tuple)) or not all(isinstance(r, str) for r in readers):
        raise PlanError(f"key_readers must be a list of account names, not {readers!r}")
    for port in ports:
        if _int(port) is None or not 1 <= _int(port) <= 65535:
            raise PlanError(f"port {port!r} is out of range: give TCP ports between 1 and 65535")
    for key in ("san_dns", "san_ip"):
        names = desired.get(key) or []
        if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
            raise PlanError(f"{key} must be a list of names (take it from the pfx_info lookup), not {names!r}")
    return {
        **desired,
        "thumbprint": thumbprint,
        "client_auth_trust_mode": None if mode in (None, "") else _int(mode),
        "ports": [_int(p) for p in ports],
        "san_dns": list(desired.get("san_dns") or []),
        "san_ip": list(desired.get("san_ip") or []),
        "allow_name_mismatch": _bool(desired.get("allow_name_mismatch"), "allow_name_mismatch", False),
        "restart_services": _bool(desired.get("restart_services"), "restart_services", True),
    }


def _bool(value: t.Any, name: str, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise PlanError(f"{name} must be true or false, not {value!r}")


def _validate_facts(facts: t.Any) -> None:
    if not isinstance(facts, dict):
        raise PlanError("server_info must be the result of apexone.certificates.win_server_info (a dict)")
    if facts.get("failed"):
        raise PlanError(f"win_server_info failed on this host: {facts.get('msg', 'no message')}")
    for key in ("install", "certificates", "iis"):
        if not isinstance(facts.get(key), dict):
            raise PlanError(
                f"server_info has no '{key}': pass the registered result of apexone.certificates.win_server_info"
            )
    if not _get(facts, "install", "path"):
        raise PlanError(
            "server_info names no Apex One server folder (install.path is empty): Apex One is not installed on this "
            "host, or set install_path"
        )


def _apex_sites(facts: dict, desired: dict) -> list[dict]:
    sites = _get(facts, "iis", "sites", default=[]) or []
    wanted = desired.get("site_name")
    if wanted:
        sites = [s for s in sites if str(s.get("name", "")).lower() == str(wanted).lower()]
    return sites


def _https_bindings(sites: list[dict], ports: list[int]) -> list[dict]:
    found = []
    for site in sites:
        for binding in site.get("bindings") or []:
            if str(binding.get("protocol", "")).lower() != "https":
                continue
            if ports and _int(binding.get("port")) not in ports:
                continue
            found.append({**binding, "site": site.get("name")})
    return found


def _cert_in(store: list[dict], thumbprint: str) -> dict | None:
    return next((c for c in store or [] if _norm(c.get("thumbprint")) == thumbprint), None)


def _acl_identities(cert: dict | None) -> list[str]:
    """Names and SIDs of the allow entries of a certificate's private key (either may match a reader)."""
    acl = _get(cert or {}, "private_key", "acl", default=[]) or []
    out = []
    for entry in acl:
        if str(entry.get("type", "allow")).lower() == "allow":
            out.extend(str(entry[k]) for k in ("identity", "sid") if entry.get(k))
    return out


# Least key access (security, issue #14). IIS does not need to read the web host key: the TLS handshake of an
# https binding is done by http.sys through Schannel, which runs in LSASS (Microsoft, "Credentials Processes in
# Windows Authentication"; an inaccessible key is reported by Schannel event 36870 with "The SSPI client process is
# SYSTEM (PID: 4)", i.e. http.sys, not the w3wp worker), and no Trend Micro document says Apex One reads the key.
# So the new key gets no reader beyond what the import gives it (SYSTEM and Administrators), unless the operator
# names readers, or asks to copy the readers of the old key; then only allow entries that grant read, matched by
# SID, without the well-known administrative identities.
ADMIN_KEY_SIDS = frozenset({"S-1-5-18", "S-1-5-32-544", "S-1-3-0"})  # SYSTEM, Administrators, CREATOR OWNER
_READ_RIGHTS = frozenset({"fullcontrol", "modify", "read", "readandexecute", "readdata", "genericread", "genericall"})
_READ_BITS = 0x1 | 0x80000000 | 0x10000000  # FILE_READ_DATA, GENERIC_READ, GENERIC_ALL


def _grants_read(rights: t.Any) -> bool:
    """Whether a FileSystemRights text ('Read, Synchronize', 'FullControl', '-2147483648') includes reading."""
    for token in re.split(r"[,\s]+", str(rights or "").strip()):
        if token.lower() in _READ_RIGHTS:
            return True
        if re.fullmatch(r"-?\d+", token) and int(token) & _READ_BITS:
            return True
    return False


def key_readers(desired: dict, old_certs: list[dict | None]) -> list[str]:
    """Who gets read access to the new private key, beyond SYSTEM and Administrators.

    ``desired['key_readers']`` (names or SIDs) as given; plus, only with ``desired['copy_key_readers']``, the SIDs
    of the old keys' allow entries that grant read, other than SYSTEM, Administrators and CREATOR OWNER. Entries
    without a SID are never copied (a name alone is not matched).
    """
    readers = [str(r) for r in desired.get("key_readers") or []]
    copy_old = desired.get("copy_key_readers", False)
    if not isinstance(copy_old, bool):
        raise PlanError(f"copy_key_readers must be true or false, not {copy_old!r}")
    if not copy_old:
        return readers
    for cert in old_certs:
        for entry in _get(cert or {}, "private_key", "acl", default=[]) or []:
            sid = str(entry.get("sid") or "")
            if (str(entry.get("type", "allow")).lower() == "allow" and re.fullmatch(r"S-1-\d+(-\d+)+", sid)
                    and sid not in ADMIN_KEY_SIDS and _grants_read(entry.get("rights")) and sid not in readers):
                readers.append(sid)
    return readers


def _product_build(facts: dict) -> tuple[str | None, int | None]:
    version = _get(facts, "product", "server_version")
    return (str(version) if version is not None else None, _int(_get(facts, "product", "service_pack_build")))


# How win_server_info names a file encoding -> the codec _apexone_files edits that file with. Only a file with a
# byte order mark is decoded as Unicode; any other is edited byte-transparently and takes ASCII values only.
_EDIT_CODECS = {"utf-8-bom": "utf-8", "utf-16le": "utf-16-le", "utf-16be": "utf-16-be"}


def _unwritable(friendly: str, facts: dict) -> str | None:
    """Why step 7 could not write the friendly name into Service.ini / apricot_config unchanged, else None."""
    for key, label in (("service_ini", "Service.ini"), ("apricot_config", "apricot_config")):
        if not _get(facts, key, "exists"):
            continue
        codec = _EDIT_CODECS.get(str(_get(facts, key, "encoding") or ""), "latin-1")
        try:
            check_value("friendly_name", friendly, codec)
        except ValueError as exc:
            return f"{label} ({_get(facts, key, 'encoding') or 'unknown encoding'}): {exc}"
    return None


def _sslcert_key(binding: dict) -> str | None:
    """The http.sys record (``endpoint``) an IIS https binding uses, as win_iis_https_binding finds it.

    None for a central-certificate-store binding (no certificate hash) or a binding whose record cannot be named.
    """
    flags = _int(binding.get("ssl_flags")) or 0
    port = _int(binding.get("port"))
    if flags & 2 or port is None:
        return None
    if flags & 1:
        host = str(binding.get("hostname") or "").strip().lower()
        return f"{host}:{port}" if host else None
    address = str(binding.get("ip") or "*").strip().strip("[]")
    if address in ("", "*"):
        return f"0.0.0.0:{port}"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return None
    return f"[{parsed}]:{port}" if parsed.version == 6 else f"{parsed}:{port}"


def _http_sys_records(facts: dict) -> dict[str, dict]:
    return {
        str(entry.get("endpoint") or "").lower(): entry
        for entry in _get(facts, "http_sys", "bindings", default=[]) or []
        if isinstance(entry, dict) and entry.get("endpoint")
    }


def _served_thumbprint(binding: dict, records: dict[str, dict]) -> str:
    """What a binding serves: its http.sys record's certificate (what clients get), else the IIS configuration's."""
    key = _sslcert_key(binding)
    entry = records.get(key.lower()) if key else None
    return _norm(entry.get("thumbprint")) if entry is not None else _norm(binding.get("certificate_hash"))


def certificate_covers(name: t.Any, subject_cn: t.Any, san_dns: t.Any = (), san_ip: t.Any = ()) -> bool:
    """Whether a certificate (CN, SAN DNS names, SAN IPs) is valid for ``name``: RFC 6125 via _x509's matcher."""
    try:
        host = normalize_hostname(name)
    except CertificateError:
        return False
    cn = str(subject_cn or "").strip().lower().rstrip(".")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return cn == host or any(dns_name_matches(str(n), host) for n in san_dns or ())
    listed = set()
    for value in san_ip or ():
        try:
            listed.add(ipaddress.ip_address(str(value).strip("[]")))
        except ValueError:
            continue
    return address in listed or cn == host


def _status(service: dict) -> str | None:
    status = service.get("status")
    if status:
        return str(status).lower()
    state = service.get("state")
    return _STATE_TO_STATUS.get(str(state).lower(), str(state).lower()) if state else None


def _services_found(facts: dict) -> list[dict]:
    """The Apex One services that exist: name, status, start_mode, dependents (contract 4 of win_server_info)."""
    found = []
    services = facts.get("services") or {}
    for key in SERVICE_KEYS:
        service = services.get(key) if isinstance(services, dict) else None
        if not isinstance(service, dict) or not service.get("exists") or not service.get("name"):
            continue
        found.append({
            "key": key,
            "name": str(service["name"]),
            "status": _status(service),
            "start_mode": str(service.get("start_mode") or "").lower() or None,
            "dependents": [str(d) for d in service.get("dependents") or [] if d],
        })
    return found


_RUNNING = ("running", "start_pending", "continue_pending", "pause_pending", "paused", "stop_pending")


def _stop_order(services: list[dict]) -> list[str]:
    """Names to stop, dependents first: every running Apex One service and every service that depends on it.

    A dependent that is not an Apex One service is listed too (win_apexone_services stops it only if it runs and
    reports its state, so that it is started again afterwards); nothing is stopped implicitly (-Force).
    """
    by_name = {s["name"].lower(): s for s in services}
    order: list[str] = []

    def add(name: str) -> None:
        if name.lower() not in {o.lower() for o in order}:
            order.append(name)

    def visit(service: dict, seen: frozenset) -> None:
        # EnumDependentServices lists dependents in reverse start order: the order to stop them in.
        for dependent in service["dependents"]:
            inner = by_name.get(dependent.lower())
            if inner is not None and dependent.lower() not in seen:
                visit(inner, seen | {dependent.lower()})
            else:
                add(dependent)
        add(service["name"])

    for service in services:
        if service["status"] in _RUNNING:
            visit(service, frozenset({service["name"].lower()}))
    return order


def service_restore(before: t.Any) -> list[dict[str, str]]:
    """The win_apexone_services list that puts services back as recorded, in reverse stop order.

    ``before`` is the ``services`` result of win_apexone_services (``{name, before: {status, start_mode}}``) or the
    plan's ``services_before`` (``{name, status, start_mode}``). Each service gets its start mode back first (a
    disabled one is startable again only then), then its status.
    """
    if not isinstance(before, (list, tuple)):
        raise PlanError("the recorded services must be a list of {name, status, start_mode}")
    restore = []
    for entry in reversed(list(before)):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"].strip():
            raise PlanError(f"a recorded service has no name: {entry!r}")
        state = entry.get("before") if isinstance(entry.get("before"), dict) else entry
        if state.get("status") is None and state.get("start_mode") is None:
            continue  # a dependent that does not exist
        item = {"name": entry["name"], "state": "started" if _status(state) in _RUNNING else "stopped"}
        mode = str(state.get("start_mode") or "").lower()
        if mode in START_MODES:
            item["start_mode"] = mode
        restore.append(item)
    return restore


def _binding_restore(changes: list[dict]) -> list[dict[str, t.Any]]:
    """How a rollback puts each binding back on its own previous certificate: one call per previous thumbprint.

    win_iis_https_binding is called with ``bindings`` (those of the site that had that thumbprint) and
    ``old_thumbprint`` set to the new certificate; an IP-specific http.sys record that no binding uses goes back with
    the binding on its port. A binding that had no certificate cannot be given "none" back and is not listed.
    """
    groups: dict[str, list[str]] = {}
    for change in changes:
        if change.get("site") is not None and change.get("old_thumbprint"):
            groups.setdefault(change["old_thumbprint"], []).append(change["binding"])
    return [{"thumbprint": thumbprint, "bindings": bindings} for thumbprint, bindings in groups.items()]


def plan(server_info: t.Any, desired: t.Any) -> dict[str, t.Any]:
    """Compute the actions that bring one Apex One server to the desired web host certificate.

    Raises PlanError for unusable input, including facts that do not have the shape win_server_info returns.
    """
    desired = _validate_desired(desired)
    _validate_facts(server_info)
    # The parsed file fields (https_cert, cert_cn, OfcIPCer.dat thumbprint, Master_DomainName...) are computed
    # here from the raw bytes win_server_info returns.
    server_info = enrich_server_info(server_info)
    try:
        return _plan(server_info, desired)
    except (AttributeError, TypeError, KeyError, ValueError, IndexError) as exc:
        raise PlanError(
            f"server_info is malformed ({type(exc).__name__}: {str(exc)[:200]}): pass the registered result of "
            "apexone.certificates.win_server_info"
        ) from exc


def _plan(facts: dict, desired: dict) -> dict[str, t.Any]:
    new = desired["thumbprint"]
    friendly = str(desired["friendly_name"])
    cn = str(desired["subject_cn"])
    result = _Plan()

    sites = _apex_sites(facts, desired)
    if not sites:
        known = ", ".join(str(s.get("name")) for s in _get(facts, "iis", "sites", default=[]) or []) or "none"
        named = f" {desired['site_name']}" if desired.get("site_name") else ""
        raise PlanError(
            f"no Apex One IIS site{named} found (sites seen: {known}); "
            "set apexone_cert_site_name to the site that serves the Apex One console"
        )
    if len(sites) > 1:
        # One run moves the bindings of one site (the run record, the rollback and the verification follow it).
        result.block(
            "several_sites",
            f"several IIS sites look like the Apex One site ({', '.join(str(s.get('name')) for s in sites)}): set "
            "apexone_cert_site_name to the one that serves the Apex One console and agents (run again with the other "
            "name if it needs the new certificate too)",
        )
        sites = sites[:1]
    bindings = _https_bindings(sites, desired["ports"])
    if not bindings:
        ports = ", ".join(str(p) for p in desired["ports"]) or "any"
        raise PlanError(f"the Apex One site has no https binding (ports: {ports}); add one in IIS first")
    records = _http_sys_records(facts)

    my = _get(facts, "certificates", "my", default=[]) or []
    trusted_people = _get(facts, "certificates", "trusted_people", default=[]) or []
    disallowed = _get(facts, "certificates", "disallowed", default=[]) or []
    in_my = _cert_in(my, new)
    old_thumbprints = sorted({_served_thumbprint(b, records) for b in bindings} - {new, ""})

    # Guard rails first: the plan refuses what the KB says breaks agents. KA-0004491: the Smart Protection Server
    # re-imports the certificate whose name is HTTPS_CERT in Service.ini; a friendly name equal to the original
    # certificate's name (or the CN it shares with it) lets it revert to the old certificate.
    service_ini_name = _get(facts, "service_ini", "https_cert")
    taken = {str(_get(_cert_in(my, t) or {}, "friendly_name") or "") for t in old_thumbprints} | {cn}
    if service_ini_name and not _get(facts, "service_ini", "https_cert_friendly_name"):
        taken.add(str(service_ini_name))
    if friendly.strip().lower() in {n.strip().lower() for n in taken if n}:
        result.block(
            "friendly_name_reused",
            f"the friendly name '{friendly}' is the original certificate's name; Apex One's Smart Protection Server "
            "would re-import the old certificate on restart (KA-0004491): choose a friendly name of its own",
        )
    else:
        # The Smart Protection Server picks its certificate by friendly name (HTTPS_CERT_FRIENDLY_NAME): a stale,
        # unbound certificate in My with the same name could be the one it takes.
        clash = sorted(
            _norm(c.get("thumbprint")) for c in my
            if _norm(c.get("thumbprint")) != new
            and str(c.get("friendly_name") or "").strip().lower() == friendly.strip().lower()
        )
        if clash:
            result.block(
                "friendly_name_taken",
                f"the friendly name '{friendly}' is already used in LocalMachine\\My by {', '.join(clash)}; the Smart "
                "Protection Server selects its certificate by this name (KA-0004491), so it must be unique in the "
                "store: choose another apexone_cert_friendly_name, or remove the stale certificate",
            )
    unwritable = _unwritable(friendly, facts)
    if unwritable:
        result.block(
            "friendly_name_invalid",
            f"the friendly name '{friendly}' cannot be written to {unwritable}; step 7 writes it there so the Smart "
            "Protection Server keeps the new certificate (KA-0004491): choose a friendly name in plain ASCII",
        )
    if _cert_in(disallowed, new):
        result.block(
            "certificate_disallowed",
            "the new certificate is in the Untrusted Certificates store (Disallowed) of the server; remove it "
            "there first (KA-0010488)",
        )

    # Steps 2 and 3: the certificate in My (with its key, exportable, friendly name) and in TrustedPeople.
    cert_args: dict[str, t.Any] = {
        "friendly_name": friendly,
        "exportable": bool(desired.get("exportable", True)),
        "key_provider": desired.get("key_provider") or "legacy",
    }
    readers = key_readers(desired, [_cert_in(my, old) for old in old_thumbprints])
    cert_args["key_readers"] = readers
    build = _int(_get(facts, "windows", "build"))
    encryption = str(desired.get("pfx_encryption") or "")
    if windows_cannot_import(encryption, build):
        cert_args["pfx_legacy_encryption"] = "always"
    if in_my is None:
        result.add(MODULE_CERT, 2, f"certificate {new} is not in LocalMachine\\My", **cert_args)
        if cert_args.get("pfx_legacy_encryption") == "always":
            result.add(
                MODULE_CERT, 2, f"the PFX uses {encryption}; Windows build {build or 'unknown'} needs it re-packed "
                "with 3DES/SHA-1", **cert_args,
            )
    else:
        if not in_my.get("has_private_key"):
            result.add(MODULE_CERT, 2, "the certificate in My has no private key: re-import it with its key", **cert_args)
        elif desired.get("exportable", True) and _get(in_my, "private_key", "exportable") is False:
            # Never re-import only to make a key exportable (#14): an administrator may have hardened it.
            result.warn("key_not_exportable", "the private key in My is not exportable; the KB asks for an exportable "
                        "key, but it is left as it is (safer). Import it again by hand if you need to export it.")
        if str(in_my.get("friendly_name") or "") != friendly:
            result.add(
                MODULE_CERT, 7, f"friendly name is '{in_my.get('friendly_name') or ''}', not '{friendly}'", **cert_args
            )
        missing = [r for r in readers if r.lower() not in {i.lower() for i in _acl_identities(in_my)}]
        if in_my.get("private_key") and _get(in_my, "private_key", "acl") is not None and missing:
            result.add(
                MODULE_CERT, 2, f"the private key is not readable by {', '.join(missing)} (key_readers)",
                **cert_args,
            )
    if _cert_in(trusted_people, new) is None:
        result.add(MODULE_CERT, 3, f"certificate {new} is not in LocalMachine\\TrustedPeople", **cert_args)

    # Step 4: OfcIPCer.dat, the server certificate the agents receive: new bytes in the encoding of the current file.
    ofcipcer = facts.get("ofcipcer") or {}
    if _norm(ofcipcer.get("thumbprint")) != new:
        current = _norm(ofcipcer.get("thumbprint")) or ("missing" if not ofcipcer.get("exists") else "unreadable")
        agent_args: dict[str, t.Any] = {}
        if not desired.get("certificate_pem"):
            result.block(
                "certificate_pem_missing",
                "desired.certificate_pem is not set, so the new OfcIPCer.dat (step 4) cannot be computed: pass the "
                "certificate_pem of the pfx_info lookup",
            )
        else:
            try:
                before = file_bytes(ofcipcer, "OfcIPCer.dat")
                after, encoding = ofcipcer_content(desired["certificate_pem"], before)
            except ValueError as exc:
                result.block("ofcipcer_unusable", f"OfcIPCer.dat cannot be replaced: {exc}")
            else:
                if before and _get(ofcipcer, "encoding") not in ("der", "pem"):
                    result.warn(
                        "ofcipcer_encoding_unknown",
                        f"OfcIPCer.dat is neither DER nor PEM ({_get(ofcipcer, 'encoding')}); it will be written as DER",
                    )
                described = f"{current} ({_get(ofcipcer, 'encoding') or 'none'}) -> {new} ({encoding})"
                agent_args = result.file_change(
                    "ofcipcer", ofcipcer, before, after, f"{ofcipcer.get('path')}: certificate {described}\n"
                )
        result.add(MODULE_AGENT, 4, f"OfcIPCer.dat holds {current}, not {new}", **agent_args)

    # Step 5: the https bindings of the site that do not serve the new certificate (what their http.sys record
    # holds), and the IP-specific http.sys records no IIS binding uses on a port where the site listens on every
    # address (they override the binding). Exactly what win_iis_https_binding moves when given these bindings:
    # records that other sites' bindings use are never changed, so they are never planned either.
    changes = []
    planned: list[str] = []
    for binding in bindings:
        info = binding.get("binding_information") or f"{binding.get('ip')}:{binding.get('port')}:{binding.get('hostname') or ''}"
        key = _sslcert_key(binding)
        if key is None:
            if (_int(binding.get("ssl_flags")) or 0) & 2:
                result.warn(
                    "central_certificate_store",
                    f"binding {info} of site '{binding.get('site')}' uses the central certificate store; it is not "
                    "changed here (put the new certificate in the central store)",
                )
            else:
                result.block(
                    "binding_unusable",
                    f"binding {info} of site '{binding.get('site')}' has SNI set but no host name (or an address that "
                    "cannot be parsed); fix it in IIS first",
                )
            continue
        old = _served_thumbprint(binding, records)
        if old != new:
            planned.append(str(info))
            changes.append(
                {
                    "site": binding.get("site"),
                    "binding": str(info),
                    "sslcert": key,
                    "old_thumbprint": old or None,
                    "new_thumbprint": new,
                }
            )
    used = {
        k.lower()
        for site in _get(facts, "iis", "sites", default=[]) or [] for b in (site.get("bindings") or [])
        if str(b.get("protocol", "")).lower() == "https" and (k := _sslcert_key(b))
    } | {k.lower() for b in _get(facts, "iis", "other_https_bindings", default=[]) or [] if (k := _sslcert_key(b))}
    wildcard_ports = {_int(b.get("port")) for b in bindings if (_sslcert_key(b) or "").startswith("0.0.0.0:")}
    for endpoint, entry in sorted(records.items()):
        kind = str(entry.get("type") or "ip").lower()
        old = _norm(entry.get("thumbprint"))
        if kind != "ip" or endpoint in used or _int(entry.get("port")) not in wildcard_ports or not old or old == new:
            continue
        changes.append(
            {"site": None, "binding": f"http.sys {entry.get('endpoint')}", "sslcert": entry.get("endpoint"),
             "old_thumbprint": old, "new_thumbprint": new}
        )
        if old not in old_thumbprints:
            old_thumbprints = sorted({*old_thumbprints, old})
    binding_ports = {_int(b.get("port")) for b in bindings}
    if changes:
        listed = "; ".join(
            f"{c['binding']}{'' if c['site'] is None else ' (http.sys ' + str(c['sslcert']) + ')'} "
            f"{c['old_thumbprint'] or 'none'} -> {new}"
            for c in changes
        )
        binding_args: dict[str, t.Any] = {"thumbprint": new, "site_name": sites[0].get("name"), "bindings": planned}
        result.add(MODULE_BINDING, 5, f"bindings to move: {listed}", **binding_args)
    shared = [
        b for b in _get(facts, "iis", "other_https_bindings", default=[]) or []
        if not b.get("sni") and _int(b.get("port")) in binding_ports
        and (_sslcert_key(b) or "").lower() in {str(c["sslcert"]).lower() for c in changes}
    ]
    for other in shared:
        result.warn(
            "shared_binding",
            f"site '{other.get('site')}' binding {other.get('binding_information')} shares the http.sys entry and will "
            "serve the new certificate too",
        )

    # Step 6a / 6b, only when asked for.
    roots = _get(facts, "certificates", "root_non_self_signed", default=[]) or []
    if desired.get("move_non_self_signed_roots") and roots:
        subjects = ", ".join(str(r.get("subject")) for r in roots[:5])
        result.add(MODULE_ROOTS, 6, f"{len(roots)} non-self-signed certificate(s) in Root cause 403.16: {subjects}")
    elif roots:
        result.warn(
            "non_self_signed_roots",
            f"{len(roots)} non-self-signed certificate(s) in LocalMachine\\Root can cause IIS 403.16; set "
            "apexone_cert_move_non_self_signed_roots to move them to Intermediate",
        )
    mode = desired["client_auth_trust_mode"]
    current_mode = _get(facts, "schannel", "client_auth_trust_mode")
    if mode is not None and (_int(current_mode) if current_mode is not None else 0) != mode:
        result.add(
            MODULE_SCHANNEL, 6,
            f"ClientAuthTrustMode is {current_mode if current_mode is not None else 'unset (0)'}, not {mode}",
            client_auth_trust_mode=mode,
        )

    # Step 7: Service.ini and apricot_config name the new certificate so it is not reverted. The new bytes are
    # computed here, every other byte kept; the action is planned exactly when some byte would change.
    service_ini = facts.get("service_ini") or {}
    apricot = facts.get("apricot_config") or {}
    step7: list[str] = []
    persistence_args: dict[str, t.Any] = {}
    edits = (
        ("service_ini", "Service.ini", service_ini,
         lambda data: set_ini_values(data, {"HTTPS_CERT": cn, "HTTPS_CERT_FRIENDLY_NAME": friendly}),
         [("HTTPS_CERT", "https_cert", f"Service.ini HTTPS_CERT is '{service_ini_name or ''}', not '{cn}'"),
          ("HTTPS_CERT_FRIENDLY_NAME", "https_cert_friendly_name",
           f"Service.ini HTTPS_CERT_FRIENDLY_NAME is '{service_ini.get('https_cert_friendly_name') or ''}'")],
         {"HTTPS_CERT": cn, "HTTPS_CERT_FRIENDLY_NAME": friendly}),
        ("apricot_config", "apricot_config", apricot,
         lambda data: set_apricot_cert(data, cn, friendly),
         [("cert_cn", "cert_cn", f"apricot_config cert_cn is '{apricot.get('cert_cn') or ''}'"),
          ("cert_friendly_name", "cert_friendly_name",
           f"apricot_config cert_friendly_name is '{apricot.get('cert_friendly_name') or ''}'")],
         {"cert_cn": cn, "cert_friendly_name": friendly}),
    )
    for key, label, entry, edit, checks, wanted in edits:
        if not entry.get("exists"):
            where = "PCCSRV\\WSS\\Service.ini" if key == "service_ini" else "PCCSRV\\SRS\\apricot_config(.xml)"
            result.warn(f"{key}_missing", f"{where} was not found: step 7 cannot be applied there")
            continue
        if unwritable:
            continue  # friendly_name_invalid says why
        try:
            before = file_bytes(entry, label)
            after = edit(before)
        except ValueError as exc:
            result.block(
                "persistence_file_unusable",
                f"{label} ({entry.get('path')}) cannot be edited for step 7: {exc}; fix the file by hand (KA-0004491) "
                "and run again",
            )
            continue
        if after == before:
            continue
        reasons = [text for name, field, text in checks if entry.get(field) != wanted[name]]
        step7.extend(reasons or [f"{label} has another line or element that names a different certificate"])
        persistence_args[key] = result.file_change(key, entry, before, after, text_diff(before, after, str(entry.get("path"))))
    if persistence_args:
        result.add(MODULE_PERSISTENCE, 7, "; ".join(step7), **persistence_args)

    # Blockers and warnings that need a person, never an automatic change.
    version, build_no = _product_build(facts)
    major = _int(str(version).split(".", maxsplit=1)[0]) if version else None
    if major is None:
        result.warn(
            "unknown_version",
            "the Apex One / OfficeScan version could not be read (Server_Version); the step-7 fix needs OfficeScan XG "
            f"build {STEP7_MIN_XG_BUILD}+ or Apex One (KA-0004491): check the version by hand",
        )
    elif major < 12:
        result.block(
            "unsupported_version",
            f"OfficeScan {version} (build {build_no if build_no is not None else 'unknown'}) has no fix for the "
            "certificate revert: the Smart Protection Server re-imports its own certificate when the services restart "
            f"(KA-0004491). Upgrade first to OfficeScan XG build {STEP7_MIN_XG_BUILD} or later, or to Apex One",
        )
    elif major == 12 and (build_no is None or build_no < STEP7_MIN_XG_BUILD):
        result.block(
            "old_build",
            f"OfficeScan XG build {build_no if build_no is not None else 'unknown'} lacks the step-7 fix (needs "
            f"{STEP7_MIN_XG_BUILD}+): the certificate would be reverted when the services restart. Upgrade first to "
            f"OfficeScan XG build {STEP7_MIN_XG_BUILD} or later, or to Apex One (KA-0004491)",
        )
    master = _get(facts, "ofcscan_ini", "master_domain_name")
    if master:
        if not certificate_covers(master, cn, desired["san_dns"], desired["san_ip"]):
            names = ", ".join([cn, *desired["san_dns"], *desired["san_ip"]])
            message = (
                f"Master_DomainName in ofcscan.ini is '{master}', the name agents use to reach this server, and the new "
                f"certificate does not cover it (CN and SAN: {names}) (KA-0010488)"
            )
            if desired["allow_name_mismatch"]:
                result.warn("master_domain_name", message + "; allowed by apexone_cert_allow_name_mismatch")
            else:
                result.block(
                    "master_domain_name",
                    message + ": request a certificate for that name, or set apexone_cert_allow_name_mismatch: true "
                    "if agents and browsers really use a name the certificate covers",
                )
    else:
        result.warn(
            "master_domain_name_unknown",
            "ofcscan.ini has no Master_DomainName (or it could not be read): the name agents use was not compared with "
            "the certificate (KA-0010488)",
        )
    warn_days = _int(desired.get("agent_cert_warn_days")) or 60
    for agent in facts.get("agent_auth_certificates") or []:
        days = _int(agent.get("days_left"))
        if days is not None and days < warn_days:
            result.warn(
                "agent_auth_certificate_expiring",
                f"the agent-authentication certificate '{agent.get('subject')}' expires in {days} days; it is never "
                "changed by this collection, renew it with Trend Micro's procedure (agents become unmanaged when it lapses)",
            )
    services = facts.get("services") or {}
    missing = [k for k in ("master", "smart_protection") if not _get(services, k, "exists")]
    if missing:
        result.warn("service_missing", f"Apex One service(s) not found: {', '.join(missing)}")

    # Services around step 7 (KA-0004491): stop what runs (dependents first), put back exactly what was there.
    found = _services_found(facts)
    running = [s for s in found if s["status"] in _RUNNING]
    restart = bool(result.actions)
    if MODULE_PERSISTENCE in result.actions and running and not desired["restart_services"]:
        result.block(
            "step7_services_running",
            f"step 7 edits Service.ini and apricot_config, which KA-0004491 does only while the Apex One services are "
            f"stopped, and {', '.join(s['name'] for s in running)} run(s): set apexone_cert_restart_services: true, or "
            "stop the services yourself before the run",
        )
    for service in running:
        if service["start_mode"] == "disabled":
            result.block(
                "service_disabled_running",
                f"service {service['name']} runs but its start type is Disabled: once stopped for step 7 it could not be "
                "started again; set its start type (Automatic or Manual) first",
            )
    stop = _stop_order(found) if restart and desired["restart_services"] else []
    by_name = {s["name"].lower(): s for s in found}
    services_before = [
        {"name": name, "status": by_name[name.lower()]["status"], "start_mode": by_name[name.lower()]["start_mode"]}
        if name.lower() in by_name else {"name": name, "status": None, "start_mode": None}
        for name in stop
    ]

    actions = [
        {
            "step": a["step"],
            "steps": sorted(a["steps"]),
            "module": a["module"],
            "reason": "; ".join(a["reasons"]),
            "reasons": a["reasons"],
            "args": a["args"],
        }
        for module in APPLY_ORDER
        if (a := result.actions.get(module))
    ]
    lines = [f"step {'+'.join(str(x) for x in a['steps'])}: {a['module'].rsplit('.', 1)[-1]} - {a['reason']}" for a in actions]
    lines += [f"binding {c['binding']}: {c['old_thumbprint'] or 'none'} -> {c['new_thumbprint']}" for c in changes]
    lines += [f"file {f['path']}: sha256 {(f['sha256_before'] or 'none')[:16]} -> {f['sha256_after'][:16]}"
              for f in result.files]
    if stop:
        lines.append(f"services: stop {', '.join(stop)} (only those running), then restore each one's state")
    lines += [f"{p['severity']}: {p['code']}: {p['message']}" for p in result.blockers + result.warnings]
    if not actions and not result.blockers:
        lines.insert(0, f"compliant: {new} is in place, nothing to change")
    return {
        "compliant": not actions and not result.blockers,
        "applicable": not result.blockers,
        "actions": actions,
        "modules": [a["module"] for a in actions],
        "binding_changes": changes,
        "files": result.files,
        "old_thumbprints": old_thumbprints,
        "new_thumbprint": new,
        "restart_services": restart,
        "services": [k for k in SERVICE_KEYS if _get(services, k, "exists")],
        "site_name": sites[0].get("name"),
        "binding_restore": _binding_restore(changes),
        "service_stop": [{"name": name, "state": "stopped"} for name in stop],
        "services_before": services_before,
        "service_restore": service_restore([e for e in services_before if e["status"] is not None]),
        "warnings": result.warnings,
        "blockers": result.blockers,
        "lines": lines,
    }


def health(server_info: t.Any, thumbprint: t.Any, site_name: t.Any = None, ports: t.Any = None,
           master_expected: t.Any = True) -> dict[str, t.Any]:
    """The KA-0010488 health checks of a server after a replacement, from a fresh win_server_info.

    Returns ``{ok, checks: [{code, ok, message}], failed: [codes]}``: the certificate is in My with its private key,
    TrustedPeople holds the same thumbprint, it is not in Disallowed, the master service runs, and every https
    binding of the Apex One site serves it (what http.sys holds: a revert by the Smart Protection Server shows).
    """
    new = _norm(thumbprint)
    if len(new) != 40:
        raise PlanError(f"thumbprint {thumbprint!r} is not a SHA-1 thumbprint (40 hex characters)")
    _validate_facts(server_info)
    facts = enrich_server_info(server_info)
    checks: list[dict[str, t.Any]] = []

    def check(code: str, ok: bool, good: str, bad: str) -> None:
        checks.append({"code": code, "ok": bool(ok), "message": good if ok else bad})

    in_my = _cert_in(_get(facts, "certificates", "my", default=[]) or [], new)
    check("in_my", in_my is not None and in_my.get("has_private_key"),
          f"{new} is in LocalMachine\\My with its private key",
          f"{new} is not in LocalMachine\\My with its private key")
    check("trusted_people_same_thumbprint",
          _cert_in(_get(facts, "certificates", "trusted_people", default=[]) or [], new) is not None,
          "TrustedPeople holds the same thumbprint", f"LocalMachine\\TrustedPeople has no certificate {new}")
    check("not_disallowed", _cert_in(_get(facts, "certificates", "disallowed", default=[]) or [], new) is None,
          "not in Untrusted Certificates (Disallowed)", f"{new} is in Untrusted Certificates (Disallowed)")
    master = next((s for s in _services_found(facts) if s["key"] == "master"), None)
    if _bool(master_expected, "master_expected", True):
        check("master_running", master is not None and master["status"] == "running",
              f"the master service {master['name'] if master else ''} runs",
              "the Apex One master service does not run" if master else "the Apex One master service was not found")
    else:
        check("master_running", True, "the master service did not run before the change and was left so", "")
    sites = _apex_sites(facts, {"site_name": site_name})
    wanted_ports = [p for p in (_int(x) for x in ports or []) if p is not None]
    records = _http_sys_records(facts)
    bindings = [b for b in _https_bindings(sites, wanted_ports) if _sslcert_key(b)]
    wrong = [f"{b.get('binding_information')} serves {_served_thumbprint(b, records) or 'nothing'}"
             for b in bindings if _served_thumbprint(b, records) != new]
    check("binding_serves_new", bool(bindings) and not wrong,
          f"every https binding of the Apex One site serves {new}",
          "; ".join(wrong) if wrong else "the Apex One site has no https binding")
    failed = [c["code"] for c in checks if not c["ok"]]
    return {"ok": not failed, "checks": checks, "failed": failed, "thumbprint": new}


def certificate_references(server_info: t.Any, thumbprint: t.Any, run_records: t.Any = ()) -> list[str]:
    """Everything that still uses a certificate, by thumbprint (``remove_old: unused`` removes only when empty).

    IIS bindings of every site and http.sys records (what they serve), OfcIPCer.dat, Service.ini and apricot_config
    (by the certificate's friendly name and, when it has none, its subject CN, as the Smart Protection Server
    selects it), and run records that a rollback would restore it from.
    """
    target = _norm(thumbprint)
    if len(target) != 40:
        raise PlanError(f"thumbprint {thumbprint!r} is not a SHA-1 thumbprint (40 hex characters)")
    _validate_facts(server_info)
    facts = enrich_server_info(server_info)
    refs: list[str] = []
    records = _http_sys_records(facts)
    for site in _get(facts, "iis", "sites", default=[]) or []:
        for binding in site.get("bindings") or []:
            if str(binding.get("protocol", "")).lower() == "https" and _served_thumbprint(binding, records) == target:
                refs.append(f"IIS binding {site.get('name')} {binding.get('binding_information')}")
    for binding in _get(facts, "iis", "other_https_bindings", default=[]) or []:
        if _served_thumbprint(binding, records) == target:
            refs.append(f"IIS binding {binding.get('site')} {binding.get('binding_information')}")
    refs += [f"http.sys {endpoint}" for endpoint, entry in sorted(records.items()) if _norm(entry.get("thumbprint")) == target]
    if _norm(_get(facts, "ofcipcer", "thumbprint")) == target:
        refs.append("OfcIPCer.dat")
    cert = _cert_in(_get(facts, "certificates", "my", default=[]) or [], target) or {}
    friendly = str(cert.get("friendly_name") or "").strip().lower()
    by_name = {n for n in (friendly, str(cert.get("subject_cn") or "").strip().lower()) if n}
    # The Smart Protection Server selects by the friendly-name field when the file has one (KA-0004491), else by
    # the name field, which holds a certificate name (friendly name or CN).
    for label, key, friendly_field, name_field in (
        ("Service.ini", "service_ini", "https_cert_friendly_name", "https_cert"),
        ("apricot_config", "apricot_config", "cert_friendly_name", "cert_cn"),
    ):
        selected = str(_get(facts, key, friendly_field) or "").strip().lower()
        if selected:
            if friendly and selected == friendly:
                refs.append(f"{label} {friendly_field}")
        elif str(_get(facts, key, name_field) or "").strip().lower() in by_name and _get(facts, key, name_field):
            refs.append(f"{label} {name_field}")
    for record in run_records or ():
        if not isinstance(record, dict):
            continue
        wanted = {_norm(record.get("old_thumbprint"))} | {_norm(x) for x in record.get("old_thumbprints") or []}
        wanted |= {_norm(r.get("thumbprint")) for r in record.get("binding_restore") or [] if isinstance(r, dict)}
        if target in wanted and record.get("status") != "rolled_back":
            refs.append(f"run record of {record.get('host') or 'this host'} ({record.get('status')}): a rollback needs it")
    return refs
