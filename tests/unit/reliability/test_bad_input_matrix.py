"""The bad-input matrix (issue 7): one row per input a user can get wrong, each with the exact message and proof
that nothing was sent to the server.

Three layers, as the role meets them:
- certificate rows: the ``win_webhost_cert`` action plugin (its ``_execute_module`` is a mock that must not be
  called) and the controller path of the role (``pfx_info`` lookup + ``webhost_cert_check`` filter);
- plan rows: the planner on the facts of a simulated server (``tests/double/winsim.py``);
- end to end: a few rows through ``ansible-playbook playbooks/replace.yml`` against the test double, where the
  recorded remote calls may hold ``win_server_info`` (read-only) and nothing else.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import datetime
import re
import typing as t
from unittest.mock import MagicMock

import pki
import pytest
import winsim
import yaml
from ansible import constants as C
from ansible.errors import AnsibleActionFail, AnsibleFilterError, AnsibleLookupError
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.template import Templar
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from playbook_output import failures, recap
from reliability_helpers import (
    CHANGE_MODULES,
    FRIENDLY,
    HOST,
    PASSWORD,
    Fleet,
    Material,
    damaged_mac,
    names,
)

from ansible_collections.apexone.certificates.plugins.action.win_webhost_cert import ActionModule
from ansible_collections.apexone.certificates.plugins.filter.webhost_cert_check import webhost_cert_check
from ansible_collections.apexone.certificates.plugins.filter.webhost_plan import webhost_plan
from ansible_collections.apexone.certificates.plugins.lookup import pfx_info as pfx_info_lookup
from ansible_collections.apexone.certificates.plugins.module_utils import _apexone_files as files_ref
from ansible_collections.apexone.certificates.plugins.module_utils import _x509
from ansible_collections.apexone.certificates.plugins.plugin_utils._planner import PlanError, plan

NOW = pki.NOW
DAY = pki.DAY
HOUR = datetime.timedelta(hours=1)
WRONG = "Wrong-" + PASSWORD[::-1]
TRUNCATED_RE = (
    r"the file is not a valid PKCS#12 \(PFX\) file: it is truncated or corrupt \(Insufficient data - \d+ bytes "
    r"requested but only \d+ available\); copy or export it again"
)
MSG_WRONG_PASSWORD = (
    "could not decrypt the PFX: the password is wrong or the file is damaged (check apexone_cert_pfx_password / the "
    "vault value, PFX passwords are case-sensitive; if the password is right, copy the file again)"
)
MSG_NEEDS_PASSWORD = "the PFX is password-protected: give its password (apexone_cert_pfx_password)"
MSG_NO_PASSWORD_NEEDED = (
    "the PFX is not password-protected but a password was given: leave apexone_cert_pfx_password empty"
)
MSG_PEM_AS_PFX = (
    "the file is PEM text (-----BEGIN ...), not a PFX: give the certificate and key as PEM (cert_path/key_path), "
    "or convert with 'openssl pkcs12 -export -in cert.pem -inkey key.pem -out cert.pfx'"
)


@pytest.fixture(scope="module")
def material():
    return Material()


# ---------------------------------------------------------------------------------------------------------
# Certificate rows


@dataclasses.dataclass(frozen=True)
class CertRow:
    """One certificate input: ``build(m)`` returns the PFX and what the user gives with it."""

    case: str
    build: t.Callable[[Material], dict]
    # Exactly one of: the CertificateError message (the PFX cannot be read) or a regex of it, the error problems
    # [(code, message)] the checks report (message may hold {not_after} / {not_before} of the leaf), or None for
    # an input that must be accepted.
    error: str | None = None
    error_re: str | None = None
    problems: tuple = ()
    accepted: bool = False


def _pfx(**kwargs):
    return lambda m: {"pfx": m.pfx(**kwargs)}


def _leaf(**kwargs):
    return lambda m: {"pfx": m.pfx(m.server(**kwargs))}


def _weak_rsa(m):
    key = pki.rsa_key(1024, slot=903)
    return {"pfx": m.pfx(m.server(key=key), key=key)}


def _weak_ec(m):
    key, cert = m.ec_server(ec.SECP224R1())
    return {"pfx": m.pfx(cert, key=key)}


def _untrusted(m):
    _key, cert = pki.make_cert(HOST, issuer=m.lab.rogue_root, key=m.key)
    return {"pfx": m.pfx(cert, chain=[m.lab.rogue_root.cert])}


def _two_leaves(m):
    return {"pfx": m.pfx(extra=[m.server("apex02.corp.example", key=m.other_key)])}


CERT_ROWS = [
    CertRow("wrong PFX password", lambda m: {"pfx": m.pfx(), "password": WRONG}, error=MSG_WRONG_PASSWORD),
    CertRow("empty password for a protected PFX", lambda m: {"pfx": m.pfx(), "password": ""},
            error=MSG_NEEDS_PASSWORD),
    CertRow("no password for a protected PFX", lambda m: {"pfx": m.pfx(), "password": None},
            error=MSG_NEEDS_PASSWORD),
    CertRow("a password for a PFX that has none", lambda m: {"pfx": m.pfx(password=None)},
            error=MSG_NO_PASSWORD_NEEDED),
    CertRow("empty password for a PFX that has none", lambda m: {"pfx": m.pfx(password=None), "password": ""},
            accepted=True),
    CertRow("no password for a PFX that has none", lambda m: {"pfx": m.pfx(password=None), "password": None},
            accepted=True),
    CertRow("password with a NUL character (cryptography would abort)",
            lambda m: {"pfx": m.pfx(), "password": PASSWORD + "\x00"},
            error="the password holds a NUL character, which no PFX password can: check the variable"),
    CertRow("corrupt PFX (integrity MAC damaged)", lambda m: {"pfx": damaged_mac(m.pfx())}, error=MSG_WRONG_PASSWORD),
    CertRow("truncated PFX", lambda m: {"pfx": m.pfx()[: len(m.pfx()) // 2]}, error_re=TRUNCATED_RE),
    CertRow("PEM certificate given as PFX", lambda m: {"pfx": pki.pem(m.good).encode()}, error=MSG_PEM_AS_PFX),
    CertRow("PEM key and certificate given as PFX",
            lambda m: {"pfx": (pki.key_pem(m.key) + pki.pem(m.good)).encode()}, error=MSG_PEM_AS_PFX),
    CertRow("DER certificate given as PFX", lambda m: {"pfx": m.good.public_bytes(serialization.Encoding.DER)},
            error_re=r"the file is not a valid PKCS#12 \(PFX\) file: it is truncated or corrupt \(.+\); "
                     r"copy or export it again"),
    CertRow("PFX with no key", _pfx(key=None), problems=(
        ("no_private_key", "the PFX has no private key: IIS cannot serve it; export it again with 'Yes, export the "
                           "private key'"),)),
    CertRow("PFX with several leaf certificates", _two_leaves, problems=(
        ("duplicate_leaf", "the PFX holds 2 server certificates ('CN=apex01.corp.example,O=Apex Lab' and "
                           "'CN=apex02.corp.example,O=Apex Lab'); it must hold exactly one certificate with its key "
                           "plus its CA chain: export only the web host certificate"),)),
    CertRow("PFX with the same leaf twice", lambda m: {"pfx": m.pfx(extra=[m.good])}, problems=(
        ("duplicate_leaf", "the PFX holds the same certificate twice for its one private key: export it again with "
                           "one leaf certificate"),)),
    CertRow("key mismatch", _pfx(key=pki.rsa_key(2048, slot=901)), problems=(
        ("key_mismatch", "the private key in the PFX belongs to none of its certificates: export the PFX again from "
                         "the machine that holds the certificate's key"),)),
    CertRow("expired", _leaf(not_before=NOW - 400 * DAY, not_after=NOW - 10 * DAY - HOUR), problems=(
        ("expired", "the certificate expired on {not_after} (11 days ago)"),)),
    CertRow("not yet valid", _leaf(not_before=NOW + 10 * DAY, not_after=NOW + 400 * DAY), problems=(
        ("not_yet_valid", "the certificate is not valid before {not_before}"),)),
    CertRow("wrong CN", _leaf(cn="apex02.corp.example", sans=[HOST]), problems=(
        ("cn_mismatch", "subject CN 'apex02.corp.example' is not the host name 'apex01.corp.example'; Apex One "
                        "requires the CN to be the name agents use: request a certificate with CN=apex01.corp.example"),
    )),
    CertRow("SAN without the host name", _leaf(sans=["apex-other.corp.example"]), problems=(
        ("hostname_not_in_san", "'apex01.corp.example' is not covered by the Subject Alternative Name "
                                "(apex-other.corp.example)"),)),
    CertRow("wildcard that does not cover the host (two labels deep)",
            lambda m: {"pfx": m.pfx(m.server("apex01.dmz.corp.example", sans=["*.corp.example"])),
                       "hostname": "apex01.dmz.corp.example"},
            problems=(("hostname_not_in_san", "'apex01.dmz.corp.example' is not covered by the Subject Alternative "
                                              "Name (*.corp.example)"),)),
    CertRow("wildcard of another domain", _leaf(sans=["*.example.net"]), problems=(
        ("hostname_not_in_san", "'apex01.corp.example' is not covered by the Subject Alternative Name "
                                "(*.example.net)"),)),
    CertRow("wildcard that covers the host", _leaf(sans=["*.corp.example"]), accepted=True),
    CertRow("weak RSA key (1024)", _weak_rsa, problems=(
        ("weak_key", "RSA 1024-bit key is too weak: use RSA 2048+ or EC P-256+"),)),
    CertRow("weak EC key (P-224)", _weak_ec, problems=(
        ("weak_key", "EC 224-bit key is too weak: use RSA 2048+ or EC P-256+"),)),
    CertRow("SHA-1 signature", lambda m: {"pfx": m.pfx(m.sha_server("sha1"))}, problems=(
        ("weak_signature", "the certificate is signed with SHA1: re-issue with SHA-256"),
        ("chain_untrusted", "the chain does not validate against the CA bundle: path validation stops at the "
                            "certificate itself: its signature uses an algorithm path validation refuses (MD5/SHA-1): "
                            "re-issue it with SHA-256 (cryptography: validation failed: candidates exhausted: "
                            "Forbidden signature algorithm: RsaWithSha1); re-issue or replace the certificate named there (or "
                            "give the CA bundle the agents really trust)"),
    )),
    CertRow("MD5 signature", lambda m: {"pfx": m.pfx(m.sha_server("md5"))}, problems=(
        ("weak_signature", "the certificate is signed with MD5: re-issue with SHA-256"),
        ("chain_untrusted", "the chain does not validate against the CA bundle: path validation stops at the "
                            "certificate itself: its signature uses an algorithm path validation refuses (MD5/SHA-1): "
                            "re-issue it with SHA-256 (cryptography: validation failed: candidates exhausted: "
                            "Forbidden signature algorithm: Other); re-issue or replace the certificate named there (or "
                            "give the CA bundle the agents really trust)"),
    )),
    CertRow("CA certificate as leaf", _leaf(is_ca=True), problems=(
        ("is_ca", "the certificate is a CA certificate (basicConstraints CA:TRUE), not a server certificate"),)),
    CertRow("missing intermediate", _pfx(chain=[]), problems=(
        ("chain_incomplete", "the chain stops at the certificate itself: its issuer 'CN=Apex Lab Issuing CA,O=Apex "
                             "Lab' is neither in the PFX/chain nor in the CA bundle (which holds one certificate, "
                             "'CN=Apex Lab Root CA,O=Apex Lab'). If 'CN=Apex Lab Issuing CA,O=Apex Lab' is an "
                             "intermediate CA, add it (and any CA above it up to the root) to the PFX: export with "
                             "'Include all certificates in the certification path'; if it is a root CA that agents "
                             "and browsers trust, add it to the CA bundle (apexone_cert_ca_bundle_path); path "
                             "validation stops at the certificate itself: no issuer of it is in the chain or the CA "
                             "bundle (cryptography: validation failed: candidates exhausted: all candidates exhausted "
                             "with no interior errors)"),)),
    CertRow("untrusted chain", _untrusted, problems=(
        ("chain_untrusted", "the chain leads to the root CA 'CN=Rogue Root CA,O=Apex Lab', which is not in the CA "
                            "bundle (the bundle holds one certificate, 'CN=Apex Lab Root CA,O=Apex Lab'); adding "
                            "intermediates cannot fix this: use a certificate issued under a root of the bundle, or, "
                            "if agents and browsers trust 'CN=Rogue Root CA,O=Apex Lab', add it to the CA bundle "
                            "(apexone_cert_ca_bundle_path); path validation stops at 'CN=Rogue Root CA,O=Apex Lab': "
                            "it is a root CA, and the CA bundle does not hold it (cryptography: validation failed: "
                            "candidates exhausted: all candidates exhausted with no interior errors)"),)),
    CertRow("host name with a trailing dot", lambda m: {"pfx": m.pfx(), "hostname": HOST + "."}, accepted=True),
    CertRow("host name in upper case", lambda m: {"pfx": m.pfx(), "hostname": HOST.upper()}, accepted=True),
    CertRow("host name in upper case with a trailing dot", lambda m: {"pfx": m.pfx(), "hostname": "APEX01.Corp.Example."},
            accepted=True),
]


@pytest.fixture(scope="module")
def cert_inputs(material, tmp_path_factory):
    """Each row built once: {case: {src, password, hostname, ca_path, leaf}}."""
    folder = tmp_path_factory.mktemp("matrix")
    (folder / "root.pem").write_text(material.lab.root.pem)
    built = {}
    for index, row in enumerate(CERT_ROWS):
        spec = {"password": PASSWORD, "hostname": HOST, **row.build(material)}
        path = folder / f"row{index:02d}.pfx"
        path.write_bytes(spec.pop("pfx"))
        spec["src"] = str(path)
        spec["ca_path"] = str(folder / "root.pem")
        try:
            contents = _x509.load_pfx(path.read_bytes(), spec["password"])
            spec["leaf"] = contents.certificate
        except _x509.CertificateError:
            spec["leaf"] = None
        built[row.case] = spec
    return built


def make_lookup():
    """The pfx_info lookup with its documented options registered, as the plugin loader does."""
    name = "apexone.certificates.pfx_info"
    options = yaml.safe_load(pfx_info_lookup.DOCUMENTATION)["options"]
    C.config.initialize_plugin_configuration_definitions("lookup", name, options)
    lookup = pfx_info_lookup.LookupModule(loader=DataLoader())
    lookup._load_name = name
    return lookup


def expected_problems(row: CertRow, leaf) -> list[tuple[str, str]]:
    fields = {}
    if leaf is not None:
        fields = {"not_after": _x509.format_time(leaf.not_valid_after_utc),
                  "not_before": _x509.format_time(leaf.not_valid_before_utc)}
    return [(code, message.format(**fields)) for code, message in row.problems]


def make_action(args):
    task = Task()
    task.args = dict(args)
    loader = DataLoader()
    action = ActionModule(task, MagicMock(), PlayContext(), loader, Templar(loader=loader), None)
    action._execute_module = MagicMock(return_value={"changed": True, "invocation": {"module_args": {}}})
    return action


def action_args(spec):
    args = {"src": spec["src"], "hostname": spec["hostname"], "ca_path": spec["ca_path"], "friendly_name": FRIENDLY}
    if spec["password"] is not None:
        args["password"] = spec["password"]
    return args


@pytest.mark.parametrize("row", CERT_ROWS, ids=[r.case for r in CERT_ROWS])
def test_certificate_row_through_the_action_plugin(row, cert_inputs):
    """win_webhost_cert refuses the input with the exact message before any module call (or accepts it)."""
    spec = cert_inputs[row.case]
    action = make_action(action_args(spec))
    if row.accepted:
        result = action.run(task_vars={})
        action._execute_module.assert_called_once()
        sent = action._execute_module.call_args.kwargs["module_args"]
        assert base64.b64decode(sent["_pfx_b64"]) == open(spec["src"], "rb").read()
        assert result["certificate"]["thumbprint"] == _x509.thumbprint(spec["leaf"])
        return
    with pytest.raises(AnsibleActionFail) as caught:
        action.run(task_vars={})
    message = str(caught.value)
    action._execute_module.assert_not_called()
    assert PASSWORD not in message and WRONG not in message
    src = spec["src"]
    if row.error is not None:
        assert message == f"{src}: {row.error}"
    elif row.error_re is not None:
        assert re.fullmatch(re.escape(f"{src}: ") + row.error_re, message), message
    else:
        listed = "; ".join(f"{code}: {text}" for code, text in expected_problems(row, spec["leaf"]))
        assert message == f"refusing to import {src}: {listed} (nothing was sent to the server)"


@pytest.mark.parametrize("row", CERT_ROWS, ids=[r.case for r in CERT_ROWS])
def test_certificate_row_through_the_role_checks(row, cert_inputs):
    """The role's controller path: the pfx_info lookup, then the webhost_cert_check filter (what certificate.yml runs)."""
    spec = cert_inputs[row.case]
    lookup = make_lookup()
    kwargs = {"password": spec["password"]} if spec["password"] is not None else {}
    if row.error is not None or row.error_re is not None:
        with pytest.raises(AnsibleLookupError) as caught:
            lookup.run([spec["src"]], variables={}, **kwargs)
        message = str(caught.value)
        assert PASSWORD not in message and WRONG not in message
        prefix = f"pfx_info: '{spec['src']}': "
        if row.error is not None:
            assert message == prefix + row.error
        else:
            assert re.fullmatch(re.escape(prefix) + row.error_re, message), message
        return
    (info,) = lookup.run([spec["src"]], variables={}, **kwargs)
    with open(spec["ca_path"]) as handle:
        verdict = webhost_cert_check(info, hostname=spec["hostname"], ca=handle.read(), min_days=0)
    errors = [(p["code"], p["message"]) for p in verdict["problems"] if p["severity"] == "error"]
    assert errors == expected_problems(row, spec["leaf"])
    assert verdict["ok"] is row.accepted
    assert PASSWORD not in repr(verdict)


