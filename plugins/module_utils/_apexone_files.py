# Copyright: (c) 2025, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Apex One files on the controller: read the raw bytes win_server_info gathers, compute the new bytes.

Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
Do not use this from other collections or standalone plugins/modules!

PowerShell transforms nothing: ``win_server_info`` returns each file as ``{path, exists, sha256, content}``
(``content`` is the base64 of the raw bytes, ``sha256`` the lower-case hex SHA-256 of them), and the writers
(``win_agent_cert``, ``win_cert_persistence``) take new bytes with the SHA-256 of the file they replace
(compare-and-swap). Everything in between happens here, in pure Python:

- :func:`enrich_server_info` adds the parsed fields (``https_cert``, ``cert_cn``, OfcIPCer.dat thumbprint and
  encoding, ``Master_DomainName``...) to a copy of the gathered facts; the planner calls it first.
- :func:`set_ini_values`, :func:`set_apricot_cert` and :func:`ofcipcer_content` compute the new bytes of step 7
  and step 4, and :func:`write_args` the writer options for them.

Files:
- ``PCCSRV\\WSS\\Service.ini``: ``key=value`` lines; the section header is not publicly known, so keys
  are found wherever they are and edited in place (:func:`set_ini_values`).
- ``PCCSRV\\SRS\\apricot_config`` (or ``apricot_config.xml``, see :data:`APRICOT_NAMES`): XML; only the
  ``<cert_cn>`` and ``<cert_friendly_name>`` elements are edited textually, the rest is kept byte for byte
  (:func:`set_apricot_cert`).
- ``PCCSRV\\Pccnt\\Common\\OfcIPCer.dat``: the public certificate, DER or PEM (:func:`ofcipcer_encoding`,
  :func:`ofcipcer_content`).
- ``PCCSRV\\ofcscan.ini``: read only (``Master_DomainName``, ``Master_DomainPort``).

