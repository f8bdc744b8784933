# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run records: what a replacement changed on a server, validated before a rollback acts on it.

Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.

The record lives on the server (``HKLM\\SOFTWARE\\apexone.certificates``, value ``LastRun``, written by
``win_apexone_run_record`` with an ACL that lets only SYSTEM and Administrators write) and comes back in the
gather round trip (``win_server_info`` returns ``run_record`` and ``run_record_protection``). Whoever wrote it, it
is treated as untrusted input here: every field is checked against a closed schema and against the facts the
server reports in the same round trip, so that a forged or tampered record cannot make a rollback copy an
arbitrary file over a program, rebind to a certificate it did not replace, put a certificate into Root that was
never there, or write a value Schannel does not define. Any failure raises :class:`RunRecordError` with a message
that says what is wrong and what to do, before anything is changed.

Pure Python, no Ansible imports, no I/O.
"""

from __future__ import annotations

import base64
import binascii
import json
import ntpath
import re
import typing as t

from ansible_collections.apexone.certificates.plugins.module_utils._x509 import CertificateError, load_certificates

# Where the record lives on the server (documented in docs/security.md).
RECORD_KEY = "HKLM:\\SOFTWARE\\apexone.certificates"
RECORD_VALUE = "LastRun"
# The record carries the previous bytes of the files it changed (base64, a few KB): room for them, with a bound.
MAX_RECORD_CHARS = 262144

# Identities allowed to own or write the record's key: LocalSystem, BUILTIN\Administrators, TrustedInstaller.
# Matched by SID, never by name (names are localised).
ADMIN_SIDS = frozenset({
    "S-1-5-18",
    "S-1-5-32-544",
    "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464",
})

# The files the collection writes, relative to the Apex One install path (the same list win_server_info reads),
# and the result key of win_server_info that reports each one's full path.
KNOWN_FILES = {
    "ofcipcer": ("Pccnt\\Common\\OfcIPCer.dat",),
    "service_ini": ("WSS\\Service.ini",),
    "apricot_config": ("SRS\\apricot_config", "SRS\\apricot_config.xml"),
}
# Backups the modules write: '<file>.<yyyyMMdd-HHmmss>.bak', '.<n>' before '.bak' when that name is taken
# (_ApexOneCommon.psm1), in the admin-only folder %ProgramData%\apexone.certificates\backups (older versions: next
# to the file). A rollback never copies a backup: it writes the record's previous bytes through the writers.
BACKUP_FOLDER = "apexone.certificates\\backups"
_BACKUP_SUFFIX = r"\.\d{8}-\d{6}(?:\.\d{1,4})?\.bak"

# 'pending' (renewal in place, #16): the CA holds the request for approval; the pending key stays on the server for a
# later run to retrieve the certificate, and a rollback removes it.
STATUSES = ("applying", "applied", "failed", "rolling_back", "rolled_back", "rollback_incomplete", "pending")
ROLLBACK_STATUSES = ("applying", "applied", "failed", "rolling_back", "rollback_incomplete", "pending")
SOURCES = ("pfx", "enroll")
SIGNERS = ("adcs", "controller")
CLIENT_AUTH_TRUST_MODES = (0, 1, 2)

_THUMBPRINT = re.compile(r"[0-9A-F]{40}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,252}")
_WINDOWS_RESERVED = re.compile(r"(?i)(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class RunRecordError(ValueError):
    """The run record (or a name that would become a path) cannot be trusted; the message says why."""


# ------------------------------------------------------------------------------------------ field checkers
def _text(limit: int) -> t.Callable[[str, t.Any], str]:
    def check(where: str, value: t.Any) -> str:
        if not isinstance(value, str):
            raise RunRecordError(f"{where} must be a string, not {type(value).__name__}")
        if len(value) > limit or _CONTROL.search(value):
            raise RunRecordError(f"{where} is longer than {limit} characters or holds control characters")
        return value
    return check


def _bool(where: str, value: t.Any) -> bool:
    if not isinstance(value, bool):
        raise RunRecordError(f"{where} must be true or false, not {value!r}")
    return value


def _thumbprint(where: str, value: t.Any) -> str:
    if not isinstance(value, str) or not _THUMBPRINT.fullmatch(value):
        raise RunRecordError(f"{where} must be a thumbprint of 40 upper-case hex digits, not {str(value)[:80]!r}")
    return value


def _optional(check: t.Callable[[str, t.Any], t.Any]) -> t.Callable[[str, t.Any], t.Any]:
    def inner(where: str, value: t.Any) -> t.Any:
        return None if value is None else check(where, value)
    return inner


def _timestamp(where: str, value: t.Any) -> str:
    if not isinstance(value, str) or not _TIMESTAMP.fullmatch(value):
        raise RunRecordError(f"{where} must be a UTC time like 2026-01-31T12:00:00Z, not {str(value)[:40]!r}")
    return value


def _status(where: str, value: t.Any) -> str:
    if value not in STATUSES:
        raise RunRecordError(f"{where} must be one of {', '.join(STATUSES)}, not {str(value)[:40]!r}")
    return value


def _trust_mode(where: str, value: t.Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value not in CLIENT_AUTH_TRUST_MODES:
        raise RunRecordError(f"{where} must be null or one of 0, 1, 2 (the values Schannel defines), not {value!r}")
    return value


def _host(where: str, value: t.Any) -> str:
    if not isinstance(value, str):
        raise RunRecordError(f"{where} must be a string")
    return safe_file_name(value, what=where)


def _list_of(check: t.Callable[[str, t.Any], t.Any], limit: int = 256) -> t.Callable[[str, t.Any], list]:
    def inner(where: str, value: t.Any) -> list:
        if not isinstance(value, list) or len(value) > limit:
            raise RunRecordError(f"{where} must be a list of at most {limit} entries")
        return [check(f"{where}[{index}]", item) for index, item in enumerate(value)]
    return inner


def _object(fields: dict[str, tuple[bool, t.Callable[[str, t.Any], t.Any]]]) -> t.Callable[[str, t.Any], dict]:
    """A dict with exactly these keys (required ones present, unknown ones refused), each checked."""
    def inner(where: str, value: t.Any) -> dict:
        if not isinstance(value, dict):
            raise RunRecordError(f"{where} must be an object")
        unknown = sorted(str(k) for k in value if k not in fields)
        if unknown:
            raise RunRecordError(f"{where} has fields this collection never writes: {', '.join(unknown)[:200]}")
        out = {}
        for key, (required, check) in fields.items():
            if key not in value:
                if required:
                    raise RunRecordError(f"{where} lacks the field '{key}'")
                continue
            out[key] = check(f"{where}.{key}" if where else key, value[key])
        return out
    return inner


# The complete schema of a record: every field the role writes, nothing else.
_BINDING_BEFORE = _object({"binding": (True, _text(300)), "thumbprint": (True, _optional(_thumbprint))})
_ROOT_MOVED = _object({
    "thumbprint": (True, _thumbprint),
    "subject": (False, _text(1024)),
    "issuer": (False, _text(1024)),
    "not_after": (False, _optional(_text(64))),
    "reason": (False, _optional(_text(64))),
    "already_in_ca": (False, _bool),
})


def _sha256(where: str, value: t.Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[0-9A-Fa-f]{64}", value):
        raise RunRecordError(f"{where} must be a SHA-256 of 64 hex digits, not {str(value)[:80]!r}")
    return value.lower()


def _base64(where: str, value: t.Any) -> str | None:
    if value is None:
        return None
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise RunRecordError(f"{where} is not base64") from None
    return value


def _file_key(where: str, value: t.Any) -> str:
    if value not in KNOWN_FILES:
        raise RunRecordError(f"{where} must be one of {', '.join(KNOWN_FILES)}, not {str(value)[:80]!r}")
    return value


_RESTORE = _object({
    "file": (False, _file_key),
    "path": (True, _text(1024)),
    "content": (False, _base64),
    "sha256": (False, _sha256),
    "backup_file": (False, _optional(_text(1024))),
})


def _loose(where: str, value: t.Any, depth: int = 0) -> t.Any:
    """JSON data the role copies from module results (binding changes, health): bounded, every thumbprint checked."""
    if depth > 4:
        raise RunRecordError(f"{where} is nested too deeply")
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return _text(4096)(where, value)
    if isinstance(value, list):
        return [_loose(f"{where}[{i}]", v, depth + 1) for i, v in enumerate(_list_of(lambda w, v: v, 256)(where, value))]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str) or not re.fullmatch(r"[a-z_][a-z0-9_]{0,63}", key):
                raise RunRecordError(f"{where} has a field name this collection never writes: {str(key)[:64]!r}")
            out[key] = (_optional(_thumbprint)(f"{where}.{key}", item) if key.endswith("thumbprint")
                        else _loose(f"{where}.{key}", item, depth + 1))
        return out
    raise RunRecordError(f"{where} holds a value of type {type(value).__name__}")


def _service_name(where: str, value: t.Any) -> str:
    text = _text(256)(where, value)
    if not re.fullmatch(r"[A-Za-z0-9_.\- ]{1,256}", text):
        raise RunRecordError(f"{where} {text[:80]!r} is not a service name")
    return text


_SERVICE_STEP = _object({
    "name": (True, _service_name),
    "state": (True, lambda w, v: _choice(w, v, ("started", "stopped"))),
    "start_mode": (False, lambda w, v: _choice(w, v, ("auto", "delayed", "manual", "disabled"))),
})
_SERVICE_BEFORE = _object({
    "name": (True, _service_name),
    "status": (False, _optional(_text(64))),
    "start_mode": (False, _optional(_text(64))),
})
_BINDING_RESTORE = _object({"thumbprint": (True, _thumbprint), "bindings": (True, _list_of(_text(300)))})


def _choice(where: str, value: t.Any, choices: tuple) -> str:
    if value not in choices:
        raise RunRecordError(f"{where} must be one of {', '.join(choices)}, not {str(value)[:40]!r}")
    return value


FIELDS: dict[str, tuple[bool, t.Callable[[str, t.Any], t.Any]]] = {
    "schema": (False, lambda where, v: _schema(where, v)),  # pylint: disable=unnecessary-lambda  # defined below
    "host": (True, _host),
    "started": (True, _timestamp),
    "status": (True, _status),
    # null only in a renewal in place (source enroll) before the CA issued the certificate.
    "new_thumbprint": (True, _optional(_thumbprint)),
    "old_thumbprint": (False, _optional(_thumbprint)),
    "site_name": (False, _optional(_text(256))),
    "new_was_present": (False, _bool),
    "schannel_previous": (False, _trust_mode),
    # What the server had before the first change (written with the first record): the thumbprints a rollback
    # may put back must be listed here.
    "bindings_before": (False, _list_of(_BINDING_BEFORE)),
    "roots_before": (False, _list_of(_thumbprint)),
    # What the steps changed.
    "imported": (False, _bool),
    "bindings_moved": (False, _bool),
    "schannel_changed": (False, _bool),
    "roots_moved": (False, _list_of(_ROOT_MOVED)),
    "services_stopped": (False, _bool),
    "restores": (False, _list_of(_RESTORE, limit=16)),
    "error": (False, _optional(_text(4096))),
    "rolled_back": (False, _list_of(_text(256), limit=64)),
    "not_restored": (False, _list_of(_text(4096), limit=64)),
    "finished": (False, _timestamp),
    # Written by the role's procedure (one call per previous certificate, exact service states).
    "old_thumbprints": (False, _list_of(_thumbprint, limit=64)),
    "binding_changes": (False, _list_of(_loose)),
    "binding_restore": (False, _list_of(_BINDING_RESTORE, limit=64)),
    "bindings_previous": (False, _list_of(_loose)),
    "services_before": (False, _list_of(_SERVICE_BEFORE, limit=64)),
    "services_stop": (False, _list_of(_SERVICE_STEP, limit=64)),
    "services_restore": (False, _list_of(_SERVICE_STEP, limit=64)),
    "last_step": (False, _optional(_text(64))),
    "health": (False, _loose),
    # Renewal in place (#16): the key and request made on the server, and the certificate accepted onto it.
    "source": (False, lambda w, v: _choice(w, v, SOURCES)),
    "signer": (False, lambda w, v: _choice(w, v, SIGNERS)),
    "request_thumbprint": (False, _optional(_thumbprint)),
    "request_created": (False, _bool),
    "request_id": (False, lambda w, v: _request_id(w, v)),  # pylint: disable=unnecessary-lambda  # defined below
    "accepted": (False, _bool),
}


def _request_id(where: str, value: t.Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        raise RunRecordError(f"{where} must be null or a positive AD CS request id, not {str(value)[:40]!r}")
    return value


def _schema(where: str, value: t.Any) -> int:
    if value != 1 or isinstance(value, bool):
        raise RunRecordError(f"{where} is {value!r}; this collection reads run records of schema 1 only")
    return 1


# ------------------------------------------------------------------------------------------ names and paths
def safe_file_name(name: t.Any, what: str = "the inventory host name") -> str:
    """``name`` if it can be used as a file name as it is (no folder part, no '..', no device name), else raise."""
    text = name if isinstance(name, str) else ""
    if not _SAFE_NAME.fullmatch(text) or text.endswith(".") or ".." in text or _WINDOWS_RESERVED.fullmatch(text):
        raise RunRecordError(
            f"{what} {str(name)[:100]!r} is not a safe file name: use letters, digits, '.', '-' and '_' only, "
            "starting with a letter or digit (no folder separators, no '..'). Rename the host in the inventory "
            "(set ansible_host for its address)."
        )
    return text


def _norm_path(path: str) -> str:
    return ntpath.normpath(path).rstrip("\\").lower()


def _plain_windows_path(where: str, path: str) -> str:
    """A local absolute path (drive letter, no '..', no stream or device syntax), else raise."""
    if not re.fullmatch(r"[A-Za-z]:\\[^<>\"|?*:/\x00-\x1f]*", path) or "\\..\\" in path + "\\" or "\\.\\" in path + "\\":
        raise RunRecordError(f"{where} {path[:200]!r} is not a plain local Windows path")
    return path


def known_files(server_info: dict) -> dict[str, str]:
    """Lower-case full path -> its key in win_server_info, for every file the collection writes on this server."""
    install = (server_info.get("install") or {}).get("path")
    if not isinstance(install, str) or not install:
        raise RunRecordError("win_server_info did not report the Apex One install path; gather the facts again")
    out = {}
    for key, relatives in KNOWN_FILES.items():
        for relative in relatives:
            out[_norm_path(ntpath.join(install, relative))] = key
        reported = (server_info.get(key) or {}).get("path") if isinstance(server_info.get(key), dict) else None
        if isinstance(reported, str) and reported:
            reported_norm = _norm_path(reported)
            # The server reports where it found the file; it must still be one of the known names.
            if reported_norm in out:
                out[reported_norm] = key
    return out


def _is_backup_folder(folder: str, path: str) -> bool:
    """The admin-only backup folder (any drive's ...\\apexone.certificates\\backups), or the file's own folder."""
    norm = _norm_path(folder)
    return norm == _norm_path(ntpath.dirname(path)) or norm.endswith("\\" + BACKUP_FOLDER.lower())


# ------------------------------------------------------------------------------------------ record checks
def parse(text: t.Any) -> dict:
    """The JSON object of a stored record, else raise."""
    if not isinstance(text, str):
        raise RunRecordError("the run record is not text")
    if len(text) > MAX_RECORD_CHARS:
        raise RunRecordError(f"the run record is larger than {MAX_RECORD_CHARS} characters")

    def no_duplicates(pairs: list) -> dict:
        keys = [k for k, _v in pairs]
        if len(keys) != len(set(keys)):
            raise RunRecordError("the run record repeats a field")
        return dict(pairs)

    def no_constants(name: str) -> t.NoReturn:
        raise RunRecordError(f"the run record holds {name}, which is not JSON")

    try:
        value = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constants)
    except ValueError as exc:
        if isinstance(exc, RunRecordError):
            raise
        raise RunRecordError(f"the run record is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise RunRecordError("the run record is not a JSON object")
    return value


def check_protection(protection: t.Any) -> None:
    """Refuse a record whose registry key someone other than SYSTEM/Administrators/TrustedInstaller can write."""
    if not isinstance(protection, dict):
        raise RunRecordError(f"win_server_info did not report who can write {RECORD_KEY}; gather the facts again")
    if protection.get("error"):
        raise RunRecordError(f"the permissions of {RECORD_KEY} could not be read: {str(protection['error'])[:300]}")
    owner = protection.get("owner")
    writers = protection.get("writers")
    if not isinstance(writers, list):
        raise RunRecordError(f"win_server_info did not report who can write {RECORD_KEY}; gather the facts again")
    if owner not in ADMIN_SIDS:
        raise RunRecordError(
            f"{RECORD_KEY} is owned by {str(owner)[:100]}, not by SYSTEM or Administrators: its run record may have "
            "been planted and is not used. Check the key, delete it, and roll back by hand if needed."
        )
    others = sorted({str(w) for w in writers} - ADMIN_SIDS)
    if others:
        raise RunRecordError(
            f"{RECORD_KEY} can be written by {', '.join(others)[:300]} (not only SYSTEM and Administrators): its run "
            "record may have been forged and is not used. Check the key, delete it, and roll back by hand if needed."
        )


def validate(record: t.Any, server_info: dict) -> dict:
    """The record with every field checked against the schema and this server's facts, else raise."""
    clean = _object(FIELDS)("", record)
    where = "the run record"
    # Only a renewal in place has no new certificate yet, and then nothing can have used one.
    if clean["new_thumbprint"] is None:
        if clean.get("source") != "enroll":
            raise RunRecordError("new_thumbprint must be a thumbprint of 40 upper-case hex digits, not None")
        changed = [k for k in ("imported", "accepted", "bindings_moved", "services_stopped") if clean.get(k)]
        if changed or clean.get("restores"):
            raise RunRecordError(f"{where} names no new certificate but says {', '.join(changed) or 'restores'}")
    if clean.get("accepted") and clean.get("source") != "enroll":
        raise RunRecordError(f"{where} says a certificate was accepted onto a pending key, but its source is not enroll")
    # site_name: one of the sites the server reports (exact name).
    sites = [s.get("name") for s in ((server_info.get("iis") or {}).get("sites") or []) if isinstance(s, dict)]
    if clean.get("bindings_moved") and clean.get("site_name") not in sites:
        raise RunRecordError(f"{where} names the IIS site {str(clean.get('site_name'))[:100]!r}, which this server does "
                             f"not have (sites: {', '.join(map(str, sites)) or 'none'})")
    # The thumbprint to rebind to must be one the record says was bound, and be on the server with its key.
    old = clean.get("old_thumbprint")
    if clean.get("bindings_moved"):
        if old is None:
            raise RunRecordError(f"{where} says the bindings moved but names no previous certificate")
        before = {b["thumbprint"] for b in clean.get("bindings_before") or [] if b["thumbprint"]}
        if old not in before:
            raise RunRecordError(f"{where} would rebind to {old}, which its bindings_before does not list as bound "
                                 "before the replacement")
        my = (server_info.get("certificates") or {}).get("my") or []
        if not any(isinstance(c, dict) and c.get("thumbprint") == old and c.get("has_private_key") for c in my):
            raise RunRecordError(f"{where} would rebind to {old}, which is not in LocalMachine\\My with a private key "
                                 "on this server")
    my = (server_info.get("certificates") or {}).get("my") or []
    before = {b["thumbprint"] for b in clean.get("bindings_before") or [] if b["thumbprint"]}
    for index, entry in enumerate(clean.get("binding_restore") or []):
        if "bindings_before" in clean and entry["thumbprint"] not in before:
            raise RunRecordError(f"{where}: binding_restore[{index}] would rebind to {entry['thumbprint']}, which its "
                                 "bindings_before does not list as bound before the replacement")
        if not any(isinstance(c, dict) and c.get("thumbprint") == entry["thumbprint"] and c.get("has_private_key")
                   for c in my):
            raise RunRecordError(f"{where}: binding_restore[{index}] would rebind to {entry['thumbprint']}, which is not "
                                 "in LocalMachine\\My with a private key on this server")
    # Services: only the Apex One services the server reports, and the dependents it reports for them.
    known_services = set()
    for service in (server_info.get("services") or {}).values():
        if isinstance(service, dict):
            if service.get("name"):
                known_services.add(str(service["name"]).lower())
            known_services |= {str(d).lower() for d in service.get("dependents") or []}
    for field in ("services_stop", "services_restore", "services_before"):
        for index, entry in enumerate(clean.get(field) or []):
            if entry["name"].lower() not in known_services:
                raise RunRecordError(f"{where}: {field}[{index}] names the service '{entry['name']}', which is not an Apex "
                                     "One service (or a dependent of one) on this server")
    # Certificates to put back into Root: only those the record says were in Root before and it moved out.
    roots_before = set(clean.get("roots_before") or [])
    for index, moved in enumerate(clean.get("roots_moved") or []):
        if moved["thumbprint"] not in roots_before:
            raise RunRecordError(f"{where}: roots_moved[{index}] {moved['thumbprint']} is not listed in roots_before; a "
                                 "rollback puts back into Root only certificates that were there")
    if clean.get("schannel_changed") and "schannel_previous" not in clean:
        raise RunRecordError(f"{where} says ClientAuthTrustMode changed but not what it was")
    # Files: only the known files under the install path, only from backups the modules wrote.
    files = known_files(server_info)
    for index, restore in enumerate(clean.get("restores") or []):
        path = _plain_windows_path(f"restores[{index}].path", restore["path"])
        if _norm_path(path) not in files:
            raise RunRecordError(
                f"{where}: restores[{index}].path {path[:200]!r} is not one of the files this collection writes "
                f"(OfcIPCer.dat, Service.ini, apricot_config under {server_info['install']['path']})"
            )
        if "file" in restore and files[_norm_path(path)] != restore["file"]:
            raise RunRecordError(f"{where}: restores[{index}] says file '{restore['file']}' but its path is the "
                                 f"{files[_norm_path(path)]} file")
        if restore.get("file") == "ofcipcer" and restore.get("content"):
            # OfcIPCer.dat holds a public certificate, nothing else (never a key).
            raw = base64.b64decode(restore["content"])
            try:
                load_certificates(raw)
            except CertificateError:
                raise RunRecordError(f"{where}: restores[{index}].content is not a certificate, so it cannot be the "
                                     "previous OfcIPCer.dat") from None
            if b"PRIVATE KEY" in raw:
                raise RunRecordError(f"{where}: restores[{index}].content holds a private key")
        if restore.get("backup_file") is None:
            continue
        backup = _plain_windows_path(f"restores[{index}].backup_file", restore["backup_file"])
        pattern = re.escape(ntpath.basename(path)) + _BACKUP_SUFFIX
        if not _is_backup_folder(ntpath.dirname(backup), path) or not re.fullmatch(pattern, ntpath.basename(backup),
                                                                                   re.IGNORECASE):
            raise RunRecordError(
                f"{where}: restores[{index}].backup_file {backup[:200]!r} is not a backup the modules write "
                f"('{ntpath.basename(path)}.<yyyyMMdd-HHmmss>.bak' in %ProgramData%\\{BACKUP_FOLDER})"
            )
    return clean


def from_server_info(server_info: t.Any) -> dict | None:
    """The validated run record win_server_info returned, None when the server has none, else raise."""
    if not isinstance(server_info, dict):
        raise RunRecordError("expected the registered result of win_server_info")
    if "run_record" not in server_info:
        raise RunRecordError("win_server_info did not return run_record: the installed collection is too old")
    text = server_info.get("run_record")
    if text is None:
        return None
    check_protection(server_info.get("run_record_protection"))
    return validate(parse(text), server_info)


def for_rollback(server_info: t.Any, inventory_hostname: str) -> dict:
    """The validated record a rollback may act on, else raise with what to do."""
    record = from_server_info(server_info)
    if record is None:
        raise RunRecordError(
            f"{inventory_hostname}: the server has no run record ({RECORD_KEY}, value {RECORD_VALUE}): no replacement "
            "by this collection is recorded there, so there is nothing to roll back. Records kept on a controller are "
            "reports and are never used for a rollback."
        )
    if record["status"] not in ROLLBACK_STATUSES:
        raise RunRecordError(f"{inventory_hostname}: the last run is '{record['status']}', there is nothing to roll back")
    return record


def start_record(server_info: dict, plan: dict, host: str, started: str) -> dict:
    """The first record of a run, written before the first change: what the server had, from its facts."""
    sites = (server_info.get("iis") or {}).get("sites") or []
    my = (server_info.get("certificates") or {}).get("my") or []
    new = plan.get("new_thumbprint")
    record = {
        "schema": 1,
        "host": safe_file_name(host),
        "started": started,
        "status": "applying",
        "new_thumbprint": new,
        "old_thumbprint": (plan.get("old_thumbprints") or [None])[0],
        "site_name": plan.get("site_name") or (sites[0].get("name") if sites else None),
        "new_was_present": any(c.get("thumbprint") == new for c in my),
        "schannel_previous": (server_info.get("schannel") or {}).get("client_auth_trust_mode"),
        "bindings_before": [
            {"binding": b.get("binding_information") or f"{b.get('ip')}:{b.get('port')}:{b.get('hostname') or ''}",
             "thumbprint": (b.get("certificate_hash") or None) and str(b["certificate_hash"]).upper()}
            for s in sites for b in s.get("bindings") or [] if b.get("protocol") == "https"
        ],
        "roots_before": [c.get("thumbprint") for c in
                         (server_info.get("certificates") or {}).get("root_non_self_signed") or []],
    }
    _object(FIELDS)("", record)
    return record
