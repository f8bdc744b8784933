"""Service.ini / apricot_config / OfcIPCer.dat byte handling, exact bytes in and out (issue 17: mutation survivors).

Each test pins the exact bytes written, the exact value read or the exact error, so a changed boundary, codec or
terminator in _apexone_files.py fails a test. ``make mutation`` runs these with test_apexone_files.py.
"""

from __future__ import annotations

import base64
import hashlib

import pytest

from ansible_collections.apexone.certificates.plugins.module_utils import _apexone_files as files

BOM8 = b"\xef\xbb\xbf"


# ------------------------------------------------------------------------------------------------ encodings


@pytest.mark.parametrize(("data", "text", "codec", "bom"), [
    (BOM8 + "é=1".encode(), "é=1", "utf-8", BOM8),
    (b"\xff\xfe" + "k=ü".encode("utf-16-le"), "k=ü", "utf-16-le", b"\xff\xfe"),
    (b"\xfe\xff" + "k=ü".encode("utf-16-be"), "k=ü", "utf-16-be", b"\xfe\xff"),
    ("k=1".encode("utf-16-le"), "k=1", "utf-16-le", b""),
    ("k=1".encode("utf-16-be"), "k=1", "utf-16-be", b""),
    (b"k=\xe9", "k=\xe9", "latin-1", b""),
    (b"", "", "latin-1", b""),
])
def test_decode_file(data, text, codec, bom):
    assert files.decode_file(data) == files.TextFile(text, codec, bom)
    assert files.encode_file(text, codec, bom) == data


@pytest.mark.parametrize(("data", "message"), [
    (b"\x00\x00k", "the file contains NUL bytes but is not UTF-16 text"),
    (b"kk\x00", "the file contains NUL bytes but is not UTF-16 text"),
    (b"\x00", "the file contains NUL bytes but is not UTF-16 text"),
    (BOM8 + b"\xff", "the file is not valid UTF-8 text: invalid start byte"),
    (b"\xff\xfe" + b"\x00\xd8", "the file is not valid UTF-16-LE text: "),
])
def test_undecodable_files(data, message):
    with pytest.raises(ValueError) as caught:
        files.decode_file(data)
    assert str(caught.value).startswith(message)


def test_encode_file_refuses_what_the_codec_cannot_hold():
    with pytest.raises(ValueError) as caught:
        files.encode_file("ü€", "latin-1", b"")
    assert str(caught.value) == "the new content cannot be written as LATIN-1: ordinal not in range(256)"


@pytest.mark.parametrize(("value", "codec", "message"), [
    (5, "latin-1", "v must be a string"),
    ("", "utf-8", "v must not be empty"),
    ("a\x7fb", "utf-8", "v must not contain line breaks or other control characters"),
    ("a\u2028b", "utf-8", "v must not contain line breaks or other control characters"),
    ("a\x85", "utf-8", "v must not contain line breaks or other control characters"),
    (" a", "utf-8", "v must not start or end with white space"),
    ("a ", "utf-8", "v must not start or end with white space"),
    ("café", "latin-1", "v contains non-ASCII characters and the file has no byte order mark, so its code page "
                        "is unknown"),
])
def test_check_value_refuses(value, codec, message):
    with pytest.raises(ValueError) as caught:
        files.check_value("v", value, codec)
    assert str(caught.value) == message


@pytest.mark.parametrize(("value", "codec"), [("café", "utf-8"), ("café", "utf-16-le"), ("a b~", "latin-1"),
                                              ("\xa0x", "utf-8")])
def test_check_value_accepts(value, codec):
    assert files.check_value("v", value, codec) == value


# ------------------------------------------------------------------------------------------------ lines and keys


def test_key_pattern():
    assert files.key_pattern("Ab_1") == "[Aa][Bb]_1"
    for bad in ("A-B", "", "a b", "a\n"):
        with pytest.raises(ValueError) as caught:
            files.key_pattern(bad)
        assert str(caught.value) == f"invalid ini key '{bad}': only letters, digits and underscores are allowed"


def test_lines():
    assert files.split_lines("a\r\nb\rc\nd") == ["a\r\n", "b\r", "c\n", "d"]
    assert files.split_lines("") == []
    assert files.split_lines("\n\n") == ["\n", "\n"]
    assert files.line_content("a=1\r\n") == "a=1" and files.line_content("a\n\r") == "a"
    assert (files.first_newline("a\nb\r\n"), files.first_newline("a\rb"), files.first_newline("ab")) == (
        "\n", "\r", "\r\n")
    lines = files.split_lines("[S]\r\nHTTPS_CERTX=1\r\n;HTTPS_CERT=2\r\n  https_cert = 3\r\n")
    assert files.find_key_line(lines, "HTTPS_CERT") == 3
    assert files.find_key_line(lines, "OTHER") == -1


