"""Renewal in place (#16): tests written for the surviving mutants of ``make mutation --target enroll``.

Each asserts what the controller decides (the exact spec fields, the reuse and stale decisions, the problem codes and
severities, the error type), on the real requests and certificates of test_enroll.py's fixtures.
"""

import base64
import copy
import datetime
import hashlib
import ipaddress

import pki
import pytest
import test_enroll
import winsim
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from test_enroll import DESIRED, HOST, OPTIONS, check, codes, csr_pem, request_entry, spec_for

from ansible_collections.apexone.certificates.plugins.module_utils import _x509
from ansible_collections.apexone.certificates.plugins.module_utils._apexone_files import enrich_server_info
from ansible_collections.apexone.certificates.plugins.module_utils._x509 import CertificateError
from ansible_collections.apexone.certificates.plugins.plugin_utils import _enroll
from ansible_collections.apexone.certificates.plugins.plugin_utils._enroll import EnrollError

# The fixtures of test_enroll.py (the lab PKI, the simulated server's facts, a request and the certificate issued for it).
material = test_enroll.material
facts = test_enroll.facts
issued = test_enroll.issued


# ------------------------------------------------------------------------------ names and booleans
@pytest.mark.parametrize("name, expected", [
    ("10.0.0.15", ("ip", "10.0.0.15")),
    (" [2001:DB8::1] ", ("ip", "2001:db8::1")),
    ("Apex01.Corp.Example.", ("dns", "apex01.corp.example")),
    ("*.Apex.Corp.Example", ("dns", "*.apex.corp.example")),
])
def test_name_kind(name, expected):
    assert _enroll._name_kind(name) == expected  # pylint: disable=protected-access


@pytest.mark.parametrize("name", [None, "", "a_b.corp.example", "-apex.corp.example", "apex-.corp.example",
                                  "a" * 64 + ".corp.example", "*.", "apex.*.corp.example"])
def test_name_kind_refuses(name):
    with pytest.raises(EnrollError):
        _enroll._name_kind(name)  # pylint: disable=protected-access


@pytest.mark.parametrize("value, expected", [
    (True, True), (False, False), ("true", True), (" Yes ", True), ("ON", True), ("1", True), (1, True),
    ("false", False), ("No", False), ("off", False), ("0", False), (0, False),
])
def test_bool(value, expected):
    assert _enroll._bool(value, "x") is expected  # pylint: disable=protected-access


@pytest.mark.parametrize("value", ["", "maybe", None, 2, "truee"])
def test_bool_refuses(value):
    with pytest.raises(EnrollError, match=r"^x must be true or false, not "):
        _enroll._bool(value, "x")  # pylint: disable=protected-access


# ------------------------------------------------------------------------------ the request spec
def test_spec_defaults(facts):
    spec = _enroll.request_spec(facts, {"hostname": HOST})
    assert spec == {
        "subject_cn": HOST, "dns_names": [HOST], "ip_addresses": [], "key_length": 2048, "key_provider": "legacy",
        "exportable": True, "friendly_name": f"apexone.certificates request {HOST}", "hash_algorithm": "sha256",
        "template": None,
    }
    empty = _enroll.request_spec(facts, {"hostname": HOST, "names": None, "key_length": None, "key_provider": "",
                                         "hash_algorithm": None, "template": "  "})
    assert empty == spec


def test_spec_without_ofcscan_ini_has_only_the_host_name():
    assert _enroll.request_spec(None, {"hostname": HOST})["dns_names"] == [HOST]
    assert _enroll.request_spec({"ofcscan_ini": "x"}, {"hostname": HOST})["dns_names"] == [HOST]


def test_spec_with_an_ip_host_name(facts):
    spec = _enroll.request_spec(facts, {"hostname": "10.0.0.15", "names": ("10.0.0.15", "10.0.0.16")})
    assert (spec["subject_cn"], spec["dns_names"], spec["ip_addresses"]) == ("10.0.0.15", [HOST], ["10.0.0.15", "10.0.0.16"])
    assert spec["friendly_name"] == "apexone.certificates request 10.0.0.15"


@pytest.mark.parametrize("options", [
    "not a dict", {"hostname": None}, {"hostname": "*.corp.example"}, {"hostname": HOST, "names": {"a": 1}},
    {"hostname": HOST, "names": 5}, {"hostname": HOST, "key_length": "big"}, {"hostname": HOST, "key_length": [1]},
    {"hostname": HOST, "key_length": 1024}, {"hostname": HOST, "key_provider": "LEGACY"},
    {"hostname": HOST, "hash_algorithm": "md5"}, {"hostname": HOST, "template": "a" * 65},
    {"hostname": HOST, "template": "x/y"}, {"hostname": HOST, "exportable": None},
])
def test_spec_refuses(facts, options):
    with pytest.raises(EnrollError):
        _enroll.request_spec(facts, options)