def test_every_certificate_row_is_distinct(cert_inputs):
    """Guard against a row that silently tests the same input as another."""
    contents = [open(spec["src"], "rb").read() + repr((spec["password"], spec["hostname"])).encode()
                for spec in cert_inputs.values()]
    assert len(set(contents)) == len(contents)


@pytest.mark.parametrize("form", ["bytes", "text read by Ansible's file lookup"])
def test_der_certificate_given_as_pem_is_read(material, form):
    """A DER .cer where PEM is expected (apexone_cert_cert_path): read as the same certificate, never a traceback.

    Ansible's file lookup turns non-UTF-8 bytes into lone surrogates (surrogateescape); they are turned back.
    """
    der = material.good.public_bytes(serialization.Encoding.DER)
    value = der if form == "bytes" else der.decode("utf-8", "surrogateescape")
    verdict = webhost_cert_check(value, hostname=HOST, chain=material.lab.intermediate.pem, ca=material.lab.root.pem)
    assert verdict["ok"] is True and verdict["problems"] == []
    assert verdict["thumbprint"] == _x509.thumbprint(material.good)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("\ud800broken", "webhost_cert_check: the certificate is text with characters that are not valid Unicode "
                         "(surrogates not allowed)"),
        ("MIIB" * 10, "webhost_cert_check: the certificate is base64 text without PEM markers: wrap it in "
                      "'-----BEGIN CERTIFICATE-----' / '-----END CERTIFICATE-----' lines, or decode it to DER"),
    ],
)
def test_unreadable_certificate_text_is_a_clear_error(value, message):
    with pytest.raises(AnsibleFilterError) as caught:
        webhost_cert_check(value, hostname=HOST)
    assert str(caught.value) == message


