"""Renewal in place (#16), controller side: the request spec, the pending-request reuse, the preview plan and the
check of an issued certificate, on real keys, requests and certificates built with cryptography."""

import base64
import copy
import datetime
import hashlib

import pki
import pytest
import winsim
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.apexone.certificates.plugins.module_utils import _x509
from ansible_collections.apexone.certificates.plugins.plugin_utils import _enroll
from ansible_collections.apexone.certificates.plugins.plugin_utils._enroll import EnrollError

HOST = "apex01.corp.example"
OPTIONS = {"hostname": HOST, "names": [], "key_length": 2048, "key_provider": "legacy", "exportable": True}
DESIRED = {"site_name": None, "ports": [], "exportable": True, "key_provider": "legacy", "key_readers": [],
           "restart_services": True, "allow_name_mismatch": False}


@pytest.fixture(scope="module")
def material():
    lab = pki.LabPki()
    _k, old = pki.make_cert(HOST, issuer=None, key=pki.rsa_key(2048, slot=820))
    return {"lab": lab, "old": old, "key": pki.rsa_key(2048, slot=821), "other_key": pki.rsa_key(2048, slot=822)}


@pytest.fixture
def facts(material):
    return winsim.ApexOneServer(winsim.new_state(material["old"], hostname=HOST)).call(
        "apexone.certificates.win_server_info", {})