Encodings: a UTF-8 BOM, UTF-16 LE/BE (with or without BOM) are decoded strictly and written back the
same way; any other file is handled byte-transparently as Latin-1 (so an unknown ANSI code page is
never re-encoded) and then only ASCII values may be written into it.
No function here returns different bytes unless a value really changes.
"""

from __future__ import annotations

import base64
import binascii
import copy
import difflib
import hashlib
import re
import typing as t

__all__ = [
    "APRICOT_NAMES",
    "FILE_KEYS",
    "encoding_name",
    "enrich_server_info",
    "file_bytes",
    "get_apricot_cert",
    "get_ini_values",
    "ofcipcer_content",
    "ofcipcer_encoding",
    "set_apricot_cert",
    "set_ini_values",
    "sha256_hex",
    "text_diff",
    "write_args",
]

# The four files win_server_info returns as raw bytes (contract: {path, exists, sha256, content}).
FILE_KEYS = ("service_ini", "apricot_config", "ofcipcer", "ofcscan_ini")
# One rule for reader and writer: win_server_info (Get-ApexOneApricotConfigPath in _ApexOneCommon.psm1, the only
# place that picks the name) takes the first of these that exists under PCCSRV, and reports its path;
# win_cert_persistence writes to the path the same function finds, so both always name the same file.
# KA-0004491 names SRS\\apricot_config; apricot_config.xml is what some copies of the KB call it.
APRICOT_NAMES = ("SRS\\apricot_config", "SRS\\apricot_config.xml")

# One line: its content and its terminator (CRLF, CR or LF); the last line may have no terminator.
LINE_RE = r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+"
# The first line terminator of a file (used for new lines when the neighbour line has none).
NEWLINE_RE = r"\r\n|\r|\n"
# A key line of an ini file, applied to the line content: {key} is the case-insensitive key pattern.
# Groups: 1 everything up to the value (indent, key, '=', blanks), 2 the value, 3 trailing blanks.
INI_LINE_TEMPLATE = r"^([ \t]*{key}[ \t]*=[ \t]*)(.*?)([ \t]*)$"
# A section header line of an ini file (line content).
INI_SECTION_RE = r"^[ \t]*\[[^\]]*\][ \t]*$"
# Keys this module may write: letters, digits and underscores only.
INI_KEY_RE = r"^[A-Za-z0-9_]+$"
# The two apricot_config elements. Group 1 is the text of <x>text</x>; a match without group 1 is <x/>.
APRICOT_CN_RE = r"<cert_cn[ \t\r\n]*>([^<]*)</cert_cn[ \t\r\n]*>|<cert_cn[ \t\r\n]*/>"
APRICOT_FN_RE = r"<cert_friendly_name[ \t\r\n]*>([^<]*)</cert_friendly_name[ \t\r\n]*>|<cert_friendly_name[ \t\r\n]*/>"
# Characters no value may contain: C0 and C1 controls (CR, LF, TAB, NUL...), U+2028 and U+2029.
FORBIDDEN_RE = r"[\x00-\x1f\x7f-\x9f\u2028\u2029]"
# Leading or trailing blanks (ini readers trim them, so such a value could not be read back).
EDGE_BLANK_RE = r"^[ \t]|[ \t]$"
# Anything that is not 7-bit ASCII (refused for files whose code page is unknown).
NON_ASCII_RE = r"[^\x00-\x7f]"

_BOM_UTF8 = b"\xef\xbb\xbf"
_BOM_UTF16LE = b"\xff\xfe"
_BOM_UTF16BE = b"\xfe\xff"


class TextFile(t.NamedTuple):
    text: str
    codec: str  # 'utf-8', 'utf-16-le', 'utf-16-be' or 'latin-1'
    bom: bytes


def decode_file(data: bytes) -> TextFile:
    """Decode file bytes, remembering the encoding and the byte order mark.

    Raises ValueError when the bytes are not valid in the detected encoding.
    """
    if data.startswith(_BOM_UTF8):
        codec, bom = "utf-8", _BOM_UTF8
    elif data.startswith(_BOM_UTF16LE):
        codec, bom = "utf-16-le", _BOM_UTF16LE
    elif data.startswith(_BOM_UTF16BE):
        codec, bom = "utf-16-be", _BOM_UTF16BE
    elif b"\x00" in data:
        # UTF-16 without a byte order mark: ASCII text has a NUL in every other byte.
        if len(data) >= 2 and data[0] != 0 and data[1] == 0:
            codec, bom = "utf-16-le", b""
        elif len(data) >= 2 and data[0] == 0 and data[1] != 0:
            codec, bom = "utf-16-be", b""
        else:
            raise ValueError("the file contains NUL bytes but is not UTF-16 text")
    else:
        codec, bom = "latin-1", b""
    try:
        text = data[len(bom):].decode(codec, "strict")
    except UnicodeDecodeError as exc:
        raise ValueError(f"the file is not valid {codec.upper()} text: {exc.reason}") from exc
    return TextFile(text, codec, bom)


def encode_file(text: str, codec: str, bom: bytes) -> bytes:
    """Encode text the way :func:`decode_file` found it."""
    try:
        return bom + text.encode(codec, "strict")
    except UnicodeEncodeError as exc:
        raise ValueError(f"the new content cannot be written as {codec.upper()}: {exc.reason}") from exc


def check_value(name: str, value: object, codec: str) -> str:
    """Refuse a value that would corrupt the file or could not be read back unchanged."""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    if value == "":
        raise ValueError(f"{name} must not be empty")
    if re.search(FORBIDDEN_RE, value):
        raise ValueError(f"{name} must not contain line breaks or other control characters")
    if re.search(EDGE_BLANK_RE, value):
        raise ValueError(f"{name} must not start or end with white space")
    if codec == "latin-1" and re.search(NON_ASCII_RE, value):
        raise ValueError(
            f"{name} contains non-ASCII characters and the file has no byte order mark, so its code page is unknown"
        )
    return value


def key_pattern(key: str) -> str:
    """Case-insensitive pattern for an ini key, spelled with character classes: 'Ab_1' -> '[Aa][Bb]_1'."""
    if not re.match(INI_KEY_RE, key) or re.search(FORBIDDEN_RE, key):
        raise ValueError(f"invalid ini key '{key}': only letters, digits and underscores are allowed")
    parts = []
    for char in key:
        if char.isalpha():
            parts.append("[" + char.upper() + char.lower() + "]")
        else:
            parts.append(char)
    return "".join(parts)


def split_lines(text: str) -> list[str]:
    """Split text into lines that keep their terminators, so that ''.join(lines) == text."""
    return re.findall(LINE_RE, text)


def line_content(line: str) -> str:
    """The line without its terminator."""
    return line.rstrip("\r\n")


def first_newline(text: str) -> str:
    """The first line terminator of the text, or CRLF (Windows) when it has none."""
    match = re.search(NEWLINE_RE, text)
    if match:
        return match.group(0)
    return "\r\n"


def find_key_line(lines: list[str], key: str) -> int:
    """Index of the first line that sets key, or -1."""
    pattern = INI_LINE_TEMPLATE.replace("{key}", key_pattern(key))
    for index, line in enumerate(lines):
        if re.match(pattern, line_content(line)):
            return index
    return -1


def get_ini_values(data: bytes, keys: t.Iterable[str]) -> dict[str, str | None]:
    """The value of the first line of each key (None when missing), blanks around it removed."""
    lines = split_lines(decode_file(data).text)
    result: dict[str, str | None] = {}
    for key in keys:
        pattern = INI_LINE_TEMPLATE.replace("{key}", key_pattern(key))
        result[key] = None
        for line in lines:
            match = re.match(pattern, line_content(line))
            if match:
                result[key] = match.group(2)
                break
    return result


def set_ini_values(data: bytes, values: t.Mapping[str, str]) -> bytes:
    """Set ``key=value`` lines of an ini file, keeping every other byte.

    Every line that sets a key gets the new value (indent, blanks around '=' and after the value
    are kept). A missing key is inserted right after the first line of the key before it in
    ``values`` (so HTTPS_CERT_FRIENDLY_NAME lands under HTTPS_CERT, in the same section); a missing
    first key is appended at the end of the file only when the file has at most one section,
    otherwise ValueError, because the right section is unknown. Line endings, encoding and byte
    order mark are kept. Returns ``data`` itself when nothing changes.
    """
    decoded = decode_file(data)
    for key, value in values.items():
        key_pattern(key)
        check_value(key, value, decoded.codec)
    text = decoded.text
    lines = split_lines(text)
    previous = None
    for key, value in values.items():
        pattern = INI_LINE_TEMPLATE.replace("{key}", key_pattern(key))
        found = False
        for index, line in enumerate(lines):
            content = line_content(line)
            match = re.match(pattern, content)
            if match:
                found = True
                lines[index] = match.group(1) + value + match.group(3) + line[len(content):]
        if not found:
            new_line = key + "=" + value
            if previous is not None:
                anchor = find_key_line(lines, previous)
            else:
                sections = [line for line in lines if re.match(INI_SECTION_RE, line_content(line))]
                if len(sections) > 1:
                    raise ValueError(
                        f"{key} is not in the file and the file has {len(sections)} sections; "
                        "refusing to guess which section it belongs to"
                    )
                anchor = len(lines) - 1
            if anchor < 0:
                # the file is empty
                lines.append(new_line + first_newline(text))
            else:
                anchor_line = lines[anchor]
                terminator = anchor_line[len(line_content(anchor_line)):]
                if terminator == "":
                    # the anchor is the last line and has no terminator: keep the file unterminated
                    lines[anchor] = anchor_line + first_newline(text)
                    lines.insert(anchor + 1, new_line)
                else:
                    lines.insert(anchor + 1, new_line + terminator)
        previous = key
    new_text = "".join(lines)
    if new_text == text:
        return data
    return encode_file(new_text, decoded.codec, decoded.bom)


def xml_escape(value: str) -> str:
    """Escape text for an XML element: &, < and > (in this order)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def xml_unescape(value: str) -> str:
    """Undo :func:`xml_escape` (&amp; last, so '&amp;lt;' stays '&lt;')."""
    return value.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def line_start(text: str, position: int) -> int:
    """Index of the first character of the line that contains position."""
    index = position
    while index > 0 and text[index - 1] not in "\r\n":
        index -= 1
    return index