def test_spec_exact_limits(facts):
    assert spec_for(facts, template="a" * 64)["template"] == "a" * 64
    assert spec_for(facts, template=" Web Server_v2.1-x ")["template"] == "Web Server_v2.1-x"
    assert spec_for(facts, key_length=3072)["key_length"] == 3072
    assert spec_for(facts, hash_algorithm="SHA512")["hash_algorithm"] == "sha512"
    assert spec_for(facts, exportable=False)["exportable"] is False


def test_spec_error_texts(facts):
    with pytest.raises(EnrollError) as err:
        spec_for(facts, key_length="big")
    assert str(err.value) == "key_length must be one of (2048, 3072, 4096), not 'big'"
    with pytest.raises(EnrollError) as err:
        spec_for(facts, key_provider="tpm")
    assert str(err.value) == "key_provider must be legacy or cng, not 'tpm'"
    with pytest.raises(EnrollError) as err:
        spec_for(facts, hash_algorithm="sha1")
    assert str(err.value) == "hash_algorithm must be one of sha256, sha384, sha512, not 'sha1'"
    with pytest.raises(EnrollError) as err:
        spec_for(facts, names="apex")
    assert str(err.value) == "names must be a list of DNS names and IP addresses, not 'apex'"
    with pytest.raises(EnrollError) as err:
        spec_for(facts, hostname="*.corp.example")
    assert str(err.value) == "the host name '*.corp.example' is a wildcard: the subject CN must be the name agents use"
    with pytest.raises(EnrollError) as err:
        spec_for(facts, template="x;y")
    assert str(err.value) == "template 'x;y' is not a certificate template name"
    with pytest.raises(EnrollError) as err:
        _enroll.request_spec(facts, [])
    assert str(err.value) == "the enrolment options must be a dict (hostname, names, key_length, ...)"


def _with_master_domain_name(facts, value):
    """The facts with another Master_DomainName in ofcscan.ini (content and its sha256 kept consistent)."""
    ini = facts["ofcscan_ini"]
    text = base64.b64decode(ini["content"]).decode("latin-1")
    raw = text.replace(f"Master_DomainName={HOST}", f"Master_DomainName={value}").encode("latin-1")
    assert raw != text.encode("latin-1")
    facts = copy.deepcopy(facts)
    facts["ofcscan_ini"].update(content=base64.b64encode(raw).decode(), sha256=hashlib.sha256(raw).hexdigest())
    return facts


def test_spec_refuses_a_master_domain_name_it_cannot_request(facts):
    with pytest.raises(EnrollError) as err:
        spec_for(_with_master_domain_name(facts, "bad_name.corp"), names=[])
    assert str(err.value) == ("Master_DomainName of ofcscan.ini cannot be requested: "
                              "'bad_name.corp' is not a DNS name or IP address to request")


def test_spec_error_shows_at_most_80_characters_of_a_template(facts):
    with pytest.raises(EnrollError) as err:
        spec_for(facts, template="T" * 100)
    assert str(err.value) == f"template {'T' * 80!r} is not a certificate template name"


# ------------------------------------------------------------------------------ pending request reuse
def test_pending_thumbprints_are_normalized(facts):
    spec = spec_for(facts)
    facts["certificates"]["request"] = [
        request_entry(spec, thumbprint="ab:cd " * 10),
        request_entry(spec, thumbprint="ef-01 " * 10, friendly_name="apexone.certificates request other.corp.example"),
    ]
    assert _enroll.find_pending(facts, spec) == {
        "reuse_thumbprint": "ABCD" * 10,
        "stale": [{"thumbprint": "EF01" * 10, "reason": "not made by this collection for this name"}],
    }


@pytest.mark.parametrize("change, reason", [
    ({"days_left": 0}, "its placeholder certificate has expired"),
    ({"days_left": -3}, "its placeholder certificate has expired"),
    ({"private_key": {"provider_type": "TPM"}}, "key provider TPM, not legacy"),
    ({"subject_cn": "apex02.corp.example"}, "subject CN 'apex02.corp.example', not 'apex01.corp.example'"),
    ({"dns_names": ["a.corp.example", "b.corp.example"]}, "names a.corp.example, b.corp.example, not apex01.corp.example"),
    ({"key_size": None, "private_key": {"key_size": 3072}}, "a 3072-bit key, not 2048"),
])
def test_stale_reasons(facts, change, reason):
    spec = spec_for(facts)
    facts["certificates"]["request"] = [request_entry(spec, **change)]
    assert _enroll.find_pending(facts, spec) == {"reuse_thumbprint": None,
                                                 "stale": [{"thumbprint": "AB" * 20, "reason": reason}]}


