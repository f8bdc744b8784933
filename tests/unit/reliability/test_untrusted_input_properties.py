"""Property-based tests (hypothesis) of every parser the controller runs on bytes or data it does not control.

The property is always the same: whatever the input, the result is a value or the module's own error class
(``CertificateError``, ``PlanError``, ``ReportError``, ``EndpointError``), never another exception (which Ansible
would show as a traceback). Inputs are random values and, more usefully, real certificates, keys, PFX files,
server facts and reports mutated byte by byte or key by key.

Bounded in ``make test`` (HYPOTHESIS_PROFILE=ci, 60 examples each); ``make fuzz`` runs the ``fuzz`` profile.
Service.ini / apricot_config editing has its own properties in tests/unit/module_utils/test_apexone_files.py.
"""

from __future__ import annotations

import base64
import copy
import functools
import html.parser
import json
import os
import re

import markupsafe
import pki
import pytest
import winsim
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ansible_collections.apexone.certificates.plugins.module_utils import _tls_probe as tp
from ansible_collections.apexone.certificates.plugins.module_utils import _x509
from ansible_collections.apexone.certificates.plugins.plugin_utils import _report as rp
from ansible_collections.apexone.certificates.plugins.plugin_utils._planner import APPLY_ORDER, PlanError, plan

pytestmark = pytest.mark.property

HOST = "apex01.corp.example"
PASSWORD = "Prop-Pfx-Pw"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
with open(os.path.join(REPO, "roles", "fleet_report", "templates", "report.html.j2")) as _handle:
    TEMPLATE = _handle.read()
SLOW_OK = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                          HealthCheck.filter_too_much])


@functools.cache
def seeds() -> dict[str, list[bytes]]:
    """Real inputs to mutate (built once per process)."""
    lab = pki.LabPki()
    key = pki.rsa_key(2048, slot=950)
    _k, cert = lab.server(HOST, key=key)
    ec_key = pki.ec_key()
    _k, ec_cert = lab.server(HOST, key=ec_key)
    der = cert.public_bytes(serialization.Encoding.DER)
    pem = pki.pem(cert).encode()
    return {
        "cert": [der, pem, pem + lab.intermediate.pem.encode(), ec_cert.public_bytes(serialization.Encoding.DER)],
        "key": [pki.key_pem(key).encode(), pki.key_pem(ec_key, password=b"k").encode(),
                key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())],
        "pfx": [pki.make_pfx(key, cert, [lab.intermediate.cert], password=PASSWORD),
                pki.make_pfx(key, cert, password=PASSWORD, encryption="aes"),
                pki.make_pfx(ec_key, ec_cert, password=None)],
        "old": [cert],
    }


@st.composite
def mutated(draw, kind: str) -> bytes:
    """A seed of ``kind`` with up to five random edits: flipped or set bytes, cuts, insertions, splices."""
    data = bytearray(draw(st.sampled_from(seeds()[kind])))
    for _step in range(draw(st.integers(0, 5))):
        operation = draw(st.sampled_from(["flip", "set", "truncate", "insert", "delete", "splice"]))
        where = draw(st.integers(0, max(len(data) - 1, 0)))
        if operation == "flip" and data:
            data[where] ^= 1 << draw(st.integers(0, 7))
        elif operation == "set" and data:
            data[where] = draw(st.sampled_from([0x00, 0x30, 0x80, 0x81, 0x82, 0x84, 0xFF]))
        elif operation == "truncate":
            del data[where:]
        elif operation == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=8))
        elif operation == "delete":
            del data[where:where + draw(st.integers(1, 16))]
        elif operation == "splice":
            other = draw(st.sampled_from([s for group in ("cert", "key", "pfx") for s in seeds()[group]]))
            start = draw(st.integers(0, len(other)))
            data[where:] = other[start:start + draw(st.integers(0, 64))] + data[where:]
    return bytes(data)


ANY_INPUT = st.one_of(st.none(), st.binary(max_size=200), st.text(max_size=200), st.integers(), st.booleans(),
                      st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.text(max_size=5)))
