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
from ansible_collections.apexone.certificates.plugins.module_utils._x509 import windows_cannot_import

# KA-0004491: the step-7 fix needs OfficeScan XG build 5417 or later (any Apex One build has it).
STEP7_MIN_XG_BUILD = 5417
# KA-0010488: builds before 1141 compare the certificate subject with Master_DomainName.
MASTER_DOMAIN_NAME_CHECK_BEFORE_BUILD = 1141

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
    return {
        **desired,
        "thumbprint": thumbprint,
        "client_auth_trust_mode": None if mode in (None, "") else _int(mode),
        "ports": [_int(p) for p in ports],
    }


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
    bindings = _https_bindings(sites, desired["ports"])
    if not bindings:
        ports = ", ".join(str(p) for p in desired["ports"]) or "any"
        raise PlanError(f"the Apex One site has no https binding (ports: {ports}); add one in IIS first")

    my = _get(facts, "certificates", "my", default=[]) or []
    trusted_people = _get(facts, "certificates", "trusted_people", default=[]) or []
    disallowed = _get(facts, "certificates", "disallowed", default=[]) or []
    in_my = _cert_in(my, new)
    old_thumbprints = sorted({_norm(b.get("certificate_hash")) for b in bindings if _norm(b.get("certificate_hash"))} - {new})

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

    # Step 5: every https binding of the site and every http.sys entry on an old thumbprint.
    changes = []
    for binding in bindings:
        old = _norm(binding.get("certificate_hash"))
        if old != new:
            changes.append(
                {
                    "site": binding.get("site"),
                    "binding": binding.get("binding_information") or f"{binding.get('ip')}:{binding.get('port')}",
                    "old_thumbprint": old or None,
                    "new_thumbprint": new,
                }
            )
    binding_ports = {_int(b.get("port")) for b in bindings}
    for entry in _get(facts, "http_sys", "bindings", default=[]) or []:
        old = _norm(entry.get("thumbprint"))
        if old and old != new and (old in old_thumbprints or _int(entry.get("port")) in binding_ports):
            changes.append(
                {"site": None, "binding": f"http.sys {entry.get('endpoint')}", "old_thumbprint": old, "new_thumbprint": new}
            )
    if changes:
        listed = "; ".join(f"{c['binding']} {c['old_thumbprint'] or 'none'} -> {new}" for c in changes)
        binding_args: dict[str, t.Any] = {"thumbprint": new, "site_name": sites[0].get("name")}
        if desired["ports"]:
            binding_args["ports"] = desired["ports"]
        result.add(MODULE_BINDING, 5, f"bindings to move: {listed}", **binding_args)
    shared = [
        b for b in _get(facts, "iis", "other_https_bindings", default=[]) or []
        if not b.get("sni") and _int(b.get("port")) in binding_ports and _norm(b.get("certificate_hash")) in old_thumbprints
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

    # Warnings that need a person, never an automatic change.
    version, build_no = _product_build(facts)
    if version and version.startswith("12") and build_no is not None and build_no < STEP7_MIN_XG_BUILD:
        result.warn(
            "old_build",
            f"OfficeScan XG build {build_no} lacks the step-7 fix (needs {STEP7_MIN_XG_BUILD}+): the certificate may be "
            "reverted when the services restart; upgrade first (KA-0004491)",
        )
    master = _get(facts, "ofcscan_ini", "master_domain_name")
    if master and str(master).lower() != cn.lower() and (
        version and version.startswith(("10", "11", "12")) and (build_no or 0) < MASTER_DOMAIN_NAME_CHECK_BEFORE_BUILD
    ):
        result.warn("master_domain_name", f"Master_DomainName is '{master}', not the certificate CN '{cn}' (KA-0010488)")
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
    restart = bool(actions)
    lines = [f"step {'+'.join(str(x) for x in a['steps'])}: {a['module'].rsplit('.', 1)[-1]} - {a['reason']}" for a in actions]
    lines += [f"binding {c['binding']}: {c['old_thumbprint'] or 'none'} -> {c['new_thumbprint']}" for c in changes]
    lines += [f"file {f['path']}: sha256 {(f['sha256_before'] or 'none')[:16]} -> {f['sha256_after'][:16]}"
              for f in result.files]
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
        "warnings": result.warnings,
        "blockers": result.blockers,
        "lines": lines,
    }
