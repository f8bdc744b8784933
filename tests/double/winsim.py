"""A simulated Apex One server: the test double behind the role and playbook tests.

There is no Windows host in CI. This model holds the state that matters to the procedure (certificate stores,
IIS bindings, http.sys entries, the Apex One files, Schannel, services) and answers each module the way its
documentation says the real module behaves, so that the real role can run end to end under ansible-playbook
(through the ``apexone_double`` connection plugin) and every remote call can be counted and checked.

Files are raw bytes, as the modules see them: win_server_info returns {path, exists, sha256, content} and the two
writers (win_agent_cert, win_cert_persistence) replace a file with the bytes they are given only if it still has the
expected SHA-256 (compare-and-swap), backing it up outside PCCSRV; certificates are parsed with cryptography.
"""

from __future__ import annotations

import base64
import copy
import datetime
import hashlib
import ntpath
import re

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from ansible_collections.apexone.certificates.plugins.module_utils import _x509

INSTALL = "C:\\Program Files (x86)\\Trend Micro\\Apex One\\PCCSRV"
OFCIPCER = "Pccnt\\Common\\OfcIPCer.dat"
SERVICE_INI = "WSS\\Service.ini"
APRICOT = "SRS\\apricot_config"
# apricot_config may also be named apricot_config.xml; win_server_info and win_cert_persistence take the first that exists.
APRICOT_NAMES = (APRICOT, "SRS\\apricot_config.xml")
BACKUP_FOLDER = "C:\\ProgramData\\apexone.certificates\\backups"
OFCSCAN_INI = "ofcscan.ini"
SERVICES = {
    "master": ("ofcservice", "Apex One Master Service"),
    "ad_integration": ("OSCEIntegrationService", "OfficeScan Active Directory Integration Service"),
    "smart_protection": ("TMiCRCScanService", "Trend Micro Smart Protection Server"),
}
SCHANNEL_KEY = "HKLM:SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL"
NOW = datetime.datetime.now(datetime.timezone.utc)


class ModuleFailure(Exception):
    """The simulated module fails (as FailJson would); ``partial`` is what its result held when it failed."""

    def __init__(self, message: str, partial: dict | None = None):
        super().__init__(message)
        self.partial = partial or {}


def cert_record(cert: x509.Certificate, *, has_key: bool = False, friendly_name: str = "", exportable: bool = True,
                provider_type: str = "csp", acl: list | None = None) -> dict:
    info = _x509.describe_certificate(cert)
    return {
        "thumbprint": info["thumbprint"],
        "subject": "CN=" + (info["subject_cn"] or ""),
        "subject_cn": info["subject_cn"],
        "issuer": info["issuer"],
        "friendly_name": friendly_name,
        "not_before": info["not_before"],
        "not_after": info["not_after"],
        "dns_names": info["san_dns"],
        "self_signed": info["self_signed"],
        "has_private_key": has_key,
        "exportable": exportable if has_key else None,
        "provider_type": provider_type if has_key else None,
        "acl": list(acl or [{"identity": "BUILTIN\\Administrators", "sid": "S-1-5-32-544", "rights": "FullControl",
                             "type": "allow"}]),
        "pem": info["certificate_pem"],
    }


def new_state(self_signed: x509.Certificate, *, hostname: str, build: int = 17763, server_version: str = "14.0",
              service_pack_build: str = "12526", ofcipcer_encoding: str = "der") -> dict:
    """A freshly installed Apex One server: self-signed web host certificate bound on 4343, as setup leaves it."""
    original = cert_record(self_signed, has_key=True, friendly_name="")
    der = self_signed.public_bytes(serialization.Encoding.DER)
    ofcipcer = der if ofcipcer_encoding == "der" else self_signed.public_bytes(serialization.Encoding.PEM)
    short = hostname.split(".")[0]
    service_ini = (
        "[WSS]\r\nHTTP=8080\r\nHTTPS=4343\r\nHTTPS_CERT=" + short + "\r\nLOG_LEVEL=1\r\n"
    ).encode()
    apricot = (
        '<?xml version="1.0" encoding="utf-8"?>\r\n<config>\r\n  <https>\r\n    <port>4343</port>\r\n'
        "    <cert_cn>" + short + "</cert_cn>\r\n  </https>\r\n</config>\r\n"
    ).encode()
    ofcscan = ("[INI_SERVER_SECTION]\r\nMaster_DomainName=" + hostname + "\r\nMaster_DomainPort=8080\r\n").encode()
    return {
        "hostname": hostname,
        "windows_build": build,
        "product": {"server_version": server_version, "service_pack_build": service_pack_build},
        "install_path": INSTALL,
        "stores": {"My": [original], "TrustedPeople": [dict(original, has_private_key=False)], "CA": [], "Root": [],
                   "Disallowed": []},
        "files": {
            OFCIPCER: base64.b64encode(ofcipcer).decode(),
            SERVICE_INI: base64.b64encode(service_ini).decode(),
            APRICOT: base64.b64encode(apricot).decode(),
            OFCSCAN_INI: base64.b64encode(ofcscan).decode(),
        },
        "backups": {},
        "sites": [
            {
                "name": "OfficeScan",
                "id": 2,
                "application_pools": [
                    {"name": "OfficeScan", "identity_type": "ApplicationPoolIdentity", "account": "IIS AppPool\\OfficeScan"}
                ],
                "bindings": [
                    {"protocol": "http", "ip": "*", "port": 8080, "hostname": "", "certificate_hash": None},
                    {"protocol": "https", "ip": "*", "port": 4343, "hostname": "",
                     "certificate_hash": original["thumbprint"], "certificate_store_name": "My", "ssl_flags": 0},
                ],
            }
        ],
        "other_sites": [],
        "http_sys": [
            {"endpoint": "0.0.0.0:4343", "ip": "0.0.0.0", "port": 4343, "thumbprint": original["thumbprint"],
             "ctl_store_name": None, "negotiate_client_certificate": False}
        ],
        "schannel": {"client_auth_trust_mode": None},
        "services": {key: "started" for key in SERVICES},
        "fail": {},
    }