# ---------------------------------------------------------------------------------------------------------
# Plan rows: the server facts and the desired state


def server_facts(material, mutate_state=None, **call_args):
    state = winsim.new_state(material.old, hostname=HOST)
    if mutate_state:
        mutate_state(state)
    server = winsim.ApexOneServer(state)
    before = copy.deepcopy(state)
    facts = server.call("apexone.certificates.win_server_info", call_args)
    assert state == before  # read-only
    return server, facts


def desired(material, **extra):
    info = _x509.describe_certificate(material.good)
    return {"thumbprint": info["thumbprint"], "subject_cn": info["subject_cn"], "friendly_name": FRIENDLY,
            "certificate_pem": info["certificate_pem"], "ports": [], "key_readers": [], **extra}


def _original_named(state):
    state["stores"]["My"][0]["friendly_name"] = "OfficeScan Web Host"


def _no_https_binding(state):
    site = next(s for s in state["iis"]["sites"] if s["name"] == "OfficeScan")
    site["bindings"] = [b for b in site["bindings"] if b["protocol"] != "https"]


def _unicode_files(state):
    for rel, bom, codec in ((winsim.SERVICE_INI, b"\xff\xfe", "utf-16-le"), (winsim.APRICOT, b"\xef\xbb\xbf", "utf-8")):
        text = winsim.get_file(state, rel).decode("ascii")
        winsim.set_file(state, rel, bom + text.encode(codec))