PASSWORDS = st.one_of(st.none(), st.just(""), st.just(PASSWORD), st.text(max_size=20), st.binary(max_size=20),
                      st.integers())


def as_text_sometimes(data: bytes, as_text: bool):
    """The bytes, or the text Ansible's file lookup makes of them (surrogateescape)."""
    return data.decode("utf-8", "surrogateescape") if as_text else data


# ---------------------------------------------------------------------------------------------------------
# X.509 / PKCS#12 parsing


@SLOW_OK
@given(st.one_of(mutated("cert"), ANY_INPUT), st.booleans())
def test_load_certificates_gives_certificates_or_its_error(data, as_text):
    if isinstance(data, bytes):
        data = as_text_sometimes(data, as_text)
    try:
        certs = _x509.load_certificates(data)
    except _x509.CertificateError:
        return
    assert certs and all(isinstance(c, _x509.x509.Certificate) for c in certs)


@SLOW_OK
@given(mutated("cert"), st.sampled_from([HOST, "APEX01.corp.example.", "10.0.0.5"]))
def test_checking_a_damaged_certificate_gives_a_verdict_or_its_error(data, hostname):
    """The audit checks whatever a server serves: a parseable but malformed certificate must not break the check.

    The check and x509_info read the certificate with the same parser: both refuse it, or both describe it.
    """
    try:
        verdict = _x509.check_from_input(data, hostname=hostname, ca=pki.pem(seeds()["old"][0]))
    except _x509.CertificateError:
        verdict = None
    try:
        info = _x509.x509_info(data)
    except _x509.CertificateError:
        info = None
    assert (verdict is None) == (info is None), (verdict, info)
    if verdict is not None:
        assert isinstance(verdict["ok"], bool) and isinstance(verdict["problems"], list)
        assert info["thumbprint"] == verdict["thumbprint"]


def test_an_undamaged_certificate_gets_a_verdict_and_a_description():
    """Guard for the property above: the seeds themselves are read by both."""
    for data in seeds()["cert"]:
        verdict = _x509.check_from_input(data, hostname=HOST, ca=pki.pem(seeds()["old"][0]))
        assert _x509.x509_info(data)["thumbprint"] == verdict["thumbprint"]


@SLOW_OK
@given(st.one_of(mutated("key"), ANY_INPUT), PASSWORDS)
def test_load_private_key_gives_a_key_or_its_error(data, password):
    try:
        key = _x509.load_private_key(data, password)
    except _x509.CertificateError:
        return
    assert hasattr(key, "public_key")


@SLOW_OK
@given(st.one_of(mutated("pfx"), ANY_INPUT), PASSWORDS)
def test_pfx_info_gives_a_description_or_its_error(data, password):
    try:
        info = _x509.pfx_info(data, password)
    except _x509.CertificateError as exc:
        if isinstance(password, str) and len(password) >= 4:
            assert password not in str(exc)
        return
    assert len(info["thumbprint"]) == 40 and isinstance(info["pfx_problems"], list)
    assert "PRIVATE KEY" not in json.dumps(info)


@SLOW_OK
@given(st.one_of(mutated("pfx"), st.binary(max_size=300)))
def test_read_pfx_envelope_gives_a_dict_or_its_error(data):
    try:
        envelope = _x509.read_pfx_envelope(data)
    except _x509.CertificateError:
        return
    assert set(envelope) == {"encryption", "certificate_encryption", "mac_algorithm", "key_bags"}


@given(st.one_of(ANY_INPUT, st.text(alphabet="0123456789abcdefABCDEF :\u200e\ufeff\n", max_size=80)))
def test_normalize_thumbprint_is_40_hex_or_its_error(value):
    try:
        result = _x509.normalize_thumbprint(value)
    except _x509.CertificateError:
        return
    assert len(result) == 40 and all(c in "0123456789ABCDEF" for c in result)
    assert _x509.normalize_thumbprint(result) == result