class ApexOneServer:
    """Answers module calls from and onto ``state`` (a JSON-able dict)."""

    def __init__(self, state: dict):
        self.state = state

    # ------------------------------------------------------------------------------------------ helpers
    def _file(self, rel: str) -> bytes | None:
        value = self.state["files"].get(rel)
        return base64.b64decode(value) if value is not None else None

    def _write(self, rel: str, data: bytes, backup: bool = True) -> str | None:
        backup_path = None
        if backup and rel in self.state["files"]:
            # Named as Get-ApexOneBackupPath names them: <file>.<yyyyMMdd-HHmmss>.bak, '.<n>' when taken.
            stamp = NOW.strftime("%Y%m%d-%H%M%S")
            backup_path = f"{self.state['install_path']}\\{rel}.{stamp}.bak"
            counter = 0
            while backup_path in self.state["backups"]:
                counter += 1
                backup_path = f"{self.state['install_path']}\\{rel}.{stamp}.{counter}.bak"
            self.state["backups"][backup_path] = self.state["files"][rel]
        self.state["files"][rel] = base64.b64encode(data).decode()
        return backup_path

    def _path(self, rel: str) -> str:
        return f"{self.state['install_path']}\\{rel}"

    def _apricot(self) -> str:
        """Get-ApexOneApricotConfigPath: the first apricot_config name that exists, else the KB name."""
        return next((rel for rel in APRICOT_NAMES if rel in self.state["files"]), APRICOT)

    def _raw(self, rel: str) -> dict:
        """Get-ApexOneFileContent: {path, exists, sha256 (lower-case hex), content (base64), error}."""
        data = self._file(rel)
        return {"path": self._path(rel), "exists": data is not None,
                "sha256": hashlib.sha256(data).hexdigest() if data is not None else None,
                "content": self.state["files"][rel] if data is not None else None, "error": None}

    def _cas_write(self, rel: str, content: str, expected: str | None, check_mode: bool) -> dict:
        """Set-ApexOneFileContent: write the given bytes only if the file still has the expected SHA-256."""
        new = base64.b64decode(content)
        current = self._file(rel)
        current_sha = hashlib.sha256(current).hexdigest() if current is not None else None
        result = {"path": self._path(rel), "changed": False, "previous_sha256": current_sha,
                  "sha256": hashlib.sha256(new).hexdigest(), "backup_file": None}
        if current == new:
            return result
        expected = (expected or "").lower() or None
        again = "Nothing was written. Gather the facts again (win_server_info) and plan again."
        if expected is None and current is not None:
            raise ModuleFailure(f"'{self._path(rel)}' exists (SHA-256 {current_sha}) but did not when the facts were "
                                f"gathered. {again}")
        if expected is not None and current is None:
            raise ModuleFailure(f"'{self._path(rel)}' no longer exists; the facts gathered had SHA-256 {expected}. {again}")
        if expected != current_sha:
            raise ModuleFailure(f"'{self._path(rel)}' changed since the facts were gathered: its SHA-256 is "
                                f"{current_sha}, expected {expected}. {again}")
        result["changed"] = True
        if not check_mode:
            if current is not None:
                # Named as Backup-ApexOneFile names them: <file>.<yyyyMMdd-HHmmss>.bak, '.<n>' when taken.
                stamp = NOW.strftime("%Y%m%d-%H%M%S")
                result["backup_file"] = f"{BACKUP_FOLDER}\\{ntpath.basename(rel)}.{stamp}.bak"
                counter = 0
                while result["backup_file"] in self.state["backups"]:
                    counter += 1
                    result["backup_file"] = f"{BACKUP_FOLDER}\\{ntpath.basename(rel)}.{stamp}.{counter}.bak"
                self.state["backups"][result["backup_file"]] = self.state["files"][rel]
            self.state["files"][rel] = base64.b64encode(new).decode()
        return result

    def _store(self, name: str) -> list:
        return self.state["stores"][name]

    def _find(self, store: str, thumbprint: str) -> dict | None:
        return next((c for c in self._store(store) if c["thumbprint"] == thumbprint), None)

    def _references(self, thumbprint: str) -> list[str]:
        refs = []
        for site in self.state["sites"]:
            for b in site["bindings"]:
                if b.get("certificate_hash") == thumbprint:
                    refs.append(f"IIS binding {site['name']} {b['ip']}:{b['port']}")
        for entry in self.state["http_sys"]:
            if entry["thumbprint"] == thumbprint:
                refs.append(f"http.sys {entry['endpoint']}")
        return refs

    def _maybe_fail(self, module: str, args: dict | None = None) -> None:
        """Injected failures: ``fail[module]`` is a message (every call fails) or {message, times, match} (the next N).

        ``match`` (optional) is a subset of the module arguments the call must have to fail, for example
        ``{"parameters": {"Action": "start"}}`` fails only the service start of the role's win_powershell script;
        a call that does not match neither fails nor uses up ``times``.
        ``after: true`` fails the module *after* its change (a check or a second write that fails): the change
        stays, and the failed result carries what the module had put in its result (``changed``, backups...), as
        Ansible.Basic's FailJson returns ``$module.Result``. Without it a failed module changes nothing.
        """
        rule = self._fail_rule(module, args, after=False)
        if rule is not None:
            raise ModuleFailure(rule)

    def _fail_rule(self, module: str, args: dict | None, after: bool) -> str | None:
        """The message of the injected failure this call meets (using it up), or None."""
        rule = self.state.get("fail", {}).get(module)
        if not rule:
            return None
        if not isinstance(rule, dict):
            return None if after else rule
        if bool(rule.get("after")) != after:
            return None
        if rule.get("times", 1) <= 0 or not _matches(args or {}, rule.get("match") or {}):
            return None
        rule["times"] = rule.get("times", 1) - 1
        return rule["message"]

    def _tamper(self, module: str) -> None:
        """``tamper: {after: <module>, files: {rel: base64}}``: another process changes files once, right after that
        module answered (for example between the gathering and the write: the compare-and-swap must refuse)."""
        rule = self.state.get("tamper")
        if rule and rule.get("after") == module:
            self.state["files"].update(rule.get("files") or {})
            del self.state["tamper"]

    # ------------------------------------------------------------------------------------------ dispatch
    def call(self, module: str, args: dict, check_mode: bool = False) -> dict:
        short = module.rsplit(".", 1)[-1]
        handler = getattr(self, "m_" + short, None)
        if handler is None:
            raise ModuleFailure(f"the test double does not simulate module {module}")
        before = copy.deepcopy(self.state)
        try:
            if short != "win_server_info":
                self._maybe_fail(short, args)
            result = handler(args, check_mode)
        except ModuleFailure:
            # A failed module changes nothing, but a consumed one-shot failure stays consumed.
            fail_rules = copy.deepcopy(self.state.get("fail", {}))
            self.state.clear()
            self.state.update(before)
            self.state["fail"] = fail_rules
            raise
        if check_mode:
            self.state.clear()
            self.state.update(before)
        result.setdefault("changed", False)
        self._tamper(short)
        late = None if check_mode or short == "win_server_info" else self._fail_rule(short, args, after=True)
        if late is not None:
            raise ModuleFailure(late, partial=result)
        return result

    # ------------------------------------------------------------------------------------------ modules
    def m_win_server_info(self, args: dict, check_mode: bool) -> dict:
        # As Get-ApexOneInstallPath and win_server_info.ps1 fail: no Apex One, or a site_name that does not exist.
        if not self.state.get("install_path"):
            raise ModuleFailure(
                "Apex One server is not installed: no Local_Path under HKLM\\SOFTWARE\\TrendMicro\\OfficeScan\\service"
                "\\Information (64-bit or 32-bit view) and none of these folders contains ofcscan.ini or Pccnt: "
                "C:\\Program Files (x86)\\Trend Micro\\Apex One\\PCCSRV; C:\\Program Files (x86)\\Trend Micro\\OfficeScan"
                "\\PCCSRV. Set install_path if the server is installed elsewhere."
            )
        wanted_site = args.get("site_name")
        if wanted_site and not any(s["name"].lower() == str(wanted_site).lower() for s in self.state["sites"]):
            raise ModuleFailure(f"The IIS site '{wanted_site}' given in site_name does not exist")

        def entry(cert: dict, store: str) -> dict:
            refs = []
            if any(b.get("certificate_hash") == cert["thumbprint"] for s in self.state["sites"] for b in s["bindings"]):
                refs.append("iis_binding")
            if any(e["thumbprint"] == cert["thumbprint"] for e in self.state["http_sys"]):
                refs.append("http_sys")
            not_after = datetime.datetime.fromisoformat(cert["not_after"].replace("Z", "+00:00"))
            private = None
            if cert["has_private_key"] and store == "My":
                private = {"provider_type": cert["provider_type"], "exportable": cert["exportable"],
                           "acl": cert["acl"] if refs else None, "error": None}
            return {
                "store": store, "thumbprint": cert["thumbprint"], "subject": cert["subject"],
                "subject_cn": cert["subject_cn"], "issuer": cert["issuer"], "friendly_name": cert["friendly_name"],
                "not_before": cert["not_before"], "not_after": cert["not_after"],
                "days_left": (not_after - NOW).days, "has_private_key": cert["has_private_key"],
                "self_signed": cert["self_signed"], "dns_names": cert["dns_names"], "server_auth": True,
                "references": refs, "private_key": private,
            }

        return {
            "changed": False,
            "install": {"path": self.state["install_path"], "source": "registry", "candidates": []},
            "product": dict(self.state["product"], registry_view="registry32"),
            "windows": {"caption": "Microsoft Windows Server", "version": f"10.0.{self.state['windows_build']}",
                        "build": self.state["windows_build"], "ubr": 1, "architecture": "64-bit", "error": None},
            "hostname": {"fqdn": self.state["hostname"], "host_name": self.state["hostname"].split(".")[0]},
            # Raw bytes only (Get-ApexOneFileContent); the controller parses them.
            "ofcipcer": self._raw(OFCIPCER),
            "service_ini": self._raw(SERVICE_INI),
            "apricot_config": self._raw(self._apricot()),
            "ofcscan_ini": self._raw(OFCSCAN_INI),
            "schannel": {"client_auth_trust_mode": self.state["schannel"]["client_auth_trust_mode"],
                         "send_trusted_issuer_list": None},
            "services": {
                key: {"key": key, "exists": key in self.state["services"], "name": SERVICES[key][0],
                      "display_name": SERVICES[key][1], "state": self.state["services"].get(key)}
                for key in SERVICES
            },
            "iis": {
                "installed": True, "version": "10.0", "error": None,
                "sites": [
                    {
                        "name": s["name"], "id": s["id"], "matched_by": "physical_path", "state": "started",
                        "application_pools": s["application_pools"],
                        "bindings": [
                            dict(b, binding_information=f"{b['ip']}:{b['port']}:{b.get('hostname', '')}",
                                 sni=bool((b.get("ssl_flags") or 0) & 1))
                            for b in s["bindings"]
                        ],
                    }
                    for s in self.state["sites"]
                ],
                "other_https_bindings": copy.deepcopy(self.state["other_sites"]),
            },
            "http_sys": {"source": "http_api", "error": None, "bindings": copy.deepcopy(self.state["http_sys"])},
            "certificates": {
                "my": [entry(c, "My") for c in self._store("My")],
                "trusted_people": [entry(c, "TrustedPeople") for c in self._store("TrustedPeople")],
                "ca": [entry(c, "CA") for c in self._store("CA")],
                "disallowed": [entry(c, "Disallowed") for c in self._store("Disallowed")],
                "root_non_self_signed": [entry(c, "Root") for c in self._store("Root") if not c["self_signed"]],
            },
            "agent_auth_certificates": [],
            **run_record_facts(self.state),
        }

    def m_win_webhost_cert(self, args: dict, check_mode: bool) -> dict:
        if args.get("state", "present") == "absent":
            thumbprint = _x509.normalize_thumbprint(args["thumbprint"])
            refs = self._references(thumbprint)
            if refs:
                raise ModuleFailure(f"certificate {thumbprint} is still in use: {', '.join(refs)}")
            changed = False
            for store in ("My", "TrustedPeople"):
                before = len(self._store(store))
                self.state["stores"][store] = [c for c in self._store(store) if c["thumbprint"] != thumbprint]
                changed = changed or len(self._store(store)) != before
            return {"changed": changed, "thumbprint": thumbprint}
        raw = base64.b64decode(args["_pfx_b64"])
        try:
            bundle = pkcs12.load_pkcs12(raw, (args.get("password") or "").encode() or None)
        except ValueError as exc:
            raise ModuleFailure("Failed to import the PFX: The specified network password is not correct.") from exc
        leaf = bundle.cert.certificate
        thumbprint = _x509.thumbprint(leaf)
        friendly = args.get("friendly_name") or ""
        readers = list(args.get("key_readers") or [])
        acl = [{"identity": "BUILTIN\\Administrators", "sid": "S-1-5-32-544", "rights": "FullControl",
                "type": "allow"}] + [
            {"identity": r, "sid": r if r.startswith("S-1-") else None, "rights": "Read", "type": "allow"}
            for r in readers
        ]
        record = cert_record(leaf, has_key=True, friendly_name=friendly, exportable=bool(args.get("exportable", True)),
                             provider_type="cng" if args.get("key_provider") == "cng" else "csp", acl=acl)
        changed = False
        existing = self._find("My", thumbprint)
        if existing is None or not existing["has_private_key"] or existing["friendly_name"] != friendly or any(
            r not in [a["identity"] for a in existing["acl"]] for r in readers
        ):
            self.state["stores"]["My"] = [c for c in self._store("My") if c["thumbprint"] != thumbprint] + [record]
            changed = True
        if self._find("TrustedPeople", thumbprint) is None:
            self._store("TrustedPeople").append(dict(record, has_private_key=False))
            changed = True
        for extra in bundle.additional_certs:
            ca = extra.certificate
            if not _x509.is_self_signed(ca) and self._find("CA", _x509.thumbprint(ca)) is None:
                self._store("CA").append(cert_record(ca))
                changed = True
        return {"changed": changed, "thumbprint": thumbprint, "friendly_name": friendly,
                "key_provider": record["provider_type"], "exportable": record["exportable"]}

    def m_win_apexone_run_record(self, args: dict, check_mode: bool) -> dict:
        return run_record_module(self.state, args)

    def m_win_agent_cert(self, args: dict, check_mode: bool) -> dict:
        try:
            result = self._cas_write(OFCIPCER, args["content"], args.get("expected_sha256"), check_mode)
        except ModuleFailure as exc:  # FailJson returns the result as set so far: nothing written
            raise ModuleFailure(str(exc), partial={"path": self._path(OFCIPCER), "sha256": None,
                                                   "previous_sha256": None, "backup_file": None}) from None
        return {"changed": result.pop("changed"), **result}

    def m_win_iis_https_binding(self, args: dict, check_mode: bool) -> dict:
        new = _x509.normalize_thumbprint(args["thumbprint"])
        old = _x509.normalize_thumbprint(args["old_thumbprint"]) if args.get("old_thumbprint") else None
        if self._find("My", new) is None or not self._find("My", new)["has_private_key"]:
            raise ModuleFailure(f"certificate {new} with a private key was not found in Cert:\\LocalMachine\\My")
        site_name = args.get("site_name") or self.state["sites"][0]["name"]
        site = next((s for s in self.state["sites"] if s["name"].lower() == site_name.lower()), None)
        if site is None:
            raise ModuleFailure(f"IIS site '{site_name}' does not exist")
        ports = args.get("ports") or []
        previous, affected = [], []
        touched_ports = set()
        for b in site["bindings"]:
            if b["protocol"] != "https" or (ports and b["port"] not in ports):
                continue
            if old and b.get("certificate_hash") != old:
                continue
            if b.get("certificate_hash") != new:
                previous.append({"binding": f"{b['ip']}:{b['port']}:{b.get('hostname', '')}",
                                 "thumbprint": b.get("certificate_hash")})
                affected.append({"site": site["name"], "binding": f"{b['ip']}:{b['port']}"})
                b["certificate_hash"] = new
                touched_ports.add(b["port"])
        for entry in self.state["http_sys"]:
            if entry["thumbprint"] != new and (entry["port"] in touched_ports or (old and entry["thumbprint"] == old)):
                previous.append({"binding": f"http.sys {entry['endpoint']}", "thumbprint": entry["thumbprint"]})
                entry["thumbprint"] = new
        return {"changed": bool(previous), "previous": previous, "affected": affected, "thumbprint": new}

    def m_win_cert_persistence(self, args: dict, check_mode: bool) -> dict:
        given = [(key, rel, args[key]) for key, rel in (("service_ini", SERVICE_INI), ("apricot_config", self._apricot()))
                 if args.get(key)]
        if not given:
            raise ModuleFailure("one of the following is required: service_ini, apricot_config")
        try:
            for _key, rel, option in given:  # compare both before writing either
                self._cas_write(rel, option["content"], option.get("expected_sha256"), True)
        except ModuleFailure as exc:  # FailJson returns the result as set so far: nothing written
            raise ModuleFailure(str(exc), partial={"install_path": self.state["install_path"], "backups": [],
                                                   "service_ini": None, "apricot_config": None}) from None
        result = {"changed": False, "backups": [], "service_ini": None, "apricot_config": None}
        for key, rel, option in given:
            outcome = self._cas_write(rel, option["content"], option.get("expected_sha256"), check_mode)
            result["changed"] = result["changed"] or outcome["changed"]
            result[key] = outcome
            if outcome["backup_file"]:
                result["backups"].append({"path": outcome["path"], "backup_file": outcome["backup_file"]})
        return result

    def m_win_schannel_trust(self, args: dict, check_mode: bool) -> dict:
        previous = self.state["schannel"]["client_auth_trust_mode"]
        value = None if args.get("state") == "absent" else args.get("client_auth_trust_mode")
        self.state["schannel"]["client_auth_trust_mode"] = value
        return {"changed": previous != value, "previous_value": previous, "value": value}

    def m_win_root_store_hygiene(self, args: dict, check_mode: bool) -> dict:
        if args.get("restore_thumbprints"):
            return self._roots_restore(args)
        excluded = {_x509.normalize_thumbprint(t) for t in args.get("exclude_thumbprints") or []}
        moved = [c for c in self._store("Root") if not c["self_signed"] and c["thumbprint"] not in excluded]
        entries = []
        for cert in moved:
            in_ca = self._find("CA", cert["thumbprint"]) is not None
            if not in_ca:
                self._store("CA").append(cert)
            entries.append({"thumbprint": cert["thumbprint"], "subject": cert["subject"], "already_in_ca": in_ca})
        self.state["stores"]["Root"] = [c for c in self._store("Root") if c not in moved]
        return {"changed": bool(moved), "moved": entries, "skipped": [], "restored": []}

    def _roots_restore(self, args: dict) -> dict:
        """restore_thumbprints: back into Root from CA; out of CA unless listed in restore_keep_in_ca."""
        keep = {_x509.normalize_thumbprint(t) for t in args.get("restore_keep_in_ca") or []}
        restored = []
        for thumbprint in (_x509.normalize_thumbprint(t) for t in args["restore_thumbprints"]):
            in_root = self._find("Root", thumbprint) is not None
            cert = self._find("CA", thumbprint)
            if cert is None:
                if in_root:
                    continue
                raise ModuleFailure(f"{thumbprint} is in neither LocalMachine\\CA nor Root: it cannot be put back into Root")
            if in_root and thumbprint in keep:
                continue
            if not in_root:
                self._store("Root").append(cert)
            if thumbprint not in keep:
                self.state["stores"]["CA"] = [c for c in self._store("CA") if c["thumbprint"] != thumbprint]
            restored.append({"thumbprint": thumbprint, "subject": cert["subject"]})
        return {"changed": bool(restored), "moved": [], "skipped": [], "restored": restored}

    # Generic ansible.windows modules the role uses around the procedure.
    def m_win_service(self, args: dict, check_mode: bool) -> dict:
        key = next((k for k, (name, _d) in SERVICES.items() if name.lower() == str(args["name"]).lower()), None)
        if key is None or key not in self.state["services"]:
            raise ModuleFailure(f"Service '{args['name']}' is not installed")
        wanted = args.get("state")
        if wanted in ("stopped", "started"):
            changed = self.state["services"][key] != wanted
            self.state["services"][key] = wanted
            return {"changed": changed, "state": wanted}
        return {"changed": False, "state": self.state["services"][key]}

    def m_win_powershell(self, args: dict, check_mode: bool) -> dict:
        """The role's service stop/start script (roles/webhost_certificate/files/apexone_services.ps1)."""
        params = args.get("parameters") or {}
        action = params.get("Action")
        if action not in ("stop", "start") or "apexone_services" not in str(args.get("script", "")):
            raise ModuleFailure("the test double only simulates the role's apexone_services.ps1 script")
        wanted = "stopped" if action == "stop" else "started"
        changed = False
        for name in params.get("Names") or []:
            key = next((k for k, (short, _d) in SERVICES.items() if short.lower() == str(name).lower()), None)
            if key in self.state["services"] and self.state["services"][key] != wanted:
                self.state["services"][key] = wanted
                changed = True
        return {"changed": changed, "output": [], "error": [], "result": {}}

    def m_win_copy(self, args: dict, check_mode: bool) -> dict:
        mode = args.get("_copy_mode")
        if mode == "query":
            return self._copy_query(args)
        if mode == "single":
            return self._copy_single(args, check_mode)
        if not args.get("remote_src"):
            raise ModuleFailure("the test double only simulates win_copy with remote_src (backup restores) and the "
                                "query/single steps of a one-file copy from the controller")
        src, dest = args["src"], args["dest"]
        if src not in self.state["backups"]:
            raise ModuleFailure(f"Cannot copy src file: '{src}' as it does not exist")
        rel = dest.replace(self.state["install_path"] + "\\", "")
        changed = self.state["files"].get(rel) != self.state["backups"][src]
        self.state["files"][rel] = self.state["backups"][src]
        return {"changed": changed, "dest": dest}

    # ------------------------------------------------------------------ generic modules of the DIY baseline
    # tests/bench/diy_replace.yml does the KB procedure with generic modules; these handlers answer them as the
    # modules' documentation says, on the same state, so that the benchmark counts their calls honestly.
    # Files outside the Apex One folder (the PFX a DIY playbook copies to a temp folder, files sent by put_file)
    # live in state["other_files"], keyed by the lower-case Windows path.

    @staticmethod
    def _norm(path: str) -> str:
        """A Windows path without trailing separator or ``.`` parts (Ansible removes ``<tmp>\\.``)."""
        return ntpath.normpath(str(path).replace("/", "\\")).rstrip("\\")

    def _rel(self, path: str) -> str | None:
        """The key in state["files"] of a path under the install folder, else None."""
        prefix = self.state["install_path"].lower() + "\\"
        norm = self._norm(path)
        if norm.lower().startswith(prefix):
            tail = norm[len(prefix):].lower()
            return next((rel for rel in self.state["files"] if rel.lower() == tail), norm[len(prefix):])
        return None

    def read_path(self, path: str) -> bytes | None:
        rel = self._rel(path)
        if rel is not None:
            return self._file(rel)
        value = self.state.get("other_files", {}).get(self._norm(path).lower())
        return base64.b64decode(value) if value is not None else None

    def write_path(self, path: str, data: bytes, backup: bool = False) -> str | None:
        rel = self._rel(path)
        if rel is not None:
            return self._write(rel, data, backup=backup)
        self.state.setdefault("other_files", {})[self._norm(path).lower()] = base64.b64encode(data).decode()
        return None

    def remove_tree(self, path: str) -> None:
        """Remove a folder of other_files (Ansible's remote temporary folder)."""
        prefix = self._norm(path).lower()
        files = self.state.get("other_files", {})
        for key in [k for k in files if k == prefix or k.startswith(prefix + "\\")]:
            del files[key]

    def _copy_query(self, args: dict) -> dict:
        """win_copy's first step for a copy from the controller: which files differ (SHA-1) from the destination."""
        folder = self._norm(args["dest"])
        wanted = []
        for entry in args.get("files") or []:
            current = self.read_path(folder + "\\" + self._norm(entry["dest"]))
            if current is None or (args.get("force", True) and hashlib.sha1(current).hexdigest() != entry["checksum"]):
                wanted.append(entry)
        return {"changed": False, "files": wanted, "directories": [], "symlinks": []}

    def _copy_single(self, args: dict, check_mode: bool) -> dict:
        """win_copy's second step: move the file put_file sent into the temporary folder to its destination."""
        data = self.read_path(args["src"])
        if data is None:
            raise ModuleFailure(f"Cannot copy src file: '{args['src']}' as it does not exist")
        dest = self._norm(args["dest"])
        changed = self.read_path(dest) != data
        backup = self.write_path(dest, data, backup=bool(args.get("backup"))) if changed else None
        return {"changed": changed, "dest": dest, "checksum": hashlib.sha1(data).hexdigest(), "backup_file": backup,
                "size": len(data)}

    def m_win_certificate_store(self, args: dict, check_mode: bool) -> dict:
        """ansible.windows.win_certificate_store, state=present: import a file that is on the server."""
        if args.get("state", "present") != "present":
            raise ModuleFailure("the test double only simulates win_certificate_store state=present")
        store = args.get("store_name", "My")
        if store not in self.state["stores"] or args.get("store_location", "LocalMachine") != "LocalMachine":
            raise ModuleFailure(f"unable to find store '{store}'")
        raw = self.read_path(args["path"])
        if raw is None:
            raise ModuleFailure(f"file at path '{args['path']}' does not exist")
        file_type = args.get("file_type", "der")
        records = []
        if file_type == "pkcs12":
            try:
                bundle = pkcs12.load_pkcs12(raw, (args.get("password") or "").encode() or None)
            except ValueError as exc:
                raise ModuleFailure("failed to load cert from file: The specified network password is not correct.") from exc
            for item in [bundle.cert, *bundle.additional_certs]:
                if item is None:
                    continue
                friendly = item.friendly_name.decode("utf-8", "replace") if item.friendly_name else ""
                has_key = item is bundle.cert and bundle.key is not None
                records.append(cert_record(item.certificate, has_key=has_key, friendly_name=friendly,
                                           exportable=bool(args.get("key_exportable", True))))
        else:
            records.append(cert_record(_x509.load_certificates(raw)[0]))
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
        """community.windows.win_iis_webbinding, state=present: add a binding or change its certificate."""
        site = next((s for s in self.state["sites"] if s["name"].lower() == str(args["name"]).lower()), None)
        if site is None:
            raise ModuleFailure(f"Unable to retrieve website with name {args['name']}. Make sure the website name is "
                                "valid and exists.")
        if args.get("state", "present") != "present":
            raise ModuleFailure("the test double only simulates win_iis_webbinding state=present")
        protocol, port, ip = args.get("protocol", "http"), int(args.get("port", 80)), args.get("ip", "*")
        header = args.get("host_header") or ""
        thumbprint = _x509.normalize_thumbprint(args["certificate_hash"]) if args.get("certificate_hash") else None
        store = args.get("certificate_store_name") or "My"
        if thumbprint and self._find(store, thumbprint) is None:
            raise ModuleFailure(f"Unable to locate certificate at Cert:\\LocalMachine\\{store}\\{thumbprint}")
        binding = next((b for b in site["bindings"] if b["protocol"] == protocol and b["port"] == port
                        and b["ip"] == ip and (b.get("hostname") or "") == header), None)
        if binding is None:
            binding = {"protocol": protocol, "ip": ip, "port": port, "hostname": header, "certificate_hash": None,
                       "certificate_store_name": store, "ssl_flags": int(args.get("ssl_flags") or 0)}
            site["bindings"].append(binding)
            operation = "added"
        elif protocol == "https" and thumbprint and binding.get("certificate_hash") != thumbprint:
            operation = "updated"
        else:
            return {"changed": False, "operation_type": "matched", "binding_info": dict(binding)}
        if protocol == "https" and thumbprint:
            binding["certificate_hash"] = thumbprint
            binding["certificate_store_name"] = store
            # IIS writes the certificate of an IP binding into http.sys (netsh http show sslcert) as well.
            address = "0.0.0.0" if ip == "*" else ip
            entry = next((e for e in self.state["http_sys"] if e["ip"] == address and e["port"] == port), None)
            if entry is None:
                self.state["http_sys"].append({"endpoint": f"{address}:{port}", "ip": address, "port": port,
                                               "thumbprint": thumbprint, "ctl_store_name": None,
                                               "negotiate_client_certificate": False})
            else:
                entry["thumbprint"] = thumbprint
        return {"changed": True, "operation_type": operation, "binding_info": dict(binding)}

    def m_win_lineinfile(self, args: dict, check_mode: bool) -> dict:
        """community.windows.win_lineinfile, state=present (regex, insertafter/insertbefore, backup), CRLF files."""
        if args.get("state", "present") != "present":
            raise ModuleFailure("the test double only simulates win_lineinfile state=present")
        path = args.get("path") or args.get("dest")
        raw = self.read_path(path)
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
        changed = False
        if found != -1:
            if lines[found] != line:
                lines[found], changed = line, True
        elif "BOF" in (after, before):
            lines.insert(0, line)
            changed = True
        elif after == "EOF" or insert_at == -1:
            lines.append(line)
            changed = True
        else:
            lines.insert(insert_at, line)
            changed = True
        result = {"changed": changed, "msg": ("line replaced" if found != -1 else "line added") if changed else "",
                  "backup": "", "encoding": "utf-8"}
        if changed:
            data = ("\r\n".join(lines) + ("\r\n" if ends_with_newline else "")).encode()
            result["backup_file"] = self.write_path(path, data, backup=bool(args.get("backup")))
        return result

    def m_win_regedit(self, args: dict, check_mode: bool) -> dict:
        """ansible.windows.win_regedit, state=present; the Schannel ClientAuthTrustMode value is part of the model."""
        if args.get("state", "present") != "present":
            raise ModuleFailure("the test double only simulates win_regedit state=present")
        key = str(args["path"]).replace("HKLM:\\", "HKLM:").rstrip("\\").lower()
        name = str(args.get("name") or "")
        data = args.get("data")
        if key == SCHANNEL_KEY.lower() and name.lower() == "clientauthtrustmode":
            previous = self.state["schannel"]["client_auth_trust_mode"]
            value = int(data)
            self.state["schannel"]["client_auth_trust_mode"] = value
            return {"changed": previous != value, "data_changed": previous != value, "data_type_changed": False}
        registry = self.state.setdefault("registry", {})
        previous = registry.get(f"{key}\\{name.lower()}")
        registry[f"{key}\\{name.lower()}"] = {"type": args.get("type", "string"), "data": data}
        return {"changed": previous != registry[f"{key}\\{name.lower()}"], "data_changed": True,
                "data_type_changed": False}