NON_ASCII = "Apex One Webserver-Zertifikat für 2026"
PLAN_ERRORS = [
    ("unknown IIS site", None, {"site_name": "Default Web Site"},
     "no Apex One IIS site Default Web Site found (sites seen: OfficeScan); set apexone_cert_site_name to the site "
     "that serves the Apex One console"),
    ("Apex One site without any https binding", _no_https_binding, {},
     "the Apex One site has no https binding (ports: any); add one in IIS first"),
    ("port out of range (70000)", None, {"ports": [70000]},
     "port 70000 is out of range: give TCP ports between 1 and 65535"),
    ("port out of range (0)", None, {"ports": [0]}, "port 0 is out of range: give TCP ports between 1 and 65535"),
    ("port that is not a number", None, {"ports": ["https"]},
     "port 'https' is out of range: give TCP ports between 1 and 65535"),
    ("ports that are not a list", None, {"ports": "4343"},
     "ports must be a list of TCP ports (for example [4343]), not '4343'"),
    ("ClientAuthTrustMode 3", None, {"client_auth_trust_mode": 3},
     "client_auth_trust_mode must be 0, 1 or 2 (or null to leave it), not 3"),
    ("ClientAuthTrustMode -1", None, {"client_auth_trust_mode": -1},
     "client_auth_trust_mode must be 0, 1 or 2 (or null to leave it), not -1"),
    ("ClientAuthTrustMode that is not a number", None, {"client_auth_trust_mode": "exclusive"},
     "client_auth_trust_mode must be 0, 1 or 2 (or null to leave it), not 'exclusive'"),
    ("server without Apex One (facts without an install folder)",
     None, {"_facts": lambda f: f["install"].update(path=None)},
     "server_info names no Apex One server folder (install.path is empty): Apex One is not installed on this host, "
     "or set install_path"),
]


