"""An independent model of a Windows Server running IIS and Trend Micro Apex One (the test double).

There is no Windows host in CI. This model holds what a real server holds (registry values, files as raw bytes,
certificate stores, IIS sites and their bindings, the http.sys SSL records that really carry the certificate of
an https binding, Windows services with start types and dependencies) and answers each module call the way the
module's documented interface says, applied to that state, with the behaviour of Windows, IIS and Apex One that
tests/double/README.md lists with its source: the Smart Protection Server rebinding its port when it starts
(KA-0004491), disabled services that cannot start, ``Stop-Service -Force`` stopping dependents, PFX encryption
Windows cannot read before build 17763, ...

It imports nothing from the collection (plugins/): files are read and written here with small readers of its
own, certificates and PFX files are parsed with ``cryptography`` directly. Scenario fixtures (scenarios.py)
build the initial states.

Each module's simulation is one ``m_<module>`` method, small and isolated, so that a change of a module's
interface changes one method (the interface contracts of the team plan are implemented; see README.md).
"""

from __future__ import annotations

import base64
import copy
import datetime
import fnmatch
import hashlib
import ipaddress
import json
import ntpath
import re

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from cryptography.x509.oid import NameOID

# Paths of the Apex One files, relative to the PCCSRV folder (KA-0009125, KA-0004491, KA-0010488).
OFCIPCER = "Pccnt\\Common\\OfcIPCer.dat"
SERVICE_INI = "WSS\\Service.ini"
APRICOT = "SRS\\apricot_config"
OFCSCAN_INI = "ofcscan.ini"
AGENT_FOLDER = "Pccnt\\Common"  # deployed to the agents (KA-0009125 step 4)
BACKUP_FOLDER = "C:\\ProgramData\\apexone.certificates\\backups"  # where the byte writers keep backups (their docs)
INSTALL = "C:\\Program Files (x86)\\Trend Micro\\Apex One\\PCCSRV"
INSTALL_OFFICESCAN = "C:\\Program Files (x86)\\Trend Micro\\OfficeScan\\PCCSRV"

# Registry (HKLM, 64-bit view: the 32-bit Apex One server writes under WOW6432Node, APEXONE_FACTS [P]).
INFO_KEY = "HKLM\\SOFTWARE\\WOW6432Node\\TrendMicro\\OfficeScan\\service\\Information"
SCHANNEL_KEY = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL"
INETSTP_KEY = "HKLM\\SOFTWARE\\Microsoft\\InetStp"
# Interface contract 5 as win_apexone_run_record writes it: key HKLM\SOFTWARE\apexone.certificates, REG_SZ LastRun.
RUN_RECORD_KEY = "HKLM\\SOFTWARE\\apexone.certificates"
RUN_RECORD_VALUE = "LastRun"

# The service keys win_server_info reports: short name, display-name patterns (APEXONE_FACTS [P]).
SERVICE_KEYS = {
    "master": ("ofcservice", ["OfficeScan Master Service", "Apex One Master Service", "*OfficeScan Master Service*",
                              "*Apex One Master Service*"]),
    "ad_integration": ("OSCEIntegrationService", ["*OfficeScan Active Directory Integration Service*",
                                                  "*Apex One Active Directory Integration Service*"]),
    "smart_protection": ("TMiCRCScanService", ["Trend Micro Smart Protection Server", "*Smart Protection Server*"]),
}
SPS_SERVICE = "TMiCRCScanService"
# Windows builds (Microsoft release information): the OS decides which APIs exist.
WINDOWS = {
    "2012r2": (9600, "Microsoft Windows Server 2012 R2 Standard", "8.5"),
    "2016": (14393, "Microsoft Windows Server 2016 Standard", "10.0"),
    "2019": (17763, "Microsoft Windows Server 2019 Standard", "10.0"),
    "2022": (20348, "Microsoft Windows Server 2022 Standard", "10.0"),
}
AES_PFX_MIN_BUILD = 17763  # APEXONE_FACTS [C]: Server 2019 is the first to import PBES2/AES PFX files
STEP7_MIN_XG_BUILD = 5417  # KA-0004491 [C]
PBES2_OID_DER = bytes.fromhex("06092a864886f70d01050d")  # 1.2.840.113549.1.5.13
IIS_APP_ID = "{4dc3e181-e14b-4a21-b022-59fc669b0914}"  # the AppId IIS writes into http.sys records
NOW = datetime.datetime.now(datetime.timezone.utc)
ADMINS = {"identity": "BUILTIN\\Administrators", "sid": "S-1-5-32-544", "rights": "FullControl", "type": "allow"}


class ModuleFailure(Exception):
    """The simulated module fails (as FailJson would); ``partial`` is what its result held when it failed."""

    def __init__(self, message: str, partial: dict | None = None):
        super().__init__(message)
        self.partial = partial or {}


# ------------------------------------------------------------------------------------------------ certificates
def thumbprint(cert: x509.Certificate) -> str:
    """SHA-1 of the DER, upper-case hex, as Windows shows a thumbprint."""
    return cert.fingerprint(hashes.SHA1()).hex().upper()


def norm_thumb(value) -> str:
    return re.sub(r"[^0-9A-Fa-f]", "", str(value or "")).upper()


def load_cert(data: bytes | str) -> x509.Certificate:
    raw = data.encode() if isinstance(data, str) else data
    if raw.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(raw)
    return x509.load_der_x509_certificate(raw)


def cert_of_file(data: bytes | None) -> x509.Certificate | None:
    """The certificate of an OfcIPCer.dat-like file (DER, or PEM/Base64 text), else None."""
    if not data:
        return None
    try:
        if data[:1] == b"\x30":
            return x509.load_der_x509_certificate(data)
        text = data.decode("ascii", "replace")
        if "-----BEGIN" in text:
            return x509.load_pem_x509_certificate(text[text.index("-----BEGIN"):].encode())
        return x509.load_der_x509_certificate(base64.b64decode("".join(text.split())))
    except ValueError:
        return None


def _thumb_of(data: bytes | None) -> str | None:
    cert = cert_of_file(data)
    return thumbprint(cert) if cert is not None else None


