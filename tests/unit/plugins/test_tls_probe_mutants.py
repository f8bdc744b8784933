"""tls_probe's judging without a network: endpoints parsed, errors classified, served certificates judged.

Issue 17: the pure part of _tls_probe.py (what ``make mutation`` mutates there) pinned field by field. The socket
part is covered by tests/unit/plugins/test_tls_probe.py against local TLS servers.
"""

from __future__ import annotations

import datetime
import socket
import ssl

import pki
import pytest
from cryptography.hazmat.primitives import serialization

from ansible_collections.apexone.certificates.plugins.module_utils import _tls_probe as tp
from ansible_collections.apexone.certificates.plugins.module_utils._x509 import thumbprint

HOST = "apex01.corp.example"


@pytest.fixture(scope="module")
def lab():
    return pki.LabPki()


@pytest.fixture(scope="module")
def served(lab):
    _key, cert = lab.server(HOST, key=pki.rsa_key(2048, slot=760))
    return cert


def der(cert):
    return cert.public_bytes(serialization.Encoding.DER)


# ------------------------------------------------------------------------------------------------ endpoints


@pytest.mark.parametrize(
    ("item", "targets"),
    [
        ("apex01:4343", [("apex01:4343", "apex01", 4343, "apex01")]),
        (" apex01 : 443 ", [("apex01:443", "apex01", 443, "apex01")]),
        ("Apex01", [("Apex01:4343", "Apex01", 4343, "apex01"), ("Apex01:443", "Apex01", 443, "apex01")]),
        ("[::1]:4343", [("[::1]:4343", "::1", 4343, "::1")]),
        ("[fe80::1%eth0]", [("[fe80::1%eth0]:4343", "fe80::1%eth0", 4343, None),
                            ("[fe80::1%eth0]:443", "fe80::1%eth0", 443, None)]),
        ("::1", [("[::1]:4343", "::1", 4343, "::1"), ("[::1]:443", "::1", 443, "::1")]),
        ({"host": "10.0.0.5", "port": "8443", "server_name": " APEX01.corp.example ", "label": 7},
         [("10.0.0.5:8443", "10.0.0.5", 8443, HOST)]),
        ({"host": "10.0.0.5:1", "port": ""}, [("10.0.0.5:1", "10.0.0.5", 1, "10.0.0.5")]),
        ({"host": "h", "port": 65535, "server_name": "  "}, [("h:65535", "h", 65535, "h")]),
    ],
)
def test_endpoint_forms(item, targets):
    parsed = tp.parse_endpoints([item])
    got = [(t["endpoint"], t["host"], t["port"], t["server_name"]) for t in parsed]
    if targets[0][3] is None:  # a scoped IPv6 address is not a name to check: compare the rest
        got = [g[:3] for g in got]
        targets = [t[:3] for t in targets]
    assert got == targets
    assert [t["label"] for t in parsed] == [("7" if isinstance(item, dict) and "label" in item else None)] * len(parsed)


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("h:0", "endpoint 1: the port must be a number from 1 to 65535, not 0"),
        ("h:65536", "endpoint 1: the port must be a number from 1 to 65535, not 65536"),
        ("h:x", "endpoint 1: the port must be a number from 1 to 65535, not 'x'"),
        ({"host": "h", "port": True}, "endpoint 1: the port must be a number from 1 to 65535, not True"),
        ("[zz]:1", "endpoint 1: '[zz]' is not an IPv6 address"),
        ("a:b:c", "endpoint 1: 'a:b:c' is neither host:port nor an IPv6 address"),
        ({"host": "h", "x": 1, "a": 2}, "endpoint 1: unknown key(s) a, x (use host, port, server_name, label, expected_addresses)"),
        ({"host": " "}, "endpoint 1: 'host' is required and must be a non-empty string"),
        ({"host": "h:1", "port": 2}, "endpoint 1: the port is given twice (in host and in port)"),
        ({"host": "h", "server_name": 5}, "endpoint 1: server_name must be a string"),
        (5, "endpoint 1: expected 'host:port' or a dict with host/port, not int"),
        (":4343", "endpoint 1: the host is empty"),
        ("bad name:1", "endpoint 1: hostname 'bad name' is not a valid DNS name"),
    ],
)
def test_bad_endpoints(item, message):
    with pytest.raises(tp.EndpointError) as caught:
        tp.parse_endpoints([item])
    assert str(caught.value).startswith(message)