def test_get_ini_values():
    data = b"[WSS]\r\n HTTPS_CERT = apex01 \r\nHTTPS_CERT=second\r\nEMPTY=\r\n"
    assert files.get_ini_values(data, ["HTTPS_CERT", "https_cert_friendly_name", "EMPTY"]) == {
        "HTTPS_CERT": "apex01", "https_cert_friendly_name": None, "EMPTY": ""}


@pytest.mark.parametrize(("before", "values", "after"), [
    # a missing second key goes right under the first, with the first key's terminator
    (b"[WSS]\r\nHTTPS_CERT=old\r\nLOG=1\r\n", {"HTTPS_CERT": "apex01", "HTTPS_CERT_FRIENDLY_NAME": "Apex 2026"},
     b"[WSS]\r\nHTTPS_CERT=apex01\r\nHTTPS_CERT_FRIENDLY_NAME=Apex 2026\r\nLOG=1\r\n"),
    (b"[WSS]\nHTTPS_CERT=old", {"HTTPS_CERT": "apex01", "HTTPS_CERT_FRIENDLY_NAME": "F"},
     b"[WSS]\nHTTPS_CERT=apex01\nHTTPS_CERT_FRIENDLY_NAME=F"),
    # a missing first key goes at the end (one section at most), keeping an unterminated last line unterminated
    (b"[WSS]\r\nLOG=1\r\n", {"HTTPS_CERT": "a"}, b"[WSS]\r\nLOG=1\r\nHTTPS_CERT=a\r\n"),
    (b"LOG=1", {"HTTPS_CERT": "a"}, b"LOG=1\r\nHTTPS_CERT=a"),
    (b"LOG=1\rX=2\r", {"HTTPS_CERT": "a"}, b"LOG=1\rX=2\rHTTPS_CERT=a\r"),
    (b"", {"HTTPS_CERT": "a"}, b"HTTPS_CERT=a\r\n"),
    # blanks, indent and the blanks after the value are kept
    (b"  HTTPS_CERT =  old  \r\n", {"HTTPS_CERT": "new"}, b"  HTTPS_CERT =  new  \r\n"),
    (b"\xff\xfe" + "HTTPS_CERT=old\r\n".encode("utf-16-le"), {"HTTPS_CERT": "neu ü"},
     b"\xff\xfe" + "HTTPS_CERT=neu ü\r\n".encode("utf-16-le")),
])
def test_set_ini_values(before, values, after):
    assert files.set_ini_values(before, values) == after


def test_set_ini_values_returns_the_same_object_when_nothing_changes():
    data = b"HTTPS_CERT=a\r\n"
    assert files.set_ini_values(data, {"HTTPS_CERT": "a"}) is data


def test_set_ini_values_refuses_to_guess_a_section():
    with pytest.raises(ValueError) as caught:
        files.set_ini_values(b"[A]\r\nX=1\r\n [B] \r\nY=2\r\n", {"HTTPS_CERT": "a"})
    assert str(caught.value) == ("HTTPS_CERT is not in the file and the file has 2 sections; refusing to guess which "
                                 "section it belongs to")
    assert files.set_ini_values(b"[A]\r\nX=1\r\n", {"HTTPS_CERT": "a"}) == b"[A]\r\nX=1\r\nHTTPS_CERT=a\r\n"


def test_set_ini_values_checks_keys_and_values_first():
    with pytest.raises(ValueError) as caught:
        files.set_ini_values(b"A=1\r\n", {"A": "ok", "B-C": "x"})
    assert str(caught.value).startswith("invalid ini key 'B-C'")
    with pytest.raises(ValueError) as caught:
        files.set_ini_values(b"A=1\r\n", {"A": "é"})
    assert str(caught.value).startswith("A contains non-ASCII characters")


# ------------------------------------------------------------------------------------------------ XML


def test_xml_escape_order():
    assert files.xml_escape("a&b<c>&lt;") == "a&amp;b&lt;c&gt;&amp;lt;"
    assert files.xml_unescape("a&amp;b&lt;c&gt;&amp;lt;") == "a&b<c>&lt;"


def test_line_positions():
    text = "ab\r\ncd\nef"
    assert [files.line_start(text, p) for p in (0, 1, 4, 5, 7, 9)] == [0, 0, 4, 4, 7, 7]
    assert [files.line_end(text, p) for p in (0, 2, 4, 7)] == [2, 2, 6, 9]
    assert [files.terminator_at(text, p) for p in (2, 3, 6, 9, 0)] == ["\r\n", "\n", "\n", "", "a"]