HOSTNAME_TEXT = st.text(alphabet=st.sampled_from(list("abcXYZ019-_.*[]: \u00fc\u0131\udc80\x00")), max_size=40)


@given(st.one_of(ANY_INPUT, HOSTNAME_TEXT))
def test_normalize_hostname_is_a_lower_case_name_or_its_error(value):
    try:
        result = _x509.normalize_hostname(value)
    except _x509.CertificateError:
        return
    assert result == result.lower() and not result.endswith(".") and result.isascii()
    assert _x509.normalize_hostname(result) == result


@given(st.one_of(ANY_INPUT, HOSTNAME_TEXT), st.one_of(ANY_INPUT, HOSTNAME_TEXT))
def test_dns_name_matches_is_a_boolean(pattern, hostname):
    matched = _x509.dns_name_matches(pattern, hostname)
    assert matched in (True, False)
    if matched and isinstance(pattern, str) and "*" not in pattern:
        assert pattern.strip().lower().rstrip(".") == hostname


@given(HOSTNAME_TEXT)
def test_a_name_matches_itself_and_its_wildcard_matches_one_label_only(name):
    try:
        host = _x509.normalize_hostname(name)
    except _x509.CertificateError:
        return
    assume(not _x509._is_ip(host))
    assert _x509.dns_name_matches(host, host)
    if host.count(".") >= 2:
        parent = host.split(".", 1)[1]
        assert _x509.dns_name_matches("*." + parent, host)
        assert not _x509.dns_name_matches("*." + parent, "a." + host)


# ---------------------------------------------------------------------------------------------------------
# The planner on server facts that are damaged, incomplete or of the wrong types


@functools.cache
def good_facts_json() -> str:
    state = winsim.new_state(seeds()["old"][0], hostname=HOST)
    return json.dumps(winsim.ApexOneServer(state).call("apexone.certificates.win_server_info", {}))


def desired() -> dict:
    cert = seeds()["old"][0]
    return {"thumbprint": "A" * 40, "subject_cn": HOST, "friendly_name": "Apex One 2026",
            "certificate_pem": pki.pem(cert), "ports": [], "key_readers": []}


STRANGE = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.text(max_size=8), st.just([]),
                    st.just({}), st.lists(st.text(max_size=3), max_size=2), st.just([None]), st.just([1, "x"]),
                    st.floats(allow_nan=True))


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _set(root, path, replacement, delete):
    parent = root
    for key in path[:-1]:
        parent = parent[key]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = copy.deepcopy(replacement)  # never share one object between two places