# ------------------------------------------------------------------------------------------ run record (security)
# HKLM\SOFTWARE\apexone.certificates, REG_SZ LastRun, as win_apexone_run_record writes it and win_server_info reads
# it: state["run_record"] = {"text": str | None, "owner": SID, "writers": [SID], "protected": bool}. A test plants a
# forged record, or loosens the key, by editing that entry.
RUN_RECORD_KEY = "HKLM:\\SOFTWARE\\apexone.certificates"
ADMIN_ONLY_KEY = {"owner": "S-1-5-32-544", "writers": ["S-1-5-18", "S-1-5-32-544"], "protected": True}


def run_record_facts(state: dict) -> dict:
    entry = state.get("run_record")
    if entry is None:
        return {"run_record": None, "run_record_protection": {
            "key": RUN_RECORD_KEY, "value_name": "LastRun", "owner": None, "writers": [], "protected": None,
            "error": None}}
    return {"run_record": entry.get("text"), "run_record_protection": {
        "key": RUN_RECORD_KEY, "value_name": "LastRun", "owner": entry.get("owner"),
        "writers": list(entry.get("writers") or []), "protected": entry.get("protected"), "error": None}}


def run_record_module(state: dict, args: dict) -> dict:
    """win_apexone_run_record: write (or remove) the text and reset the key to admin-only."""
    import json as _json

    entry = state.get("run_record")
    protected = entry is not None and entry.get("owner") == ADMIN_ONLY_KEY["owner"] and entry.get("protected") and set(
        entry.get("writers") or []) <= set(ADMIN_ONLY_KEY["writers"])
    before = entry.get("text") if entry else None
    if args.get("state", "present") == "absent":
        after = None
    else:
        record = args.get("record")
        after = record if isinstance(record, str) else _json.dumps(record, separators=(",", ":"))
        if not isinstance(_json.loads(after), dict):
            raise ModuleFailure("record must be a JSON object")
    changed = before != after or (entry is not None and not protected)
    if changed:
        state["run_record"] = dict(ADMIN_ONLY_KEY, writers=list(ADMIN_ONLY_KEY["writers"]), text=after)
    return {"changed": changed, "key": RUN_RECORD_KEY, "value_name": "LastRun",
            "protection_reset": bool(changed and entry is not None and not protected),
            "diff": {"before": {"run_record": before}, "after": {"run_record": after}}}