def _cn(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else ""


def cert_record(cert: x509.Certificate, *, has_key: bool = False, friendly_name: str = "", exportable: bool = True,
                provider_type: str = "csp", acl: list | None = None) -> dict:
    """A certificate as a Windows store holds it (the key's provider: ``csp`` legacy CryptoAPI or ``cng``)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = san.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        dns = []
    public = cert.public_key()
    algorithm = "EC" if isinstance(public, ec.EllipticCurvePublicKey) else "RSA"
    if algorithm == "EC" and has_key:
        provider_type = "cng"  # legacy CryptoAPI providers hold RSA keys only
    return {
        "thumbprint": thumbprint(cert),
        "subject": cert.subject.rfc4514_string(),
        "subject_cn": _cn(cert.subject),
        "issuer": cert.issuer.rfc4514_string(),
        "friendly_name": friendly_name,
        "not_before": cert.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "not_after": cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "dns_names": list(dns),
        "self_signed": cert.issuer == cert.subject,
        "key_algorithm": algorithm,
        "has_private_key": has_key,
        "exportable": exportable if has_key else None,
        "provider_type": provider_type if has_key else None,
        "acl": list(acl or [ADMINS]) if has_key else [],
        "pem": cert.public_bytes(serialization.Encoding.PEM).decode(),
    }


def pfx_is_pbes2(data: bytes) -> bool:
    """Whether a PFX uses PBES2 (AES) protection, which Windows before build 17763 cannot read."""
    return PBES2_OID_DER in data


# ------------------------------------------------------------------------------------------------ file formats
# Minimal readers/writers of our own (not the collection's): INI lines ``key=value`` (any section), one XML element.
def decode_text(data: bytes) -> tuple[str, str]:
    """(text, codec) of a file: UTF-16 or UTF-8 by byte order mark, else ANSI (read as latin-1, byte-transparent)."""
    if data.startswith(b"\xff\xfe"):
        return data[2:].decode("utf-16-le"), "utf-16-le"
    if data.startswith(b"\xfe\xff"):
        return data[2:].decode("utf-16-be"), "utf-16-be"
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    return data.decode("latin-1"), "latin-1"


def encode_text(text: str, codec: str) -> bytes:
    bom = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}.get(codec, b"")
    return bom + text.encode(codec)


_INI_LINE = r"(?im)^[ \t]*{key}[ \t]*=[ \t]*([^\r\n]*?)[ \t]*(?=\r|\n|\Z)"


def ini_get(data: bytes | None, key: str) -> str | None:
    if data is None:
        return None
    text, _codec = decode_text(data)
    match = re.search(_INI_LINE.format(key=re.escape(key)), text)
    return match.group(1) if match else None


def ini_set(data: bytes, key: str, value: str, after: str | None = None) -> bytes:
    """``key=value`` replaced in place, or added after the ``after`` key's line (else at the end); CRLF kept."""
    text, codec = decode_text(data)
    pattern = re.compile(r"(?im)^([ \t]*" + re.escape(key) + r"[ \t]*=)[^\r\n]*(?=\r|\n|\Z)")
    if pattern.search(text):
        text = pattern.sub(lambda m: m.group(1) + value, text, count=1)
    else:
        newline = "\r\n" if "\r\n" in text else "\n"
        anchor = re.search(r"(?im)^[ \t]*" + re.escape(after) + r"[ \t]*=[^\r\n]*(\r?\n|$)", text) if after else None
        if anchor:
            end = anchor.end()
            prefix = text[:end] if anchor.group(1) else text[:end] + newline
            text = prefix + f"{key}={value}" + newline + text[end:]
        else:
            text = text + ("" if text.endswith(("\n", "\r")) or not text else newline) + f"{key}={value}" + newline
    return encode_text(text, codec)


def apricot_set(data: bytes, cert_cn: str, friendly: str) -> bytes:
    """KA-0004491: ``<cert_cn>`` set, ``<cert_friendly_name>`` set or added right under it; other bytes kept."""
    text, codec = decode_text(data)
    text = re.sub(r"<cert_cn>.*?</cert_cn>", lambda _m: f"<cert_cn>{cert_cn}</cert_cn>", text, count=1, flags=re.S)
    if re.search(r"<cert_friendly_name>.*?</cert_friendly_name>", text, re.S):
        text = re.sub(r"<cert_friendly_name>.*?</cert_friendly_name>",
                      lambda _m: f"<cert_friendly_name>{friendly}</cert_friendly_name>", text, count=1, flags=re.S)
    else:
        match = re.search(r"([ \t]*)<cert_cn>.*?</cert_cn>(\r?\n)?", text, re.S)
        if match:
            newline = match.group(2) or ""
            insert = f"{match.group(1)}<cert_friendly_name>{friendly}</cert_friendly_name>{newline}"
            text = text[:match.end()] + (insert if newline else f"<cert_friendly_name>{friendly}</cert_friendly_name>") + \
                text[match.end():]
    return encode_text(text, codec)


# ------------------------------------------------------------------------------------------------ state access
def _key(path: str) -> str:
    """A Windows path as a case-insensitive dictionary key (no trailing separator, no ``.`` parts)."""
    return ntpath.normpath(str(path).replace("/", "\\")).rstrip("\\").lower()


def install_path(state: dict) -> str | None:
    value = reg_get(state, INFO_KEY, "Local_Path")
    return str(value).rstrip("\\") if value else None


def full(state: dict, rel: str) -> str:
    return f"{install_path(state) or INSTALL}\\{rel}"


def get_path(state: dict, path: str) -> bytes | None:
    entry = state["files"].get(_key(path))
    return base64.b64decode(entry["content"]) if entry is not None else None


def set_path(state: dict, path: str, data: bytes | None) -> None:
    if data is None:
        state["files"].pop(_key(path), None)
    else:
        state["files"][_key(path)] = {"path": str(path), "content": base64.b64encode(data).decode()}


def get_file(state: dict, rel: str) -> bytes | None:
    """A file of the Apex One folder (``rel`` like winsim.OFCIPCER)."""
    return get_path(state, full(state, rel))


def set_file(state: dict, rel: str, data: bytes | None) -> None:
    set_path(state, full(state, rel), data)


def apex_files(state: dict) -> dict:
    """{path relative to PCCSRV: base64 content} of the files under the Apex One folder."""
    prefix = _key(full(state, "")) + "\\"
    root = full(state, "")
    return {v["path"][len(root):]: v["content"] for k, v in state["files"].items() if k.startswith(prefix)}


def apricot_path(state: dict) -> str | None:
    """apricot_config or apricot_config.xml, whichever exists (the reader accepts both)."""
    for name in (APRICOT, APRICOT + ".xml"):
        if get_file(state, name) is not None:
            return full(state, name)
    return None


def reg_get(state: dict, key: str, name: str):
    value = state["registry"].get(key.lower(), {}).get("values", {}).get(name.lower())
    return value["data"] if value else None


def reg_set(state: dict, key: str, name: str, data, kind: str = "REG_SZ") -> None:
    entry = state["registry"].setdefault(key.lower(), {"path": key, "values": {}})
    if data is None:
        entry["values"].pop(name.lower(), None)
    else:
        entry["values"][name.lower()] = {"name": name, "type": kind, "data": data}


def service(state: dict, name: str) -> dict | None:
    return next((s for s in state["services"].values() if s["name"].lower() == str(name).lower()), None)


def dependents(state: dict, name: str) -> list[str]:
    return [s["name"] for s in state["services"].values() if name.lower() in (d.lower() for d in s["depends_on"])]


def set_product(state: dict, version: str, build: str) -> None:
    """Server_Version and ServicePack_Build of the Apex One registry key."""
    reg_set(state, INFO_KEY, "Server_Version", version)
    reg_set(state, INFO_KEY, "ServicePack_Build", build)


def http_sys_record(kind: str, key: str, thumb: str | None, *, ctl: str | None = None, flags: int = 0) -> dict:
    """An http.sys SSL record: kind ipport (``ip:port``), hostnameport (``host:port``) or ccs (``port``)."""
    if kind == "hostnameport":
        ip, host = None, key.rsplit(":", 1)[0]
    elif kind == "ccs":
        ip, host = "0.0.0.0", None
    else:
        ip, host = key.rsplit(":", 1)[0], None
    return {"kind": kind, "key": key, "ip": ip, "hostname": host, "port": int(key.rsplit(":", 1)[-1]),
            "thumbprint": thumb, "store_name": "MY" if thumb else None, "app_id": IIS_APP_ID,
            "ctl_store_name": ctl, "ctl_identifier": None, "flags": flags}


def by_key(state: dict, key: str) -> dict | None:
    """The service win_server_info reports under ``key`` (master, ad_integration, smart_protection)."""
    return service(state, SERVICE_KEYS[key][0])


def set_service(state: dict, key: str, status: str | None = None, start_mode: str | None = None) -> None:
    """Set a reported service's status (running/stopped) and start mode (auto/delayed/manual/disabled)."""
    svc = by_key(state, key)
    if status:
        svc["status"] = status
    if start_mode:
        svc["start_mode"] = start_mode


def service_states(state: dict) -> dict:
    """{service name: (status, start_mode)}: what a rollback must restore exactly."""
    return {s["name"]: (s["status"], s["start_mode"]) for s in state["services"].values()}


def sslcert_id(binding: dict) -> tuple[str, str] | None:
    """The http.sys record an IIS https binding uses: (kind, key). SNI -> hostname:port, CCS -> port only."""
    ip, port, host = split_binding(binding["binding_information"])
    flags = int(binding.get("ssl_flags") or 0)
    if flags & 2:
        return ("ccs", str(port))
    if flags & 1:
        return ("hostnameport", f"{host.lower()}:{port}")
    return ("ipport", f"{'0.0.0.0' if ip in ('*', '') else ip}:{port}")


def split_binding(info: str) -> tuple[str, int, str]:
    ip, port, host = info.split(":", 2) if info.count(":") >= 2 else (info, "0", "")
    return ip, int(port), host


def http_record(state: dict, kind: str, key: str) -> dict | None:
    return next((r for r in state["http_sys"] if r["kind"] == kind and r["key"].lower() == key.lower()), None)


def binding_certificate(state: dict, binding: dict) -> tuple[str | None, str | None]:
    """(thumbprint, store) an https binding serves, read from its http.sys record as IIS does."""
    found = sslcert_id(binding)
    record = http_record(state, *found) if found else None
    if record is None or found[0] == "ccs":
        return None, None
    return record.get("thumbprint"), record.get("store_name") or "MY"


def comparable(state: dict, keep_ca_additions: bool = True) -> dict:
    """The part of a state that must be equal after a rollback: everything but the backups the run made and the
    injected failures. ``keep_ca_additions``: intermediates win_webhost_cert added to CA stay (documented: they
    may serve other certificates); the rest of the CA store must be as it was.
    """
    kept = copy.deepcopy({k: v for k, v in state.items() if k not in ("backups", "fail", "events", "ca_added")})
    for path in state.get("backups", []):
        kept["files"].pop(_key(path), None)
    kept["registry"].pop(RUN_RECORD_KEY.lower(), None)
    kept.pop("ca", None)  # the CA is another machine: its request database is not this server's state
    if not kept.get("machine_keys"):
        kept.pop("machine_keys", None)
    if not kept["stores"].get("REQUEST"):
        kept["stores"].pop("REQUEST", None)
    if keep_ca_additions:
        added = set(state.get("ca_added", []))
        kept["stores"]["CA"] = sorted(c["thumbprint"] for c in kept["stores"]["CA"] if c["thumbprint"] not in added)
    return kept


def _matches(args: dict, subset: dict) -> bool:
    """Whether ``args`` holds every key/value of ``subset`` (dicts compared recursively); see ApexOneServer.fail."""
    for key, value in subset.items():
        if isinstance(value, dict):
            if not isinstance(args.get(key), dict) or not _matches(args[key], value):
                return False
        elif args.get(key) != value:
            return False
    return True


# ------------------------------------------------------------------------------------------------ the server
class ApexOneServer:
    """Answers module calls from and onto ``state`` (a JSON-able dict built by scenarios.py / new_state)."""

    def __init__(self, state: dict):
        self.state = state

    # ---- helpers used by tests and the connection plugin
    def _file(self, rel: str) -> bytes | None:
        return get_file(self.state, rel)

    def read_path(self, path: str) -> bytes | None:
        return get_path(self.state, path)

    def write_path(self, path: str, data: bytes, backup: bool = False) -> str | None:
        backup_file = self._backup(path) if backup and get_path(self.state, path) is not None else None
        set_path(self.state, path, data)
        return backup_file

    def remove_tree(self, path: str) -> None:
        prefix = _key(path)
        for key in [k for k in self.state["files"] if k == prefix or k.startswith(prefix + "\\")]:
            del self.state["files"][key]

    def _backup(self, path: str, folder: str | None = None) -> str:
        """A copy of ``path`` next to it (or in ``folder``), named like the modules name theirs; recorded."""
        # <file>.<yyyyMMdd-HHmmss>.bak, '.<n>' before '.bak' when the name is taken (Backup-ApexOneFile).
        stamp = NOW.strftime("%Y%m%d-%H%M%S")
        backup_file = f"{folder or ntpath.dirname(path)}\\{ntpath.basename(path)}.{stamp}.bak"
        counter = 0
        while backup_file in self.state["backups"]:
            counter += 1
            backup_file = f"{folder or ntpath.dirname(path)}\\{ntpath.basename(path)}.{stamp}.{counter}.bak"
        set_path(self.state, backup_file, get_path(self.state, path))
        self.state["backups"].append(backup_file)
        return backup_file

    def _store(self, name: str) -> list:
        return self.state["stores"].setdefault(name, [])

    def _find(self, store: str, thumb: str) -> dict | None:
        return next((c for c in self._store(store) if c["thumbprint"] == norm_thumb(thumb)), None)

    def _event(self, text: str) -> None:
        self.state.setdefault("events", []).append(text)

    # ---- Windows services (Service Control Manager semantics)
    def _start(self, name: str, chain: tuple = ()) -> bool:
        svc = service(self.state, name)
        if svc is None:
            raise ModuleFailure(f"Cannot find any service with service name '{name}'.")
        if svc["status"] == "running":
            return False
        if svc["start_mode"] == "disabled":
            # Win32 error 1058 (ERROR_SERVICE_DISABLED), as Start-Service reports it.
            raise ModuleFailure(
                f"Service '{svc['display_name']} ({svc['name']})' cannot be started due to the following error: Cannot "
                f"start service {svc['name']} on computer '.'. The service cannot be started, either because it is "
                "disabled or because it has no enabled devices associated with it."
            )
        for dep in svc["depends_on"]:  # the SCM starts the dependencies first (error 1068 when one cannot start)
            try:
                self._start(dep, (*chain, name))
            except ModuleFailure as exc:
                raise ModuleFailure(f"Service '{svc['display_name']} ({svc['name']})' cannot be started: The dependency "
                                    f"service or group failed to start ({exc})") from exc
        svc["status"] = "running"
        self._event(f"start {svc['name']}")
        if svc["name"].lower() == SPS_SERVICE.lower():
            self._sps_started()
        return True

    def _stop(self, name: str, force: bool) -> bool:
        svc = service(self.state, name)
        if svc is None:
            raise ModuleFailure(f"Cannot find any service with service name '{name}'.")
        if svc["status"] != "running":
            return False
        running = [d for d in dependents(self.state, svc["name"]) if service(self.state, d)["status"] == "running"]
        if running and not force:
            raise ModuleFailure(f"Cannot stop service '{svc['display_name']} ({svc['name']})' because it has dependent "
                                "services. It can only be stopped if the Force flag is set.")
        for dep in running:
            self._stop(dep, force)
        svc["status"] = "stopped"
        self._event(f"stop {svc['name']}")
        return True

    def _sps_started(self) -> None:
        """KA-0004491: the Smart Protection Server, when it starts, (re)binds its HTTPS port to the certificate
        Service.ini names. With the step-7 fix (Apex One, XG build 5417+) HTTPS_CERT_FRIENDLY_NAME picks the
        certificate by friendly name; without it (or without that key) the certificate is found by HTTPS_CERT,
        compared with the subject CN. [G] Among several matches the first in store order wins (the oldest import).
        [G] When nothing matches, the binding is left as it is.
        """
        ini = self._file(SERVICE_INI)
        if ini is None:
            return
        port = (ini_get(ini, "HTTPS") or "").strip()
        name = ini_get(ini, "HTTPS_CERT")
        friendly = ini_get(ini, "HTTPS_CERT_FRIENDLY_NAME")
        candidates = [c for c in self._store("My") if c["has_private_key"]]
        chosen = None
        if friendly and self.has_step7_fix():
            chosen = next((c for c in candidates if c["friendly_name"] == friendly), None)
        if chosen is None and name:
            wanted = name.strip().lower()
            chosen = next((c for c in candidates if wanted in (c["subject_cn"].lower(),
                                                               c["subject_cn"].lower().split(".")[0])), None)
        if chosen is None or not port.isdigit():
            return
        for record in self.state["http_sys"]:
            if record["kind"] != "ccs" and record["port"] == int(port) and record["thumbprint"] != chosen["thumbprint"]:
                self._event(f"sps rebinds {record['key']} {record['thumbprint']} -> {chosen['thumbprint']}")
                record["thumbprint"] = chosen["thumbprint"]
                record["store_name"] = "MY"

    def has_step7_fix(self) -> bool:
        version = str(reg_get(self.state, INFO_KEY, "Server_Version") or "")
        build = int(str(reg_get(self.state, INFO_KEY, "ServicePack_Build") or "0") or 0)
        first = version.split(".", maxsplit=1)[0]
        major = int(first) if first.isdigit() else 0
        return major >= 13 or (major == 12 and build >= STEP7_MIN_XG_BUILD)

    # ---- failure injection
    def _fail_rule(self, module: str, args: dict | None, after: bool) -> str | None:
        """``state["fail"][module]`` is a message (every call fails) or {message, times, match, after}.

        ``match``: a subset of the module arguments the call must have to fail (others neither fail nor use up
        ``times``); ``contains``: a text the JSON of the arguments must contain (for list arguments). ``after: true``
        fails the module after its change (the change stays, the failed result carries
        what the module had put in its result, as Ansible.Basic's FailJson returns ``$module.Result``).
        """
        rule = self.state.get("fail", {}).get(module)
        if not rule:
            return None
        if not isinstance(rule, dict):
            return None if after else rule
        if bool(rule.get("after")) != after:
            return None
        if rule.get("times", 1) <= 0 or not _matches(args or {}, rule.get("match") or {}):
            return None
        if rule.get("contains") and rule["contains"] not in json.dumps(args or {}, sort_keys=True):
            return None
        rule["times"] = rule.get("times", 1) - 1
        return rule["message"]

    def _tamper(self, module: str) -> None:
        """``tamper: {after: <module>, files: {rel: base64}}``: another process changes Apex One files once, right after
        that module answered (for example between the gathering and the write: the compare-and-swap must refuse)."""
        rule = self.state.get("tamper")
        if rule and rule.get("after") == module:
            for rel, content in (rule.get("files") or {}).items():
                set_file(self.state, rel, base64.b64decode(content))
            del self.state["tamper"]

    # ---- dispatch
    def call(self, module: str, args: dict, check_mode: bool = False) -> dict:
        short = module.rsplit(".", 1)[-1]
        handler = getattr(self, "m_" + short, None)
        if handler is None:
            raise ModuleFailure(f"the test double does not simulate module {module}")
        before = copy.deepcopy(self.state)
        try:
            if short != "win_server_info":
                early = self._fail_rule(short, args, after=False)
                if early is not None:
                    raise ModuleFailure(early)
            result = handler(args, check_mode)
        except ModuleFailure:
            # A failed module changes nothing, but a consumed one-shot failure stays consumed.
            rules = copy.deepcopy(self.state.get("fail", {}))
            self.state.clear()
            self.state.update(before)
            self.state["fail"] = rules
            raise
        if check_mode:
            rules = copy.deepcopy(self.state.get("fail", {}))
            self.state.clear()
            self.state.update(before)
            self.state["fail"] = rules
        result.setdefault("changed", False)
        self._tamper(short)
        late = None if check_mode or short == "win_server_info" else self._fail_rule(short, args, after=True)
        if late is not None:
            raise ModuleFailure(late, partial=result)
        return result

    # ================================================================================ win_server_info
    def m_win_server_info(self, args: dict, check_mode: bool) -> dict:
        # Get-ApexOneInstallPath: install_path, else Local_Path, else the default folder holding ofcscan.ini or Pccnt.
        install = args.get("install_path") or install_path(self.state) or next(
            (p for p in (INSTALL, INSTALL_OFFICESCAN) if any(
                k == _key(p + "\\" + OFCSCAN_INI) or k.startswith(_key(p + "\\Pccnt") + "\\")
                for k in self.state["files"])), None)
        if not install:
            raise ModuleFailure(
                "Apex One server is not installed: no Local_Path under HKLM\\SOFTWARE\\TrendMicro\\OfficeScan\\service"
                "\\Information (64-bit or 32-bit view) and none of these folders contains ofcscan.ini or Pccnt: "
                f"{INSTALL}; {INSTALL_OFFICESCAN}. Set install_path if the server is installed elsewhere."
            )
        sites, others = self._apex_sites(args.get("site_name"))
        if args.get("site_name") and not sites:
            raise ModuleFailure(f"The IIS site '{args['site_name']}' given in site_name does not exist")
        build, caption, iis_version = self.state["windows"]["build"], self.state["windows"]["caption"], None
        iis_version = f"{reg_get(self.state, INETSTP_KEY, 'MajorVersion')}.{reg_get(self.state, INETSTP_KEY, 'MinorVersion')}"
        refs = self._reference_map(sites, others)
        services = {key: self._service_info(key) for key in SERVICE_KEYS}
        trust = reg_get(self.state, SCHANNEL_KEY, "ClientAuthTrustMode")
        issuers = reg_get(self.state, SCHANNEL_KEY, "SendTrustedIssuerList")
        return {
            "changed": False,
            "collected_at": NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "install": {"path": install, "source": "registry", "candidates": []},
            "product": {"server_version": reg_get(self.state, INFO_KEY, "Server_Version"),
                        "service_pack_build": reg_get(self.state, INFO_KEY, "ServicePack_Build"),
                        "registry_view": "registry32"},
            "windows": {"caption": caption, "version": f"10.0.{build}" if build >= 10240 else f"6.3.{build}",
                        "build": build, "ubr": 1, "architecture": "64-bit", "error": None},
            "hostname": {"fqdn": self.state["hostname"], "host_name": self.state["computer_name"]},
            **self._files_info(),
            "schannel": {"client_auth_trust_mode": int(trust) if trust is not None else None,
                         "send_trusted_issuer_list": int(issuers) if issuers is not None else None},
            "services": services,
            "iis": {"installed": True, "version": iis_version, "error": None, "sites": sites,
                    "other_https_bindings": others},
            "http_sys": {"source": "http_api", "error": None,
                         "bindings": [self._http_sys_info(r) for r in self.state["http_sys"]]},
            "certificates": {
                "my": [self._cert_info(c, "My", refs) for c in self._store("My")],
                "trusted_people": [self._cert_info(c, "TrustedPeople", refs) for c in self._store("TrustedPeople")],
                "ca": [self._cert_info(c, "CA", refs) for c in self._store("CA")],
                "disallowed": [self._cert_info(c, "Disallowed", refs) for c in self._store("Disallowed")],
                "root_non_self_signed": [self._cert_info(c, "Root", refs) for c in self._store("Root")
                                         if not c["self_signed"]],
                "request": [self._request_info(c, refs) for c in self._store("REQUEST")],
            },
            "agent_auth_certificates": [],
            **run_record_facts(self.state),
        }

    def _files_info(self) -> dict:
        """Interface contract 3 (Get-ApexOneFileContent): path, exists, sha256, content; the controller parses them."""
        def raw(path: str) -> dict:
            data = get_path(self.state, path)
            return {"path": path, "exists": data is not None,
                    "sha256": hashlib.sha256(data).hexdigest() if data is not None else None,
                    "content": base64.b64encode(data).decode() if data is not None else None, "error": None}

        return {"ofcipcer": raw(full(self.state, OFCIPCER)), "service_ini": raw(full(self.state, SERVICE_INI)),
                "apricot_config": raw(apricot_path(self.state) or full(self.state, APRICOT)),
                "ofcscan_ini": raw(full(self.state, OFCSCAN_INI))}

    def _service_info(self, key: str) -> dict:
        name, patterns = SERVICE_KEYS[key]
        svc, found_by = service(self.state, name), "name"
        if svc is None:
            found_by = "display_name"
            svc = next((s for p in patterns for s in self.state["services"].values()
                        if fnmatch.fnmatchcase(s["display_name"].lower(), p.lower())), None)
        if svc is None:
            return {"key": key, "exists": False, "found_by": None, "name": name, "display_name": None, "state": None,
                    "status": None, "start_mode": None, "username": None, "dependents": []}
        return {"key": key, "exists": True, "found_by": found_by, "name": svc["name"],
                "display_name": svc["display_name"], "state": "started" if svc["status"] == "running" else "stopped",
                "status": svc["status"], "start_mode": svc["start_mode"], "username": "LocalSystem",
                "dependents": dependents(self.state, svc["name"])}

    def _apex_sites(self, site_name: str | None) -> tuple[list, list]:
        """The Apex One sites as Get-ApexOneWebSite finds them, and the https bindings of the other sites."""
        install = (install_path(self.state) or "").lower()
        described = []
        for site in self.state["iis"]["sites"]:
            under = [a for a in site["applications"] if a["physical_path"].lower().startswith(install)]
            if site_name:
                matched = "name" if site["name"] == site_name else None
            elif under:
                matched = "physical_path"
            elif site["name"] == "OfficeScan" or "apex one" in site["name"].lower() or "officescan" in site["name"].lower():
                matched = "name_pattern"
            else:
                matched = None
            if matched:
                described.append((site, matched, under))
        if not site_name and any(m == "physical_path" for _s, m, _u in described):
            described = [d for d in described if d[1] == "physical_path"]
        names = {s["name"] for s, _m, _u in described}
        sites = []
        for site, matched, under in described:
            pools = [a["application_pool"] for a in (under or site["applications"])]
            sites.append({
                "name": site["name"], "id": site["id"], "matched_by": matched, "state": site.get("state", "started"),
                "applications": [dict(a, under_install_path=a in under) for a in site["applications"]],
                "application_pools": [self._pool_info(p) for p in dict.fromkeys(pools)],
                "bindings": [self._binding_info(b) for b in site["bindings"]],
            })
        others = [dict(self._binding_info(b), site=s["name"]) for s in self.state["iis"]["sites"] if s["name"] not in names
                  for b in s["bindings"] if b["protocol"] == "https"]
        return sites, others

    def _pool_info(self, name: str) -> dict:
        pool = self.state["iis"]["application_pools"].get(name, {"identity_type": "ApplicationPoolIdentity"})
        account = {"ApplicationPoolIdentity": f"IIS AppPool\\{name}", "NetworkService": "NT AUTHORITY\\NETWORK SERVICE",
                   "LocalSystem": "NT AUTHORITY\\SYSTEM"}.get(pool["identity_type"], pool.get("user_name"))
        return {"name": name, "identity_type": pool["identity_type"], "account": account}

    def _binding_info(self, binding: dict) -> dict:
        ip, port, host = split_binding(binding["binding_information"])
        info = {"protocol": binding["protocol"], "binding_information": binding["binding_information"], "ip": ip,
                "port": port, "hostname": host, "certificate_hash": None, "certificate_store_name": None,
                "ssl_flags": None, "sni": False}
        if binding["protocol"] == "https":
            flags = int(binding.get("ssl_flags") or 0)
            thumb, store = binding_certificate(self.state, binding)
            info.update(certificate_hash=thumb, certificate_store_name=store, ssl_flags=flags, sni=bool(flags & 1))
        return info

    @staticmethod
    def _http_sys_info(record: dict) -> dict:
        kind = {"ipport": "ip", "hostnameport": "hostname", "ccs": "ccs"}[record["kind"]]
        flags = int(record.get("flags") or 0)
        return {"type": kind, "endpoint": record["key"], "ip": record.get("ip"), "hostname": record.get("hostname"),
                "port": record["port"], "thumbprint": record.get("thumbprint"), "store_name": record.get("store_name"),
                "app_id": record.get("app_id"), "ctl_identifier": record.get("ctl_identifier"),
                "ctl_store_name": record.get("ctl_store_name"), "cert_check_mode": 0, "flags": flags,
                "negotiate_client_certificate": bool(flags & 2)}

    def _reference_map(self, sites: list, others: list) -> dict:
        refs: dict[str, list] = {}

        def add(thumb, ref):
            if thumb and ref not in refs.setdefault(norm_thumb(thumb), []):
                refs[norm_thumb(thumb)].append(ref)

        for site in sites:
            for b in site["bindings"]:
                add(b["certificate_hash"], "iis_binding")
        for b in others:
            add(b["certificate_hash"], "iis_binding_other_site")
        for record in self.state["http_sys"]:
            add(record.get("thumbprint"), "http_sys")
        add(_thumb_of(self._file(OFCIPCER)), "ofcipcer")
        return refs

    @staticmethod
    def _cert_info(cert: dict, store: str, refs: dict) -> dict:
        not_after = datetime.datetime.fromisoformat(cert["not_after"].replace("Z", "+00:00"))
        used = refs.get(cert["thumbprint"], [])
        private = None
        if cert["has_private_key"] and store == "My":
            private = {"provider_type": cert["provider_type"], "exportable": cert["exportable"],
                       "key_algorithm": cert.get("key_algorithm", "RSA"), "acl": cert["acl"] if used else None,
                       "error": None}
        return {
            "store": store, "thumbprint": cert["thumbprint"], "subject": cert["subject"],
            "subject_cn": cert["subject_cn"], "issuer": cert["issuer"], "friendly_name": cert["friendly_name"],
            "not_before": cert["not_before"], "not_after": cert["not_after"], "days_left": (not_after - NOW).days,
            "has_private_key": cert["has_private_key"], "self_signed": cert["self_signed"],
            "dns_names": cert["dns_names"], "server_auth": True, "references": used, "private_key": private,
        }

    def _request_info(self, cert: dict, refs: dict) -> dict:
        """A pending request of Cert:\\LocalMachine\\REQUEST: the shape of the other stores, its key (provider,
        exportable, size; has_private_key false once the key is gone) and its saved request file."""
        key = self.state.get("machine_keys", {}).get(cert.get("key_id"))
        info = self._cert_info(dict(cert, has_private_key=key is not None), "REQUEST", refs)
        info["key_size"] = cert.get("key_size")
        info["private_key"] = {"provider_type": key["provider_type"], "provider": key["provider"],
                               "exportable": key["exportable"], "machine_key": key["machine"], "acl": None,
                               "error": None} if key else None
        info["request_file"] = request_file(cert["thumbprint"]) if get_path(
            self.state, request_file(cert["thumbprint"])) is not None else None
        return info

    # ================================================================================ win_webhost_cert
    def _in_use(self, thumb: str) -> list[str]:
        """Where the server still uses a certificate (what the module's state=absent refuses on)."""
        refs = [f"http.sys {r['key']}" for r in self.state["http_sys"] if r.get("thumbprint") == thumb]
        cert = self._find("My", thumb)
        friendly = ini_get(self._file(SERVICE_INI), "HTTPS_CERT_FRIENDLY_NAME")
        if cert and cert["friendly_name"] and friendly == cert["friendly_name"]:
            refs.append("Service.ini HTTPS_CERT_FRIENDLY_NAME")
        return refs

    def m_win_webhost_cert(self, args: dict, check_mode: bool) -> dict:
        if args.get("state", "present") == "absent":
            thumb = norm_thumb(args["thumbprint"])
            refs = self._in_use(thumb)
            if refs:
                raise ModuleFailure(f"certificate {thumb} is still in use: {', '.join(refs)}")
            changed = False
            key_ids = [c.get("key_id") for c in self._store("My") if c["thumbprint"] == thumb]
            for store in ("My", "TrustedPeople"):
                before = len(self._store(store))
                self.state["stores"][store] = [c for c in self._store(store) if c["thumbprint"] != thumb]
                changed = changed or len(self._store(store)) != before
            for key_id in key_ids:  # the key goes with the certificate unless another certificate links to it
                drop_key_if_unused(self.state, key_id)
            return {"changed": changed, "thumbprint": thumb}
        if not args.get("_pfx_b64"):
            return self._webhost_finish(args, check_mode)
        raw = base64.b64decode(args["_pfx_b64"])
        if pfx_is_pbes2(raw) and self.state["windows"]["build"] < AES_PFX_MIN_BUILD:
            # What PFXImportCertStore answers for PBES2 on Windows before 1809/Server 2019 (ERROR_INVALID_PASSWORD).
            raise ModuleFailure("Failed to import the PFX: The specified network password is not correct.")
        try:
            bundle = pkcs12.load_pkcs12(raw, (args.get("password") or "").encode() or None)
        except ValueError as exc:
            raise ModuleFailure("Failed to import the PFX: The specified network password is not correct.") from exc
        leaf = bundle.cert.certificate
        thumb = thumbprint(leaf)
        friendly = args.get("friendly_name")
        if friendly is None:
            friendly = bundle.cert.friendly_name.decode("utf-8", "replace") if bundle.cert.friendly_name else ""
        readers = list(args.get("key_readers") or [])
        acl = [ADMINS] + [{"identity": r, "sid": r if r.startswith("S-1-") else None, "rights": "Read", "type": "allow"}
                          for r in readers]
        provider = "cng" if args.get("key_provider") == "cng" else "csp"
        warnings = []
        if isinstance(bundle.key, ec.EllipticCurvePrivateKey) and provider == "csp":
            warnings.append("the ECC key stays in CNG: legacy CryptoAPI providers hold RSA keys only")
        record = cert_record(leaf, has_key=True, friendly_name=friendly, exportable=bool(args.get("exportable", True)),
                             provider_type=provider, acl=acl)
        changed = False
        existing = self._find("My", thumb)
        if existing is None or not existing["has_private_key"] or existing["friendly_name"] != friendly or \
                existing["provider_type"] != record["provider_type"] or \
                any(r not in [a["identity"] for a in existing["acl"]] for r in readers):
            if existing is None:
                self._store("My").append(record)
            else:
                existing.update(record)
            changed = True
        if self._find("TrustedPeople", thumb) is None:
            self._store("TrustedPeople").append(cert_record(leaf))
            changed = True
        for extra in bundle.additional_certs:
            ca = extra.certificate
            if ca.issuer != ca.subject and self._find("CA", thumbprint(ca)) is None:
                self._store("CA").append(cert_record(ca))
                self.state.setdefault("ca_added", []).append(thumbprint(ca))
                changed = True
        return {"changed": changed, "thumbprint": thumb, "friendly_name": friendly, "warnings": warnings,
                "key_provider": "cng" if record["provider_type"] == "cng" else "legacy",
                "exportable": record["exportable"]}

    # ================================================================================ certreq modules (issue 16)
    def _saved_request(self, thumb: str) -> str | None:
        data = get_path(self.state, request_file(thumb))
        return data.decode("ascii") if data is not None else None

    def m_win_apexone_cert_request(self, args: dict, check_mode: bool) -> dict:
        if args.get("state", "present") == "absent":
            thumb = norm_thumb(args.get("request_thumbprint"))
            if not thumb:
                raise ModuleFailure("state is absent but all of the following are missing: request_thumbprint")
            entry = self._find("REQUEST", thumb)
            removed = entry is not None
            file_there = get_path(self.state, request_file(thumb)) is not None
            key_deleted = False
            if removed:
                self.state["stores"]["REQUEST"] = [c for c in self._store("REQUEST") if c is not entry]
                key_deleted = drop_key_if_unused(self.state, entry.get("key_id"))
            set_path(self.state, request_file(thumb), None)
            return {"changed": removed or file_there, "removed": removed, "key_deleted": key_deleted,
                    "request_thumbprint": thumb, "request_file": request_file(thumb) if file_there else None}
        if not args.get("inf"):
            raise ModuleFailure("state is present but all of the following are missing: inf")
        reuse = norm_thumb(args.get("reuse_thumbprint"))
        entry = self._find("REQUEST", reuse) if reuse else None
        if entry is not None and entry.get("key_id") in self.state.get("machine_keys", {}) and \
                self._saved_request(reuse) is not None:
            return {"changed": False, "request": self._saved_request(reuse), "request_thumbprint": reuse,
                    "request_file": request_file(reuse), "certreq_exit_code": None, "certreq_output": None,
                    "reused": True}
        result = {"changed": True, "request": None, "request_thumbprint": None, "request_file": None,
                  "certreq_exit_code": None, "certreq_output": None, "reused": False}
        if check_mode:
            return result
        try:
            made = certreq_new(self.state, args["inf"], machine=True)
        except CertreqFailure as exc:
            raise ModuleFailure(f"certreq -new failed with exit code {exc.code}: {exc.output.strip()}",
                                partial=dict(result, changed=False, certreq_exit_code=exc.code,
                                             certreq_output=exc.output)) from None
        set_path(self.state, request_file(made["thumbprint"]), made["request"].encode("ascii"))
        result.update(request=made["request"], request_thumbprint=made["thumbprint"],
                      request_file=request_file(made["thumbprint"]), certreq_exit_code=0, certreq_output=made["output"])
        return result

    def m_win_apexone_cert_submit(self, args: dict, check_mode: bool) -> dict:
        thumb = norm_thumb(args["request_thumbprint"])
        text = self._saved_request(thumb)
        request_id = args.get("request_id")
        # what the module checks before running certreq (its documented interface)
        if not re.fullmatch(r'[^\\\s"-][^\\"\r\n]*\\[^\\"\r\n]+', str(args["ca_config"])):
            raise ModuleFailure(f"ca_config '{args['ca_config']}' is not a CA configuration string 'CAHostName\\CAName'")
        if args.get("template") is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}", args["template"]):
            raise ModuleFailure(f"template '{args['template']}' is not a certificate template name (letters, digits, "
                                "space, '.', '_', '-')")
        if request_id is not None and int(request_id) <= 0:
            raise ModuleFailure(f"request_id must be a positive RequestId the CA returned, not {request_id}")
        if text is None and request_id is None:
            raise ModuleFailure(f"no saved request file for the pending request {thumb}: {request_file(thumb)} does "
                                "not exist (make the request again with win_apexone_cert_request)")
        result = {"changed": True, "certreq_exit_code": None, "certreq_output": None, "certificate": None,
                  "certificate_chain": None, "request_id": request_id}
        if check_mode:
            return result
        if request_id is not None:
            code, output, cer = certreq_retrieve(self.state, int(request_id), args["ca_config"])
        else:
            code, output, cer = certreq_submit(self.state, text, args["ca_config"],
                                               f"CertificateTemplate:{args['template']}" if args.get("template") else None)
        result.update(certreq_exit_code=code, certreq_output=output, certificate=cer,
                      certificate_chain=ca_chain_text(self.state, cer) if cer is not None else None)
        return result

    def m_win_apexone_cert_accept(self, args: dict, check_mode: bool) -> dict:
        cert = load_cert(args["certificate"])
        thumb = thumbprint(cert)
        existing = self._find("My", thumb)
        if existing is not None and existing["has_private_key"]:
            return {"changed": False, "thumbprint": thumb, "request_thumbprint": None, "certreq_exit_code": None,
                    "certreq_output": None}
        wanted = _spki(cert.public_key())
        keys = self.state.get("machine_keys", {})
        pending = [c for c in self._store("REQUEST") if c.get("key_id") in keys and _spki(
            serialization.load_der_private_key(base64.b64decode(keys[c["key_id"]]["key"]), None).public_key()) == wanted]
        if not pending:
            raise ModuleFailure(f"certificate {thumb} matches no pending request in Cert:\\LocalMachine\\REQUEST (no "
                                "request there holds its key): it was not issued for a request made on this server, or "
                                "the request was removed")
        request_thumb = pending[0]["thumbprint"]
        result = {"changed": True, "thumbprint": thumb, "request_thumbprint": request_thumb, "certreq_exit_code": None,
                  "certreq_output": None}
        if check_mode:
            return result
        installed, output = certreq_accept(self.state, args["certificate"])
        set_path(self.state, request_file(request_thumb), None)  # the request is answered: its saved file goes
        result.update(thumbprint=installed, certreq_exit_code=0, certreq_output=output)
        return result

    def _webhost_finish(self, args: dict, check_mode: bool) -> dict:
        """win_webhost_cert state=present with a thumbprint and no PFX: the certificate is already in My with its key
        (certreq -accept); friendly name, key readers, TrustedPeople copy and intermediates as for an import."""
        thumb = norm_thumb(args["thumbprint"])
        cert = self._find("My", thumb)
        if cert is None:
            raise ModuleFailure(f"certificate {thumb} is not in Cert:\\LocalMachine\\My: finish mode (thumbprint without "
                                "src) needs the certificate enrolled there first (win_apexone_cert_accept)")
        if not cert["has_private_key"]:
            raise ModuleFailure(f"certificate {thumb} in Cert:\\LocalMachine\\My has no private key: it was not accepted "
                                "onto the key of a request made on this server")
        wanted_provider = {"cng": "cng", "legacy": "csp"}.get(args.get("key_provider") or "")
        if wanted_provider and cert["provider_type"] != wanted_provider:
            raise ModuleFailure(f"the key of certificate {thumb} is in a "
                                f"{'CNG' if cert['provider_type'] == 'cng' else 'legacy CryptoAPI'} provider, key_provider "
                                f"asks for {args['key_provider']}: finish mode checks the key, it does not move it")
        warnings = []
        if args.get("exportable") is False and cert["exportable"]:
            raise ModuleFailure(f"the key of certificate {thumb} is exportable and exportable=false asks for one that "
                                "is not: finish mode checks the key, it does not change it (make the request again with "
                                "exportable false)")
        if args.get("exportable", True) and cert["exportable"] is False:
            warnings.append(f"the private key of certificate {thumb} is not exportable, and exportable=true asks for "
                            "an exportable one; it was left as it is")
        changed = False
        friendly = args.get("friendly_name")
        if friendly is not None and cert["friendly_name"] != friendly:
            cert["friendly_name"] = friendly
            changed = True
        readers = list(args.get("key_readers") or [])
        for reader in readers:
            if reader not in [a["identity"] for a in cert["acl"]]:
                cert["acl"].append({"identity": reader, "sid": reader if reader.startswith("S-1-") else None,
                                    "rights": "Read", "type": "allow"})
                changed = True
        leaf = load_cert(cert["pem"])
        if self._find("TrustedPeople", thumb) is None:
            self._store("TrustedPeople").append(cert_record(leaf))
            changed = True
        for text in args.get("chain") or []:
            ca = load_cert(text)
            if ca.issuer != ca.subject and self._find("CA", thumbprint(ca)) is None:
                self._store("CA").append(cert_record(ca))
                self.state.setdefault("ca_added", []).append(thumbprint(ca))
                changed = True
        return {"changed": changed, "thumbprint": thumb, "friendly_name": cert["friendly_name"], "warnings": warnings,
                "key_provider": "cng" if cert["provider_type"] == "cng" else "legacy",
                "exportable": cert["exportable"]}

    # ================================================================================ byte writers
    def _cas_write(self, path: str, content: str, expected: str | None, check_mode: bool) -> dict:
        """Set-ApexOneFileContent: the given bytes, only if the file still has the SHA-256 gathered; backup first
        (outside PCCSRV: Pccnt\\Common is deployed to agents), then replace."""
        new = base64.b64decode(content)
        current = get_path(self.state, path)
        current_sha = hashlib.sha256(current).hexdigest() if current is not None else None
        result = {"path": path, "changed": False, "previous_sha256": current_sha,
                  "sha256": hashlib.sha256(new).hexdigest(), "backup_file": None}
        if current == new:
            return result
        expected = (expected or "").lower() or None
        again = "Nothing was written. Gather the facts again (win_server_info) and plan again."
        if expected is None and current is not None:
            raise ModuleFailure(f"'{path}' exists (SHA-256 {current_sha}) but did not when the facts were gathered. "
                                f"{again}")
        if expected is not None and current is None:
            raise ModuleFailure(f"'{path}' no longer exists; the facts gathered had SHA-256 {expected}. {again}")
        if expected != current_sha:
            raise ModuleFailure(f"'{path}' changed since the facts were gathered: its SHA-256 is {current_sha}, "
                                f"expected {expected}. {again}")
        result["changed"] = True
        if not check_mode:
            if current is not None:
                result["backup_file"] = self._backup(path, BACKUP_FOLDER)
            set_path(self.state, path, new)
        return result

    def m_win_agent_cert(self, args: dict, check_mode: bool) -> dict:
        path = full(self.state, OFCIPCER)
        try:
            result = self._cas_write(path, args["content"], args.get("expected_sha256"), check_mode)
        except ModuleFailure as exc:  # FailJson returns the result as set so far: nothing written
            raise ModuleFailure(str(exc), partial={"path": path, "sha256": None, "previous_sha256": None,
                                                   "backup_file": None}) from None
        return result

    def m_win_cert_persistence(self, args: dict, check_mode: bool) -> dict:
        given = [(key, path, args[key]) for key, path in (
            ("service_ini", full(self.state, SERVICE_INI)),
            ("apricot_config", apricot_path(self.state) or full(self.state, APRICOT))) if args.get(key)]
        if not given:
            raise ModuleFailure("one of the following is required: service_ini, apricot_config")
        try:
            for _key, path, option in given:  # compare both before writing either
                self._cas_write(path, option["content"], option.get("expected_sha256"), True)
        except ModuleFailure as exc:
            raise ModuleFailure(str(exc), partial={"install_path": install_path(self.state), "backups": [],
                                                   "service_ini": None, "apricot_config": None}) from None
        result = {"changed": False, "backups": [], "service_ini": None, "apricot_config": None}
        for key, path, option in given:
            outcome = self._cas_write(path, option["content"], option.get("expected_sha256"), check_mode)
            result["changed"] = result["changed"] or outcome["changed"]
            result[key] = outcome
            if outcome["backup_file"]:
                result["backups"].append({"path": outcome["path"], "backup_file": outcome["backup_file"]})
        return result

    # ================================================================================ win_iis_https_binding
    def m_win_iis_https_binding(self, args: dict, check_mode: bool) -> dict:
        new = norm_thumb(args["thumbprint"])
        old = norm_thumb(args.get("old_thumbprint")) or None
        store = (args.get("certificate_store_name") or "My").upper()
        cert = self._find("My" if store == "MY" else store, new)
        if cert is None or not cert["has_private_key"]:
            raise ModuleFailure(f"certificate {new} with a private key was not found in Cert:\\LocalMachine\\{store}")
        sites = self.state["iis"]["sites"]
        site_name = args.get("site_name")
        site = next((s for s in sites if s["name"] == site_name), None) if site_name else None
        if site is None:
            raise ModuleFailure(f"IIS site '{site_name}' does not exist")
        ports = [int(p) for p in args["ports"]] if args.get("ports") else None
        wanted = set(args["bindings"]) if args.get("bindings") else None  # interface contract 2: exact match
        used = {sslcert_id(b) for s in sites for b in s["bindings"] if b["protocol"] == "https"}
        targets, untouched = {}, []
        own = [b for b in site["bindings"] if b["protocol"] == "https"
               and (ports is None or split_binding(b["binding_information"])[1] in ports)
               and (wanted is None or b["binding_information"] in wanted)]
        for b in own:
            kind, key = sslcert_id(b)
            if kind == "ccs":
                untouched.append({"site": site["name"], "binding_information": b["binding_information"],
                                  "sslcert_key": None, "reason": "uses the central certificate store"})
                continue
            record = http_record(self.state, kind, key)
            current = record.get("thumbprint") if record else None
            if current == new:
                continue
            if old and current != old:
                untouched.append({"site": site["name"], "binding_information": b["binding_information"],
                                  "sslcert_key": key, "reason": "uses another certificate than old_thumbprint"})
                continue
            targets.setdefault((kind, key), {"binding": b, "record": record})
        if wanted is None:  # stray http.sys records on the ports the site listens on (IIS Manager does not show them)
            wild = {split_binding(b["binding_information"])[1] for b in own if sslcert_id(b)[1].startswith("0.0.0.0:")}
            for record in self.state["http_sys"]:
                rid = (record["kind"], record["key"])
                if record["kind"] == "ccs" or rid in used or rid in targets or \
                        (ports is not None and record["port"] not in ports):
                    continue
                take = record.get("thumbprint") == old if old else (
                    record["kind"] == "ipport" and record["port"] in wild and record.get("thumbprint") != new)
                if take:
                    targets[rid] = {"binding": None, "record": record}
        if not own and not targets:
            raise ModuleFailure(f"IIS site '{site['name']}' has no https binding that uses a certificate hash; "
                                "nothing to move.")
        affected, previous = [], []
        for (kind, key), target in targets.items():
            record = target["record"]
            touched = [(s["name"], b) for s in sites for b in s["bindings"]
                       if b["protocol"] == "https" and sslcert_id(b) == (kind, key)]
            for owner, b in touched:
                affected.append({"site": owner, "binding_information": b["binding_information"], "sslcert_kind": kind,
                                 "sslcert_key": key, "old_thumbprint": record.get("thumbprint") if record else None,
                                 "new_thumbprint": new, "other_site": owner != site["name"]})
            previous.append({"sslcert_kind": kind, "sslcert_key": key,
                             "thumbprint": record.get("thumbprint") if record else None,
                             "certificate_store_name": record.get("store_name") if record else None,
                             "bindings": [f"{o}/{b['binding_information']}" for o, b in touched]})
            self._event(f"win_iis_https_binding moves {kind} {key} {record.get('thumbprint') if record else None} -> {new}")
            if record is None:  # IIS AddSslCertificate creates the record with its AppId
                ip, port, host = split_binding(target["binding"]["binding_information"])
                self.state["http_sys"].append({"kind": kind, "key": key, "ip": None if kind == "hostnameport" else
                                               ("0.0.0.0" if ip in ("*", "") else ip), "hostname": host or None,
                                               "port": port, "thumbprint": new, "store_name": store,
                                               "app_id": IIS_APP_ID, "ctl_store_name": None, "ctl_identifier": None,
                                               "flags": 0})
            else:  # every other setting of the record is kept (CTL store, client certificate negotiation)
                record["thumbprint"] = new
                record["store_name"] = store
        return {"changed": bool(targets), "site_name": site["name"], "thumbprint": new, "old_thumbprint": old,
                "affected": affected, "previous": previous, "untouched": untouched}

    # ================================================================================ step 6
    def m_win_schannel_trust(self, args: dict, check_mode: bool) -> dict:
        previous = reg_get(self.state, SCHANNEL_KEY, "ClientAuthTrustMode")
        value = None if args.get("state") == "absent" else args.get("client_auth_trust_mode")
        reg_set(self.state, SCHANNEL_KEY, "ClientAuthTrustMode", None if value is None else int(value), "REG_DWORD")
        return {"changed": previous != value, "previous_value": previous, "value": value,
                "key": "HKLM:\\" + SCHANNEL_KEY[5:]}

    def m_win_root_store_hygiene(self, args: dict, check_mode: bool) -> dict:
        if args.get("restore_thumbprints"):
            return self._roots_restore(args)
        excluded = {norm_thumb(t) for t in args.get("exclude_thumbprints") or []}
        moved = [c for c in self._store("Root") if not c["self_signed"] and c["thumbprint"] not in excluded]
        entries = []
        for cert in moved:
            in_ca = self._find("CA", cert["thumbprint"]) is not None
            if not in_ca:
                self._store("CA").append(cert)
            entries.append({"thumbprint": cert["thumbprint"], "subject": cert["subject"], "already_in_ca": in_ca})
        self.state["stores"]["Root"] = [c for c in self._store("Root") if c not in moved]
        return {"changed": bool(moved), "moved": entries, "kept": [], "restored": []}

    def _roots_restore(self, args: dict) -> dict:
        keep = {norm_thumb(t) for t in args.get("restore_keep_in_ca") or []}
        restored = []
        for thumb in (norm_thumb(t) for t in args["restore_thumbprints"]):
            in_root = self._find("Root", thumb) is not None
            cert = self._find("CA", thumb)
            if cert is None:
                if in_root:
                    continue
                raise ModuleFailure(f"{thumb} is in neither LocalMachine\\CA nor Root: it cannot be put back into Root")
            if in_root and thumb in keep:
                continue
            if not in_root:
                self._store("Root").append(cert)
            if thumb not in keep:
                self.state["stores"]["CA"] = [c for c in self._store("CA") if c["thumbprint"] != thumb]
            restored.append({"thumbprint": thumb, "subject": cert["subject"]})
        return {"changed": bool(restored), "moved": [], "kept": [], "restored": restored}

    # ================================================================================ services
    def m_win_apexone_services(self, args: dict, check_mode: bool) -> dict:
        """Interface contract 4: ordered {name, state, start_mode}; exact names; never -Force; one round trip."""
        report = []
        for item in args.get("services") or []:
            svc = service(self.state, item["name"])  # SCM names: case-insensitive, never a wildcard
            if svc is None:
                raise ModuleFailure(f"Service '{item['name']}' does not exist (names are matched exactly). Nothing was "
                                    "changed.")
            before = {"status": svc["status"], "start_mode": svc["start_mode"]}
            if item.get("start_mode"):
                svc["start_mode"] = item["start_mode"]
            if item.get("state") == "stopped":
                self._stop(svc["name"], force=False)
            elif item.get("state") == "started":
                self._start(svc["name"])
            report.append({"name": svc["name"], "before": before,
                           "after": {"status": svc["status"], "start_mode": svc["start_mode"]}})
        return {"changed": any(r["before"] != r["after"] for r in report), "services": report}

    def m_win_powershell(self, args: dict, check_mode: bool) -> dict:
        """The role's apexone_services.ps1 (before win_apexone_services): Stop-Service -Force in the order given,
        Start-Service in reverse order, each name looked up with Get-Service -Name (which takes wildcards)."""
        params = args.get("parameters") or {}
        action = params.get("Action")
        script = str(args.get("script", "")) + str(args.get("path", ""))
        if action not in ("stop", "start") or "apexone_services" not in script:
            raise ModuleFailure("the test double only simulates the role's apexone_services.ps1 script")
        names = list(params.get("Names") or [])
        changed = False
        for name in (names if action == "stop" else list(reversed(names))):
            found = [s["name"] for s in self.state["services"].values()
                     if fnmatch.fnmatchcase(s["name"].lower(), str(name).lower())]
            for svc_name in found:
                changed = (self._stop(svc_name, force=True) if action == "stop" else self._start(svc_name)) or changed
        return {"changed": changed, "output": [], "error": [], "result": {}}

    def m_win_service(self, args: dict, check_mode: bool) -> dict:
        """ansible.windows.win_service: state started/stopped/restarted, start_mode; force_dependent_services."""
        svc = service(self.state, args["name"])
        if svc is None:
            if args.get("state") == "absent":
                return {"changed": False, "exists": False}
            raise ModuleFailure(f"Service '{args['name']}' is not installed, need to set 'path' to create a new service")
        changed = False
        mode = args.get("start_mode")
        if mode and svc["start_mode"] != mode:
            svc["start_mode"] = mode
            changed = True
        wanted = args.get("state")
        if wanted in ("stopped", "restarted"):
            changed = self._stop(svc["name"], force=bool(args.get("force_dependent_services"))) or changed
        if wanted in ("started", "restarted"):
            changed = self._start(svc["name"]) or changed
        return {"changed": changed, "exists": True, "name": svc["name"], "state": svc["status"],
                "start_mode": svc["start_mode"], "dependent_by": dependents(self.state, svc["name"])}

    # ================================================================================ generic ansible.windows
    def m_win_copy(self, args: dict, check_mode: bool) -> dict:
        mode = args.get("_copy_mode")
        if mode == "query":
            return self._copy_query(args)
        if mode == "single":
            return self._copy_single(args, check_mode)
        if not args.get("remote_src"):
            raise ModuleFailure("the test double only simulates win_copy with remote_src and the query/single steps "
                                "of a one-file copy from the controller")
        data = get_path(self.state, args["src"])
        if data is None:
            raise ModuleFailure(f"Cannot copy src file: '{args['src']}' as it does not exist")
        changed = get_path(self.state, args["dest"]) != data
        set_path(self.state, args["dest"], data)
        return {"changed": changed, "dest": args["dest"]}

    def _copy_query(self, args: dict) -> dict:
        folder = args["dest"]
        wanted = []
        for entry in args.get("files") or []:
            current = get_path(self.state, folder + "\\" + entry["dest"])
            if current is None or (args.get("force", True)
                                   and hashlib.sha1(current).hexdigest() != entry["checksum"]):
                wanted.append(entry)
        return {"changed": False, "files": wanted, "directories": [], "symlinks": []}

    def _copy_single(self, args: dict, check_mode: bool) -> dict:
        data = get_path(self.state, args["src"])
        if data is None:
            raise ModuleFailure(f"Cannot copy src file: '{args['src']}' as it does not exist")
        changed = get_path(self.state, args["dest"]) != data
        backup = self.write_path(args["dest"], data, backup=bool(args.get("backup"))) if changed else None
        return {"changed": changed, "dest": args["dest"], "checksum": hashlib.sha1(data).hexdigest(),
                "backup_file": backup, "size": len(data)}

    def m_win_certificate_store(self, args: dict, check_mode: bool) -> dict:
        """ansible.windows.win_certificate_store, state=present: import a file that is on the server."""
        if args.get("state", "present") != "present":
            raise ModuleFailure("the test double only simulates win_certificate_store state=present")
        store = args.get("store_name", "My")
        if store not in self.state["stores"] or args.get("store_location", "LocalMachine") != "LocalMachine":
            raise ModuleFailure(f"unable to find store '{store}'")
        raw = get_path(self.state, args["path"])
        if raw is None:
            raise ModuleFailure(f"file at path '{args['path']}' does not exist")
        records = []
        if args.get("file_type", "der") == "pkcs12":
            if pfx_is_pbes2(raw) and self.state["windows"]["build"] < AES_PFX_MIN_BUILD:
                raise ModuleFailure("failed to load cert from file: The specified network password is not correct.")
            try:
                bundle = pkcs12.load_pkcs12(raw, (args.get("password") or "").encode() or None)
            except ValueError as exc:
                raise ModuleFailure("failed to load cert from file: The specified network password is not correct.") \
                    from exc
            for item in [bundle.cert, *bundle.additional_certs]:
                if item is None:
                    continue
                friendly = item.friendly_name.decode("utf-8", "replace") if item.friendly_name else ""
                records.append(cert_record(item.certificate, has_key=item is bundle.cert and bundle.key is not None,
                                           friendly_name=friendly, exportable=bool(args.get("key_exportable", True))))
        else:
            records.append(cert_record(load_cert(raw)))
        changed = False
        for record in records:
            existing = self._find(store, record["thumbprint"])
            if existing is None:
                self._store(store).append(record)
                changed = True
            elif record["has_private_key"] and not existing["has_private_key"]:
                existing.update(record)
                changed = True
        return {"changed": changed, "thumbprints": [r["thumbprint"] for r in records]}

    def m_win_iis_webbinding(self, args: dict, check_mode: bool) -> dict:
        """community.windows.win_iis_webbinding, state=present: add a binding or set its certificate (http.sys)."""
        site = next((s for s in self.state["iis"]["sites"] if s["name"] == args["name"]), None)
        if site is None:
            raise ModuleFailure(f"Unable to retrieve website with name {args['name']}. Make sure the website name is "
                                "valid and exists.")
        if args.get("state", "present") != "present":
            raise ModuleFailure("the test double only simulates win_iis_webbinding state=present")
        protocol, port, ip = args.get("protocol", "http"), int(args.get("port", 80)), args.get("ip", "*")
        info = f"{ip}:{port}:{args.get('host_header') or ''}"
        thumb = norm_thumb(args.get("certificate_hash")) or None
        store = args.get("certificate_store_name") or "My"
        if thumb and self._find(store, thumb) is None:
            raise ModuleFailure(f"Unable to locate certificate at Cert:\\LocalMachine\\{store}\\{thumb}")
        binding = next((b for b in site["bindings"] if b["protocol"] == protocol and b["binding_information"] == info),
                       None)
        operation = "updated"
        if binding is None:
            binding = {"protocol": protocol, "binding_information": info, "ssl_flags": int(args.get("ssl_flags") or 0)}
            site["bindings"].append(binding)
            operation = "added"
        elif protocol != "https" or not thumb or binding_certificate(self.state, binding)[0] == thumb:
            return {"changed": False, "operation_type": "matched", "binding_info": self._binding_info(binding)}
        if protocol == "https" and thumb:
            kind, key = sslcert_id(binding)
            record = http_record(self.state, kind, key)
            if record is None:
                self.state["http_sys"].append({"kind": kind, "key": key, "ip": key.rsplit(":", 1)[0], "hostname": None,
                                               "port": port, "thumbprint": thumb, "store_name": store.upper(),
                                               "app_id": IIS_APP_ID, "ctl_store_name": None, "ctl_identifier": None,
                                               "flags": 0})
            else:
                # IIS rewrites the record with its defaults: CTL store and client certificate negotiation are lost.
                record.update(thumbprint=thumb, store_name=store.upper(), ctl_store_name=None, flags=0,
                              app_id=IIS_APP_ID)
        return {"changed": True, "operation_type": operation, "binding_info": self._binding_info(binding)}

    def m_win_lineinfile(self, args: dict, check_mode: bool) -> dict:
        """community.windows.win_lineinfile, state=present (regex, insertafter/insertbefore, backup), CRLF files."""
        if args.get("state", "present") != "present":
            raise ModuleFailure("the test double only simulates win_lineinfile state=present")
        path = args.get("path") or args.get("dest")
        raw = get_path(self.state, path)
        if raw is None:
            raise ModuleFailure(f"Path {path} does not exist !")
        text = raw.decode("utf-8-sig")
        ends_with_newline = text.endswith(("\n", "\r"))
        lines = text.splitlines()
        line = args["line"]
        regex = re.compile(args["regex"]) if args.get("regex") else None
        after, before = args.get("insertafter"), args.get("insertbefore")
        anchor = after if after not in (None, "BOF", "EOF") else before if before not in (None, "BOF") else None
        anchor_re = re.compile(anchor) if anchor else None
        found, insert_at = -1, -1
        for number, current in enumerate(lines):
            if (regex.search(current) if regex else current == line):
                found = number
            elif anchor_re and anchor_re.search(current):
                insert_at = number + 1 if after and anchor == after else number
        changed = True
        if found != -1:
            changed = lines[found] != line
            lines[found] = line
        elif "BOF" in (after, before):
            lines.insert(0, line)
        elif after == "EOF" or insert_at == -1:
            lines.append(line)
        else:
            lines.insert(insert_at, line)
        result = {"changed": changed, "msg": ("line replaced" if found != -1 else "line added") if changed else "",
                  "backup": "", "encoding": "utf-8"}
        if changed:
            data = ("\r\n".join(lines) + ("\r\n" if ends_with_newline else "")).encode()
            result["backup_file"] = self.write_path(path, data, backup=bool(args.get("backup")))
        return result

    def m_win_apexone_run_record(self, args: dict, check_mode: bool) -> dict:
        return run_record_module(self.state, args)

    def m_win_regedit(self, args: dict, check_mode: bool) -> dict:
        """ansible.windows.win_regedit on the generic registry model (HKLM)."""
        key = re.sub(r"^HKLM:\\?", "HKLM\\\\", str(args["path"])).rstrip("\\")
        name = str(args.get("name") or "")
        if args.get("state", "present") == "absent":
            previous = reg_get(self.state, key, name)
            reg_set(self.state, key, name, None)
            return {"changed": previous is not None, "data_changed": False, "data_type_changed": False}
        kind = {"dword": "REG_DWORD", "qword": "REG_QWORD", "string": "REG_SZ"}.get(args.get("type", "string"), "REG_SZ")
        data = int(args["data"]) if kind in ("REG_DWORD", "REG_QWORD") else args.get("data")
        previous = reg_get(self.state, key, name)
        reg_set(self.state, key, name, data, kind)
        return {"changed": previous != data, "data_changed": previous != data, "data_type_changed": False}