def line_end(text: str, position: int) -> int:
    """Index of the terminator (or the end of the text) of the line that contains position."""
    index = position
    while index < len(text) and text[index] not in "\r\n":
        index += 1
    return index


def terminator_at(text: str, position: int) -> str:
    """The line terminator that starts at position ('' at the end of the text)."""
    if text.startswith("\r\n", position):
        return "\r\n"
    if position < len(text):
        return text[position]
    return ""


def get_apricot_cert(data: bytes) -> dict[str, str | None]:
    """The text of the first <cert_cn> and <cert_friendly_name> elements (None when missing, '' when empty)."""
    text = decode_file(data).text
    result: dict[str, str | None] = {}
    for name, pattern in (("cert_cn", APRICOT_CN_RE), ("cert_friendly_name", APRICOT_FN_RE)):
        match = re.search(pattern, text)
        if match is None:
            result[name] = None
        elif match.group(1) is None:
            result[name] = ""
        else:
            result[name] = xml_unescape(match.group(1))
    return result


def _set_element(text: str, match: re.Match, tag: str, escaped: str) -> str:
    """Give the matched element the escaped text; unchanged text when it already has it."""
    if match.group(1) is None:
        return text[:match.start()] + "<" + tag + ">" + escaped + "</" + tag + ">" + text[match.end():]
    if match.group(1) == escaped:
        return text
    return text[:match.start(1)] + escaped + text[match.end(1):]