def csr_pem(key, cn, dns=(), ips=(), header="NEW CERTIFICATE REQUEST"):
    """A request as certreq writes it (its own PEM header)."""
    import ipaddress

    sans = [x509.DNSName(n) for n in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    text = builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()
    return text.replace("CERTIFICATE REQUEST", header)


def spec_for(facts, **options):
    return _enroll.request_spec(facts, dict(OPTIONS, **options))


# ------------------------------------------------------------------------------ the request spec
def test_spec_names_the_host_and_master_domain_name_and_the_extra_names(facts):
    ini = facts["ofcscan_ini"]
    text = base64.b64decode(ini["content"]).decode("latin-1")
    assert f"Master_DomainName={HOST}" in text  # the double's installer name
    facts = copy.deepcopy(facts)
    raw = text.replace(f"Master_DomainName={HOST}", "Master_DomainName=APEX01").encode("latin-1")
    facts["ofcscan_ini"].update(content=base64.b64encode(raw).decode(), sha256=hashlib.sha256(raw).hexdigest())
    spec = spec_for(facts, names=["ApexOne.Corp.Example.", "10.0.0.15", HOST, "*.apex.corp.example"])
    assert spec == {
        "subject_cn": HOST,
        "dns_names": [HOST, "apex01", "apexone.corp.example", "*.apex.corp.example"],
        "ip_addresses": ["10.0.0.15"],
        "key_length": 2048, "key_provider": "legacy", "exportable": True,
        "friendly_name": f"apexone.certificates request {HOST}",
        "hash_algorithm": "sha256", "template": None,
    }


def test_spec_takes_key_options_and_template(facts):
    spec = spec_for(facts, key_length="4096", key_provider="cng", exportable="false", template="ApexOneWebServer",
                    hash_algorithm="SHA384")
    assert (spec["key_length"], spec["key_provider"], spec["exportable"], spec["template"], spec["hash_algorithm"]) == \
        (4096, "cng", False, "ApexOneWebServer", "sha384")
    assert spec["dns_names"] == [HOST]  # Master_DomainName is the host name: listed once


@pytest.mark.parametrize("options, message", [
    ({"key_length": 1024}, r"key_length must be one of 2048, 3072, 4096, not 1024"),
    ({"key_provider": "tpm"}, r"key_provider must be legacy or cng"),
    ({"hash_algorithm": "sha1"}, r"hash_algorithm must be one of sha256"),
    ({"names": "apex.corp.example"}, r"names must be a list"),
    ({"names": ["bad name!"]}, r"'bad name!' is not a DNS name or IP address"),
    ({"hostname": "*.corp.example"}, r"is a wildcard: the subject CN must be the name agents use"),
    ({"template": "x;y"}, r"is not a certificate template name"),
    ({"exportable": "maybe"}, r"exportable must be true or false"),
])
def test_spec_refuses_what_certreq_or_apex_one_cannot_use(facts, options, message):
    with pytest.raises(EnrollError, match=message):
        spec_for(facts, **options)


# ------------------------------------------------------------------------------ pending request reuse
def request_entry(spec, **extra):
    entry = {"thumbprint": "AB" * 20, "subject_cn": spec["subject_cn"], "friendly_name": spec["friendly_name"],
             "has_private_key": True, "request_file": "C:\\ProgramData\\apexone.certificates\\requests\\x.req",
             "dns_names": list(spec["dns_names"]), "days_left": 300, "not_before": "2026-11-30T10:00:00Z",
             "private_key": {"provider_type": "csp", "exportable": True}}
    entry.update(extra)
    return entry


def test_a_matching_pending_request_is_reused_the_newest_first(facts):
    spec = spec_for(facts)
    facts["certificates"]["request"] = [
        request_entry(spec, thumbprint="01" * 20, not_before="2026-11-01T00:00:00Z"),
        request_entry(spec, thumbprint="02" * 20, not_before="2026-11-29T00:00:00Z"),
    ]
    assert _enroll.find_pending(facts, spec) == {"reuse_thumbprint": "02" * 20, "stale": []}


@pytest.mark.parametrize("change, reason", [
    ({"has_private_key": False}, "its private key is gone"),
    ({"request_file": None}, "its saved request file is gone"),
    ({"subject_cn": "apex02.corp.example"}, "subject CN 'apex02.corp.example'"),
    ({"dns_names": ["other.corp.example"]}, "names other.corp.example"),
    ({"key_size": 4096}, "a 4096-bit key, not 2048"),
    ({"private_key": {"provider_type": "cng", "exportable": True}}, "key provider cng, not legacy"),
    ({"private_key": {"provider_type": "csp", "exportable": False}}, "key exportability differs"),
    ({"days_left": 0}, "placeholder certificate has expired"),
])
def test_a_pending_request_that_no_longer_matches_is_not_reused(facts, change, reason):
    spec = spec_for(facts)
    facts["certificates"]["request"] = [request_entry(spec, **change)]
    found = _enroll.find_pending(facts, spec)
    assert found["reuse_thumbprint"] is None
    assert found["stale"] == [{"thumbprint": "AB" * 20, "reason": pytest.approx(found["stale"][0]["reason"])}]
    assert reason in found["stale"][0]["reason"]


def test_a_request_someone_else_made_is_neither_reused_nor_listed(facts):
    spec = spec_for(facts)
    facts["certificates"]["request"] = [request_entry(spec, friendly_name="made by hand")]
    assert _enroll.find_pending(facts, spec) == {"reuse_thumbprint": None, "stale": []}


# ------------------------------------------------------------------------------ the preview plan
def test_preview_plan_shows_the_request_and_the_replacement_without_a_certificate(facts, material):
    result = _enroll.enroll_plan(facts, dict(OPTIONS, signer="adcs", ca_config="ca01.corp.example\\Corp Issuing CA",
                                             template="ApexOneWebServer"), DESIRED)
    assert result["due"] is True and "self-signed" in result["due_reason"]
    assert result["plan"]["applicable"] is True and result["plan"]["compliant"] is False
    assert result["plan"]["new_thumbprint"] is None and result["plan"]["preview"] is True
    old = _x509.thumbprint(material["old"])
    lines = "\n".join(result["lines"])
    assert lines.splitlines()[0] == (
        f"request: new key and request on the server (certreq -new -machine): CN={HOST}, SAN {HOST}, RSA 2048 legacy "
        "exportable, sha256, template ApexOneWebServer")
    assert "sign: AD CS ca01.corp.example\\Corp Issuing CA" in lines
    assert f"binding *:4343:: {old} -> (issued certificate)" in lines
    assert "step 7: win_cert_persistence" in lines and "step 4: win_agent_cert" in lines
    assert result["plan"]["old_thumbprints"] == [old]
    # The placeholder never shows.
    assert not any(c["new_thumbprint"] for c in result["plan"]["binding_changes"])


def test_preview_plan_has_the_planners_blockers(facts):
    desired = dict(DESIRED, site_name="No such site")
    with pytest.raises(EnrollError, match=r"no Apex One IIS site No such site found"):
        _enroll.enroll_plan(facts, OPTIONS, desired)
    stale = next(c for c in facts["certificates"]["my"])
    result = _enroll.enroll_plan(facts, OPTIONS, dict(DESIRED, friendly_name=stale["friendly_name"] or HOST))
    assert result["plan"]["applicable"] is False
    assert {b["code"] for b in result["plan"]["blockers"]} & {"friendly_name_reused", "friendly_name_taken"}


def test_not_due_while_the_served_certificate_is_good(facts, material):
    lab = material["lab"]
    _k, good = lab.server(HOST, key=material["key"])
    record = winsim.ApexOneServer._cert_info(winsim.cert_record(good, has_key=True), "My", {})  # pylint: disable=protected-access
    facts["certificates"]["my"].append(record)
    for site in facts["iis"]["sites"]:
        for binding in site["bindings"]:
            binding["certificate_hash"] = record["thumbprint"]
    facts["http_sys"]["bindings"] = [dict(b, thumbprint=record["thumbprint"]) for b in facts["http_sys"]["bindings"]]
    result = _enroll.enroll_plan(facts, dict(OPTIONS, renew_days=30), DESIRED)
    assert result["due"] is False and result["plan"]["compliant"] is True
    assert result["lines"] == [f"compliant: not due: {result['due_reason']}"]
    assert "days left (renewal at 30 or fewer)" in result["due_reason"]
    assert _enroll.enroll_plan(facts, dict(OPTIONS, renew_days=400), DESIRED)["due"] is True
    assert _enroll.enroll_plan(facts, dict(OPTIONS, force=True), DESIRED)["due"] is True
    assert _enroll.enroll_plan(facts, dict(OPTIONS, names=["more.corp.example"]), DESIRED)["due"] is True


# ------------------------------------------------------------------------------ the issued certificate
@pytest.fixture
def issued(material, facts):
    spec = spec_for(facts)
    request = csr_pem(material["key"], HOST, [HOST])
    _k, cert = material["lab"].server(HOST, key=material["key"])
    return {"spec": spec, "request": request, "cert": cert, "pem": pki.pem(cert)}


def check(issued, material, pem=None, **kwargs):
    kwargs.setdefault("chain", [material["lab"].intermediate.pem])
    kwargs.setdefault("ca", material["lab"].root.pem)
    return _enroll.issued_check(pem or issued["pem"], request=kwargs.pop("request", issued["request"]),
                                spec=kwargs.pop("spec", issued["spec"]), hostname=HOST, **kwargs)


def codes(result):
    return [p["code"] for p in result["problems"]]


def test_a_good_issued_certificate_passes(issued, material):
    result = check(issued, material)
    assert result["ok"] is True and codes(result) == []
    assert result["thumbprint"] == _x509.thumbprint(issued["cert"])
    assert result["certificate_pem"] == issued["pem"] and result["chain_pem"] == [material["lab"].intermediate.pem]
    assert result["san_dns"] == [HOST]
    # The chain may also follow the leaf in one PEM text (what AD CS or a CA API returns), and overlap the chain given.
    both = check(issued, material, pem=issued["pem"] + material["lab"].intermediate.pem,
                 chain=[material["lab"].intermediate.pem, issued["pem"]])
    assert both["ok"] is True and both["chain_pem"] == [material["lab"].intermediate.pem]


def test_a_certificate_for_another_key_is_refused(issued, material):
    _k, other = material["lab"].server(HOST, key=material["other_key"])
    result = check(issued, material, pem=pki.pem(other))
    assert codes(result) == ["request_key_mismatch"] and result["ok"] is False
    assert "cannot be accepted onto the key made on the server" in result["problems"][0]["message"]


@pytest.mark.parametrize("issued_names, missing", [
    ([HOST, "10.0.0.15"], "apexone.corp.example"),
    ([HOST, "apexone.corp.example"], "10.0.0.15"),
    ([HOST], "apexone.corp.example, 10.0.0.15"),
])
def test_names_asked_for_must_be_issued(issued, material, issued_names, missing):
    spec = dict(issued["spec"], dns_names=[HOST, "apexone.corp.example"], ip_addresses=["10.0.0.15"])
    request = csr_pem(material["key"], HOST, [HOST, "apexone.corp.example"], ["10.0.0.15"])
    _k, cert = material["lab"].server(HOST, key=material["key"], sans=issued_names)
    result = check(issued, material, pem=pki.pem(cert), spec=spec, request=request)
    assert codes(result) == ["request_names_missing"] and result["ok"] is False
    assert f"does not name {missing}, which the request asked for" in result["problems"][0]["message"]
    full = check(issued, material, pem=pki.pem(material["lab"].server(
        HOST, key=material["key"], sans=[HOST, "apexone.corp.example", "10.0.0.15"])[1]), spec=spec, request=request)
    assert full["ok"] is True and codes(full) == []


def test_names_the_ca_added_are_a_warning(issued, material):
    _k, cert = material["lab"].server(HOST, key=material["key"], sans=[HOST, "extra.corp.example"])
    result = check(issued, material, pem=pki.pem(cert))
    assert result["ok"] is True and codes(result) == ["request_names_extra"]
    assert result["problems"][0]["severity"] == "warning"


def test_a_subject_the_ca_built_itself_is_refused(issued, material):
    _k, cert = material["lab"].server("APEX01", key=material["key"], sans=[HOST])
    result = check(issued, material, pem=pki.pem(cert))
    assert codes(result) == ["cn_mismatch", "request_cn_mismatch"]


def test_a_stale_request_is_refused(issued, material):
    request = csr_pem(material["key"], HOST, [HOST, "old.corp.example"])
    result = check(issued, material, request=request)
    assert codes(result) == ["request_spec_mismatch"]


def test_the_web_host_checks_still_apply(issued, material):
    _k, cert = material["lab"].server(HOST, key=material["key"], eku=[ExtendedKeyUsageOID.CLIENT_AUTH],
                                      not_after=pki.NOW + datetime.timedelta(days=10))
    result = check(issued, material, pem=pki.pem(cert))
    assert codes(result) == ["expires_soon", "no_server_auth_eku"]
    rogue = pki.make_cert(HOST, issuer=material["lab"].rogue_root, key=material["key"])[1]
    assert "chain_untrusted" in codes(check(issued, material, pem=pki.pem(rogue), chain=[material["lab"].rogue_root.pem]))
    assert "chain_incomplete" in codes(check(issued, material, chain=None))


def test_a_broken_request_is_an_error(issued, material):
    with pytest.raises(EnrollError, match=r"not a PEM PKCS#10 request"):
        check(issued, material, request="garbage")
    body = issued["request"].splitlines()
    body[5] = body[5][:10] + ("A" if body[5][10] != "A" else "B") + body[5][11:]
    with pytest.raises(EnrollError, match=r"(signature does not verify|cannot be read)"):
        check(issued, material, request="\n".join(body))


def test_request_info_gives_standard_pem(material):
    info = _enroll.request_info(csr_pem(material["key"], HOST, [HOST], ["10.0.0.15"]))
    assert info["pem"].startswith("-----BEGIN CERTIFICATE REQUEST-----\n")
    assert (info["subject_cn"], info["dns_names"], info["ip_addresses"], info["key_size"]) == \
        (HOST, [HOST], ["10.0.0.15"], 2048)
    assert x509.load_pem_x509_csr(info["pem"].encode()).is_signature_valid


# ------------------------------------------------------------------------------ the filters
def test_the_filters_turn_errors_into_filter_errors(facts, issued, material):
    from ansible.errors import AnsibleFilterError

    from ansible_collections.apexone.certificates.plugins.filter.enroll_issued_check import enroll_issued_check
    from ansible_collections.apexone.certificates.plugins.filter.enroll_request import enroll_request
    from ansible_collections.apexone.certificates.plugins.filter.enroll_request_info import enroll_request_info

    with pytest.raises(AnsibleFilterError, match=r"^enroll_request: signer must be adcs or controller"):
        enroll_request(facts, dict(OPTIONS, signer="anyone"), DESIRED)
    with pytest.raises(AnsibleFilterError, match=r"^enroll_request: server_info must be the result"):
        enroll_request("not facts", OPTIONS, DESIRED)
    with pytest.raises(AnsibleFilterError, match=r"^enroll_issued_check: spec must be the request spec"):
        enroll_issued_check(issued["pem"], request=issued["request"], spec=None, hostname=HOST)
    with pytest.raises(AnsibleFilterError, match=r"^enroll_issued_check: .*certificate"):
        enroll_issued_check("not a certificate", request=issued["request"], spec=issued["spec"], hostname=HOST)
    with pytest.raises(AnsibleFilterError, match=r"^enroll_request_info: the request is not a PEM PKCS#10 request"):
        enroll_request_info("-----BEGIN CERTIFICATE-----")
    assert enroll_issued_check(issued["pem"], request=issued["request"], spec=issued["spec"], hostname=HOST,
                               chain=material["lab"].intermediate.pem, ca=[material["lab"].root.pem])["ok"] is True