# ------------------------------------------------------------------------------------------------ certreq and a CA
# certreq.exe as Microsoft's certreq documentation describes it (INF sections and keys, -new/-submit/-retrieve/
# -accept, the -machine context) and as published transcripts show its output; each fact and its label is in
# README.md ("certreq and the CA"). The model reads the INF with its own small reader (below), makes a real key and
# a real PKCS#10 request with cryptography, keeps the pending request (a certificate linked to the new key) in
# Cert:\LocalMachine\REQUEST, and signs with a CA built by the scenario (state["ca"]).
REQUESTS_FOLDER = "C:\\ProgramData\\apexone.certificates\\requests"  # where win_apexone_cert_request saves .req files
# Providers present on every supported Windows Server (certutil -csplist): name -> (kind, CryptoAPI provider type).
CSP_PRESENT = {
    "microsoft rsa schannel cryptographic provider": ("csp", 12),
    "microsoft enhanced rsa and aes cryptographic provider": ("csp", 24),
    "microsoft strong cryptographic provider": ("csp", 1),
    "microsoft enhanced cryptographic provider v1.0": ("csp", 1),
    "microsoft software key storage provider": ("cng", None),
}
# [NewRequest] keys of the certreq documentation (the double refuses any other key: model, stricter than Windows).
INF_NEWREQUEST_KEYS = {
    "subject", "exportable", "exportableencrypted", "hashalgorithm", "keyalgorithm", "keycontainer", "keylength",
    "keyspec", "keyusage", "keyusageproperty", "machinekeyset", "notbefore", "notafter", "privatekeyarchive",
    "encryptionalgorithm", "encryptionlength", "providername", "providertype", "renewalcert", "requestername",
    "requesttype", "securitydescriptor", "alternatesignaturealgorithm", "silent", "smime", "useexistingkeyset",
    "keyprotection", "suppressdefaults", "friendlyname", "validityperiodunits", "validityperiod",
}
KEY_USAGE_BITS = {  # certreq documentation, KeyUsage symbols (hex values)
    "cert_digital_signature_key_usage": 0x80, "cert_non_repudiation_key_usage": 0x40,
    "cert_key_encipherment_key_usage": 0x20, "cert_data_encipherment_key_usage": 0x10,
    "cert_key_agreement_key_usage": 0x08, "cert_key_cert_sign_key_usage": 0x04, "cert_crl_sign_key_usage": 0x02,
    "cert_offline_crl_sign_key_usage": 0x02, "cert_encipher_only_key_usage": 0x01,
    "cert_decipher_only_key_usage": 0x8000,
}
HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512, "sha1": hashes.SHA1}
# The request attribute that carries [RequestAttributes] (model: one UTF8String "Name:Value" per attribute under
# szOID_ENROLLMENT_NAME_VALUE_PAIR; Windows encodes a SEQUENCE of BMPStrings there).
OID_NAME_VALUE_PAIR = x509.ObjectIdentifier("1.3.6.1.4.1.311.13.2.1")
# Outputs (English Windows) and exit codes: README.md labels each.
RPC_UNAVAILABLE = (-2147023174, "Certificate Request Processor: The RPC server is unavailable. 0x800706ba (WIN32: 1722 "
                   "RPC_S_SERVER_UNAVAILABLE)")