def _thumb_of(data: bytes) -> str | None:
    try:
        return _x509.thumbprint(_x509.load_certificates(data)[0])
    except _x509.CertificateError:
        return None


def comparable(state: dict) -> dict:
    """The part of a state that must be equal after a rollback.

    Allowed to differ: the backups made on the way, and intermediates added to the CA store (win_webhost_cert
    keeps them on removal, by design: they may be shared by other certificates and are harmless).
    """
    kept = {k: v for k, v in copy.deepcopy(state).items() if k not in ("backups", "fail", "run_record")}
    kept["stores"].pop("CA", None)
    return kept


def _matches(args: dict, subset: dict) -> bool:
    """Whether ``args`` holds every key/value of ``subset`` (dicts compared recursively); see _maybe_fail."""
    for key, value in subset.items():
        if isinstance(value, dict):
            if not isinstance(args.get(key), dict) or not _matches(args[key], value):
                return False
        elif args.get(key) != value:
            return False
    return True


def encoding_name(data: bytes | None) -> str | None:
    """How win_server_info names a file's encoding (Read-ApexOneTextFile in _ApexOneCommon.psm1)."""
    if data is None:
        return None
    if data.startswith(b"\xff\xfe"):
        return "utf-16le"
    if data.startswith(b"\xfe\xff"):
        return "utf-16be"
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-bom"
    if all(byte < 0x80 for byte in data):
        return "ansi"
    try:
        data.decode("utf-8", "strict")
    except UnicodeDecodeError:
        return "ansi"
    return "utf-8"