@st.composite
def damaged_facts(draw):
    facts = json.loads(good_facts_json())
    for _step in range(draw(st.integers(1, 6))):
        paths = [p for p in _paths(facts) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        _set(facts, path, draw(STRANGE), draw(st.booleans()))
    return facts


@SLOW_OK
@given(damaged_facts())
def test_plan_on_damaged_facts_is_a_plan_or_its_error(facts):
    try:
        result = plan(facts, desired())
    except PlanError:
        return
    assert_plan_invariants(result, desired())


@SLOW_OK
@given(st.dictionaries(st.sampled_from(["thumbprint", "subject_cn", "friendly_name", "ports", "key_readers",
                                        "client_auth_trust_mode", "site_name", "exportable", "pfx_encryption",
                                        "agent_cert_warn_days", "move_non_self_signed_roots", "certificate_pem"]),
                       STRANGE, max_size=8), st.booleans())
def test_plan_on_a_strange_desired_state_is_a_plan_or_its_error(changes, keep_required):
    wanted = desired() if keep_required else {}
    wanted.update(copy.deepcopy(changes))
    try:
        result = plan(json.loads(good_facts_json()), wanted)
    except PlanError:
        return
    assert_plan_invariants(result, wanted)


def assert_plan_invariants(result, wanted):
    """What the role and the report rely on in any plan, whatever the facts and the desired state were."""
    json.dumps(result)  # plain data: it goes into set_fact and the report
    actions = result["actions"]
    assert result["new_thumbprint"] == re.sub(r"[^0-9A-Fa-f]", "", str(wanted["thumbprint"])).upper()
    assert result["modules"] == [a["module"] for a in actions]
    assert result["modules"] == [m for m in APPLY_ORDER if m in result["modules"]]  # once each, in KB order
    assert result["compliant"] is (not actions and not result["blockers"])
    assert result["applicable"] is (not result["blockers"])
    assert result["restart_services"] is bool(actions)
    for action in actions:
        assert action["steps"] == sorted(set(action["steps"])) and action["step"] == action["steps"][0]
        assert action["reason"] == "; ".join(action["reasons"])
        if action["module"].endswith(".win_webhost_cert"):
            assert action["args"]["friendly_name"] == str(wanted["friendly_name"])
            assert action["args"]["exportable"] is bool(wanted.get("exportable", True))
        if action["module"].endswith(".win_iis_https_binding"):
            assert action["args"]["thumbprint"] == result["new_thumbprint"]
    for problem in result["blockers"] + result["warnings"]:
        assert set(problem) == {"code", "severity", "message"} and problem["severity"] in ("error", "warning")


def test_a_strange_desired_state_reaches_both_outcomes():
    """Guard for the property above: a strange value is either used as the plan says or refused."""
    facts = json.loads(good_facts_json())
    result = plan(facts, {**desired(), "exportable": 0, "ports": ["4343"], "thumbprint": "aa:" * 19 + "aa"})
    assert_plan_invariants(result, {**desired(), "exportable": 0, "thumbprint": "aa:" * 19 + "aa"})
    assert result["actions"][0]["args"]["exportable"] is False
    with pytest.raises(PlanError, match=r"^ports must be a list"):
        plan(facts, {**desired(), "ports": "4343"})


def test_a_damaged_fact_does_reach_the_planner():
    """Guard for the property above: the generator really produces plans and errors, not only one of them."""
    facts = json.loads(good_facts_json())
    assert plan(facts, desired())["actions"]
    facts["iis"]["sites"] = "OfficeScan"
    with pytest.raises(PlanError, match=r"^server_info is malformed \(AttributeError: "):
        plan(facts, desired())


# ---------------------------------------------------------------------------------------------------------
# Report rendering with hostile strings, and reports read back from files


HOSTILE = st.one_of(
    st.sampled_from(['<script>alert("x")</script>', '"><img src=x onerror=alert(1)>', "</td></tr></table>",
                     "' onmouseover='alert(1)", "{{ 7*7 }}", "{% raw %}", "&amp;&lt;", "\u202e\u0000\x1b[31m",
                     "]]><!--", "</script><script>alert(2)</script>", "javascript:alert(3)"]),
    st.text(max_size=40),
)


class _Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, tuple(sorted(name for name, _value in attrs))))


def _tags(source: str) -> set:
    page = _Page()
    page.feed(source)
    return set(page.tags)


@functools.cache
def benign_tags() -> frozenset:
    """Every tag/attribute combination the template can produce, from reports that exercise every branch."""
    found = set()
    for text in ("apex", "CN-x"):
        found |= _tags(rp.render_html(_hostile_report(text, "s3cr3t-Value"), TEMPLATE))
    return frozenset(found)


def _hostile_report(text: str, secret: str) -> dict:
    problems = [{"code": "cn_mismatch", "severity": "error", "message": f"{text} {secret}"},
                {"code": "expires_soon", "severity": "warning", "message": text}]
    probes = [{"endpoint": f"{text}:4343", "ok": False, "thumbprint": "A" * 40, "subject_cn": text,
               "issuer": text, "san_dns": [text], "not_after": "2027-01-01T00:00:00Z", "days_left": 12,
               "tls_version": text, "chain_pem": ["x"], "problems": problems, "error": None},
              {"endpoint": "b:443", "ok": False, "thumbprint": None, "error": f"{text} {secret}", "problems": []}]
    records = [
        rp.build_host_record(
            f"h-{text}", hostname=text, probes=probes,
            served_check={"ok": False, "problems": problems, "days_left": 12, "not_after": text},
            expected={"thumbprint": "B" * 40, "source": text},
            winrm={"enabled": True, "status": "failed", "message": f"{secret} {text}", "warnings": [text]},
            plan={"compliant": False, "actions": [{"step": text, "module": text, "reason": f"{text} {secret}"}],
                  "blockers": [{"code": text, "message": text}], "warnings": [{"code": "w", "message": text}]},
            redact=[secret]),
        rp.build_host_record("plain", probes=[], plan={"compliant": True, "actions": []}),
    ]
    return rp.build_report(records, title=text, now="2027-01-01T00:00:00Z")