TEMPLATE_UNSUPPORTED = -2146875392  # 0x80094800 CERTSRV_E_UNSUPPORTED_CERT_TYPE
NO_TEMPLATE = -2146875391  # 0x80094801 CERTSRV_E_NO_CERT_TYPE
INVALID_DATA = -2147024883  # 0x8007000d ERROR_INVALID_DATA
NOT_FOUND = -2146885628  # 0x80092004 CRYPT_E_NOT_FOUND
DENIED_BY_MANAGER = "Denied by Policy Module  The request was denied by a certificate manager."  # [G] wording


class CertreqFailure(Exception):
    """certreq.exe ended with a non-zero exit code; ``code`` and ``output`` are what it returned."""

    def __init__(self, code: int, output: str):
        super().__init__(output)
        self.code, self.output = code, output


def inf_parse(text: str) -> dict:
    """{section (lower case): [(key, value)]} of an INF: ``[Section]``, ``key = value`` (quotes removed), ``;``
    comments, ``_continue_`` lines appended to the previous value, ``%name%`` replaced from [Strings]."""
    sections: dict[str, list] = {}
    current = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        header = re.fullmatch(r"\[([^\]]+)\]", line)
        if header:
            current = sections.setdefault(header.group(1).strip().lower(), [])
            continue
        if current is None or "=" not in line:
            raise CertreqFailure(INVALID_DATA, f"CertReq: line {number}: expected a [section] or key = value\r\n")
        key, value = (part.strip() for part in line.split("=", 1))
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        elif '"' in value:
            raise CertreqFailure(INVALID_DATA, f"CertReq: line {number}: unbalanced quote\r\n")
        if key.lower() == "_continue_":
            if not current:
                raise CertreqFailure(INVALID_DATA, f"CertReq: line {number}: _continue_ without a key\r\n")
            current[-1] = (current[-1][0], current[-1][1] + value)
        else:
            current.append((key, value))
    strings = {k.lower(): v for k, v in sections.get("strings", [])}

    def substitute(value: str) -> str:
        return re.sub(r"%([^%]+)%", lambda m: strings.get(m.group(1).lower(), m.group(0)), value)

    return {name: [(substitute(k), substitute(v)) for k, v in pairs] for name, pairs in sections.items()}