@pytest.mark.parametrize("change", [
    {"days_left": 1}, {"days_left": None}, {"private_key": {"provider_type": "Legacy"}},
    {"private_key": {"provider_type": "CSP"}}, {"private_key": {}}, {"private_key": None}, {"dns_names": []},
    {"dns_names": [HOST.upper()]}, {"subject_cn": HOST.upper()}, {"key_size": "2048"},
])
def test_entries_that_still_match(facts, change):
    spec = spec_for(facts)
    facts["certificates"]["request"] = [request_entry(spec, **change)]
    assert _enroll.find_pending(facts, spec) == {"reuse_thumbprint": "AB" * 20, "stale": []}


def test_cng_entries_match_a_cng_spec(facts):
    spec = spec_for(facts, key_provider="cng")
    facts["certificates"]["request"] = [request_entry(spec, private_key={"provider_type": "CNG"})]
    assert _enroll.find_pending(facts, spec)["reuse_thumbprint"] == "AB" * 20


def test_an_entry_without_a_subject_never_matches():
    spec = _enroll.request_spec(None, {"hostname": "xxxx"})
    entry = request_entry(spec)
    del entry["subject_cn"]
    assert _enroll.find_pending({"certificates": {"request": [entry]}}, spec) == {
        "reuse_thumbprint": None, "stale": [{"thumbprint": "AB" * 20, "reason": "subject CN None, not 'xxxx'"}]}


def test_find_pending_input_shapes(facts):
    spec = spec_for(facts)
    assert _enroll.find_pending(None, spec) == {"reuse_thumbprint": None, "stale": []}
    assert _enroll.find_pending({"certificates": None}, spec) == {"reuse_thumbprint": None, "stale": []}
    assert _enroll.find_pending({"certificates": {"request": ["x", None, request_entry(spec)]}}, spec) == \
        {"reuse_thumbprint": "AB" * 20, "stale": []}
    with pytest.raises(EnrollError) as err:
        _enroll.find_pending({"certificates": {"request": {"a": 1}}}, spec)
    assert str(err.value) == "certificates.request of win_server_info is not a list: gather the facts again"


# ------------------------------------------------------------------------------ renewal due
def _serve(facts, material, **record):
    """The facts with the site serving a good lab certificate for HOST (its My record updated with ``record``)."""
    _k, good = material["lab"].server(HOST, key=material["key"])
    entry = winsim.ApexOneServer._cert_info(winsim.cert_record(good, has_key=True), "My", {})  # pylint: disable=protected-access
    entry.update(record)
    facts["certificates"]["my"].append(entry)
    for site in facts["iis"]["sites"]:
        for binding in site["bindings"]:
            binding["certificate_hash"] = _x509.thumbprint(good)
    facts["http_sys"]["bindings"] = [dict(b, thumbprint=_x509.thumbprint(good)) for b in facts["http_sys"]["bindings"]]
    return _x509.thumbprint(good)


def test_renewal_due_decisions(facts, material):
    spec = spec_for(facts)
    thumb = _serve(facts, material, days_left=100)
    facts = enrich_server_info(facts)
    assert _enroll.renewal_due(facts, spec, DESIRED, 30) == {
        "due": False, "thumbprint": thumb,
        "reason": f"the served certificate {thumb} has 100 days left (renewal at 30 or fewer)"}
    assert _enroll.renewal_due(facts, spec, DESIRED, 100) == {
        "due": True, "reason": f"the served certificate {thumb} has 100 days left (renewal at 100)"}
    assert _enroll.renewal_due(facts, spec, DESIRED, 99)["due"] is False
    assert _enroll.renewal_due(facts, spec, DESIRED, 30, True) == {
        "due": True, "reason": "renewal forced (apexone_cert_enroll_force)"}
    other = dict(spec, subject_cn="other.corp.example")
    assert _enroll.renewal_due(facts, other, DESIRED, 30) == {
        "due": True, "reason": f"the served certificate's CN is {HOST!r}, not 'other.corp.example'"}
    more = dict(spec, dns_names=[HOST, "b.corp.example", "a.corp.example"])
    assert _enroll.renewal_due(facts, more, DESIRED, 30) == {
        "due": True, "reason": "the served certificate does not name a.corp.example, b.corp.example"}
    assert _enroll.renewal_due(facts, spec, dict(DESIRED, site_name="officescan"), 30)["due"] is False
    assert _enroll.renewal_due(facts, spec, dict(DESIRED, site_name="Default Web Site"), 30) == {
        "due": True, "reason": "the site serves no certificate(s): "}