@pytest.mark.parametrize(("case", "mutate_state", "extra", "message"), PLAN_ERRORS, ids=[r[0] for r in PLAN_ERRORS])
def test_plan_row_is_a_clear_error(material, case, mutate_state, extra, message):
    extra = dict(extra)
    mutate_facts = extra.pop("_facts", None)
    _server, facts = server_facts(material, mutate_state)
    if mutate_facts:
        mutate_facts(facts)
    with pytest.raises(PlanError) as caught:
        plan(facts, desired(material, **extra))
    assert str(caught.value) == message
    with pytest.raises(AnsibleFilterError, match=re.escape(f"webhost_plan: {message}")):
        webhost_plan(facts, desired(material, **extra))


BLOCKERS = [
    ("friendly name equal to the original one", _original_named, {"friendly_name": "officescan web host"},
     "friendly_name_reused",
     "the friendly name 'officescan web host' is the original certificate's name; Apex One's Smart Protection Server "
     "would re-import the old certificate on restart (KA-0004491): choose a friendly name of its own"),
    ("friendly name equal to the original Service.ini HTTPS_CERT", None, {"friendly_name": "APEX01"},
     "friendly_name_reused",
     "the friendly name 'APEX01' is the original certificate's name; Apex One's Smart Protection Server would "
     "re-import the old certificate on restart (KA-0004491): choose a friendly name of its own"),
    ("non-ASCII friendly name (Service.ini in the ANSI code page)", None, {"friendly_name": NON_ASCII},
     "friendly_name_invalid",
     f"the friendly name '{NON_ASCII}' cannot be written to Service.ini (ansi): friendly_name contains non-ASCII "
     "characters and the file has no byte order mark, so its code page is unknown; step 7 writes it there so the "
     "Smart Protection Server keeps the new certificate (KA-0004491): choose a friendly name in plain ASCII"),
    ("friendly name with a line break", None, {"friendly_name": "Apex One\r\nHTTPS_CERT=evil"},
     "friendly_name_invalid",
     "the friendly name 'Apex One\r\nHTTPS_CERT=evil' cannot be written to Service.ini (ansi): friendly_name must "
     "not contain line breaks or other control characters; step 7 writes it there so the Smart Protection Server "
     "keeps the new certificate (KA-0004491): choose a friendly name in plain ASCII"),
    ("friendly name with a trailing blank", None, {"friendly_name": "Apex One 2026 "},
     "friendly_name_invalid",
     "the friendly name 'Apex One 2026 ' cannot be written to Service.ini (ansi): friendly_name must not start or "
     "end with white space; step 7 writes it there so the Smart Protection Server keeps the new certificate "
     "(KA-0004491): choose a friendly name in plain ASCII"),
]