def set_apricot_cert(data: bytes, cert_cn: str, friendly_name: str) -> bytes:
    """Set <cert_cn> and <cert_friendly_name> in apricot_config, keeping every other byte.

    ``<cert_cn>`` must appear exactly once. ``<cert_friendly_name>`` is updated when present
    (exactly once), otherwise added right under ``<cert_cn>``: on its own line with the same indent
    when ``<cert_cn>`` ends its line, else directly after it. Values are XML-escaped (&, <, >); values
    with control characters or line breaks are refused. Returns ``data`` itself when nothing changes.
    """
    decoded = decode_file(data)
    check_value("cert_cn", cert_cn, decoded.codec)
    check_value("friendly_name", friendly_name, decoded.codec)
    text = decoded.text
    cn_matches = list(re.finditer(APRICOT_CN_RE, text))
    if len(cn_matches) != 1:
        raise ValueError(f"expected exactly one <cert_cn> element, found {len(cn_matches)}")
    new_text = _set_element(text, cn_matches[0], "cert_cn", xml_escape(cert_cn))

    fn_matches = list(re.finditer(APRICOT_FN_RE, new_text))
    escaped_fn = xml_escape(friendly_name)
    if len(fn_matches) > 1:
        raise ValueError(f"expected at most one <cert_friendly_name> element, found {len(fn_matches)}")
    if len(fn_matches) == 1:
        new_text = _set_element(new_text, fn_matches[0], "cert_friendly_name", escaped_fn)
    else:
        cn_match = re.search(APRICOT_CN_RE, new_text)
        if cn_match is None:  # cannot happen: it was set a moment ago
            raise ValueError("the <cert_cn> element disappeared while editing")
        element = "<cert_friendly_name>" + escaped_fn + "</cert_friendly_name>"
        end = cn_match.end()
        stop = line_end(new_text, end)
        rest = new_text[end:stop]
        if rest.strip(" \t") == "":
            start = line_start(new_text, cn_match.start())
            indent_end = start
            while indent_end < len(new_text) and new_text[indent_end] in " \t":
                indent_end += 1
            indent = new_text[start:indent_end]
            terminator = terminator_at(new_text, stop)
            if terminator == "":
                insert = first_newline(new_text) + indent + element
                new_text = new_text[:stop] + insert
            else:
                after = stop + len(terminator)
                new_text = new_text[:after] + indent + element + terminator + new_text[after:]
        else:
            new_text = new_text[:end] + element + new_text[end:]
    if new_text == text:
        return data
    return encode_file(new_text, decoded.codec, decoded.bom)