def test_renewal_due_when_the_served_certificate_is_not_in_my(facts, material):
    spec = spec_for(facts)
    thumb = _serve(facts, material, has_private_key=False)
    assert _enroll.renewal_due(enrich_server_info(facts), spec, DESIRED, 30) == {
        "due": True, "reason": f"the served certificate {thumb} is not in LocalMachine\\My with its key"}
    thumb = _serve(facts, material, days_left=None)
    assert _enroll.renewal_due(enrich_server_info(facts), spec, DESIRED, 30) == {
        "due": True, "reason": f"the served certificate {thumb} has None days left (renewal at 30)"}


# ------------------------------------------------------------------------------ the preview plan
def test_enroll_plan_input_errors(facts):
    with pytest.raises(EnrollError) as err:
        _enroll.enroll_plan(facts, OPTIONS, None)
    assert str(err.value) == "desired must be the dict the role passes to webhost_plan"
    with pytest.raises(EnrollError) as err:
        _enroll.enroll_plan(facts, dict(OPTIONS, renew_days="soon"), DESIRED)
    assert str(err.value) == "renew_days must be a whole number of days, not 'soon'"


def test_enroll_plan_lines_for_a_reused_request_signed_on_the_controller(facts):
    facts = _with_master_domain_name(facts, "APEX01")
    spec = spec_for(facts)
    facts["certificates"]["request"] = [
        request_entry(spec, thumbprint="0A" * 20),
        request_entry(spec, thumbprint="0B" * 20, days_left=0),
    ]
    result = _enroll.enroll_plan(facts, dict(OPTIONS, signer="controller", exportable=False, names=["10.0.0.15"]),
                                 DESIRED)
    assert result["spec"]["dns_names"] == [HOST, "apex01"]
    assert result["signer"] == "controller" and result["reuse_thumbprint"] is None
    spec = result["spec"]
    facts["certificates"]["request"] = [request_entry(spec, thumbprint="0A" * 20, private_key={"exportable": False}),
                                        request_entry(spec, thumbprint="0B" * 20, days_left=0,
                                                      private_key={"exportable": False})]
    result = _enroll.enroll_plan(facts, dict(OPTIONS, signer="controller", exportable=False, names=["10.0.0.15"]),
                                 DESIRED)
    assert result["reuse_thumbprint"] == "0A" * 20
    assert result["stale"] == [{"thumbprint": "0B" * 20, "reason": "its placeholder certificate has expired"}]
    assert result["lines"][:6] == [
        f"request: reuse pending request {'0A' * 20}: CN={HOST}, SAN {HOST}, apex01, 10.0.0.15, RSA 2048 legacy "
        "not exportable, sha256",
        "sign: on the controller (apexone_cert_enroll_sign_tasks)",
        "check: the issued certificate on the controller (web host checks, the request's key, the names asked for)",
        "accept: certreq -accept -machine onto the pending key, then the replacement below",
        f"stale pending request {'0B' * 20}: its placeholder certificate has expired",
        f"due: {result['due_reason']}",
    ]
    assert result["plan"]["lines"] == result["lines"]


def test_enroll_plan_sign_line_for_ad_cs(facts):
    lines = _enroll.enroll_plan(facts, OPTIONS, DESIRED)["lines"]
    assert lines[1] == "sign: AD CS (apexone_cert_enroll_ca_config not set)"
    lines = _enroll.enroll_plan(facts, dict(OPTIONS, ca_config="ca01\\CA", request_id=17), DESIRED)["lines"]
    assert lines[1] == "sign: AD CS ca01\\CA, retrieve request id 17"


def test_enroll_plan_hides_the_placeholder_everywhere(facts):
    result = _enroll.enroll_plan(facts, OPTIONS, DESIRED)
    files = [line for line in result["lines"] if line.startswith("file ")]
    assert files and all(line.endswith(" -> (issued certificate)") for line in files)
    changes = result["plan"]["binding_changes"]
    assert changes and all(c["new_thumbprint"] is None and c["old_thumbprint"] and c["site"] == "OfficeScan"
                           for c in changes)