@pytest.mark.parametrize(("case", "mutate_state", "extra", "code", "message"), BLOCKERS, ids=[r[0] for r in BLOCKERS])
def test_plan_row_is_blocked(material, case, mutate_state, extra, code, message):
    _server, facts = server_facts(material, mutate_state)
    result = plan(facts, desired(material, **extra))
    assert result["applicable"] is False and result["compliant"] is False
    assert [(b["code"], b["message"]) for b in result["blockers"]] == [(code, message)]
    assert f"error: {code}: {message}" in result["lines"]


def test_non_ascii_friendly_name_is_accepted_when_the_files_are_unicode(material):
    """Decision: Windows friendly names are Unicode; the step-7 files take one only when their encoding is known.

    Service.ini / apricot_config with a byte order mark (UTF-16, UTF-8 BOM) are decoded as Unicode and can hold the
    name; a file without one (ANSI code page, the usual case) is edited byte-transparently and takes ASCII only,
    so the plan blocks there (row above) instead of failing half-way through the replacement.
    """
    server, facts = server_facts(material, _unicode_files)
    parsed = files_ref.enrich_server_info(facts)  # win_server_info returns raw bytes; the controller reads them
    assert (parsed["service_ini"]["encoding"], parsed["apricot_config"]["encoding"]) == ("utf-16le", "utf-8-bom")
    result = plan(facts, desired(material, friendly_name=NON_ASCII))
    assert result["applicable"] is True and result["blockers"] == []
    persistence = next(a for a in result["actions"] if a["module"].endswith("win_cert_persistence"))
    server.call(persistence["module"], persistence["args"])
    ini = files_ref.get_ini_values(server._file(winsim.SERVICE_INI), ["HTTPS_CERT_FRIENDLY_NAME"])
    assert ini["HTTPS_CERT_FRIENDLY_NAME"] == NON_ASCII
    assert files_ref.get_apricot_cert(server._file(winsim.APRICOT))["cert_friendly_name"] == NON_ASCII