def ofcipcer_encoding(data: bytes) -> str:
    """How OfcIPCer.dat is encoded: 'der' (first byte 0x30, an ASN.1 SEQUENCE), 'pem' (text that
    starts with '-----BEGIN' after an optional UTF-8 BOM and blanks) or 'unknown' (also for an empty file).

    """
    if len(data) == 0:
        return "unknown"
    if data[0] == 0x30:
        return "der"
    head = data
    if head.startswith(_BOM_UTF8):
        head = head[len(_BOM_UTF8):]
    head = head.lstrip(b" \t\r\n")
    if head.startswith(b"-----BEGIN"):
        return "pem"
    return "unknown"


# --- raw bytes as win_server_info gathers them --------------------------------------------------------------

_SHA256_RE = r"^[0-9a-fA-F]{64}$"


def sha256_hex(data: bytes) -> str:
    """The lower-case hex SHA-256 of the bytes (the form win_server_info returns and the writers compare)."""
    return hashlib.sha256(data).hexdigest()


def file_bytes(entry: t.Any, what: str = "the file") -> bytes | None:
    """The raw bytes of one file entry of win_server_info (``{path, exists, sha256, content}``), None when missing.

    Raises ValueError when the entry is not in that shape, the content is not base64, or the bytes do not have the
    SHA-256 the entry states (facts that were edited or cut on the way).
    """
    if not isinstance(entry, dict):
        raise ValueError(f"{what} is not a dict with path, exists, sha256 and content")
    if not entry.get("exists"):
        return None
    content = entry.get("content")
    if not isinstance(content, str) and entry.get("error"):
        raise ValueError(f"the server could not read it: {entry['error']}")
    if not isinstance(content, str):
        raise ValueError(f"{what} exists but has no base64 'content': gather it with win_server_info of this collection")
    try:
        data = base64.b64decode(content.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise ValueError(f"the content of {what} is not base64 ({exc})") from exc
    stated = entry.get("sha256")
    if stated is not None and (not isinstance(stated, str) or not re.match(_SHA256_RE, stated)):
        raise ValueError(f"the sha256 of {what} is not 64 hex characters: {str(stated)[:80]!r}")
    if stated is not None and stated.lower() != sha256_hex(data):
        raise ValueError(f"the content of {what} does not have the SHA-256 win_server_info reported; gather the facts again")
    return data


def encoding_name(data: bytes | None) -> str | None:
    """How a text file is encoded: 'utf-8-bom', 'utf-16le', 'utf-16be' (decoded as Unicode), 'ansi' or 'utf-8'.

    A file without a byte order mark is edited byte for byte (Latin-1) and takes ASCII values only: 'utf-8' says its
    bytes are also valid UTF-8 with non-ASCII characters, 'ansi' anything else. Raises ValueError for bytes that are
    not valid in the detected encoding.
    """
    if data is None:
        return None
    codec = decode_file(data).codec
    names = {"utf-8": "utf-8-bom", "utf-16-le": "utf-16le", "utf-16-be": "utf-16be"}
    if codec in names:
        return names[codec]
    if not re.search(NON_ASCII_RE, data.decode("latin-1")):
        return "ansi"
    try:
        data.decode("utf-8", "strict")
    except UnicodeDecodeError:
        return "ansi"
    return "utf-8"


def _pem_newline(data: bytes) -> str:
    return "\r\n" if b"\r\n" in data else "\n"


def _ofcipcer_fields(data: bytes | None) -> dict[str, t.Any]:
    """size, encoding, newline, thumbprint, certificate and error of OfcIPCer.dat."""
    fields: dict[str, t.Any] = {"size": None, "encoding": None, "newline": None, "thumbprint": None,
                                "certificate": None}
    if data is None:
        return fields
    fields["size"] = len(data)
    encoding = "empty" if not data else ofcipcer_encoding(data)
    fields["encoding"] = encoding
    if encoding == "pem":
        fields["newline"] = _pem_newline(data)
    if encoding not in ("der", "pem"):
        fields["error"] = f"OfcIPCer.dat is neither DER nor PEM encoded ({encoding})"
        return fields
    from ansible_collections.apexone.certificates.plugins.module_utils import _x509

    try:
        cert = _x509.load_certificates(data, "OfcIPCer.dat")[0]
    except _x509.CertificateError as exc:
        fields["error"] = f"OfcIPCer.dat is not a readable X.509 certificate: {exc}"
        return fields
    info = _x509.describe_certificate(cert)
    fields["thumbprint"] = info["thumbprint"]
    fields["certificate"] = {
        key: info[key] for key in ("thumbprint", "subject", "subject_cn", "issuer", "serial_number", "not_before",
                                   "not_after", "key_type", "key_size", "self_signed")
    }
    fields["certificate"]["dns_names"] = info["san_dns"]
    return fields


def _parsed(key: str, data: bytes | None) -> dict[str, t.Any]:
    """The fields the controller reads from one file (None values when the file is missing)."""
    if key == "ofcipcer":
        return _ofcipcer_fields(data)
    if key == "service_ini":
        values = get_ini_values(data, ("HTTPS", "HTTPS_CERT", "HTTPS_CERT_FRIENDLY_NAME")) if data is not None else {}
        return {"encoding": encoding_name(data), "https": values.get("HTTPS"), "https_cert": values.get("HTTPS_CERT"),
                "https_cert_friendly_name": values.get("HTTPS_CERT_FRIENDLY_NAME")}
    if key == "apricot_config":
        values = get_apricot_cert(data) if data is not None else {}
        return {"encoding": encoding_name(data), "cert_cn": values.get("cert_cn"),
                "cert_friendly_name": values.get("cert_friendly_name")}
    values = get_ini_values(data, ("Master_DomainName", "Master_DomainPort")) if data is not None else {}
    return {"encoding": encoding_name(data), "master_domain_name": values.get("Master_DomainName"),
            "master_domain_port": values.get("Master_DomainPort")}


_EMPTY = {
    "ofcipcer": _ofcipcer_fields(None),
    "service_ini": {"encoding": None, "https": None, "https_cert": None, "https_cert_friendly_name": None},
    "apricot_config": {"encoding": None, "cert_cn": None, "cert_friendly_name": None},
    "ofcscan_ini": {"encoding": None, "master_domain_name": None, "master_domain_port": None},
}


def enrich_server_info(facts: t.Any) -> t.Any:
    """A copy of win_server_info's result with the parsed fields of the four files added to each file entry.

    ``service_ini`` gets ``encoding``, ``https``, ``https_cert``, ``https_cert_friendly_name``; ``apricot_config``
    ``encoding``, ``cert_cn``, ``cert_friendly_name``; ``ofcipcer`` ``size``, ``encoding`` (der, pem, empty,
    unknown), ``newline``, ``thumbprint``, ``certificate``; ``ofcscan_ini`` ``encoding``, ``master_domain_name``,
    ``master_domain_port``. Every entry gets ``error`` (why the bytes could not be used, else None); its parsed fields
    are then None. Certificates whose thumbprint is the one in OfcIPCer.dat get the reference ``ofcipcer``.
    An entry without ``content`` (facts of an older win_server_info) is left as it is. Anything that is not a dict
    is returned unchanged (the planner reports it).
    """
    if not isinstance(facts, dict):
        return facts
    out = copy.deepcopy(facts)
    for key in FILE_KEYS:
        entry = out.get(key)
        if not isinstance(entry, dict) or ("content" not in entry and entry.get("exists")):
            continue
        fields = dict(_EMPTY[key])
        error = entry.get("error")  # the server could not read the file
        if error is None:
            try:
                fields.update(_parsed(key, file_bytes(entry, key)))
            except ValueError as exc:
                error = f"{entry.get('path') or key}: {exc}"
        if error is None:
            error = fields.get("error")
        fields["error"] = error
        entry.update(fields)
    thumbprint = (out.get("ofcipcer") or {}).get("thumbprint") if isinstance(out.get("ofcipcer"), dict) else None
    certificates = out.get("certificates")
    if thumbprint and isinstance(certificates, dict):
        for store in certificates.values():
            for cert in store if isinstance(store, list) else []:
                if isinstance(cert, dict) and str(cert.get("thumbprint") or "").upper() == thumbprint:
                    refs = cert.setdefault("references", [])
                    if isinstance(refs, list) and "ofcipcer" not in refs:
                        refs.append("ofcipcer")
    return out


# --- new bytes --------------------------------------------------------------------------------------------


def ofcipcer_content(certificate: t.Any, current: bytes | None) -> tuple[bytes, str]:
    """The new OfcIPCer.dat bytes for a certificate (PEM text or DER bytes), in the encoding of the current file.

    DER when the current file is DER, missing, empty or neither DER nor PEM (the Windows export default); PEM
    (64-character lines, ``-----BEGIN CERTIFICATE-----``) with the line ending of the current PEM file. Only the
    first certificate is written, never a key. Returns ``(bytes, encoding)``; raises ValueError for input that is
    not a certificate.
    """
    from cryptography.hazmat.primitives import serialization

    from ansible_collections.apexone.certificates.plugins.module_utils import _x509

    try:
        cert = _x509.load_certificates(certificate, "new certificate")[0]
    except _x509.CertificateError as exc:
        raise ValueError(str(exc)) from exc
    der = cert.public_bytes(serialization.Encoding.DER)
    if current and ofcipcer_encoding(current) == "pem":
        body = base64.b64encode(der).decode("ascii")
        newline = _pem_newline(current)
        lines = ["-----BEGIN CERTIFICATE-----"] + [body[i:i + 64] for i in range(0, len(body), 64)]
        lines.append("-----END CERTIFICATE-----")
        return (newline.join(lines) + newline).encode("ascii"), "pem"
    return der, "der"


def write_args(entry: dict, new: bytes) -> dict[str, t.Any]:
    """The writer options for new bytes of a gathered file: the bytes and the SHA-256 of the file they replace.

    ``expected_sha256`` is None for a file that did not exist (the writer then requires that it still does not).
    """
    current = file_bytes(entry)
    return {
        "content": base64.b64encode(new).decode("ascii"),
        "expected_sha256": sha256_hex(current) if current is not None else None,
    }


def text_diff(before: bytes | None, after: bytes, path: str) -> str:
    """A unified diff of two versions of a text file, for ``--diff`` and the plan (line endings shown as they are).

    The PowerShell writers only compare and report SHA-256 values; this is where a person sees what changes.
    """
    def lines(data: bytes | None) -> list[str]:
        if data is None:
            return []
        text = decode_file(data).text
        return [line.replace("\r", "\\r") for line in split_lines(text)]

    diff = difflib.unified_diff(lines(before), lines(after), fromfile=f"{path} (now)", tofile=f"{path} (planned)",
                                lineterm="\n")
    return "".join(line if line.endswith("\n") else line + "\n" for line in diff)