def _inf_bool(value: str, key: str) -> bool:
    if value.lower() not in ("true", "false"):
        raise CertreqFailure(INVALID_DATA, f"CertReq: {key} = {value}: expected TRUE or FALSE\r\n")
    return value.lower() == "true"


def _rdn(subject: str) -> x509.Name:
    oids = {"cn": NameOID.COMMON_NAME, "o": NameOID.ORGANIZATION_NAME, "ou": NameOID.ORGANIZATIONAL_UNIT_NAME,
            "l": NameOID.LOCALITY_NAME, "s": NameOID.STATE_OR_PROVINCE_NAME, "c": NameOID.COUNTRY_NAME}
    attributes = []
    for part in subject.split(","):
        name, _sep, value = part.partition("=")
        if name.strip().lower() not in oids or not value.strip():
            raise CertreqFailure(INVALID_DATA, f"CertReq: Subject = {subject}: not a distinguished name the model "
                                 "reads (CN, O, OU, L, S, C)\r\n")
        attributes.append(x509.NameAttribute(oids[name.strip().lower()], value.strip()))
    return x509.Name(list(reversed(attributes)))  # CertStrToName: the string lists the most significant RDN last


def _san(value: str) -> x509.SubjectAlternativeName:
    if not value.lower().startswith("{text}"):
        raise CertreqFailure(INVALID_DATA, "CertReq: 2.5.29.17: only the {text} form is modelled\r\n")
    names: list = []
    for item in filter(None, (p.strip() for p in value[6:].split("&"))):
        kind, _sep, data = item.partition("=")
        kind = kind.strip().lower().replace(" ", "")
        if kind == "dns":
            names.append(x509.DNSName(data.strip()))
        elif kind == "ipaddress":
            names.append(x509.IPAddress(ipaddress.ip_address(data.strip())))
        else:
            raise CertreqFailure(INVALID_DATA, f"CertReq: 2.5.29.17: {item}: name type not modelled\r\n")
    return x509.SubjectAlternativeName(names)