@pytest.mark.parametrize(("xml", "cn", "fn"), [
    (b"<c><cert_cn>a&amp;b</cert_cn><cert_friendly_name>F &lt;1&gt;</cert_friendly_name></c>", "a&b", "F <1>"),
    (b"<c><cert_cn/><cert_friendly_name  /></c>", "", ""),
    (b"<c><cert_cn >x</cert_cn\r\n></c>", "x", None),
    (b"<c></c>", None, None),
    (b"<c><cert_cn></cert_cn><cert_cn>second</cert_cn></c>", "", None),
])
def test_get_apricot_cert(xml, cn, fn):
    assert files.get_apricot_cert(xml) == {"cert_cn": cn, "cert_friendly_name": fn}


@pytest.mark.parametrize(("before", "after"), [
    (b"<c>\r\n  <cert_cn>old</cert_cn>\r\n</c>\r\n",
     b"<c>\r\n  <cert_cn>apex01</cert_cn>\r\n  <cert_friendly_name>A &amp; B</cert_friendly_name>\r\n</c>\r\n"),
    (b"<c>\n\t<cert_cn>old</cert_cn>  \n</c>", b"<c>\n\t<cert_cn>apex01</cert_cn>  \n\t<cert_friendly_name>A &amp; B"
     b"</cert_friendly_name>\n</c>"),
    (b"<c>\r\n  <cert_cn>old</cert_cn>",
     b"<c>\r\n  <cert_cn>apex01</cert_cn>\r\n  <cert_friendly_name>A &amp; B</cert_friendly_name>"),
    (b"<c><cert_cn/><x/></c>", b"<c><cert_cn>apex01</cert_cn><cert_friendly_name>A &amp; B</cert_friendly_name>"
                               b"<x/></c>"),
    (b"<c><cert_friendly_name>x</cert_friendly_name><cert_cn>apex01</cert_cn></c>",
     b"<c><cert_friendly_name>A &amp; B</cert_friendly_name><cert_cn>apex01</cert_cn></c>"),
    (b"<c><cert_cn>apex01</cert_cn><cert_friendly_name/></c>",
     b"<c><cert_cn>apex01</cert_cn><cert_friendly_name>A &amp; B</cert_friendly_name></c>"),
])
def test_set_apricot_cert(before, after):
    assert files.set_apricot_cert(before, "apex01", "A & B") == after


def test_set_apricot_cert_returns_the_same_object_when_nothing_changes():
    data = b"<c><cert_cn>apex01</cert_cn><cert_friendly_name>A &amp; B</cert_friendly_name></c>"
    assert files.set_apricot_cert(data, "apex01", "A & B") is data


@pytest.mark.parametrize(("xml", "message"), [
    (b"<c></c>", "expected exactly one <cert_cn> element, found 0"),
    (b"<c><cert_cn/><cert_cn/></c>", "expected exactly one <cert_cn> element, found 2"),
    (b"<c><cert_cn/><cert_friendly_name/><cert_friendly_name/></c>",
     "expected at most one <cert_friendly_name> element, found 2"),
])
def test_set_apricot_cert_refuses(xml, message):
    with pytest.raises(ValueError) as caught:
        files.set_apricot_cert(xml, "a", "b")
    assert str(caught.value) == message


def test_set_apricot_cert_checks_both_values():
    with pytest.raises(ValueError) as caught:
        files.set_apricot_cert(b"<cert_cn/>", "a\n", "b")
    assert str(caught.value).startswith("cert_cn must not contain")
    with pytest.raises(ValueError) as caught:
        files.set_apricot_cert(b"<cert_cn/>", "a", "")
    assert str(caught.value) == "friendly_name must not be empty"


# ------------------------------------------------------------------------------------------------ OfcIPCer.dat


@pytest.mark.parametrize(("data", "encoding"), [
    (b"", "unknown"), (b"\x30\x82", "der"), (b"-----BEGIN CERTIFICATE-----", "pem"),
    (BOM8 + b" \r\n\t-----BEGIN", "pem"), (b"\n-----BEGIN", "pem"), (b"x-----BEGIN", "unknown"),
    (BOM8 + b"\x30", "unknown"), (b"-----BEGI", "unknown")])
def test_ofcipcer_encoding(data, encoding):
    assert files.ofcipcer_encoding(data) == encoding


# ------------------------------------------------------------------------------------ second round (#17)