def test_every_bad_endpoint_is_listed_or_reported_in_place():
    items = ["ok:1", "h:0", {"host": "", "label": "web1"}, "fine"]
    with pytest.raises(tp.EndpointError) as caught:
        tp.parse_endpoints(items)
    assert str(caught.value) == ("endpoint 2: the port must be a number from 1 to 65535, not 0; "
                                 "endpoint 3: 'host' is required and must be a non-empty string")
    targets = tp.parse_endpoints(items, invalid="report", default_ports=[443])
    assert [t["endpoint"] for t in targets] == ["ok:1", "h:0", "", "fine:443"]
    assert targets[1] == {"endpoint": "h:0", "host": None, "port": None, "server_name": None, "label": None,
                          "invalid": "invalid endpoint: the port must be a number from 1 to 65535, not 0"}
    assert targets[2]["label"] == "web1" and targets[2]["invalid"].startswith("invalid endpoint: 'host' is required")


def test_the_endpoint_shown_for_an_invalid_item_is_cut_to_200_characters():
    (target,) = tp.parse_endpoints(["x" * 300 + ":0"], invalid="report")
    assert target["endpoint"] == "x" * 200


@pytest.mark.parametrize(("items", "message"), [("h:1", "endpoints must be a list, not str"),
                                                ({"host": "h"}, "endpoints must be a list, not dict")])
def test_endpoints_must_be_a_list(items, message):
    with pytest.raises(tp.EndpointError) as caught:
        tp.parse_endpoints(items)
    assert str(caught.value) == message


def test_default_ports_are_checked():
    with pytest.raises(tp.EndpointError) as caught:
        tp.parse_endpoints(["h"], default_ports=[])
    assert str(caught.value) == "default_ports must hold at least one port"
    with pytest.raises(tp.EndpointError) as caught:
        tp.parse_endpoints(["h"], default_ports=[0])
    assert str(caught.value).startswith("default_ports: the port must be a number")
    assert [t["port"] for t in tp.parse_endpoints(["h"], default_ports=["8443"])] == [8443]


# ------------------------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("exc", "code", "message"),
    [
        (tp._Deadline("connect"), "timeout", "no TCP connection within 2.5 s (filtered port or host down)"),
        (tp._Deadline("handshake"), "timeout",
         "the port accepted the connection but no TLS handshake completed within 2.5 s"),
        (socket.gaierror(-2, "Name or service not known"), "dns", "the name does not resolve (Name or service not known)"),
        (ConnectionRefusedError(111, "refused"), "refused", "connection refused: nothing listens on port 4343"),
        (ssl.SSLEOFError(8, "EOF"), "closed",
         "the server closed the connection during the TLS handshake (not TLS, or it refused the client)"),
        (ConnectionResetError(104, "reset"), "closed",
         "the server closed the connection during the TLS handshake (not TLS, or it refused the client)"),
        (BrokenPipeError(32, "pipe"), "closed",
         "the server closed the connection during the TLS handshake (not TLS, or it refused the client)"),
        (TimeoutError("t"), "timeout", "timed out after 2.5 s"),
        (OSError(113, "No route to host"), "unreachable", "cannot connect: No route to host"),
        (ValueError("x" * 300), "internal", "unexpected error: ValueError: " + "x" * 200),
    ],
)
def test_classify(exc, code, message):
    assert tp._classify(exc, 4343, 2.5) == (code, message)


def test_classify_tls_errors_by_reason():
    not_tls = ssl.SSLError(1, "wrong version")
    not_tls.reason = "wrong_version_number"
    assert tp._classify(not_tls, 443, 1.0) == (
        "not_tls", "the endpoint answered, but not with TLS (plain HTTP?): wrong_version_number")
    other = ssl.SSLError(1, "alert")
    other.reason = "TLSV1_ALERT_PROTOCOL_VERSION"
    assert tp._classify(other, 443, 1.0) == ("tls_error", "TLS handshake failed: TLSV1_ALERT_PROTOCOL_VERSION")
    bare = ssl.SSLError(1, "bare")
    assert tp._classify(bare, 443, 1.0) == ("tls_error", f"TLS handshake failed: {bare}")


# ------------------------------------------------------------------------------------------------ judging