def test_the_placeholder_is_a_one_year_certificate_with_the_names(facts):
    spec = spec_for(facts, names=["10.0.0.15"])
    cert = _x509.load_certificates(_enroll._placeholder(spec))[0]  # pylint: disable=protected-access
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == datetime.timedelta(days=365)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [HOST]
    assert [str(i) for i in san.get_values_for_type(x509.IPAddress)] == ["10.0.0.15"]


# ------------------------------------------------------------------------------ the request
def test_load_request_from_bytes_with_other_text_around(material):
    pem = csr_pem(material["key"], HOST, [HOST])
    csr = _enroll.load_request(b"\xff\xfe certreq output\r\n" + pem.encode().replace(b"\n", b"\r\n"))
    assert csr.public_key().public_numbers() == material["key"].public_key().public_numbers()


def test_load_request_joins_a_body_with_any_whitespace(material):
    pem = csr_pem(material["key"], HOST, [HOST])
    lines = pem.strip().splitlines()
    text = "\n".join([lines[0], " \t ".join(lines[1:-1]), lines[-1]])
    assert _enroll.load_request(text).subject.rfc4514_string() == f"CN={HOST}"
    # Blank lines inside the body (a file copied with doubled line ends): cryptography alone refuses them.
    text = "\n".join([lines[0], "\n\n".join(lines[1:-1]), lines[-1]])
    assert _enroll.load_request(text).subject.rfc4514_string() == f"CN={HOST}"


def test_load_request_unreadable():
    with pytest.raises(EnrollError) as err:
        _enroll.load_request("-----BEGIN NEW CERTIFICATE REQUEST-----\nAAAA\n-----END NEW CERTIFICATE REQUEST-----")
    assert str(err.value).startswith("the request cannot be read: ")


def test_request_info_fields(material):
    key = material["key"]
    info = _enroll.request_info(csr_pem(key, HOST))
    spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert info["public_key_sha256"] == hashlib.sha256(spki).hexdigest().upper()
    assert (info["subject"], info["subject_cn"], info["dns_names"], info["ip_addresses"]) == (f"CN={HOST}", HOST, [], [])


# ------------------------------------------------------------------------------ the issued certificate
def test_issued_check_passes_min_days(issued, material):
    assert codes(check(issued, material, min_days=400)) == ["expires_soon"]
    assert codes(check(issued, material, min_days=300)) == []


def test_issued_check_names_which_input_is_not_a_certificate(issued, material):
    with pytest.raises(CertificateError) as err:
        check(issued, material, chain="-----BEGIN X-----")
    assert str(err.value) == ("the chain has PEM markers but no '-----BEGIN CERTIFICATE-----' block "
                              "(is it a certificate request or a key?)")
    with pytest.raises(CertificateError) as err:
        check(issued, material, ca=["-----BEGIN X-----"])
    assert str(err.value) == ("the CA bundle has PEM markers but no '-----BEGIN CERTIFICATE-----' block "
                              "(is it a certificate request or a key?)")


