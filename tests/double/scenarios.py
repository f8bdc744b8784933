"""Scenario fixtures: initial states of simulated Apex One servers, one per real-world variant (issue 12).

A scenario is data (``Scenario``: which Windows, which Apex One build, which IIS layout, which services...);
``build_state`` turns it into the state winsim.ApexOneServer answers from. ``MATRIX`` is the list the property test
tests/unit/scenarios/test_matrix.py runs. What each variant assumes about facts that are only guessed ([G] in
APEXONE_FACTS.md) is written in tests/double/README.md.

``xfail`` maps a property (``converge``, ``plan``, ``services``, ``rollback``, ``failure``, ``blocked``, ``agents``,
``honest``) to a known defect that makes the code fail it (a strict xfail: the fix makes it pass, then the entry must
go). ``showed`` keeps, for the record, the issue 12 defects each scenario showed on the code before the fixes: every
one of them failed there (strict xfail) and passes since the procedure, bytes and lane changes were merged.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime

import winsim
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

# Versions: (Server_Version, ServicePack_Build). The step-7 threshold (XG 5417) is [C]; the other build numbers are
# examples of their line ([G]: only their side of the threshold matters to the model).
PRODUCTS = {
    "apexone_12526": ("14.0", "12526"),
    "apexone_9565": ("14.0", "9565"),
    "xg_5180": ("12.0", "5180"),
    "xg_5427": ("12.0", "5427"),
    "osce_11": ("11.0", "6054"),
}
DEFECTS = {
    1: "issue 12 defect 1: Master_DomainName is not compared with the certificate on Apex One",
    2: "issue 12 defect 2: builds without the step-7 fix (XG < 5417, OfficeScan 11) are not refused",
    3: "issue 12 defect 3: services are stopped with -Force / started regardless of their prior state",
    4: "issue 12 defect 4: only the first site is rebound / the plan lists changes the apply does not make",
    5: "issue 12 defect 5: step 7 edits the files while the services run",
    6: "issue 12 defect 6: friendly name unique only among bound certificates",
    7: "issue 12 defect 7: remove_old=unused deletes the certificate rollback needs",
    8: "issue 12 defect 8: apricot_config.xml is read but not written",  # fixed by the byte writers (main)
    9: "issue 12 defects 2/9: the run records success, the Smart Protection Server reverts the certificate on start",
    11: "issue 12 defect 11: OfcIPCer.dat backups land in the folder deployed to agents",  # fixed (main)
}


@dataclasses.dataclass
class Scenario:
    name: str
    windows: str = "2019"  # 2012r2, 2016, 2019, 2022
    version: str = "14.0"
    build: str = "12526"
    folder: str = "apexone"  # apexone | officescan (upgraded install keeps the OfficeScan folder)
    layout: str = "officescan_4343"  # officescan_4343 dws_443 both two_sites sni ip ccs ctl
    services: str = "running"  # running ad_stopped ad_disabled dependent ad_missing
    original_provider: str = "csp"  # csp | cng: where the installer's certificate key lives
    new_key: str = "rsa"  # rsa | ec: the key of the new certificate
    master: str = "fqdn"  # fqdn | short: Master_DomainName (the name agents use) vs the inventory FQDN
    apricot_xml: bool = False  # the file is named apricot_config.xml
    ofcipcer: str = "der"  # der | pem
    stale_friendly: bool = False  # an old unbound certificate in My already has the wanted friendly name
    pfx_encryption: str = "legacy"  # legacy | aes
    host_vars: dict = dataclasses.field(default_factory=dict)
    expect: str = "converge"  # converge | blocked
    blocked_hint: str = ""  # a word the blocking message must contain (what to do)
    may_block: str = ""  # either outcome is right: converge, or refused with a message holding this text
    xfail: dict = dataclasses.field(default_factory=dict)
    showed: dict = dataclasses.field(default_factory=dict)  # property -> defect this scenario showed (fixed since)
    failure_steps: tuple = ()  # steps to inject a failure at (matrix test)
    ca: str | None = None  # issue | pending | denied: an enterprise CA (AD CS) the server can submit requests to

    @property
    def product(self) -> tuple[str, str]:
        return self.version, self.build


ALL_STEPS = ("win_webhost_cert", "win_agent_cert", "win_iis_https_binding", "stop", "win_cert_persistence", "start")


def _apex(name, product="apexone_12526", **kw) -> Scenario:
    version, build = PRODUCTS[product]
    return Scenario(name, version=version, build=build, **kw)


MATRIX: list[Scenario] = [
    _apex("baseline_2019", failure_steps=ALL_STEPS, showed={"agents": DEFECTS[11]}),
    _apex("apexone_older_build_2022", product="apexone_9565", windows="2022"),
    _apex("xg_5427_upgraded_folder", product="xg_5427", folder="officescan"),
    _apex("xg_5180_blocked", product="xg_5180", folder="officescan", expect="blocked", blocked_hint="upgrade",
          showed={"blocked": DEFECTS[2], "honest": DEFECTS[9]}),
    _apex("osce11_blocked", product="osce_11", folder="officescan", windows="2012r2", expect="blocked",
          blocked_hint="upgrade", showed={"blocked": DEFECTS[2], "honest": DEFECTS[9]}),
    _apex("server_2012r2_aes_pfx", windows="2012r2", pfx_encryption="aes"),
    _apex("server_2016", windows="2016"),
    _apex("dws_443_only", layout="dws_443"),
    _apex("both_sites_shared_cert", layout="both", showed={"plan": DEFECTS[4]}),
    # issue 12 item 4: bind every site the plan lists, or refuse until apexone_cert_site_name is set
    _apex("two_matching_sites", layout="two_sites", failure_steps=("win_iis_https_binding",),
          may_block="apexone_cert_site_name",
          showed={"plan": DEFECTS[4], "rollback": DEFECTS[4]}),
    _apex("sni_binding", layout="sni"),
    _apex("ip_binding", layout="ip"),
    _apex("ccs_binding", layout="ccs", showed={"converge": DEFECTS[4], "plan": DEFECTS[4]}),
    _apex("ctl_client_cert", layout="ctl", failure_steps=("win_cert_persistence",)),
    _apex("ad_service_stopped", services="ad_stopped", failure_steps=("win_cert_persistence",),
          showed={"services": DEFECTS[3], "rollback": DEFECTS[3], "failure": DEFECTS[3]}),
    _apex("ad_service_disabled", services="ad_disabled", failure_steps=("win_cert_persistence",),
          showed={"converge": DEFECTS[3], "plan": DEFECTS[3], "services": DEFECTS[3], "rollback": DEFECTS[3],
                  "agents": DEFECTS[3], "failure": DEFECTS[3]}),
    _apex("master_has_dependent", services="dependent", failure_steps=("win_cert_persistence",),
          showed={"services": DEFECTS[3], "rollback": DEFECTS[3], "failure": DEFECTS[3]}),
    _apex("ad_service_missing", services="ad_missing"),
    _apex("original_key_cng", original_provider="cng"),
    _apex("new_key_cng", host_vars={"apexone_cert_key_provider": "cng"}),
    _apex("new_key_ecc", new_key="ec"),
    _apex("master_short_name", master="short", expect="blocked", blocked_hint="apexone_cert_",
          showed={"blocked": DEFECTS[1]}),
    _apex("apricot_config_xml", apricot_xml=True, showed={"converge": DEFECTS[8]}),
    _apex("ofcipcer_pem", ofcipcer="pem"),
    _apex("stale_friendly_name", stale_friendly=True, expect="blocked", blocked_hint="friendly",
          showed={"blocked": DEFECTS[6], "honest": DEFECTS[6]}),
    _apex("no_restart_services", host_vars={"apexone_cert_restart_services": False}, expect="blocked",
          blocked_hint="stop", showed={"blocked": DEFECTS[5]}),
    _apex("remove_old_unused", host_vars={"apexone_cert_remove_old": "unused"},
          showed={"rollback": DEFECTS[7]}),
]
BY_NAME = {s.name: s for s in MATRIX}

# Issue 16 (renew in place with certreq): the enterprise CA answers a submission by issuing, taking it under
# submission (a CA manager must approve: winsim.ca_decide) or denying it. Not in MATRIX (the PFX procedure).
ENROLL: list[Scenario] = [
    _apex("enroll_adcs_issue", ca="issue"),
    _apex("enroll_adcs_pending", ca="pending"),
    _apex("enroll_adcs_denied", ca="denied"),
    _apex("enroll_controller_ca"),  # no AD CS: the request is signed on the controller
    _apex("enroll_adcs_issue_2012r2", windows="2012r2", ca="issue"),
]
ENROLL_BY_NAME = {s.name: s for s in ENROLL}
CA_CONFIG = "ca01.corp.example\\Corp Issuing CA"  # certreq -config "CAHostName\\CAName"
CA_TEMPLATES = ("WebServer",)


# ------------------------------------------------------------------------------------------------ building states
def _text(lines: list[str]) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def _site(name, site_id, apps, bindings, pool):
    return {"name": name, "id": site_id, "state": "started",
            "applications": [{"path": p, "application_pool": pool, "physical_path": pp} for p, pp in apps],
            "bindings": [{"protocol": pr, "binding_information": bi, "ssl_flags": fl} for pr, bi, fl in bindings]}


def _record(kind, key, thumb, *, ctl=None, flags=0):
    return winsim.http_sys_record(kind, key, thumb, ctl=ctl, flags=flags)


def _iis(layout: str, install: str, fqdn: str, thumb: str) -> tuple[dict, list, int]:
    """(iis, http_sys records, the Smart Protection Server's HTTPS port) of a layout."""
    www = "C:\\inetpub\\wwwroot"
    officescan = _site("OfficeScan", 2, [("/", install)],
                       [("http", "*:8080:", None), ("https", "*:4343:", 0)], "OfficeScan")
    dws_plain = _site("Default Web Site", 1, [("/", www)], [("http", "*:80:", None)], "DefaultAppPool")
    sites, records, port = [dws_plain, officescan], [_record("ipport", "0.0.0.0:4343", thumb)], 4343
    if layout == "dws_443":
        dws = _site("Default Web Site", 1, [("/", www)], [("http", "*:80:", None), ("https", "*:443:", 0)],
                    "DefaultAppPool")
        dws["applications"].append({"path": "/OfficeScan", "application_pool": "OfficeScan", "physical_path": install})
        sites, records, port = [dws], [_record("ipport", "0.0.0.0:443", thumb)], 443
    elif layout == "both":
        dws = _site("Default Web Site", 1, [("/", www)], [("http", "*:80:", None), ("https", "*:443:", 0)],
                    "DefaultAppPool")
        sites, records = [dws, officescan], [*records, _record("ipport", "0.0.0.0:443", thumb)]
    elif layout == "two_sites":
        dws = _site("Default Web Site", 1, [("/", www)], [("http", "*:80:", None), ("https", "*:443:", 0)],
                    "DefaultAppPool")
        dws["applications"].append({"path": "/OfficeScan", "application_pool": "OfficeScan", "physical_path": install})
        sites, records = [dws, officescan], [*records, _record("ipport", "0.0.0.0:443", thumb)]
    elif layout == "sni":
        officescan["bindings"][1] = {"protocol": "https", "binding_information": f"*:4343:{fqdn}", "ssl_flags": 1}
        records = [_record("hostnameport", f"{fqdn}:4343", thumb)]
    elif layout == "ip":
        officescan["bindings"][1] = {"protocol": "https", "binding_information": "10.0.0.15:4343:", "ssl_flags": 0}
        records = [_record("ipport", "10.0.0.15:4343", thumb)]
    elif layout == "ccs":
        officescan["bindings"].append({"protocol": "https", "binding_information": f"*:443:{fqdn}", "ssl_flags": 3})
        records = [*records, _record("ccs", "443", None)]
    elif layout == "ctl":
        records = [_record("ipport", "0.0.0.0:4343", thumb, ctl="ClientAuthIssuer", flags=2)]
    elif layout != "officescan_4343":
        raise ValueError(f"unknown layout {layout}")
    pools = {"OfficeScan": {"identity_type": "ApplicationPoolIdentity"},
             "DefaultAppPool": {"identity_type": "ApplicationPoolIdentity"}}
    return {"sites": sites, "application_pools": pools}, records, port


def _services(variant: str, version: str) -> dict:
    master = "Apex One Master Service" if version.startswith("14") else "OfficeScan Master Service"
    found = [
        ("ofcservice", master, "running", "auto", []),
        ("OSCEIntegrationService", "OfficeScan Active Directory Integration Service", "running", "auto", []),
        ("TMiCRCScanService", "Trend Micro Smart Protection Server", "running", "auto", []),
        ("LWCSService", "Trend Micro Local Web Classification Server", "running", "auto", []),
    ]
    if variant == "ad_stopped":
        found[1] = (*found[1][:2], "stopped", "manual", [])
    elif variant == "ad_disabled":
        found[1] = (*found[1][:2], "stopped", "disabled", [])
    elif variant == "ad_missing":
        del found[1]
    elif variant == "dependent":
        # [G] invented name: any service that depends on the Master Service (an add-on, a monitoring agent).
        found.append(("ApexOneAddonSvc", "Apex One add-on (depends on the Master Service)", "running", "auto",
                      ["ofcservice"]))
    elif variant != "running":
        raise ValueError(f"unknown services variant {variant}")
    return {name: {"name": name, "display_name": display, "status": status, "start_mode": mode, "depends_on": deps}
            for name, display, status, mode, deps in found}


def build_state(spec: Scenario, *, hostname: str, original: x509.Certificate, stale: x509.Certificate | None = None,
                ip: str = "10.0.0.15") -> dict:
    """The initial state of a scenario: ``original`` is the installer's self-signed certificate (CN = the name
    the server was installed with, Master_DomainName), ``stale`` an old unbound certificate (stale_friendly)."""
    install = winsim.INSTALL if spec.folder == "apexone" else winsim.INSTALL_OFFICESCAN
    short = hostname.split(".")[0]
    master = hostname if spec.master == "fqdn" else short
    build, caption, iis_version = winsim.WINDOWS[spec.windows]
    original_record = winsim.cert_record(original, has_key=True, friendly_name="", provider_type=spec.original_provider)
    thumb = original_record["thumbprint"]
    iis, http_sys, port = _iis(spec.layout, install, hostname, thumb)
    http_port = 80 if port == 443 else 8080
    state = {
        "schema": 2,
        "hostname": hostname,
        "computer_name": short.upper(),
        "windows": {"build": build, "caption": caption},
        "registry": {},
        "files": {},
        "stores": {"My": [original_record], "TrustedPeople": [winsim.cert_record(original)], "CA": [], "Root": [],
                   "Disallowed": [], "WebHosting": [], "REQUEST": []},
        "machine_keys": {},  # keys certreq made (key id -> provider, exportability, key); installer keys not listed
        "iis": iis,
        "http_sys": http_sys,
        "services": _services(spec.services, spec.version),
        "backups": [],
        "fail": {},
        "events": [],
    }
    if stale is not None:
        # imported after the installer's certificate: store order is import order
        state["stores"]["My"].append(winsim.cert_record(stale, has_key=True, friendly_name=STALE_FRIENDLY))
    state["registry"][winsim.SCHANNEL_KEY.lower()] = {"path": winsim.SCHANNEL_KEY, "values": {}}  # on every Windows
    winsim.reg_set(state, winsim.INFO_KEY, "Local_Path", install + "\\")
    winsim.reg_set(state, winsim.INFO_KEY, "Server_Version", spec.version)
    winsim.reg_set(state, winsim.INFO_KEY, "ServicePack_Build", spec.build)
    major, minor = iis_version.split(".")
    winsim.reg_set(state, winsim.INETSTP_KEY, "MajorVersion", int(major), "REG_DWORD")
    winsim.reg_set(state, winsim.INETSTP_KEY, "MinorVersion", int(minor), "REG_DWORD")
    der = original.public_bytes(serialization.Encoding.DER)
    ofcipcer = der if spec.ofcipcer == "der" else original.public_bytes(serialization.Encoding.PEM)
    files = {
        winsim.OFCIPCER: ofcipcer,
        # the agent-authentication certificate: never touched (KA-0010081); any bytes do
        "Pccnt\\Common\\OfcNTCer.dat": b"0\x82\x01\x00agent-authentication-certificate (OfficeScan Server NTSG)",
        # [G] the section header of Service.ini is not public; keys are what KA-0004491 names
        winsim.SERVICE_INI: _text(["[WSS]", f"HTTP={http_port}", f"HTTPS={port}", f"HTTPS_CERT={short}", "LOG_LEVEL=1"]),
        winsim.APRICOT + (".xml" if spec.apricot_xml else ""): _text([
            '<?xml version="1.0" encoding="utf-8"?>', "<config>", "  <https>", f"    <port>{port}</port>",
            f"    <cert_cn>{short}</cert_cn>", "  </https>", "</config>"]),
        winsim.OFCSCAN_INI: _text(["[INI_SERVER_SECTION]", f"Master_DomainName={master}",
                                   f"Master_DomainPort={http_port}", f"Master_IP={ip}"]),
    }
    for rel, data in files.items():
        winsim.set_path(state, f"{install}\\{rel}", data)
    if spec.ca:
        add_ca(state, mode=spec.ca)
    return state


def add_ca(state: dict, *, mode: str = "issue", certificate: x509.Certificate | None = None, key=None,
           config: str = CA_CONFIG, templates: tuple = CA_TEMPLATES, enterprise: bool = True,
           next_id: int = 100, validity_days: int = 365, chain: tuple = ()) -> dict:
    """An enterprise CA (AD CS) reachable from the server as ``config``: ``mode`` issue | pending | denied is how it
    answers a request for a template it offers. ``certificate``/``key``: the issuing CA (a test's lab PKI);
    without them a self-signed CA is made here. ``chain``: the certificates above the issuing CA (up to the root),
    which certreq's chain file holds with it."""
    if mode not in ("issue", "pending", "denied"):
        raise ValueError(f"unknown CA mode {mode}")
    if certificate is None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, config.split("\\", 1)[-1])])
        now = datetime.datetime.now(datetime.timezone.utc)
        certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                       .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                       .not_valid_after(now + datetime.timedelta(days=3650))
                       .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                       .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                                    key_encipherment=False, data_encipherment=False,
                                                    key_agreement=False, key_cert_sign=True, crl_sign=True,
                                                    encipher_only=False, decipher_only=False), critical=True)
                       .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                       .sign(key, hashes.SHA256()))
    state["ca"] = {
        "config": config, "mode": mode, "enterprise": enterprise, "templates": list(templates), "next_id": next_id,
        "validity_days": validity_days, "requests": {},
        "chain": [c.public_bytes(serialization.Encoding.PEM).decode() for c in chain],
        "certificate": certificate.public_bytes(serialization.Encoding.PEM).decode(),
        "key": b64(key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())),
    }
    return state["ca"]


STALE_FRIENDLY = "Apex One web host 2026"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
