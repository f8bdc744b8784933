# Copyright: (c) 2025, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tests of the byte-exact Service.ini / apricot_config edits (step 7, KA-0004491) and OfcIPCer.dat detection.

The transformation runs only here, on the controller: win_server_info returns the raw bytes (tested below with
the shape it returns) and the writers take the new bytes with the SHA-256 of the file they replace.

Where the fixtures come from (no real Apex One file is public, so their shapes are reconstructed):
- Service.ini: Trend Micro KA-0004491 quotes the keys ``HTTPS=4343`` and ``HTTPS_CERT=<name>`` of
  ``PCCSRV\\WSS\\Service.ini`` and tells to add ``HTTPS_CERT_FRIENDLY_NAME=<friendly name>``. The
  section header is not shown anywhere public ([G] in APEXONE_FACTS.md), so the fixtures use an
  invented ``[Service]`` header, no header at all, and two sections. ``HTTP=8080`` and
  ``HTTPS_CERT=...`` values are the defaults the KB and the admin guide mention; the other keys are
  invented neighbours. Windows tools write CRLF; LF and UTF-16 variants cover hand-edited copies.
- apricot_config: KA-0004491 says to set the ``<cert_cn>`` value and to add a ``<cert_friendly_name>``
  element right under it. The surrounding XML (root element, siblings, indent) is invented.
- OfcIPCer.dat: the public certificate, DER (Windows export default, first byte 0x30) or
  Base-64/PEM (``-----BEGIN CERTIFICATE-----``), as APEXONE_FACTS.md describes.