def test_request_spec_mismatch_message(issued, material):
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, HOST), x509.NameAttribute(NameOID.COMMON_NAME, "old.corp.example")]))
    builder = builder.add_extension(x509.SubjectAlternativeName(
        [x509.DNSName(HOST), x509.DNSName("old.corp.example"), x509.IPAddress(ipaddress.ip_address("10.0.0.9"))]),
        critical=False)
    request = builder.sign(material["key"], hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()
    spec = dict(issued["spec"], dns_names=[HOST, "apexone.corp.example"], ip_addresses=["10.0.0.15"])
    _k, cert = material["lab"].server(HOST, key=material["key"], sans=[HOST, "apexone.corp.example", "10.0.0.15"])
    result = check(issued, material, pem=pki.pem(cert), spec=spec, request=request)
    assert result["problems"] == [{
        "code": "request_spec_mismatch", "severity": "error",
        "message": f"the request asks for CN={HOST}, old.corp.example SAN {HOST}, old.corp.example, 10.0.0.9, not "
                   f"what this run wants (CN={HOST} SAN {HOST}, apexone.corp.example, 10.0.0.15); remove the stale "
                   "pending request and run again"}]
    assert result["ok"] is False and result["san_ip"] == ["10.0.0.15"]
    assert result["san_dns"] == sorted([HOST, "apexone.corp.example"])


def test_request_names_missing_problem(issued, material):
    spec = dict(issued["spec"], dns_names=[HOST, "apexone.corp.example"], ip_addresses=["10.0.0.15"])
    request = csr_pem(material["key"], HOST, [HOST, "apexone.corp.example"], ["10.0.0.15"])
    _k, cert = material["lab"].server(HOST, key=material["key"], sans=[HOST, "10.0.0.16"])
    result = check(issued, material, pem=pki.pem(cert), spec=spec, request=request)
    assert result["problems"] == [
        {"code": "request_names_missing", "severity": "error",
         "message": "the issued certificate does not name apexone.corp.example, 10.0.0.15, which the request asked for "
                    "(the CA or its template dropped them: allow SANs from the request)"},
        {"code": "request_names_extra", "severity": "warning",
         "message": "the CA added names that were not asked for: 10.0.0.16"},
    ]
    assert result["ok"] is False and result["san_ip"] == ["10.0.0.16"]


# ------------------------------------------------------------------------------ survivors of a full run (--sample 1)
def test_name_kind_strips_only_brackets():
    assert _enroll._name_kind("[10.0.0.15]") == ("ip", "10.0.0.15")  # pylint: disable=protected-access
    assert _enroll._name_kind("X10.0.0.15") == ("dns", "x10.0.0.15")  # pylint: disable=protected-access


@pytest.mark.parametrize("name", ["a_" * 60, "a" * 64 + "." + "b" * 60])
def test_name_kind_error_shows_at_most_100_characters(name):
    with pytest.raises(EnrollError) as err:
        _enroll._name_kind(name)  # pylint: disable=protected-access
    assert str(err.value).startswith(f"'{name[:100]}' is not a DNS name or IP address to request")


def test_name_kind_refuses_labels_x509_accepts():
    name = "a_b." * 30 + "com"  # underscores: a name _x509 matches, not one a CA issues
    with pytest.raises(EnrollError) as err:
        _enroll._name_kind(name)  # pylint: disable=protected-access
    assert str(err.value) == f"'{name[:100]}' is not a DNS name or IP address to request"


@pytest.mark.parametrize("change, reason", [
    ({"has_private_key": False}, "its private key is gone"),
    ({"request_file": ""}, "its saved request file is gone"),
    ({"private_key": {"provider_type": "csp", "exportable": False}}, "key exportability differs"),
])
def test_more_stale_reasons(facts, change, reason):
    test_stale_reasons(facts, change, reason)


def test_stale_names_reason_lists_every_name():
    spec = _enroll.request_spec(None, {"hostname": HOST, "names": ["b.corp.example"]})
    entry = request_entry(spec, dns_names=["c.corp.example"])
    assert _enroll.find_pending({"certificates": {"request": [entry]}}, spec)["stale"] == [
        {"thumbprint": "AB" * 20, "reason": f"names c.corp.example, not {HOST}, b.corp.example"}]


def test_find_pending_of_something_else_than_facts(facts):
    spec = spec_for(facts)
    assert _enroll.find_pending(["not", "facts"], spec) == {"reuse_thumbprint": None, "stale": []}


def test_an_entry_without_a_date_is_reused_last(facts):
    spec = spec_for(facts)
    undated = request_entry(spec, thumbprint="01" * 20)
    del undated["not_before"]
    facts["certificates"]["request"] = [undated, request_entry(spec, thumbprint="02" * 20)]
    assert _enroll.find_pending(facts, spec)["reuse_thumbprint"] == "02" * 20


def test_the_placeholder_san_is_not_critical(facts):
    cert = _x509.load_certificates(_enroll._placeholder(spec_for(facts)))[0]  # pylint: disable=protected-access
    assert cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).critical is False


def test_renewal_due_reads_only_the_ports_asked_for(facts, material):
    spec = spec_for(facts)
    _serve(facts, material, days_left=100)
    facts = enrich_server_info(facts)
    assert _enroll.renewal_due(facts, spec, dict(DESIRED, ports=[4343]), 30)["due"] is False
    assert _enroll.renewal_due(facts, spec, dict(DESIRED, ports=["443"]), 30) == {
        "due": True, "reason": "the site serves no certificate(s): "}


def test_renewal_due_when_the_served_certificate_is_not_in_my_at_all(facts, material):
    spec = spec_for(facts)
    thumb = _serve(facts, material)
    facts["certificates"]["my"] = [c for c in facts["certificates"]["my"] if _enroll._norm(c["thumbprint"]) != thumb]  # pylint: disable=protected-access
    assert _enroll.renewal_due(enrich_server_info(facts), spec, DESIRED, 30) == {
        "due": True, "reason": f"the served certificate {thumb} is not in LocalMachine\\My with its key"}