def _eku(value: str) -> x509.ExtendedKeyUsage:
    if not value.lower().startswith("{text}"):
        raise CertreqFailure(INVALID_DATA, "CertReq: 2.5.29.37: only the {text} form is modelled\r\n")
    return x509.ExtendedKeyUsage([x509.ObjectIdentifier(o.strip()) for o in value[6:].split(",") if o.strip()])


def _key_usage(value: str) -> x509.KeyUsage:
    bits = 0
    if value.lower().startswith("0x"):
        bits = int(value, 16)
    else:
        for symbol in value.split("|"):
            if symbol.strip().lower() not in KEY_USAGE_BITS:
                raise CertreqFailure(INVALID_DATA, f"CertReq: KeyUsage: unknown symbol {symbol.strip()}\r\n")
            bits |= KEY_USAGE_BITS[symbol.strip().lower()]
    return x509.KeyUsage(digital_signature=bool(bits & 0x80), content_commitment=bool(bits & 0x40),
                         key_encipherment=bool(bits & 0x20), data_encipherment=bool(bits & 0x10),
                         key_agreement=bool(bits & 0x08), key_cert_sign=bool(bits & 0x04),
                         crl_sign=bool(bits & 0x02), encipher_only=bool(bits & 0x01 and bits & 0x08),
                         decipher_only=bool(bits & 0x8000 and bits & 0x08))