def target(server_name=HOST):
    (t,) = tp.parse_endpoints([{"host": "10.0.0.5", "port": 4343, "server_name": server_name, "label": "web1"}])
    return t


def judge(ders, source="served", ca=None, min_days=30, now=None, tls_version="TLSv1.3", server_name=HOST):
    result = tp._empty_result(target(server_name))
    result["tls_version"] = tls_version
    tp._judge(result, ders, source, ca, min_days, now)
    return result


def test_empty_result_fields():
    assert tp._empty_result(target()) == {
        "endpoint": "10.0.0.5:4343", "host": "10.0.0.5", "port": 4343, "server_name": HOST, "label": "web1",
        "ok": False, "error": None, "error_code": None, "thumbprint": None, "subject_cn": None, "issuer": None,
        "san_dns": [], "not_before": None, "not_after": None, "days_left": None, "tls_version": None, "cipher": None,
        "certificate_pem": None, "chain_pem": [], "chain_source": None, "chain_valid": None, "hostname_valid": None,
        "problems": [], "elapsed_ms": None, "peer_address": None, "address_valid": None}


def test_a_good_served_chain(lab, served):
    result = judge([der(served), der(lab.intermediate.cert)], ca=[lab.root.cert])
    assert (result["ok"], result["chain_valid"], result["hostname_valid"], result["problems"]) == (True, True, True, [])
    assert result["thumbprint"] == thumbprint(served) and result["subject_cn"] == HOST
    assert result["issuer"] == "CN=Apex Lab Issuing CA,O=Apex Lab" and result["san_dns"] == [HOST]
    assert result["chain_pem"] == [lab.intermediate.pem] and result["certificate_pem"] == pki.pem(served)
    assert result["chain_source"] == "served" and result["error"] is None
    assert result["not_after"] == served.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert result["not_before"] == served.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert 360 <= result["days_left"] <= 366


def test_without_ca_there_is_no_chain_verdict(lab, served):
    result = judge([der(served)], ca=None)
    assert result["chain_valid"] is None and result["ok"] is True and result["problems"] == []


def test_a_missing_intermediate_makes_the_chain_invalid_not_the_name(lab, served):
    result = judge([der(served)], ca=[lab.root.cert])
    assert [p["code"] for p in result["problems"]] == ["chain_incomplete"]
    assert (result["chain_valid"], result["hostname_valid"], result["ok"]) == (False, True, False)


def test_a_wrong_name_makes_the_name_invalid_not_the_chain(lab, served):
    result = judge([der(served), der(lab.intermediate.cert)], ca=[lab.root.cert], server_name="other.example")
    assert [p["code"] for p in result["problems"]] == ["cn_mismatch", "hostname_not_in_san"]
    assert (result["chain_valid"], result["hostname_valid"], result["ok"]) == (True, False, False)


def test_only_the_leaf_known_gives_no_chain_verdict_and_says_so(lab, served):
    result = judge([der(served)], source="leaf_only", ca=[lab.root.cert])
    assert result["problems"] == [{
        "code": "chain_not_available", "severity": "warning",
        "message": "this Python cannot read the served chain (only the leaf): no chain verdict was given"}]
    assert (result["chain_valid"], result["ok"], result["chain_source"]) == (None, True, "leaf_only")
    assert judge([der(served)], source="leaf_only", ca=None)["problems"] == []


@pytest.mark.parametrize("version", ["SSLv3", "TLSv1", "TLSv1.1"])
def test_legacy_tls_is_a_warning(lab, served, version):
    result = judge([der(served)], tls_version=version)
    assert result["problems"] == [{
        "code": "tls_legacy_version", "severity": "warning",
        "message": f"the server negotiated {version}; agents and browsers expect TLS 1.2 or later"}]
    assert result["ok"] is True
    assert judge([der(served)], tls_version="TLSv1.2")["problems"] == []


def test_days_and_min_days_and_now_are_used(served):
    now = served.not_valid_after_utc - datetime.timedelta(days=20)
    result = judge([der(served)], now=now, min_days=30)
    assert [p["code"] for p in result["problems"]] == ["expires_soon"] and result["days_left"] == 20
    assert judge([der(served)], now=now, min_days=10)["problems"] == []