def test_enroll_plan_renews_at_30_days_by_default(facts, material):
    _serve(facts, material, days_left=31)
    assert _enroll.enroll_plan(facts, OPTIONS, DESIRED)["due"] is False
    assert _enroll.enroll_plan(facts, dict(OPTIONS, renew_days=31), DESIRED)["due"] is True


def test_enroll_plan_force_must_be_a_boolean(facts):
    with pytest.raises(EnrollError) as err:
        _enroll.enroll_plan(facts, dict(OPTIONS, force="maybe"), DESIRED)
    assert str(err.value) == "force must be true or false, not 'maybe'"


def _csr_without_cn(key):
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Apex Lab")]))
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def test_a_request_with_a_bad_signature_is_refused(material):
    der = bytearray(x509.load_pem_x509_csr(csr_pem(material["key"], HOST).encode()).public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0xFF  # inside the signature: the request still parses
    text = "-----BEGIN NEW CERTIFICATE REQUEST-----\n" + base64.b64encode(bytes(der)).decode() + \
        "\n-----END NEW CERTIFICATE REQUEST-----\n"
    with pytest.raises(EnrollError) as err:
        _enroll.load_request(text)
    assert str(err.value) == "the request's signature does not verify: it was altered after certreq made it"


def test_request_info_without_cn_or_rsa(material):
    info = _enroll.request_info(_csr_without_cn(material["key"]))
    assert (info["subject"], info["subject_cn"], info["dns_names"]) == ("O=Apex Lab", None, [])
    from cryptography.hazmat.primitives.asymmetric import ed25519

    request = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, HOST)])).sign(ed25519.Ed25519PrivateKey.generate(), None)
    info = _enroll.request_info(request.public_bytes(serialization.Encoding.PEM).decode())
    assert (info["subject_cn"], info["key_size"]) == (HOST, None)  # a key without a size


def test_issued_check_min_days_defaults_to_30(issued, material):
    _k, cert = material["lab"].server(HOST, key=material["key"],
                                      not_after=pki.NOW + datetime.timedelta(days=30, hours=12))
    assert codes(check(issued, material, pem=pki.pem(cert), now=pki.NOW)) == []
    assert codes(check(issued, material, pem=pki.pem(cert), now=pki.NOW, min_days=31)) == ["expires_soon"]


def test_issued_check_passes_now(issued, material):
    assert codes(check(issued, material, now=pki.NOW + datetime.timedelta(days=400))) == ["expired"]


def test_issued_check_names_the_issued_certificate_when_it_is_not_one(issued, material):
    with pytest.raises(CertificateError) as err:
        check(issued, material, pem="-----BEGIN X-----")
    assert str(err.value) == ("the issued certificate has PEM markers but no '-----BEGIN CERTIFICATE-----' block "
                              "(is it a certificate request or a key?)")


def test_issued_check_chain_and_ca_lists(issued, material):
    lab = material["lab"]
    result = check(issued, material, pem=issued["pem"] + lab.intermediate.pem, chain=[lab.root.pem])
    assert result["chain_pem"] == [lab.intermediate.pem, lab.root.pem] and result["ok"] is True
    result = check(issued, material, chain=[lab.intermediate.pem, lab.root.pem])
    assert result["chain_pem"] == [lab.intermediate.pem, lab.root.pem] and result["ok"] is True
    assert check(issued, material, ca=[lab.root.pem, lab.rogue_root.pem])["ok"] is True
    assert check(issued, material, ca="")["ok"] is check(issued, material, ca=None)["ok"]
    assert codes(check(issued, material, ca="")) == codes(check(issued, material, ca=None))


def test_issued_check_key_mismatch_problem(issued, material):
    _k, other = material["lab"].server(HOST, key=material["other_key"])
    assert check(issued, material, pem=pki.pem(other))["problems"] == [{
        "code": "request_key_mismatch", "severity": "error",
        "message": "the issued certificate's public key is not the request's: it cannot be accepted onto the key made "
                   "on the server (did the CA sign another request?); sign the request this run made"}]


def test_request_without_cn_or_names_problem(issued, material):
    result = check(issued, material, request=_csr_without_cn(material["key"]))
    assert result["problems"] == [{
        "code": "request_spec_mismatch", "severity": "error",
        "message": f"the request asks for CN=- SAN -, not what this run wants (CN={HOST} SAN {HOST}); remove the "
                   "stale pending request and run again"}]