@SLOW_OK
@given(HOSTILE, st.text(alphabet="abcdefghijkXYZ0123456789-!", min_size=4, max_size=20).map(lambda s: "Sx-" + s))
def test_hostile_strings_render_as_text_and_secrets_never_show(text, secret):
    assume(secret not in text and text not in secret)
    report = _hostile_report(text, secret)
    source = rp.render_html(report, TEMPLATE)
    assert _tags(source) <= benign_tags(), "a value became markup"
    assert secret not in source and secret not in json.dumps(report)
    assert source.count("<script>") == 1  # the page's own script only
    for line in rp.summary_lines(report):
        assert secret not in line


@pytest.mark.parametrize("visible", [1, 7, 15])
def test_a_secret_cut_by_the_message_limit_is_still_masked(visible):
    """Messages are shortened to 500 characters; a secret across that cut must not leave its first characters."""
    secret = "Cut-Secret-Value-9"
    message = "x" * (497 - visible) + secret + " and more"
    record = rp.build_host_record("h", probes=[], winrm={"enabled": True, "status": "failed", "message": message},
                                  redact=[secret])
    assert secret[:visible] not in json.dumps(record)


@functools.cache
def good_report_json() -> str:
    return json.dumps(_hostile_report("apex", "s3cr3t-Value"))


@st.composite
def damaged_report(draw):
    report = json.loads(good_report_json())
    for _step in range(draw(st.integers(1, 5))):
        paths = [p for p in _paths(report) if p]
        path = draw(st.sampled_from(paths))
        _set(report, path, draw(STRANGE), draw(st.booleans()))
    return report


@SLOW_OK
@given(damaged_report())
def test_reading_a_damaged_report_file_gives_a_result_or_its_error(report):
    """merge_reports, summary_lines and render_html read report.json files (AWX slices): damaged ones are errors.

    What they accept, they must use: a merged report reads back, one summary line per host, every host in the page.
    """
    try:
        merged = rp.merge_reports([report], now="2027-02-01T00:00:00Z")
    except rp.ReportError:
        merged = None
    if merged is not None:
        hosts = sorted({record["host"] for record in report["hosts"]})
        assert [record["host"] for record in rp.check_report(merged)["hosts"]] == hosts
        assert merged["summary"] == rp.summarize(merged["hosts"])
    try:
        lines = rp.summary_lines(report)
    except rp.ReportError:
        lines = None
    if lines is not None:
        assert len(lines) == len(report["hosts"]) + 2 and all(isinstance(line, str) for line in lines)
        assert lines[-1].startswith(f"{len(report['hosts'])} hosts: ")
    try:
        page = rp.render_html(report, TEMPLATE)
    except rp.ReportError:
        page = None
    if page is not None:
        for record in report["hosts"]:
            assert str(markupsafe.escape(record["host"])) in page
    assert (merged is None) == (lines is None), "merge_reports and summary_lines read reports alike"


def test_an_undamaged_report_is_merged_listed_and_rendered():
    """Guard for the property above: the undamaged report goes through all three."""
    report = json.loads(good_report_json())
    assert [r["host"] for r in rp.merge_reports([report])["hosts"]] == ["h-apex", "plain"]
    assert len(rp.summary_lines(report)) == 4
    assert "h-apex" in rp.render_html(report, TEMPLATE)


# ---------------------------------------------------------------------------------------------------------
# Endpoints given to tls_probe