def pem_text(kind: str, der: bytes) -> str:
    """Base64 text as certreq writes its files: 64-character lines, CRLF."""
    body = base64.b64encode(der).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "\r\n".join([f"-----BEGIN {kind}-----", *lines, f"-----END {kind}-----"]) + "\r\n"


def read_request(text: str) -> x509.CertificateSigningRequest:
    """A .req file certreq wrote (``NEW CERTIFICATE REQUEST`` header) or a plain PEM/base64 PKCS#10."""
    body = re.sub(r"-----[A-Z ]+-----", "", text)
    return x509.load_der_x509_csr(base64.b64decode("".join(body.split())))


def _spki(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def ca_config(state: dict) -> str | None:
    ca = state.get("ca")
    return ca["config"] if ca else None


def ca_decide(state: dict, request_id: int, decision: str) -> None:
    """What a CA manager does to a pending request in the Certification Authority console: issue or deny it."""
    entry = state["ca"]["requests"][str(request_id)]
    if entry["status"] != "pending":
        raise ValueError(f"request {request_id} is {entry['status']}, not pending")
    if decision == "issue":
        entry.update(status="issued", certificate=_ca_sign(state, read_request(entry["request"])))
    elif decision == "deny":
        entry.update(status="denied", message=DENIED_BY_MANAGER)
    else:
        raise ValueError(decision)


def _ca_sign(state: dict, csr: x509.CertificateSigningRequest) -> str:
    """The CA signs the request (names and extensions taken from it, as the WebServer template does)."""
    ca = state["ca"]
    ca_cert = x509.load_pem_x509_certificate(ca["certificate"].encode())
    ca_key = serialization.load_der_private_key(base64.b64decode(ca["key"]), None)
    start = NOW - datetime.timedelta(minutes=10)
    builder = (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(ca_cert.subject)
               .public_key(csr.public_key()).serial_number(x509.random_serial_number()).not_valid_before(start)
               .not_valid_after(start + datetime.timedelta(days=int(ca.get("validity_days", 365))))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(csr.public_key()), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False))
    for ext in csr.extensions:
        if isinstance(ext.value, (x509.SubjectAlternativeName, x509.ExtendedKeyUsage, x509.KeyUsage)):
            builder = builder.add_extension(ext.value, critical=ext.critical)
    return pem_text("CERTIFICATE", builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))


def _request_attributes(csr: x509.CertificateSigningRequest) -> dict:
    try:
        value = csr.attributes.get_attribute_for_oid(OID_NAME_VALUE_PAIR).value.decode()
    except x509.AttributeNotFound:
        return {}
    return dict(item.split(":", 1) for item in value.split("\n") if ":" in item)