def test_an_unparsable_certificate_is_an_error_entry(served):
    result = judge([b"\x30\x03\x02\x01\x01"])
    assert result["error_code"] == "bad_certificate"
    assert result["error"].startswith("the server sent a certificate that cannot be parsed (")
    assert (result["ok"], result["thumbprint"], result["problems"]) == (False, None, [])


def test_summarize_counts():
    results = [{"thumbprint": "A", "ok": True, "error": None}, {"thumbprint": "B", "ok": False, "error": None},
               {"thumbprint": None, "ok": False, "error": "refused"}]
    assert tp.summarize(results) == {"total": 3, "answered": 2, "ok": 1, "errors": 1}


def test_load_ca_reads_a_bundle_and_refuses_nothing_usable(lab):
    certs = tp.load_ca(lab.root.pem + lab.intermediate.pem)
    assert [thumbprint(c) for c in certs] == [thumbprint(lab.root.cert), thumbprint(lab.intermediate.cert)]
    with pytest.raises(tp.CertificateError) as caught:
        tp.load_ca("")
    assert str(caught.value) == "the CA bundle is empty"


# ------------------------------------------------------------------------------------ second round (#17)


def test_expected_addresses_of_a_dict_endpoint_are_kept_stripped():
    (t,) = tp.parse_endpoints([{"host": "apex01", "port": 4343, "expected_addresses": [" 10.0.0.5 ", "apex01"]}])
    assert t["expected_addresses"] == ["10.0.0.5", "apex01"]
    (t,) = tp.parse_endpoints([{"host": "apex01", "port": 4343}])
    assert t["expected_addresses"] is None


def test_a_served_certificate_damaged_late_is_named_as_the_served_certificate(served):
    damaged = der(served)
    assert damaged.count(b"\x06\x03\x55\x1d\x0e") == 1
    damaged = damaged.replace(b"\x06\x03\x55\x1d\x0e", b"\x06\x03\x55\x1d\x23")  # a second AKI: duplicate extension
    result = judge([damaged])
    assert result["error_code"] == "bad_certificate"
    assert result["error"].startswith("the server sent a certificate that cannot be parsed (the served certificate is "
                                      "not a valid certificate (")


@pytest.mark.parametrize(("item", "message"), [
    ("[fe80::1%a%b]:443", "endpoint 1: hostname 'fe80::1%a%b' is not a valid DNS name (letters, digits, hyphens and "
                          "dots only)"),
    ("fe80::1%a%b", "endpoint 1: hostname 'fe80::1%a%b' is not a valid DNS name (letters, digits, hyphens and dots "
                    "only)"),
    ("[fe80::1%%]:443", "endpoint 1: hostname 'fe80::1%%' is not a valid DNS name (letters, digits, hyphens and dots "
                        "only)"),
    ("fe80::1%%", "endpoint 1: hostname 'fe80::1%%' is not a valid DNS name (letters, digits, hyphens and dots only)"),
    ("[fe80::1 x]:443", "endpoint 1: '[fe80::1 x]' is not an IPv6 address"),
    ("fe80::1 x", "endpoint 1: 'fe80::1 x' is neither host:port nor an IPv6 address (write IPv6 with a port as "
                  "[addr]:port)"),
    ("[::1]:99999", "endpoint 1: the port must be a number from 1 to 65535, not 99999"),
    ({"host": "a", "expected_addresses": "10.0.0.1"},
     "endpoint 1: expected_addresses must be a list of IP addresses or host names"),
    ({"host": "a", "expected_addresses": [" "]},
     "endpoint 1: expected_addresses must be a list of IP addresses or host names"),
    ({"host": "a", "expected_addresses": [5]},
     "endpoint 1: expected_addresses must be a list of IP addresses or host names"),
])
def test_exact_endpoint_errors(item, message):
    with pytest.raises(tp.EndpointError) as caught:
        tp.parse_endpoints([item])
    assert str(caught.value) == message


def test_the_parse_error_of_a_served_certificate_is_cut_at_160_characters():
    bad = b"\x30\x03\x02\x01\x01"
    with pytest.raises(ValueError) as caught:
        tp.x509.load_der_x509_certificate(bad)
    assert len(str(caught.value)) > 161  # cryptography's parse error names the ASN.1 tag and where it was
    assert judge([bad])["error"] == f"the server sent a certificate that cannot be parsed ({str(caught.value)[:160]})"
