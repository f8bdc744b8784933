"""The http.sys util (_ApexOneHttpSys.cs) runs here, under Mono, against a fake HTTP Server API.

fixtures/HttpSysFake.cs.in keeps SSL records in memory and reads/writes the HTTP_SERVICE_CONFIG_SSL_* structures at the
x64 offsets of Microsoft's headers (tests/reference/win32_structs.json), independently of the Marshal.OffsetOf layouts
the util computes. So this checks, on x64: every record kind is read with every field; SetCertificate replaces a record
by delete + set with every field but the hash and store copied (issue 13 item 3, no HttpUpdateServiceConfiguration);
a failing set puts the old record back, and says so when that fails too.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import csharp_static as cs
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATE = os.path.join(HERE, "fixtures", "HttpSysFake.cs.in")
UTIL = os.path.join(cs.REPO, "plugins", "module_utils", "_ApexOneHttpSys.cs")
OLD = "0A1B2C3D4E5F60718293A4B5C6D7E8F901234567"
NEW = "AABBCCDDEEFF00112233445566778899AABBCCDD"


def fake_source() -> str:
    structs = cs.load_reference_structs()["structs"]
    with open(TEMPLATE, encoding="utf-8") as handle:
        text = handle.read()

    def value(match):
        struct, field = match.group(1), match.group(2)
        expected = structs[struct]["expected"]["x64"]
        return str(expected["size"] if field == "size" else expected["offsets"][field])

    return re.sub(r"@(\w+)\.(\w+)@", value, text)


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    work = tmp_path_factory.mktemp("httpsys")
    fake = work / "HttpSysFake.cs"
    fake.write_text(fake_source(), encoding="utf-8")
    exe = work / "httpsys.exe"
    proc = subprocess.run([cs.mcs_path(), "-langversion:5", "-warnaserror+", "-platform:x64", "-r:System.dll",
                           "-r:System.Core.dll", f"-out:{exe}", UTIL, str(fake)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return str(exe)


def run(program: str, scenario: str) -> list[str]:
    mono = shutil.which("mono")
    assert mono, "the Mono runtime is missing: run 'make mono'"
    proc = subprocess.run([mono, program, scenario], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.splitlines()


def fields(line: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in line.split()[1:])


def test_every_record_kind_is_read_with_every_field(program):
    bindings = [fields(line) for line in run(program, "read") if line.startswith("binding ")]
    assert [(b["kind"], b["key"]) for b in bindings] == [
        ("ipport", "0.0.0.0:4343"), ("ipport", "[::]:443"), ("hostnameport", "apexone.example.com:4343"), ("ccs", "8443")]
    ip = bindings[0]
    assert ip == {"kind": "ipport", "key": "0.0.0.0:4343", "ip": "0.0.0.0", "host": "<null>", "port": "4343", "thumbprint": OLD,
                  "store": "MY", "appid": "{4dc3e181-e14b-4a21-b022-59fc669b0914}", "checkmode": "4", "freshness": "600",
                  "timeout": "20000", "ctlid": "AgentCtl", "ctlstore": "ClientAuthIssuer", "flags": "2"}
    sni = bindings[2]
    assert (sni["host"], sni["port"], sni["store"], sni["flags"], sni["appid"]) == (
        "apexone.example.com", "4343", "WebHosting", "65", "{12345678-1234-1234-1234-123456789abc}")
    assert bindings[3]["thumbprint"] == "<null>"


def test_set_certificate_replaces_each_record_keeping_every_other_field(program):
    lines = run(program, "move")
    records = [fields(line) for line in lines if line.startswith("record ")]
    calls = [line[5:] for line in lines if line.startswith("call ")]
    assert len(records) == 4
    moved = [r for r in records if r["hash"] != "<null>"]
    assert [r["hash"] for r in moved] == [NEW] * 3 and all(r["store"] == "WebHosting" for r in moved)
    ip = next(r for r in moved if r["config"] == "1" and r["ctlstore"] != "<null>")
    assert (ip["appid"], ip["checkmode"], ip["freshness"], ip["timeout"], ip["ctlid"], ip["ctlstore"], ip["flags"]) == (
        "{4dc3e181-e14b-4a21-b022-59fc669b0914}", "4", "600", "20000", "AgentCtl", "ClientAuthIssuer", "2")
    sni = next(r for r in moved if r["config"] == "5")
    assert (sni["host"], sni["flags"], sni["appid"]) == ("apexone.example.com", "65", "{12345678-1234-1234-1234-123456789abc}")
    # the key bytes are written back as they were read (IPv6 wildcard included)
    assert next(r for r in moved if r["sockaddr"].startswith("170001BB"))["config"] == "1"
    # delete, then set: never an update
    assert [c for c in calls if c.startswith(("delete", "set"))] == ["delete 1", f"set 1 {NEW}", "delete 1", f"set 1 {NEW}",
                                                                     "delete 5", f"set 5 {NEW}"]


def test_a_failed_set_puts_the_old_record_back(program):
    lines = run(program, "fail")
    error = next(line for line in lines if line.startswith(("error ", "no error")))
    assert error.startswith("error HttpSetServiceConfiguration(ipport=0.0.0.0:4343) failed") and "the old record was set again" in error
    records = [fields(line) for line in lines if line.startswith("record ")]
    ip = next(r for r in records if r["sockaddr"].startswith("020010F7"))
    assert (ip["hash"], ip["store"], ip["ctlstore"], ip["flags"]) == (OLD, "MY", "ClientAuthIssuer", "2")


def test_a_failed_restore_says_the_record_is_missing(program):
    lines = run(program, "fail-restore")
    error = next(line for line in lines if line.startswith(("error ", "no error")))
    assert "MISSING" in error and OLD in error
    assert not [line for line in lines if line.startswith("record config=1 sockaddr=020010F7")]


def test_a_broken_copy_that_drops_a_field_is_caught(tmp_path):
    with open(UTIL, encoding="utf-8") as handle:
        text = handle.read()
    broken = text.replace("            param.pDefaultSslCtlStoreName = binding.CtlStoreName == null ? IntPtr.Zero : Wide(binding.CtlStoreName);\n", "")
    assert broken != text
    util = tmp_path / "_ApexOneHttpSys.cs"
    util.write_text(broken, encoding="utf-8")
    fake = tmp_path / "HttpSysFake.cs"
    fake.write_text(fake_source(), encoding="utf-8")
    exe = tmp_path / "broken.exe"
    subprocess.run([cs.mcs_path(), "-langversion:5", "-platform:x64", f"-out:{exe}", str(util), str(fake)], check=True,
                   capture_output=True)
    records = [fields(line) for line in run(str(exe), "move") if line.startswith("record ")]
    ip = next(r for r in records if r["sockaddr"].startswith("020010F7"))
    assert ip["ctlstore"] == "<null>"  # what test_set_certificate_replaces_each_record_keeping_every_other_field rejects