def certreq_new(state: dict, inf_text: str, machine: bool) -> dict:
    """``certreq -new -q [-machine] <inf> <req>``: a new key and request; the pending request in REQUEST.
    Returns {request (the .req text), thumbprint (REQUEST entry), output}; raises CertreqFailure."""
    inf = inf_parse(inf_text)
    for key, value in inf.get("version", []):
        if key.lower() == "signature" and value != "$Windows NT$":
            raise CertreqFailure(INVALID_DATA, f"CertReq: [Version] Signature = {value}: expected $Windows NT$\r\n")
    request = {k.lower(): v for k, v in inf.get("newrequest", [])}
    if not request:
        raise CertreqFailure(INVALID_DATA, "CertReq: [NewRequest] must set at least one value\r\n")
    unknown = sorted(set(request) - INF_NEWREQUEST_KEYS)
    if unknown:
        raise CertreqFailure(INVALID_DATA, f"CertReq: [NewRequest]: unknown key {unknown[0]}\r\n")
    if request.get("requesttype", "pkcs10").lower() not in ("pkcs10", "1"):
        raise CertreqFailure(INVALID_DATA, "CertReq: only RequestType = PKCS10 is modelled\r\n")
    machine_keys = _inf_bool(request.get("machinekeyset", "false"), "MachineKeySet")
    if machine != machine_keys:
        raise CertreqFailure(INVALID_DATA, "CertReq: -machine and MachineKeySet disagree (the documentation: they must "
                             "be consistent)\r\n")
    provider_name = request.get("providername", "Microsoft Software Key Storage Provider")
    provider = CSP_PRESENT.get(provider_name.lower())
    if provider is None:
        raise CertreqFailure(-2146893799, f"CertReq: ProviderName = {provider_name}: Provider DLL failed to initialize "
                             "correctly. 0x80090019 (-2146893799 NTE_PROV_DLL_NOT_FOUND)\r\n")
    if "providertype" in request and provider[1] is not None and int(request["providertype"]) != provider[1]:
        raise CertreqFailure(-2146893801, "CertReq: Provider type does not match registered value. 0x80090017 "
                             "(-2146893801 NTE_PROV_TYPE_NOT_DEF)\r\n")
    if request.get("keyalgorithm", "RSA").upper() != "RSA":
        raise CertreqFailure(INVALID_DATA, "CertReq: only KeyAlgorithm = RSA is modelled\r\n")
    length = int(request.get("keylength", "2048"))
    if not 512 <= length <= 16384 or length % 8:
        raise CertreqFailure(-2146893785, "CertReq: Invalid flags specified. 0x80090027 (-2146893785 "
                             "NTE_INVALID_PARAMETER)\r\n")
    algorithm = request.get("hashalgorithm", "sha1").lower()
    if algorithm not in HASHES:
        raise CertreqFailure(INVALID_DATA, f"CertReq: HashAlgorithm = {algorithm}: not modelled\r\n")
    key = rsa.generate_private_key(public_exponent=65537, key_size=length)
    builder = x509.CertificateSigningRequestBuilder().subject_name(_rdn(request["subject"]) if "subject" in request
                                                                   else x509.Name([]))
    extensions = []
    for oid, value in inf.get("extensions", []):
        if oid == "2.5.29.17":
            extensions.append((_san(value), False))
        elif oid == "2.5.29.37":
            extensions.append((_eku(value), False))
        else:
            raise CertreqFailure(INVALID_DATA, f"CertReq: [Extensions] {oid}: not modelled\r\n")
    if "keyusage" in request:
        extensions.append((_key_usage(request["keyusage"]), True))  # [G] certreq marks key usage critical
    for ext, critical in extensions:
        builder = builder.add_extension(ext, critical=critical)
    attributes = [f"{k}:{v}" for k, v in inf.get("requestattributes", [])]
    if attributes:
        builder = builder.add_attribute(OID_NAME_VALUE_PAIR, "\n".join(attributes).encode())
    csr = builder.sign(key, HASHES[algorithm]())
    exportable = _inf_bool(request.get("exportable", "false"), "Exportable")
    key_id = "{" + hashlib.sha1(_spki(key.public_key())).hexdigest()[:32].upper() + "}"
    state.setdefault("machine_keys", {})[key_id] = {
        "provider": provider_name, "provider_type": provider[0], "exportable": exportable, "algorithm": "RSA",
        "length": length, "machine": machine,
        "key": base64.b64encode(key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption())).decode()}
    # The pending request: a self-signed certificate with the request's subject and extensions, linked to the key,
    # in Cert:\LocalMachine\REQUEST ("Certificate Enrollment Requests").
    start = NOW - datetime.timedelta(minutes=1)
    dummy = (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(csr.subject).public_key(key.public_key())
             .serial_number(x509.random_serial_number()).not_valid_before(start)
             .not_valid_after(start + datetime.timedelta(days=365)))
    for ext, critical in extensions:
        dummy = dummy.add_extension(ext, critical=critical)
    pending = dummy.sign(key, HASHES[algorithm]())
    record = cert_record(pending, has_key=True, friendly_name=request.get("friendlyname", ""), exportable=exportable,
                         provider_type=provider[0])
    record.update(key_id=key_id, key_size=length)
    state["stores"].setdefault("REQUEST", []).append(record)
    return {"request": pem_text("NEW CERTIFICATE REQUEST", csr.public_bytes(serialization.Encoding.DER)),
            "thumbprint": record["thumbprint"], "output": "\r\nCertReq: Request Created\r\n"}


def _disposition(request_id: int, entry: dict) -> tuple[int, str, str | None]:
    head = f"RequestId: {request_id}\r\nRequestId: \"{request_id}\"\r\n"
    if entry["status"] == "issued":
        return 0, head + "Certificate retrieved(Issued) Issued\r\n", entry["certificate"]
    if entry["status"] == "pending":
        return 0, head + "Certificate request is pending: Taken Under Submission (0)\r\n", None
    return entry.get("code", -2146877420), head + f"Certificate not issued (Denied) {entry['message']}\r\n", None


def certreq_submit(state: dict, request_text: str, config: str, attrib: str | None) -> tuple[int, str, str | None]:
    """``certreq -submit -q -config <config> [-attrib ...] <req> <cer>``: (exit code, output, .cer text or None)."""
    ca = state.get("ca")
    if ca is None or config.lower() != ca["config"].lower():
        return RPC_UNAVAILABLE[0], RPC_UNAVAILABLE[1] + "\r\n", None
    csr = read_request(request_text)
    attributes = _request_attributes(csr)
    if attrib:
        attributes.update(dict(item.split(":", 1) for item in attrib.split("\\n") if ":" in item))
    template = attributes.get("CertificateTemplate")
    request_id = ca["next_id"]
    ca["next_id"] += 1
    entry: dict = {"request": pem_text("NEW CERTIFICATE REQUEST", csr.public_bytes(serialization.Encoding.DER)),
                   "template": template}
    if ca.get("enterprise", True) and not template:
        entry.update(status="denied", code=NO_TEMPLATE, message="Denied by Policy Module  0x80094801, The request "
                     "contains no certificate template information.")
    elif ca.get("enterprise", True) and template not in ca["templates"]:
        entry.update(status="denied", code=TEMPLATE_UNSUPPORTED, message="Denied by Policy Module  0x80094800, The "
                     "request was for a certificate template that is not supported by the Active Directory "
                     f"Certificate Services policy: {template}.")
    elif ca["mode"] == "denied":
        entry.update(status="denied", message=DENIED_BY_MANAGER)
    elif ca["mode"] == "pending":
        entry.update(status="pending")
    else:
        entry.update(status="issued", certificate=_ca_sign(state, csr))
    ca["requests"][str(request_id)] = entry
    return _disposition(request_id, entry)


def ca_chain_text(state: dict, certificate_text: str) -> str:
    """The certchainfileout certreq writes next to an issued certificate: a PKCS #7 of the certificate and its CA's
    chain (the CA certificate, then ``ca["chain"]``: PEM texts above it, when the scenario gave them), base64 with
    ``-----BEGIN PKCS7-----`` lines. [C] "certchainfileout: Base64-encoded PKCS #7"; the header lines [G]."""
    ca = state["ca"]
    certificates = [load_cert(certificate_text), load_cert(ca["certificate"]), *(load_cert(c) for c in ca.get("chain", []))]
    return pem_text("PKCS7", pkcs7.serialize_certificates(certificates, serialization.Encoding.DER))


def certreq_retrieve(state: dict, request_id: int, config: str) -> tuple[int, str, str | None]:
    """``certreq -retrieve -q -config <config> <id> <cer>``."""
    ca = state.get("ca")
    if ca is None or config.lower() != ca["config"].lower():
        return RPC_UNAVAILABLE[0], RPC_UNAVAILABLE[1] + "\r\n", None
    entry = ca["requests"].get(str(request_id))
    if entry is None:
        return -2147024809, ("Certificate Request Processor: The parameter is incorrect. 0x80070057 (WIN32: 87 "
                             "ERROR_INVALID_PARAMETER)\r\n"), None
    return _disposition(request_id, entry)


def certreq_accept(state: dict, certificate_text: str) -> tuple[str, str]:
    """``certreq -accept -machine -q <cer>``: the certificate goes to My, linked to the pending request's key; the
    REQUEST entry goes away. (thumbprint, output); CertreqFailure when no pending request holds the key."""
    cert = load_cert(certificate_text)
    wanted = _spki(cert.public_key())
    for entry in state["stores"].get("REQUEST", []):
        key = state.get("machine_keys", {}).get(entry.get("key_id"))
        if key and _spki(serialization.load_der_private_key(base64.b64decode(key["key"]), None).public_key()) == wanted:
            break
    else:
        raise CertreqFailure(NOT_FOUND, "Certificate Request Processor: Cannot find object or property. 0x80092004 "
                             "(-2146885628 CRYPT_E_NOT_FOUND)\r\n")
    record = cert_record(cert, has_key=True, friendly_name=entry["friendly_name"], exportable=key["exportable"],
                         provider_type=key["provider_type"])
    record["key_id"] = entry["key_id"]
    my = state["stores"]["My"]
    existing = next((c for c in my if c["thumbprint"] == record["thumbprint"]), None)
    if existing is None:
        my.append(record)
    else:
        existing.update(record)
    state["stores"]["REQUEST"] = [c for c in state["stores"]["REQUEST"] if c is not entry]
    output = (f"Installed Certificate:\r\n  Serial Number: {cert.serial_number:x}\r\n  Subject: "
              f"{cert.subject.rfc4514_string()}\r\n  NotBefore: {record['not_before']}\r\n  NotAfter: "
              f"{record['not_after']}\r\n  Thumbprint: {record['thumbprint'].lower()}\r\n")
    return record["thumbprint"], output


def key_in_use(state: dict, key_id: str | None) -> bool:
    """Whether a certificate of a LocalMachine store still links to the key."""
    return bool(key_id) and any(c.get("key_id") == key_id for store in state["stores"].values() for c in store)


def drop_key_if_unused(state: dict, key_id: str | None) -> bool:
    """Delete a machine key no certificate links to any more (as _ApexOneCertKey does); True when deleted."""
    if key_id and not key_in_use(state, key_id) and key_id in state.get("machine_keys", {}):
        del state["machine_keys"][key_id]
        return True
    return False


def request_file(thumb: str) -> str:
    return f"{REQUESTS_FOLDER}\\{norm_thumb(thumb)}.req"


# ------------------------------------------------------------------------------------------------ a default server
def new_state(self_signed: x509.Certificate, *, hostname: str, build: int = 17763, server_version: str = "14.0",
              service_pack_build: str = "12526", ofcipcer_encoding: str = "der") -> dict:
    """A freshly installed Apex One server (the baseline scenario; scenarios.py builds the others)."""
    import scenarios  # local import: scenarios imports this module

    windows = next((k for k, v in WINDOWS.items() if v[0] == build), None)
    spec = scenarios.Scenario("default", windows=windows or "2019", version=server_version,
                              build=service_pack_build, ofcipcer=ofcipcer_encoding)
    state = scenarios.build_state(spec, hostname=hostname, original=self_signed)
    if windows is None:
        state["windows"]["build"] = build
    return state


# ------------------------------------------------------------------------------------------ run record (security)
# The value and the key's security as win_apexone_run_record leaves them (owner Administrators, protected DACL,
# SYSTEM and Administrators only) and win_server_info reports them. A test plants a forged record with reg_set, or
# loosens the key by editing registry[key]["security"].
ADMIN_ONLY_KEY = {"owner": "S-1-5-32-544", "writers": ["S-1-5-18", "S-1-5-32-544"], "protected": True}


def run_record_facts(state: dict) -> dict:
    entry = state["registry"].get(RUN_RECORD_KEY.lower())
    security = (entry or {}).get("security") or (ADMIN_ONLY_KEY if entry is not None else
                                                 {"owner": None, "writers": [], "protected": None})
    return {"run_record": reg_get(state, RUN_RECORD_KEY, RUN_RECORD_VALUE), "run_record_protection": {
        "key": "HKLM:\\" + RUN_RECORD_KEY[5:], "value_name": RUN_RECORD_VALUE, "owner": security["owner"],
        "writers": list(security["writers"]), "protected": security["protected"], "error": None}}


def run_record_module(state: dict, args: dict) -> dict:
    """win_apexone_run_record: write (or remove) the text and reset the key to admin-only."""
    entry = state["registry"].get(RUN_RECORD_KEY.lower())
    security = (entry or {}).get("security") or ADMIN_ONLY_KEY
    protected = entry is not None and security["owner"] == ADMIN_ONLY_KEY["owner"] and bool(security["protected"]) \
        and set(security["writers"]) <= set(ADMIN_ONLY_KEY["writers"])
    before = reg_get(state, RUN_RECORD_KEY, RUN_RECORD_VALUE)
    if args.get("state", "present") == "absent":
        after = None
    else:
        record = args.get("record")
        after = record if isinstance(record, str) else json.dumps(record, separators=(",", ":"))
        if not isinstance(json.loads(after), dict):
            raise ModuleFailure("record must be a JSON object")
    changed = before != after or (entry is not None and not protected)
    if changed:
        reg_set(state, RUN_RECORD_KEY, RUN_RECORD_VALUE, after)
        state["registry"][RUN_RECORD_KEY.lower()]["security"] = copy.deepcopy(ADMIN_ONLY_KEY)
    return {"changed": changed, "key": "HKLM:\\" + RUN_RECORD_KEY[5:], "value_name": RUN_RECORD_VALUE,
            "protection_reset": bool(changed and entry is not None and not protected),
            "diff": {"before": {"run_record": before}, "after": {"run_record": after}}}