@pytest.mark.parametrize("cn, shown", [(None, "missing"), ("APEX01", "apex01")])
def test_request_cn_mismatch_problem(issued, material, cn, shown):
    _k, cert = material["lab"].server(cn, key=material["key"], sans=[HOST])
    problems = [p for p in check(issued, material, pem=pki.pem(cert))["problems"] if p["code"] == "request_cn_mismatch"]
    assert problems == [{
        "code": "request_cn_mismatch", "severity": "error",
        "message": f"the issued certificate's subject CN is {shown}, not {HOST} as requested (a template that builds "
                   "the subject from Active Directory? use one that takes it from the request)"}]


def test_a_certificate_without_san_misses_every_name(issued, material):
    _k, cert = material["lab"].server(HOST, key=material["key"], sans=[])
    result = check(issued, material, pem=pki.pem(cert))
    assert "request_names_missing" in codes(result) and result["san_dns"] == [] and result["san_ip"] == []


def test_every_added_name_is_listed(issued, material):
    _k, cert = material["lab"].server(HOST, key=material["key"], sans=[HOST, "b.corp.example", "a.corp.example"])
    assert check(issued, material, pem=pki.pem(cert))["problems"] == [{
        "code": "request_names_extra", "severity": "warning",
        "message": "the CA added names that were not asked for: a.corp.example, b.corp.example"}]


@pytest.mark.parametrize("master", ["APEX01", "10.0.0.15"])
def test_the_preview_certificate_covers_master_domain_name(facts, master):
    """The planner's master_domain_name check sees the requested names (DNS and IP) of the preview."""
    plan = _enroll.enroll_plan(_with_master_domain_name(facts, master), OPTIONS, DESIRED)["plan"]
    assert "master_domain_name" not in {p["code"] for p in plan["blockers"] + plan["warnings"]}
    assert plan["applicable"] is True


def test_renewal_due_counts_what_the_bindings_serve(facts, material):
    spec = spec_for(facts)
    thumb = _serve(facts, material, days_left=100)
    site = facts["iis"]["sites"][0]
    https = next(b for b in site["bindings"] if b["protocol"] == "https")
    site["bindings"].append(dict(https, binding_information="*:443:", port=443, certificate_hash="0C" * 20))
    # http.sys answers for 4343 (what clients get); 443 has no record: the IIS configuration's hash counts.
    due = _enroll.renewal_due(enrich_server_info(facts), spec, DESIRED, 30)
    assert due == {"due": True, "reason": f"the site serves 2 certificate(s): {', '.join(sorted([thumb, '0C' * 20]))}"}
    assert _enroll.renewal_due(enrich_server_info(facts), spec, dict(DESIRED, ports=[4343]), 30)["due"] is False
    # A binding that serves nothing is not a certificate.
    site["bindings"][-1]["certificate_hash"] = None
    assert _enroll.renewal_due(enrich_server_info(facts), spec, DESIRED, 30)["due"] is False
    # What http.sys serves wins over the IIS configuration.
    https["certificate_hash"] = "0D" * 20
    assert _enroll.renewal_due(enrich_server_info(facts), spec, dict(DESIRED, ports=[4343]), 30)["due"] is False


def test_renewal_due_reads_the_first_apex_one_site_only(facts, material):
    spec = spec_for(facts)
    _serve(facts, material, days_left=100)
    other = copy.deepcopy(facts["iis"]["sites"][0])
    other.update(name="Other", id=9)
    for binding in other["bindings"]:
        binding.update(binding_information="*:9443:", port=9443, certificate_hash="0E" * 20)
    facts["iis"]["sites"].append(other)
    assert _enroll.renewal_due(enrich_server_info(facts), spec, DESIRED, 30)["due"] is False


def test_request_cn_mismatch_lists_every_cn(issued, material):
    lab = material["lab"]
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "A.corp.example"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "b.corp.example")])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(lab.intermediate.cert.subject)
            .public_key(material["key"].public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(pki.NOW - datetime.timedelta(days=1)).not_valid_after(pki.NOW + datetime.timedelta(days=300))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
            .sign(lab.intermediate.key, hashes.SHA256()))
    problems = [p for p in check(issued, material, pem=pki.pem(cert))["problems"] if p["code"] == "request_cn_mismatch"]
    assert [p["message"] for p in problems] == [
        f"the issued certificate's subject CN is a.corp.example, b.corp.example, not {HOST} as requested (a template "
        "that builds the subject from Active Directory? use one that takes it from the request)"]
