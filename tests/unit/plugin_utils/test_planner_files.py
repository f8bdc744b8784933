"""Steps 4 and 7 of the plan: the new file bytes are computed on the controller from the raw bytes gathered.

win_server_info returns OfcIPCer.dat, Service.ini and apricot_config as {path, exists, sha256, content}; the plan
passes the writers the new bytes (content, base64) and the SHA-256 of the gathered file (expected_sha256). A file
that cannot be edited blocks the plan before anything changes.
"""

import base64
import hashlib

import pki
import pytest
import winsim
from cryptography.hazmat.primitives.serialization import Encoding

from ansible_collections.apexone.certificates.plugins.module_utils import _apexone_files as files
from ansible_collections.apexone.certificates.plugins.module_utils import _x509
from ansible_collections.apexone.certificates.plugins.plugin_utils._planner import plan

HOST = "apex01.corp.example"
FRIENDLY = "Apex One web host 2026"
AGENT = "apexone.certificates.win_agent_cert"
PERSISTENCE = "apexone.certificates.win_cert_persistence"


@pytest.fixture(scope="module")
def material():
    lab = pki.LabPki()
    _k, old = pki.make_cert(HOST, issuer=None, key=pki.rsa_key(2048, slot=730))
    _key, new = lab.server(HOST, key=pki.rsa_key(2048, slot=731))
    return {"old": old, "new": new}


def desired(material, **extra):
    info = _x509.describe_certificate(material["new"])
    return {"thumbprint": info["thumbprint"], "subject_cn": info["subject_cn"], "friendly_name": FRIENDLY,
            "certificate_pem": info["certificate_pem"], **extra}


def server(material, **state_args):
    return winsim.ApexOneServer(winsim.new_state(material["old"], hostname=HOST, **state_args))


def facts(srv):
    return srv.call("apexone.certificates.win_server_info", {})


def action(result, module):
    return next(a for a in result["actions"] if a["module"] == module)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("encoding", ["der", "pem"])
def test_step4_bytes_in_the_encoding_of_the_current_file(material, encoding):
    srv = server(material, ofcipcer_encoding=encoding)
    current = srv._file(winsim.OFCIPCER)
    result = plan(facts(srv), desired(material))
    args = action(result, AGENT)["args"]
    written = base64.b64decode(args["content"])
    assert args["expected_sha256"] == sha(current)
    if encoding == "der":
        assert written == material["new"].public_bytes(Encoding.DER)
    else:
        assert written == material["new"].public_bytes(Encoding.PEM), "PEM with the LF endings of the current file"
    change = next(f for f in result["files"] if f["file"] == "ofcipcer")
    assert change["sha256_before"] == sha(current) and change["sha256_after"] == sha(written)
    assert change["content_before"] == base64.b64encode(current).decode()
    assert f"({encoding})" in change["diff"]


def test_step4_without_the_certificate_blocks(material):
    wanted = desired(material)
    del wanted["certificate_pem"]
    result = plan(facts(server(material)), wanted)
    assert [b["code"] for b in result["blockers"]] == ["certificate_pem_missing"]


def test_step7_bytes_keep_every_other_byte(material):
    srv = server(material)
    ini, apricot = srv._file(winsim.SERVICE_INI), srv._file(winsim.APRICOT)
    result = plan(facts(srv), desired(material))
    args = action(result, PERSISTENCE)["args"]
    assert set(args) == {"service_ini", "apricot_config"}
    assert args["service_ini"]["expected_sha256"] == sha(ini)
    assert args["apricot_config"]["expected_sha256"] == sha(apricot)
    assert base64.b64decode(args["service_ini"]["content"]) == files.set_ini_values(
        ini, {"HTTPS_CERT": HOST, "HTTPS_CERT_FRIENDLY_NAME": FRIENDLY})
    assert base64.b64decode(args["apricot_config"]["content"]) == files.set_apricot_cert(apricot, HOST, FRIENDLY)
    diff = next(f for f in result["files"] if f["file"] == "service_ini")["diff"]
    assert "-HTTPS_CERT=apex01\\r\n" in diff and f"+HTTPS_CERT_FRIENDLY_NAME={FRIENDLY}\\r\n" in diff
    assert "LOG_LEVEL" not in "".join(line for line in diff.splitlines(True) if line[:1] in "+-" and line[1:3] != "++")