def _service_ini_bytes(extra: bytes):
    def mutate(state):
        winsim.set_file(state, winsim.SERVICE_INI, winsim.get_file(state, winsim.SERVICE_INI) + extra)
    return mutate


# Service.ini without byte order mark: ANSI (ASCII only), bytes that are also UTF-8, a Latin-1 byte: all edited byte
# for byte, so all take ASCII values only.
@pytest.mark.parametrize("extra", [b"", "; für\r\n".encode(), b"; f\xfcr\r\n"], ids=["ansi", "utf-8", "latin-1"])
def test_whatever_the_plan_accepts_the_step7_edit_can_write(material, extra):
    """The plan's friendly-name rule is the writer's (_apexone_files.check_value): what passes one passes the other."""
    _server, facts = server_facts(material, _service_ini_bytes(extra))
    for name in (FRIENDLY, NON_ASCII, "x", "Apex & <One> \"2026\""):
        result = plan(facts, desired(material, friendly_name=name))
        writable = True
        try:
            files_ref.set_ini_values(b"[WSS]\r\nHTTPS_CERT=a\r\n", {"HTTPS_CERT_FRIENDLY_NAME": name})
        except ValueError:
            writable = False
        assert result["applicable"] is writable, name


def test_server_without_apex_one(material):
    """win_server_info fails (as the real module does) and a failed result is a plan error, never a plan."""
    state = winsim.new_state(material.old, hostname=HOST)
    winsim.reg_set(state, winsim.INFO_KEY, "Local_Path", None)
    state["files"].clear()
    server = winsim.ApexOneServer(state)
    with pytest.raises(winsim.ModuleFailure) as caught:
        server.call("apexone.certificates.win_server_info", {})
    assert str(caught.value).startswith("Apex One server is not installed: no Local_Path under HKLM\\SOFTWARE")
    failed = {"failed": True, "msg": str(caught.value), "changed": False}
    with pytest.raises(PlanError) as caught_plan:
        plan(failed, desired(material))
    assert str(caught_plan.value) == f"win_server_info failed on this host: {caught.value}"