def _entry(data, path="C:\\PCCSRV\\file"):
    if data is None:
        return {"path": path, "exists": False, "sha256": None, "content": None, "error": None}
    return {"path": path, "exists": True, "sha256": hashlib.sha256(data).hexdigest(),
            "content": base64.b64encode(data).decode(), "error": None}


def _cert():
    import pki

    return pki.make_cert("apex01.corp.example", issuer=None, key=pki.rsa_key(2048, slot=770))[1]


def test_ofcipcer_blanks_are_stripped_but_nothing_else():
    assert files.ofcipcer_encoding(b"XX-----BEGIN CERTIFICATE-----") == "unknown"


def test_enrich_reads_every_field_of_a_der_and_a_pem_ofcipcer():
    from cryptography.hazmat.primitives.serialization import Encoding

    cert = _cert()
    der = cert.public_bytes(Encoding.DER)
    out = files.enrich_server_info({"ofcipcer": _entry(der)})["ofcipcer"]
    fields = {k: out[k] for k in ("size", "encoding", "newline", "thumbprint", "error")}
    assert fields == {"size": len(der), "encoding": "der", "newline": None,
                      "thumbprint": hashlib.sha1(der).hexdigest().upper(), "error": None}
    assert out["certificate"]["dns_names"] == ["apex01.corp.example"]
    assert out["certificate"]["subject_cn"] == "apex01.corp.example"
    pem = cert.public_bytes(Encoding.PEM).replace(b"\n", b"\r\n")
    out = files.enrich_server_info({"ofcipcer": _entry(pem)})["ofcipcer"]
    assert (out["encoding"], out["newline"], out["error"]) == ("pem", "\r\n", None)


def test_enrich_names_what_is_wrong_with_an_ofcipcer():
    out = files.enrich_server_info({"ofcipcer": _entry(b"plain text")})["ofcipcer"]
    assert (out["encoding"], out["thumbprint"], out["error"]) == (
        "unknown", None, "OfcIPCer.dat is neither DER nor PEM encoded (unknown)")
    out = files.enrich_server_info({"ofcipcer": _entry(b"\x30\x03\x02\x01\x01")})["ofcipcer"]
    assert out["error"].startswith("OfcIPCer.dat is not a readable X.509 certificate: the OfcIPCer.dat is binary "
                                   "but not a DER certificate (")
    missing = files.enrich_server_info({"ofcipcer": _entry(None)})["ofcipcer"]
    assert {k: missing[k] for k in ("size", "encoding", "newline", "thumbprint", "certificate", "error")} == dict.fromkeys(
        ("size", "encoding", "newline", "thumbprint", "certificate", "error"))


def test_enrich_parses_each_text_file():
    ini = b"[WSS]\r\nHTTPS=4343\r\nHTTPS_CERT=apex01\r\nHTTPS_CERT_FRIENDLY_NAME=Web 2026\r\n"
    apricot = b"<config>\r\n<cert_cn>apex01</cert_cn>\r\n<cert_friendly_name>Web 2026</cert_friendly_name>\r\n</config>"
    ofcscan = b"[INI_SERVER_SECTION]\r\nMaster_DomainName=apex01\r\nMaster_DomainPort=8080\r\n"
    out = files.enrich_server_info({"service_ini": _entry(ini), "apricot_config": _entry(apricot),
                                    "ofcscan_ini": _entry(ofcscan)})
    fields = ("encoding", "https", "https_cert", "https_cert_friendly_name", "error")
    assert {k: out["service_ini"][k] for k in fields} == {
        "encoding": "ansi", "https": "4343", "https_cert": "apex01", "https_cert_friendly_name": "Web 2026",
        "error": None}
    assert {k: out["apricot_config"][k] for k in ("encoding", "cert_cn", "cert_friendly_name", "error")} == {
        "encoding": "ansi", "cert_cn": "apex01", "cert_friendly_name": "Web 2026", "error": None}
    assert {k: out["ofcscan_ini"][k] for k in ("encoding", "master_domain_name", "master_domain_port")} == {
        "encoding": "ansi", "master_domain_name": "apex01", "master_domain_port": "8080"}
    gone = files.enrich_server_info({"apricot_config": _entry(None), "ofcscan_ini": _entry(None)})
    assert (gone["apricot_config"]["cert_cn"], gone["apricot_config"]["error"]) == (None, None)
    assert gone["ofcscan_ini"]["encoding"] is None


def test_enrich_names_the_file_of_an_error_by_path_or_key():
    bad = {**_entry(b"x"), "sha256": "0" * 64}
    out = files.enrich_server_info({"service_ini": bad, "apricot_config": {**bad, "path": None}})
    assert out["service_ini"]["error"] == ("C:\\PCCSRV\\file: the content of service_ini does not have the SHA-256 "
                                           "win_server_info reported; gather the facts again")
    assert out["apricot_config"]["error"].startswith("apricot_config: the content of apricot_config ")