"""

from __future__ import annotations

import os
import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ansible_collections.apexone.certificates.plugins.module_utils import _apexone_files as files

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

KEYS = ("HTTPS_CERT", "HTTPS_CERT_FRIENDLY_NAME")

# --- fixtures -------------------------------------------------------------------------------------

# Service.ini as KA-0004491 describes it: HTTPS port and certificate name; invented [Service] header.
SERVICE_INI = (
    b"[Service]\r\n"
    b"HTTP=8080\r\n"
    b"HTTPS=4343\r\n"
    b"HTTPS_CERT=apex01.corp.example\r\n"
    b"LogLevel=2\r\n"
)

# apricot_config: the <cert_cn> element of KA-0004491 inside an invented configuration document.
APRICOT = (
    b'<?xml version="1.0" encoding="UTF-8"?>\r\n'
    b"<config>\r\n"
    b"  <https_port>4343</https_port>\r\n"
    b"  <cert_cn>apex01.corp.example</cert_cn>\r\n"
    b"  <log_level>2</log_level>\r\n"
    b"</config>\r\n"
)


# --- Service.ini, examples ------------------------------------------------------------------------


class TestSetIniValues:
    def test_kb_edit_sets_name_and_adds_friendly_name_under_it(self):
        out = files.set_ini_values(SERVICE_INI, {"HTTPS_CERT": "apex01.corp.example", "HTTPS_CERT_FRIENDLY_NAME": "ApexOne 2025"})
        assert out == (
            b"[Service]\r\n"
            b"HTTP=8080\r\n"
            b"HTTPS=4343\r\n"
            b"HTTPS_CERT=apex01.corp.example\r\n"
            b"HTTPS_CERT_FRIENDLY_NAME=ApexOne 2025\r\n"
            b"LogLevel=2\r\n"
        )

    def test_changes_existing_value_in_place(self):
        data = SERVICE_INI.replace(b"HTTPS_CERT=apex01.corp.example\r\n", b"HTTPS_CERT=old\r\nHTTPS_CERT_FRIENDLY_NAME=Old name\r\n")
        out = files.set_ini_values(data, {"HTTPS_CERT": "new", "HTTPS_CERT_FRIENDLY_NAME": "New name"})
        assert out == data.replace(b"=old\r\n", b"=new\r\n").replace(b"=Old name", b"=New name")

    def test_second_run_returns_the_same_object(self):
        values = {"HTTPS_CERT": "apex01.corp.example", "HTTPS_CERT_FRIENDLY_NAME": "ApexOne 2025"}
        once = files.set_ini_values(SERVICE_INI, values)
        assert files.set_ini_values(once, values) is once

    def test_nothing_to_change_returns_input(self):
        data = SERVICE_INI.replace(b"LogLevel", b"HTTPS_CERT_FRIENDLY_NAME=F\r\nLogLevel")
        assert files.set_ini_values(data, {"HTTPS_CERT": "apex01.corp.example", "HTTPS_CERT_FRIENDLY_NAME": "F"}) is data

    def test_lf_file_gets_lf_lines(self):
        data = SERVICE_INI.replace(b"\r\n", b"\n")
        out = files.set_ini_values(data, {"HTTPS_CERT": "x", "HTTPS_CERT_FRIENDLY_NAME": "y"})
        assert b"\r" not in out
        assert b"HTTPS_CERT=x\nHTTPS_CERT_FRIENDLY_NAME=y\nLogLevel=2\n" in out

    def test_last_line_without_newline_stays_unterminated(self):
        data = b"[Service]\r\nHTTPS=4343\r\nHTTPS_CERT=old"
        out = files.set_ini_values(data, {"HTTPS_CERT": "new", "HTTPS_CERT_FRIENDLY_NAME": "fn"})
        assert out == b"[Service]\r\nHTTPS=4343\r\nHTTPS_CERT=new\r\nHTTPS_CERT_FRIENDLY_NAME=fn"

    def test_keeps_blanks_case_and_indent_of_the_key_line(self):
        data = b"[Service]\r\n  https_cert = old  \r\n"
        out = files.set_ini_values(data, {"HTTPS_CERT": "new"})
        assert out == b"[Service]\r\n  https_cert = new  \r\n"

    def test_comment_and_longer_key_are_not_the_key(self):
        data = b";HTTPS_CERT=commented\r\nHTTPS_CERT_OLD=keep\r\nHTTPS_CERT=old\r\n"
        out = files.set_ini_values(data, {"HTTPS_CERT": "new"})
        assert out == b";HTTPS_CERT=commented\r\nHTTPS_CERT_OLD=keep\r\nHTTPS_CERT=new\r\n"

    def test_every_occurrence_is_set(self):
        data = b"[a]\r\nHTTPS_CERT=1\r\n[b]\r\nHTTPS_CERT=2\r\n"
        assert files.set_ini_values(data, {"HTTPS_CERT": "n"}) == b"[a]\r\nHTTPS_CERT=n\r\n[b]\r\nHTTPS_CERT=n\r\n"

    def test_missing_first_key_appended_when_at_most_one_section(self):
        assert files.set_ini_values(b"[Service]\r\nHTTPS=4343\r\n", {"HTTPS_CERT": "n"}) == b"[Service]\r\nHTTPS=4343\r\nHTTPS_CERT=n\r\n"
        assert files.set_ini_values(b"HTTPS=4343", {"HTTPS_CERT": "n"}) == b"HTTPS=4343\r\nHTTPS_CERT=n"
        assert files.set_ini_values(b"", {"HTTPS_CERT": "n"}) == b"HTTPS_CERT=n\r\n"

    def test_missing_first_key_with_two_sections_is_refused(self):
        with pytest.raises(ValueError, match=re.escape("HTTPS_CERT is not in the file and the file has 2 sections")):
            files.set_ini_values(b"[a]\r\nx=1\r\n[b]\r\ny=2\r\n", {"HTTPS_CERT": "n"})

    def test_utf16le_with_bom(self):
        data = b"\xff\xfe" + SERVICE_INI.decode("ascii").encode("utf-16-le")
        out = files.set_ini_values(data, {"HTTPS_CERT": "Zürich-apex", "HTTPS_CERT_FRIENDLY_NAME": "Été"})
        assert out.startswith(b"\xff\xfe")
        text = out[2:].decode("utf-16-le")
        assert "HTTPS_CERT=Zürich-apex\r\nHTTPS_CERT_FRIENDLY_NAME=Été\r\nLogLevel=2\r\n" in text

    def test_utf16le_without_bom_and_utf16be(self):
        for codec, bom in (("utf-16-le", b""), ("utf-16-be", b""), ("utf-16-be", b"\xfe\xff")):
            data = bom + SERVICE_INI.decode("ascii").encode(codec)
            out = files.set_ini_values(data, {"HTTPS_CERT": "n"})
            assert out == bom + SERVICE_INI.decode("ascii").replace("apex01.corp.example", "n").encode(codec)

    def test_utf8_bom_is_kept(self):
        data = b"\xef\xbb\xbf" + SERVICE_INI
        out = files.set_ini_values(data, {"HTTPS_CERT": "é"})
        assert out == b"\xef\xbb\xbf" + SERVICE_INI.replace(b"apex01.corp.example", "é".encode())

    def test_ansi_bytes_of_other_lines_are_kept(self):
        # a Windows-1252 comment: bytes 0x80-0xFF must come back unchanged (no code page guessing)
        data = b"; Caf\xe9 \x80 \x9d\xff\r\n" + SERVICE_INI
        out = files.set_ini_values(data, {"HTTPS_CERT": "n"})
        assert out == b"; Caf\xe9 \x80 \x9d\xff\r\n" + SERVICE_INI.replace(b"apex01.corp.example", b"n")

    def test_get_values(self):
        assert files.get_ini_values(SERVICE_INI, KEYS) == {"HTTPS_CERT": "apex01.corp.example", "HTTPS_CERT_FRIENDLY_NAME": None}

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("a\r\nHTTPS=443", "must not contain line breaks"),
            ("a\nb", "must not contain line breaks"),
            ("a\rb", "must not contain line breaks"),
            ("a\x00b", "must not contain line breaks"),
            ("a\u2028b", "must not contain line breaks"),
            ("a\x85b", "must not contain line breaks"),
            ("", "must not be empty"),
            (" lead", "must not start or end with white space"),
            ("trail ", "must not start or end with white space"),
            ("tab\tinside", "must not contain line breaks"),
            ("Zürich", "non-ASCII characters"),
        ],
    )
    def test_hostile_values_are_refused(self, value, message):
        with pytest.raises(ValueError, match=re.escape(message)):
            files.set_ini_values(SERVICE_INI, {"HTTPS_CERT": value})

    def test_bad_key_and_bad_file_are_refused(self):
        for key in ("HTTPS.CERT", "HTTPS_CERT\n", "", "A B"):
            with pytest.raises(ValueError, match="invalid ini key"):
                files.set_ini_values(SERVICE_INI, {key: "x"})
        with pytest.raises(ValueError, match="not valid UTF-8"):
            files.set_ini_values(b"\xef\xbb\xbfHTTPS_CERT=\xff\r\n", {"HTTPS_CERT": "x"})
        with pytest.raises(ValueError, match="NUL bytes"):
            files.set_ini_values(b"\x00\x00HTTPS_CERT=x", {"HTTPS_CERT": "x"})
        with pytest.raises(ValueError, match="not valid UTF-16-LE"):
            files.set_ini_values(b"\xff\xfeH\x00T", {"HTTPS_CERT": "x"})


# --- apricot_config, examples ---------------------------------------------------------------------


class TestSetApricotCert:
    def test_kb_edit_sets_cn_and_adds_friendly_name_under_it(self):
        out = files.set_apricot_cert(APRICOT, "apex01.corp.example", "ApexOne 2025")
        assert out == APRICOT.replace(
            b"  <cert_cn>apex01.corp.example</cert_cn>\r\n",
            b"  <cert_cn>apex01.corp.example</cert_cn>\r\n  <cert_friendly_name>ApexOne 2025</cert_friendly_name>\r\n",
        )

    def test_idempotent(self):
        once = files.set_apricot_cert(APRICOT, "apex02.corp.example", "F")
        assert files.set_apricot_cert(once, "apex02.corp.example", "F") is once
        assert files.get_apricot_cert(once) == {"cert_cn": "apex02.corp.example", "cert_friendly_name": "F"}

    def test_updates_existing_friendly_name_wherever_it_is(self):
        data = APRICOT.replace(b"<log_level>", b"<cert_friendly_name>old</cert_friendly_name><log_level>")
        out = files.set_apricot_cert(data, "apex01.corp.example", "new")
        assert out == data.replace(b">old<", b">new<")

    def test_self_closing_elements_are_filled(self):
        data = b"<c>\n\t<cert_cn/>\n\t<cert_friendly_name />\n</c>"
        out = files.set_apricot_cert(data, "h", "f")
        assert out == b"<c>\n\t<cert_cn>h</cert_cn>\n\t<cert_friendly_name>f</cert_friendly_name>\n</c>"

    def test_inline_element_gets_inline_friendly_name(self):
        data = b"<c><cert_cn>old</cert_cn><x/></c>"
        assert files.set_apricot_cert(data, "h", "f") == b"<c><cert_cn>h</cert_cn><cert_friendly_name>f</cert_friendly_name><x/></c>"

    def test_cn_on_last_line_without_newline(self):
        data = b"  <cert_cn>old</cert_cn>"
        assert files.set_apricot_cert(data, "h", "f") == b"  <cert_cn>h</cert_cn>\r\n  <cert_friendly_name>f</cert_friendly_name>"

    def test_xml_special_characters_are_escaped(self):
        out = files.set_apricot_cert(APRICOT, "apex01.corp.example", "R&D <web> & co")
        assert b"<cert_friendly_name>R&amp;D &lt;web&gt; &amp; co</cert_friendly_name>" in out
        assert files.get_apricot_cert(out)["cert_friendly_name"] == "R&D <web> & co"
        assert files.set_apricot_cert(out, "apex01.corp.example", "R&D <web> & co") is out

    @pytest.mark.parametrize("value", ["a\r\n<cert_cn>x</cert_cn>", "a\nb", "\x1b[0m", ""])
    def test_hostile_values_are_refused(self, value):
        with pytest.raises(ValueError, match="friendly_name must not"):
            files.set_apricot_cert(APRICOT, "apex01.corp.example", value)

    def test_missing_or_duplicate_cert_cn_is_refused(self):
        with pytest.raises(ValueError, match=re.escape("expected exactly one <cert_cn> element, found 0")):
            files.set_apricot_cert(b"<config/>", "h", "f")
        twice = APRICOT.replace(b"<log_level>", b"<cert_cn>b</cert_cn><log_level>")
        with pytest.raises(ValueError, match=re.escape("expected exactly one <cert_cn> element, found 2")):
            files.set_apricot_cert(twice, "h", "f")
        two_fn = APRICOT.replace(b"<log_level>", b"<cert_friendly_name/><cert_friendly_name/><log_level>")
        with pytest.raises(ValueError, match=re.escape("at most one <cert_friendly_name> element, found 2")):
            files.set_apricot_cert(two_fn, "h", "f")

    def test_utf16_file(self):
        data = b"\xff\xfe" + APRICOT.decode().encode("utf-16-le")
        out = files.set_apricot_cert(data, "apex01.corp.example", "Ünïcode")
        assert out[:2] == b"\xff\xfe"
        assert "<cert_friendly_name>Ünïcode</cert_friendly_name>\r\n" in out[2:].decode("utf-16-le")


# --- OfcIPCer.dat ---------------------------------------------------------------------------------


class TestOfcIPCerEncoding:
    def test_der(self, server):
        from cryptography.hazmat.primitives.serialization import Encoding

        _key, cert = server
        assert files.ofcipcer_encoding(cert.public_bytes(Encoding.DER)) == "der"

    def test_pem_variants(self, server):
        from cryptography.hazmat.primitives.serialization import Encoding

        _key, cert = server
        pem = cert.public_bytes(Encoding.PEM)
        assert files.ofcipcer_encoding(pem) == "pem"
        assert files.ofcipcer_encoding(pem.replace(b"\n", b"\r\n")) == "pem"
        assert files.ofcipcer_encoding(b"\xef\xbb\xbf\r\n " + pem) == "pem"

    @pytest.mark.parametrize("data", [b"", b"MIIC", b"\x00\x30", b"hello", "-----BEGIN".encode("utf-16-le")])
    def test_unknown(self, data):
        assert files.ofcipcer_encoding(data) == "unknown"


# --- property tests -------------------------------------------------------------------------------

# (codec, bom) of the generated files: ANSI (byte-transparent), UTF-8 with BOM, UTF-16 with and without BOM.
ENCODINGS = [
    ("latin-1", b""),
    ("utf-8", b"\xef\xbb\xbf"),
    ("utf-16-le", b"\xff\xfe"),
    ("utf-16-be", b"\xfe\xff"),
    ("utf-16-le", b""),
]
NEWLINES = st.sampled_from(["\r\n", "\n", "\r"])


def _is_key_line(content: str) -> bool:
    return any(re.match(files.INI_LINE_TEMPLATE.replace("{key}", files.key_pattern(k)), content) for k in KEYS)


def other_line(codec: str):
    """Content of a line that is not one of our keys (the rest of the file, which must survive)."""
    if codec == "latin-1":
        alphabet = st.characters(min_codepoint=1, max_codepoint=0xFF, blacklist_characters="\r\n")
    else:
        alphabet = st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00")
    return st.text(alphabet, max_size=30).filter(lambda s: not _is_key_line(s))


def value(codec: str):
    """A value the functions accept for a file of this codec."""
    if codec == "latin-1":
        alphabet = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
    else:
        alphabet = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\u2028\u2029")
    return st.text(alphabet, min_size=1, max_size=20).filter(lambda s: s[0] not in " \t" and s[-1] not in " \t")


@st.composite
def ini_file(draw):
    """An ini file with one HTTPS_CERT line and maybe a friendly-name line among random other lines."""
    codec, bom = draw(st.sampled_from(ENCODINGS))
    lines = draw(st.lists(other_line(codec), max_size=6))
    newlines = draw(st.lists(NEWLINES, min_size=len(lines) + 3, max_size=len(lines) + 3))
    blanks = st.sampled_from(["", " ", "\t", " \t "])

    def key_line(key: str, val: str) -> str:
        # any case, indent and blanks around '=' and after the value: all of it must survive an edit
        name = "".join(c.lower() if draw(st.booleans()) else c for c in key)
        return draw(blanks) + name + draw(blanks) + "=" + draw(blanks) + val + draw(blanks)

    position = draw(st.integers(0, len(lines)))
    lines.insert(position, key_line("HTTPS_CERT", draw(value(codec))))
    has_friendly = draw(st.booleans())
    if has_friendly:
        lines.insert(draw(st.integers(0, len(lines))), key_line("HTTPS_CERT_FRIENDLY_NAME", draw(value(codec))))
    terminated = draw(st.booleans())
    text = ""
    for index, line in enumerate(lines):
        last = index == len(lines) - 1
        text += line + ("" if last and not terminated else newlines[index])
    if codec == "utf-16-le" and bom == b"":
        # a BOM-less UTF-16 file is recognised by its first character being ASCII
        assume(text[:1] != "" and 0 < ord(text[0]) < 0x80)
    return bom + text.encode(codec), codec, has_friendly


def _non_key_lines(data: bytes) -> list[str]:
    text = files.decode_file(data).text
    return [line for line in files.split_lines(text) if not _is_key_line(files.line_content(line))]


@pytest.mark.property
class TestIniProperties:
    @given(ini_file(), st.data())
    @settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.differing_executors])
    def test_round_trip(self, generated, data):
        original, codec, has_friendly = generated
        values = {"HTTPS_CERT": data.draw(value(codec)), "HTTPS_CERT_FRIENDLY_NAME": data.draw(value(codec))}
        out = files.set_ini_values(original, values)
        decoded_in, decoded_out = files.decode_file(original), files.decode_file(out)

        # the values are there, and applying twice is applying once
        assert files.get_ini_values(out, KEYS) == values
        assert files.set_ini_values(out, values) == out
        # encoding and byte order mark kept
        assert (decoded_out.codec, decoded_out.bom) == (decoded_in.codec, decoded_in.bom)
        assert out.startswith(decoded_in.bom)
        # every other line kept, in order, with its terminator (only a key line may gain one)
        before, after = _non_key_lines(original), _non_key_lines(out)
        assert after == before
        # no new kind of line ending appears (CRLF, the Windows default, only in a file that had none at all)
        endings_in = set(re.findall(files.NEWLINE_RE, decoded_in.text)) or {"\r\n"}
        assert set(re.findall(files.NEWLINE_RE, decoded_out.text)) <= endings_in
        # exactly one line added when the friendly name was missing
        added = len(files.split_lines(decoded_out.text)) - len(files.split_lines(decoded_in.text))
        assert added == (0 if has_friendly else 1)

    @given(ini_file(), st.data())
    @settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.differing_executors])
    def test_restoring_old_values_restores_every_byte(self, generated, data):
        original, codec, has_friendly = generated
        assume(has_friendly)
        old = files.get_ini_values(original, KEYS)
        new = {"HTTPS_CERT": data.draw(value(codec)), "HTTPS_CERT_FRIENDLY_NAME": data.draw(value(codec))}
        assert files.set_ini_values(files.set_ini_values(original, new), old) == original

    @given(ini_file(), st.text(min_size=1, max_size=10), st.sampled_from(["\r", "\n", "\x00", "\x1f", "\x7f", "\u2028", "\x85"]))
    @settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.differing_executors])
    def test_hostile_value_never_reaches_the_file(self, generated, text, bad):
        original, _codec, _has_friendly = generated
        hostile = text[: len(text) // 2] + bad + "HTTPS=1" + text[len(text) // 2:]
        with pytest.raises(ValueError, match="must not"):
            files.set_ini_values(original, {"HTTPS_CERT": hostile})


@st.composite
def apricot_file(draw):
    """An XML-ish file with one <cert_cn> element and maybe a <cert_friendly_name> element."""
    codec, bom = draw(st.sampled_from(ENCODINGS))
    filler = other_line(codec).filter(lambda s: "<cert_" not in s and "</cert_" not in s)
    newline = draw(NEWLINES)
    before = draw(st.lists(filler, max_size=4))
    after = draw(st.lists(filler, max_size=4))
    indent = draw(st.sampled_from(["", "  ", "\t\t"]))
    cn_value = files.xml_escape(draw(value(codec)))
    lines = [*before, indent + "<cert_cn>" + cn_value + "</cert_cn>"]
    has_friendly = draw(st.booleans())
    if has_friendly:
        lines.append(indent + "<cert_friendly_name>" + files.xml_escape(draw(value(codec))) + "</cert_friendly_name>")
    lines += after
    text = newline.join(lines) + draw(st.sampled_from(["", newline]))
    if codec == "utf-16-le" and bom == b"":
        assume(0 < ord(text[0]) < 0x80)
    return bom + text.encode(codec), codec, has_friendly, indent


@pytest.mark.property
class TestApricotProperties:
    @given(apricot_file(), st.data())
    @settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.differing_executors])
    def test_round_trip(self, generated, data):
        original, codec, has_friendly, indent = generated
        cn, fn = data.draw(value(codec)), data.draw(value(codec))
        out = files.set_apricot_cert(original, cn, fn)
        assert files.get_apricot_cert(out) == {"cert_cn": cn, "cert_friendly_name": fn}
        assert files.set_apricot_cert(out, cn, fn) == out
        text_in, text_out = files.decode_file(original).text, files.decode_file(out).text
        assert out.startswith(files.decode_file(original).bom)
        # everything before <cert_cn> and after the last of the two elements is unchanged
        start = text_in.index("<cert_cn>")
        assert text_out[:start] == text_in[:start]
        end_in = text_in.rindex("</cert_friendly_name>" if has_friendly else "</cert_cn>")
        tail = text_in[end_in:].split(">", 1)[1]
        # when the friendly name is added after a last line without terminator, a terminator precedes it
        assert text_out.endswith(tail) or not tail
        # the only markup added is the friendly-name element, on its own line with the indent of <cert_cn>
        assert text_out.count("<") == text_in.count("<") + (0 if has_friendly else 2)
        if not has_friendly:
            added = [files.line_content(x) for x in files.split_lines(text_out) if "<cert_friendly_name>" in x]
            assert added == [indent + "<cert_friendly_name>" + files.xml_escape(fn) + "</cert_friendly_name>"]

    @given(apricot_file(), st.data())
    @settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.differing_executors])
    def test_last_write_wins_and_restore(self, generated, data):
        original, codec, has_friendly, _indent = generated
        first = (data.draw(value(codec)), data.draw(value(codec)))
        second = (data.draw(value(codec)), data.draw(value(codec)))
        assert files.set_apricot_cert(files.set_apricot_cert(original, *first), *second) == files.set_apricot_cert(original, *second)
        if has_friendly:
            old = files.get_apricot_cert(original)
            restored = files.set_apricot_cert(files.set_apricot_cert(original, *first), old["cert_cn"], old["cert_friendly_name"])
            assert restored == original

    @given(apricot_file(), st.text(alphabet="<>&\"' abc/", min_size=1, max_size=12))
    @settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.differing_executors])
    def test_markup_in_values_is_escaped_not_injected(self, generated, text):
        original, _codec, _has_friendly, _indent = generated
        assume(text.strip(" ") == text)
        out = files.set_apricot_cert(original, "h", text)
        assert files.get_apricot_cert(out)["cert_friendly_name"] == text
        decoded = files.decode_file(out).text
        assert len(re.findall(files.APRICOT_FN_RE, decoded)) == 1
        assert len(re.findall(files.APRICOT_CN_RE, decoded)) == 1


# --- raw bytes from win_server_info, new bytes for the writers ---------------------------------------------------
# PowerShell transforms nothing: win_server_info returns {path, exists, sha256, content}; everything below runs on
# the controller.


def entry(data: bytes | None, path: str = "C:\\PCCSRV\\WSS\\Service.ini") -> dict:
    """A file entry of win_server_info (contract: path, exists, sha256 lower-case hex, content base64)."""
    import base64
    import hashlib

    if data is None:
        return {"path": path, "exists": False, "sha256": None, "content": None, "error": None}
    return {"path": path, "exists": True, "sha256": hashlib.sha256(data).hexdigest(),
            "content": base64.b64encode(data).decode(), "error": None}


class TestFileBytes:
    def test_round_trip_and_missing(self):
        assert files.file_bytes(entry(SERVICE_INI)) == SERVICE_INI
        assert files.file_bytes(entry(b"")) == b""
        assert files.file_bytes(entry(None)) is None

    def test_sha256_is_checked_case_insensitively(self):
        item = entry(SERVICE_INI)
        item["sha256"] = item["sha256"].upper()
        assert files.file_bytes(item) == SERVICE_INI

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"content": "not base64!"}, "not base64"),
            ({"content": None}, "has no base64 'content'"),
            ({"sha256": "0" * 64}, "does not have the SHA-256"),
            ({"sha256": "xyz"}, "not 64 hex characters"),
        ],
    )
    def test_inconsistent_entries_are_refused(self, change, message):
        item = dict(entry(SERVICE_INI), **change)
        with pytest.raises(ValueError, match=message):
            files.file_bytes(item)

    def test_not_a_dict(self):
        with pytest.raises(ValueError, match="not a dict"):
            files.file_bytes("Service.ini")


class TestEncodingName:
    @pytest.mark.parametrize(
        ("data", "name"),
        [
            (b"HTTPS=4343\r\n", "ansi"),
            (b"HTTPS_CERT=\xe9t\xe9\r\n", "ansi"),  # Latin-1 byte, not valid UTF-8
            ("HTTPS_CERT=été\r\n".encode(), "utf-8"),  # no BOM: still edited byte for byte
            (b"\xef\xbb\xbfHTTPS=4343\r\n", "utf-8-bom"),
            (b"\xff\xfe" + "HTTPS=4343\r\n".encode("utf-16-le"), "utf-16le"),
            ("HTTPS=4343\r\n".encode("utf-16-le"), "utf-16le"),
            (b"\xfe\xff" + "HTTPS=4343\r\n".encode("utf-16-be"), "utf-16be"),
        ],
    )
    def test_names(self, data, name):
        assert files.encoding_name(data) == name

    def test_names_map_to_the_codecs_the_planner_checks_values_with(self):
        from ansible_collections.apexone.certificates.plugins.plugin_utils import _planner

        for data, name in ((b"\xef\xbb\xbfa=b", "utf-8-bom"), ("a=b".encode("utf-16-le"), "utf-16le"),
                           (b"\xfe\xff\x00a", "utf-16be")):
            assert _planner._EDIT_CODECS[files.encoding_name(data)] == files.decode_file(data).codec == \
                {"utf-8-bom": "utf-8", "utf-16le": "utf-16-le", "utf-16be": "utf-16-be"}[name]
        assert "ansi" not in _planner._EDIT_CODECS and "utf-8" not in _planner._EDIT_CODECS


def server_info(**file_entries) -> dict:
    return {"install": {"path": "C:\\PCCSRV"}, "certificates": {"my": []}, "iis": {"sites": []}, **file_entries}


class TestEnrichServerInfo:
    def test_parsed_fields_of_every_file(self, server):
        from cryptography.hazmat.primitives.serialization import Encoding

        _key, cert = server
        ofcscan = b"[INI_SERVER_SECTION]\r\nMaster_DomainName=apex01.corp.example\r\nMaster_DomainPort=8080\r\n"
        facts = server_info(
            service_ini=entry(SERVICE_INI), apricot_config=entry(APRICOT, "C:\\PCCSRV\\SRS\\apricot_config.xml"),
            ofcipcer=entry(cert.public_bytes(Encoding.PEM).replace(b"\n", b"\r\n")), ofcscan_ini=entry(ofcscan),
        )
        facts["certificates"]["my"] = [{"thumbprint": _thumbprint(cert), "references": ["iis_binding"]}]
        out = files.enrich_server_info(facts)
        assert out["service_ini"] | {} == {
            **facts["service_ini"], "encoding": "ansi", "https": "4343", "https_cert": "apex01.corp.example",
            "https_cert_friendly_name": None, "error": None,
        }
        assert (out["apricot_config"]["cert_cn"], out["apricot_config"]["cert_friendly_name"]) == ("apex01.corp.example", None)
        assert out["apricot_config"]["path"].endswith("apricot_config.xml")
        assert out["ofcipcer"]["encoding"] == "pem" and out["ofcipcer"]["newline"] == "\r\n"
        assert out["ofcipcer"]["thumbprint"] == _thumbprint(cert)
        assert out["ofcipcer"]["certificate"]["subject_cn"] == "apex01.corp.example"
        assert out["ofcscan_ini"]["master_domain_name"] == "apex01.corp.example"
        assert out["ofcscan_ini"]["master_domain_port"] == "8080"
        assert out["certificates"]["my"][0]["references"] == ["iis_binding", "ofcipcer"]
        assert "https_cert" not in facts["service_ini"], "the input is not changed"
        assert files.enrich_server_info(out) == out, "enriching twice changes nothing"

    def test_missing_unreadable_and_bad_files(self):
        facts = server_info(
            service_ini=entry(None), apricot_config=dict(entry(APRICOT), sha256="0" * 64),
            ofcipcer=entry(b"hello"), ofcscan_ini=dict(entry(None), exists=True, error="Cannot read: locked"),
        )
        out = files.enrich_server_info(facts)
        assert out["service_ini"]["https_cert"] is None and out["service_ini"]["error"] is None
        assert "does not have the SHA-256" in out["apricot_config"]["error"] and out["apricot_config"]["cert_cn"] is None
        assert out["ofcipcer"]["encoding"] == "unknown" and out["ofcipcer"]["thumbprint"] is None
        assert "neither DER nor PEM" in out["ofcipcer"]["error"]
        assert out["ofcscan_ini"]["error"] == "Cannot read: locked" and out["ofcscan_ini"]["master_domain_name"] is None

    def test_facts_without_content_are_left_alone(self):
        old = server_info(service_ini={"path": "x", "exists": True, "https_cert": "a"})
        assert files.enrich_server_info(old)["service_ini"] == {"path": "x", "exists": True, "https_cert": "a"}
        assert files.enrich_server_info("nonsense") == "nonsense"


def _thumbprint(cert) -> str:
    from ansible_collections.apexone.certificates.plugins.module_utils import _x509

    return _x509.thumbprint(cert)


class TestOfcIPCerContent:
    """Step 4: the new certificate in the encoding of the existing file (APEXONE_FACTS.md: DER or PEM, [G])."""

    def test_der_file_stays_der(self, server):
        from cryptography.hazmat.primitives.serialization import Encoding

        _key, cert = server
        pem = cert.public_bytes(Encoding.PEM).decode()
        out, encoding = files.ofcipcer_content(pem, b"\x30\x82old")
        assert (out, encoding) == (cert.public_bytes(Encoding.DER), "der")

    @pytest.mark.parametrize("newline", [b"\r\n", b"\n"])
    def test_pem_file_stays_pem_with_its_line_endings(self, server, newline):
        from cryptography.hazmat.primitives.serialization import Encoding

        _key, cert = server
        current = b"-----BEGIN CERTIFICATE-----" + newline + b"AAAA" + newline + b"-----END CERTIFICATE-----" + newline
        out, encoding = files.ofcipcer_content(cert.public_bytes(Encoding.DER), current)
        assert encoding == "pem"
        expected = cert.public_bytes(Encoding.PEM).replace(b"\n", newline)
        assert out == expected, "64-character lines, BEGIN/END lines, one terminator after END, like OpenSSL"
        if newline == b"\n":
            assert b"\r" not in out

    @pytest.mark.parametrize("current", [None, b"", b"garbage"])
    def test_missing_empty_or_unknown_file_gets_der(self, server, current):
        from cryptography.hazmat.primitives.serialization import Encoding

        _key, cert = server
        assert files.ofcipcer_content(cert.public_bytes(Encoding.PEM), current) == (cert.public_bytes(Encoding.DER), "der")

    def test_only_the_leaf_is_written(self, server, lab_pki):
        from cryptography.hazmat.primitives.serialization import Encoding

        _key, cert = server
        chain = cert.public_bytes(Encoding.PEM) + lab_pki.intermediate.cert.public_bytes(Encoding.PEM)
        assert files.ofcipcer_content(chain, None)[0] == cert.public_bytes(Encoding.DER)

    @pytest.mark.parametrize("bad", [b"", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", b"hello"])
    def test_not_a_certificate(self, bad):
        with pytest.raises(ValueError):
            files.ofcipcer_content(bad, None)


class TestWriteArgsAndDiff:
    def test_write_args_carry_the_bytes_and_the_gathered_sha256(self):
        import base64
        import hashlib

        new = files.set_ini_values(SERVICE_INI, {"HTTPS_CERT": "b", "HTTPS_CERT_FRIENDLY_NAME": "c"})
        args = files.write_args(entry(SERVICE_INI), new)
        assert args == {"content": base64.b64encode(new).decode(), "expected_sha256": hashlib.sha256(SERVICE_INI).hexdigest()}
        assert files.write_args(entry(None), b"x")["expected_sha256"] is None

    def test_text_diff_shows_only_the_edited_lines_and_keeps_line_endings_visible(self):
        new = files.set_ini_values(SERVICE_INI, {"HTTPS_CERT": "apex02.corp.example", "HTTPS_CERT_FRIENDLY_NAME": "F"})
        diff = files.text_diff(SERVICE_INI, new, "Service.ini")
        changed = [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]
        assert changed == ["-HTTPS_CERT=apex01.corp.example\\r", "+HTTPS_CERT=apex02.corp.example\\r",
                           "+HTTPS_CERT_FRIENDLY_NAME=F\\r"]
        utf16 = b"\xff\xfe" + SERVICE_INI.decode().encode("utf-16-le")
        new16 = files.set_ini_values(utf16, {"HTTPS_CERT": "x", "HTTPS_CERT_FRIENDLY_NAME": "y"})
        assert "+HTTPS_CERT=x\\r" in files.text_diff(utf16, new16, "Service.ini").splitlines()


# --- the integration target expects exactly what the reference implementation produces -------------

INTEGRATION_DEFAULTS = os.path.join(REPO, "tests", "integration", "targets", "win_cert_persistence", "defaults", "main.yml")


def test_integration_expectations_match_the_reference():
    import base64

    import yaml

    with open(INTEGRATION_DEFAULTS, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    ini = data["service_ini"].encode("ascii")
    apricot = data["apricot_config"].encode("ascii")
    values = {"HTTPS_CERT": data["new_name"], "HTTPS_CERT_FRIENDLY_NAME": data["new_friendly_name"]}
    utf16 = b"\xff\xfe" + data["service_ini"].encode("utf-16-le")
    assert base64.b64encode(ini).decode() == data["service_ini_b64"]
    assert base64.b64encode(apricot).decode() == data["apricot_config_b64"]
    assert base64.b64encode(files.set_ini_values(ini, values)).decode() == data["service_ini_new_b64"]
    new_apricot = files.set_apricot_cert(apricot, data["new_name"], data["new_friendly_name"])
    assert base64.b64encode(new_apricot).decode() == data["apricot_config_new_b64"]
    assert base64.b64encode(utf16).decode() == data["service_utf16_b64"]
    assert base64.b64encode(files.set_ini_values(utf16, values)).decode() == data["service_utf16_new_b64"]
    for key in ("service_ini", "service_ini_new", "apricot_config", "apricot_config_new", "service_utf16", "service_utf16_new"):
        assert files.sha256_hex(base64.b64decode(data[f"{key}_b64"])) == data[f"{key}_sha256"], key