def test_unknown_site_name_fails_the_gathering_as_the_real_module_does(material):
    state = winsim.new_state(material.old, hostname=HOST)
    with pytest.raises(winsim.ModuleFailure, match=r"^The IIS site 'Nope' given in site_name does not exist$"):
        winsim.ApexOneServer(state).call("apexone.certificates.win_server_info", {"site_name": "Nope"})


# ---------------------------------------------------------------------------------------------------------
# End to end: replace.yml against the test double, one host per row, all in one run


def _no_apex_one(state):
    winsim.reg_set(state, winsim.INFO_KEY, "Local_Path", None)
    state["files"].clear()


E2E = {
    # host: (how to build it, calls allowed, text the host's failure holds)
    "wrong-password": ({"apexone_cert_pfx_password": WRONG}, [], MSG_WRONG_PASSWORD),
    "expired": ({"_pfx": lambda m: m.pfx(m.server(not_before=NOW - 400 * DAY, not_after=NOW - 10 * DAY - HOUR))},
                [], "the new certificate is refused: expired - the certificate expired on"),
    "several-leaves": ({"_pfx": lambda m: _two_leaves(m)["pfx"]}, [],
                       "the new certificate is refused: duplicate_leaf - the PFX holds 2 server certificates"),
    "friendly-reused": ({"apexone_cert_friendly_name": "APEX01"}, ["win_server_info"],
                        "the friendly name 'APEX01' is the original certificate's name"),
    "friendly-non-ascii": ({"apexone_cert_friendly_name": NON_ASCII}, ["win_server_info"],
                           f"the friendly name '{NON_ASCII}' cannot be written to Service.ini (ansi)"),
    "unknown-site": ({"apexone_cert_site_name": "Apex One Console"}, ["win_server_info"],
                     "The IIS site 'Apex One Console' given in site_name does not exist"),
    "port-range": ({"apexone_cert_ports": [70000]}, ["win_server_info"],
                   "port 70000 is out of range: give TCP ports between 1 and 65535"),
    "trust-mode": ({"apexone_cert_client_auth_trust_mode": 3}, [],
                   "value of apexone_cert_client_auth_trust_mode must be one of: 0, 1, 2, got: 3"),
    "no-apex-one": ({"_state": _no_apex_one}, ["win_server_info"], "Apex One server is not installed"),
}


@pytest.mark.slow
def test_end_to_end_rows_change_nothing(ansible_env, material, tmp_path):
    """Each bad host stops with its own message, having cost at most the read-only win_server_info.

    A good host runs in the same play, so a broken harness (nothing runs at all) cannot pass for "nothing changed".
    """
    fleet = Fleet(tmp_path, material)
    for host, (spec, _allowed, _text) in E2E.items():
        spec = dict(spec)
        state = winsim.new_state(material.old, hostname=HOST)
        if "_state" in spec:
            spec.pop("_state")(state)
        pfx = spec.pop("_pfx")(material) if "_pfx" in spec else None
        fleet.add(host, pfx=pfx, state=state, **spec)
    fleet.add("control")
    proc = fleet.run(ansible_env, "replace.yml", "-f", "12", "-e", "apexone_cert_max_fail_percentage=100")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output[-4000:]
    failed = failures(proc.stdout)
    counters = recap(proc.stdout)
    for host, (_spec, allowed, text) in E2E.items():
        assert host in failed, (host, output[-4000:])
        assert text in failed[host], (host, failed[host])
        assert counters[host]["failed"] == 1 and counters[host]["changed"] == 0, counters[host]
        recorded = fleet.calls(host)
        assert names(recorded) == allowed, host
        assert not set(names(recorded)) & set(CHANGE_MODULES)
        assert not any(c["changed"] for c in recorded)
        assert winsim.comparable(fleet.state(host)) == fleet.initial[host], host
        assert not (tmp_path / "runs" / f"{host}.json").exists(), host  # no run record: nothing to roll back
    assert PASSWORD not in output and WRONG not in output
    assert "control" not in failed
    assert [n for n in names(fleet.calls("control")) if n != "win_apexone_run_record"] == [
        "win_server_info", "win_webhost_cert", "win_agent_cert", "win_iis_https_binding",
        "win_apexone_services", "win_cert_persistence", "win_apexone_services", "win_server_info",
    ]