@given(st.lists(st.one_of(HOSTILE, HOSTNAME_TEXT, STRANGE,
                          st.dictionaries(st.sampled_from(["host", "port", "server_name", "label", "x"]), STRANGE)),
                max_size=5), st.sampled_from(["fail", "report"]))
def test_parse_endpoints_gives_targets_or_its_error(items, invalid):
    try:
        targets = tp.parse_endpoints(items, invalid=invalid)
    except tp.EndpointError:
        assert invalid == "fail"
        return
    for target in targets:
        assert target.get("invalid") or 1 <= target["port"] <= 65535


def test_base64_of_a_pfx_is_recognised_as_such():
    """Sanity of the seeds: the mutations start from inputs every parser accepts."""
    pfx = seeds()["pfx"][0]
    assert _x509.pfx_info(pfx, PASSWORD)["subject_cn"] == HOST
    with pytest.raises(_x509.CertificateError, match="base64 text of a PFX"):
        _x509.pfx_info(base64.b64encode(pfx), PASSWORD)
    assert copy.deepcopy(json.loads(good_facts_json()))["install"]["path"]


# ---------------------------------------------------------------------------------------------------------
# Regressions found by the fuzzing above (each was a traceback of another exception type before the fix)


def _damaged_der(old: bytes, new: bytes) -> bytes:
    der = seeds()["cert"][0]
    assert der.count(old) == 1
    return der.replace(old, new)


RSA_OID = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01"
LAZY_DAMAGE = [
    ("unknown public key algorithm", RSA_OID, RSA_OID[:-1] + b"\x63",
     r"the certificate has a public key this controller cannot read \(Unknown key type: 1\.2\.840\.113549\.1\.1\.99\); "
     r"Apex One needs an RSA or EC key"),
    ("issuer name of an impossible type", b"\x0c\x13Apex Lab Issuing CA", b"\x0d\x13Apex Lab Issuing CA",
     r"the certificate is not a valid certificate \(error parsing asn1 value: .*\); check that the file was not "
     r"cut or edited"),
    ("duplicate extension", b"\x06\x03\x55\x1d\x0e", b"\x06\x03\x55\x1d\x23",
     r"the certificate is not a valid certificate \(Duplicate 2\.5\.29\.35 extension found\); check that the file "
     r"was not cut or edited"),
]


@pytest.mark.parametrize(("case", "old", "new", "message"), LAZY_DAMAGE, ids=[c[0] for c in LAZY_DAMAGE])
def test_damage_that_cryptography_only_sees_late_is_a_certificate_error(case, old, new, message):
    """cryptography parses lazily: such a certificate loads, then fails when a field is read."""
    damaged = _damaged_der(old, new)
    for form in (damaged, _pem_of(damaged)):
        with pytest.raises(_x509.CertificateError) as caught:
            _x509.check_from_input(form, hostname=HOST)
        assert re.fullmatch(message.replace("the certificate", "(the certificate|PEM block 1 of the certificate)"),
                            str(caught.value)), str(caught.value)
    result = tp._empty_result({"endpoint": "x:1", "host": "x", "port": 1, "server_name": HOST, "label": None})
    tp._judge(result, [damaged], "served", None, 30, None)  # what the probe does with a served certificate
    assert result["error_code"] == "bad_certificate" and result["ok"] is False


def _pem_of(der: bytes) -> bytes:
    body = base64.encodebytes(der).replace(b"\n", b"")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return b"-----BEGIN CERTIFICATE-----\n" + b"\n".join(lines) + b"\n-----END CERTIFICATE-----\n"


@pytest.mark.parametrize("password", ["pw\x00", "\x00", b"\x8e\x8e", "\udc8e"])
def test_passwords_cryptography_cannot_take_are_a_certificate_error(password):
    """A NUL made cryptography abort (a Rust panic), non-UTF-8 bytes raised a TypeError of its own."""
    with pytest.raises(_x509.PfxPasswordError):
        _x509.pfx_info(seeds()["pfx"][0], password)