def test_step7_only_the_file_that_changes(material):
    srv = server(material)
    ini = files.set_ini_values(srv._file(winsim.SERVICE_INI), {"HTTPS_CERT": HOST, "HTTPS_CERT_FRIENDLY_NAME": FRIENDLY})
    winsim.set_file(srv.state, winsim.SERVICE_INI, ini)
    args = action(plan(facts(srv), desired(material)), PERSISTENCE)["args"]
    assert set(args) == {"apricot_config"}


def test_step7_case_only_difference_is_planned_and_converges(material):
    """The plan and the apply agree byte for byte: a value differing only in case is a change (was: compliant)."""
    srv = server(material)
    ini = files.set_ini_values(srv._file(winsim.SERVICE_INI), {"HTTPS_CERT": HOST.upper(), "HTTPS_CERT_FRIENDLY_NAME": FRIENDLY})
    winsim.set_file(srv.state, winsim.SERVICE_INI, ini)
    args = action(plan(facts(srv), desired(material)), PERSISTENCE)["args"]
    srv.call(PERSISTENCE, args)
    assert PERSISTENCE not in plan(facts(srv), desired(material))["modules"]


def test_apricot_config_xml_is_planned_under_its_own_path(material):
    srv = server(material)
    winsim.set_file(srv.state, "SRS\\apricot_config.xml", srv._file(winsim.APRICOT))
    winsim.set_file(srv.state, winsim.APRICOT, None)
    result = plan(facts(srv), desired(material))
    change = next(f for f in result["files"] if f["file"] == "apricot_config")
    assert change["path"].endswith("\\SRS\\apricot_config.xml")
    srv.call(PERSISTENCE, action(result, PERSISTENCE)["args"])
    assert srv._file(winsim.APRICOT) is None
    assert b"<cert_friendly_name>" in srv._file("SRS\\apricot_config.xml")


@pytest.mark.parametrize(
    ("content", "code", "words"),
    [
        (b"<config></config>", "persistence_file_unusable", "expected exactly one <cert_cn> element, found 0"),
        (b"<c><cert_cn>a</cert_cn><cert_cn>b</cert_cn></c>", "persistence_file_unusable", "found 2"),
    ],
)
def test_step7_file_that_cannot_be_edited_blocks_before_any_change(material, content, code, words):
    srv = server(material)
    winsim.set_file(srv.state, winsim.APRICOT, content)
    result = plan(facts(srv), desired(material))
    assert result["applicable"] is False
    blocker = next(b for b in result["blockers"] if b["code"] == code)
    assert words in blocker["message"] and "apricot_config" in blocker["message"]


def test_service_ini_with_two_sections_and_no_https_cert_blocks(material):
    srv = server(material)
    winsim.set_file(srv.state, winsim.SERVICE_INI, b"[A]\r\nHTTPS=4343\r\n[B]\r\nX=1\r\n")
    result = plan(facts(srv), desired(material))
    assert "refusing to guess which section" in next(
        b["message"] for b in result["blockers"] if b["code"] == "persistence_file_unusable")


def test_gathered_bytes_that_do_not_match_their_sha256_block(material):
    info = facts(server(material))
    info["service_ini"]["sha256"] = "0" * 64
    result = plan(info, desired(material))
    assert "does not have the SHA-256" in next(
        b["message"] for b in result["blockers"] if b["code"] == "persistence_file_unusable")


def test_parsed_fields_come_from_the_bytes_on_the_controller(material):
    """win_server_info returns no parsed field; the plan still reads HTTPS_CERT, cert_cn and the OfcIPCer thumbprint."""
    info = facts(server(material))
    assert set(info["service_ini"]) == set(info["ofcipcer"]) == {"path", "exists", "sha256", "content", "error"}
    result = plan(info, desired(material))
    old = _x509.thumbprint(material["old"])
    assert f"OfcIPCer.dat holds {old}" in action(result, AGENT)["reason"]
    assert "Service.ini HTTPS_CERT is 'apex01'" in action(result, PERSISTENCE)["reason"]
    assert "apricot_config cert_cn is 'apex01'" in action(result, PERSISTENCE)["reason"]


def test_file_the_server_could_not_read_blocks_with_its_reason(material):
    info = facts(server(material))
    info["apricot_config"].update(content=None, sha256=None, error="Cannot read 'x': The process cannot access the file")
    result = plan(info, desired(material))
    assert "the server could not read it: Cannot read 'x': The process cannot access the file" in next(
        b["message"] for b in result["blockers"] if b["code"] == "persistence_file_unusable")