def test_a_new_certificate_that_is_not_one_is_named():
    with pytest.raises(ValueError) as caught:
        files.ofcipcer_content("junk text", None)
    assert str(caught.value) == ("the new certificate is neither PEM (-----BEGIN CERTIFICATE-----) nor DER: export "
                                 "the certificate again as .cer / .pem")


def test_text_diff_exact():
    assert files.text_diff(b"a\r\nb", b"a\r\nc", "C:\\f.ini") == (
        "--- C:\\f.ini (now)\n+++ C:\\f.ini (planned)\n@@ -1,2 +1,2 @@\n a\\r\n-b\n+c\n")


def test_only_spaces_and_tabs_after_cert_cn_count_as_the_end_of_its_line():
    """A no-break space after </cert_cn> is content: the friendly name goes right after the element, not below."""
    data = b"<config>\n  <cert_cn>a</cert_cn>\xa0\n</config>"
    assert files.set_apricot_cert(data, "a", "F") == (
        b"<config>\n  <cert_cn>a</cert_cn><cert_friendly_name>F</cert_friendly_name>\xa0\n</config>")
    assert files.set_apricot_cert(b"<config>\n  <cert_cn>a</cert_cn> \t\n</config>", "a", "F") == (
        b"<config>\n  <cert_cn>a</cert_cn> \t\n  <cert_friendly_name>F</cert_friendly_name>\n</config>")


def test_a_missing_ofcipcer_gets_exactly_the_parsed_fields_as_none():
    missing = files.enrich_server_info({"ofcipcer": _entry(None)})["ofcipcer"]
    assert missing == {"path": "C:\\PCCSRV\\file", "exists": False, "sha256": None, "content": None, "error": None,
                       "size": None, "encoding": None, "newline": None, "thumbprint": None, "certificate": None}


# ------------------------------------------------------------------------------- full-run survivors (#17)


@pytest.mark.parametrize(("data", "text", "codec"), [(b"k\x00", "k", "utf-16-le"), (b"\x00k", "k", "utf-16-be")])
def test_a_two_byte_utf16_file_without_bom_is_recognised(data, text, codec):
    assert files.decode_file(data) == files.TextFile(text, codec, b"")


def test_a_value_ending_in_x_is_read_whole():
    assert files.get_ini_values(b"[WSS]\r\nHTTPS_CERT=APEX\r\n", ["HTTPS_CERT"]) == {"HTTPS_CERT": "APEX"}


@pytest.mark.parametrize(("entry", "message"), [
    ({"exists": True, "content": None}, "the file exists but has no base64 'content': gather it with win_server_info "
                                        "of this collection"),
    ({"exists": True, "content": "QUJD!", "sha256": None}, "the content of the file is not base64 (Only base64 data "
                                                           "is allowed)"),
    ({"exists": True, "content": "QUJD", "sha256": "z" * 100}, "the sha256 of the file is not 64 hex characters: "
                                                               f"{'z' * 80!r}"),
])
def test_file_bytes_errors(entry, message):
    with pytest.raises(ValueError) as caught:
        files.file_bytes(entry)
    assert str(caught.value) == message


def test_an_empty_ofcipcer_and_one_after_a_form_feed():
    out = files.enrich_server_info({"ofcipcer": _entry(b"")})["ofcipcer"]
    assert (out["encoding"], out["error"]) == ("empty", "OfcIPCer.dat is neither DER nor PEM encoded (empty)")
    assert files.ofcipcer_encoding(b"\x0c-----BEGIN CERTIFICATE-----") == "unknown"


def test_the_certificate_in_ofcipcer_is_marked_in_every_store_list():
    from cryptography.hazmat.primitives.serialization import Encoding

    der = _cert().public_bytes(Encoding.DER)
    thumb = hashlib.sha1(der).hexdigest()
    facts = {"ofcipcer": _entry(der),
             "certificates": {"my": [{"thumbprint": thumb.lower()}, "junk", {"thumbprint": None}],
                              "trusted_people": [{"thumbprint": thumb.upper(), "references": ["binding"]}],
                              "odd": "junk"}}
    out = files.enrich_server_info(facts)["certificates"]
    assert out["my"] == [{"thumbprint": thumb.lower(), "references": ["ofcipcer"]}, "junk", {"thumbprint": None}]
    assert out["trusted_people"][0]["references"] == ["binding", "ofcipcer"]
    assert out["odd"] == "junk"
