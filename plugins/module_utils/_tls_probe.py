# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Probe TLS endpoints from the controller: read the served certificate chain and judge it.

Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
Do not use it from outside the collection.

Used by the ``tls_probe`` module. Pure Python (``ssl``, ``socket``, threads) plus ``_x509`` for the verdict;
no Ansible imports, so it is unit-tested directly.

How the chain is read: the handshake is Python's ``ssl`` (OpenSSL) with verification switched off (the probe
reads whatever the server sends and judges it afterwards with ``check_webhost_certificate``). The served chain
comes from ``SSLSocket.get_unverified_chain()`` (public since Python 3.13) or, on Python 3.10 to 3.12, from the
same OpenSSL call behind the private ``SSLSocket._sslobj.get_unverified_chain()``. When neither exists, only the
leaf (``getpeercert(binary_form=True)``) is available: ``chain_source`` is then ``leaf_only`` and no chain verdict
is given (problem ``chain_not_available``).

Timeouts: one deadline per endpoint covers the TCP connect and the whole TLS handshake (the handshake runs on a
non-blocking socket, waiting with ``poll`` for at most the time left), so a port that accepts and never answers,
or answers one byte at a time, ends at the deadline. Name resolution uses the system resolver and its timeout.
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import re
import select
import socket
import ssl
import time
import typing as t
import warnings

from ansible_collections.apexone.certificates.plugins.module_utils._x509 import (
    SEVERITY_ERROR,
    SEVERITY_WARNING,
    CertificateError,
    _is_ip,
    check_webhost_certificate,
    describe_certificate,
    ensure_parsable,
    load_certificates,
    normalize_hostname,
)

try:
    from cryptography import x509

    HAS_CRYPTOGRAPHY = True
except ImportError:  # reported by the module with missing_required_lib
    HAS_CRYPTOGRAPHY = False

DEFAULT_PORTS = (4343, 443)
MAX_CONCURRENCY = 1000
LEGACY_TLS_VERSIONS = ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1")
# Problem codes the probe adds to those of check_webhost_certificate.
PROBE_PROBLEM_CODES = ("tls_legacy_version", "chain_not_available", "unexpected_address")
# Codes of the chain verdict and of the name verdict (browsers and agents match the SAN).
CHAIN_CODES = ("chain_incomplete", "chain_untrusted")
NAME_CODES = ("hostname_not_in_san",)
# Error codes of an endpoint that gave no certificate (stable, documented in the module).
ERROR_CODES = ("invalid", "dns", "refused", "timeout", "unreachable", "closed", "not_tls", "tls_error",
               "bad_certificate", "internal")
# OpenSSL reasons for "the peer does not speak TLS" (plain HTTP and the like).
_NOT_TLS_REASONS = ("WRONG_VERSION_NUMBER", "PACKET_LENGTH_TOO_LONG", "RECORD_LAYER_FAILURE", "HTTP_REQUEST",
                    "HTTPS_PROXY_REQUEST", "UNKNOWN_PROTOCOL", "RECORD_TOO_LARGE", "BAD_PACKET_LENGTH")
_OP_LEGACY_SERVER_CONNECT = getattr(ssl, "OP_LEGACY_SERVER_CONNECT", 0x4)
_ENCODING_DER = getattr(getattr(ssl, "_ssl", None), "ENCODING_DER", 2)
_BRACKETED_RE = re.compile(r"^\[(?P<host>[^\]]+)\](?::(?P<port>[^:]*))?$")


class EndpointError(ValueError):
    """An endpoint given to the probe is malformed (the module reports it as a bad argument)."""


class _Deadline(Exception):
    """The endpoint's deadline passed (internal)."""

    def __init__(self, phase: str):
        super().__init__(phase)
        self.phase = phase


# ---------------------------------------------------------------------------------------------------------
# Endpoints


def _port(value: t.Any, where: str) -> int:
    if isinstance(value, bool):
        raise EndpointError(f"{where}: the port must be a number from 1 to 65535, not {value!r}")
    try:
        port = int(str(value).strip())
    except (TypeError, ValueError):
        raise EndpointError(f"{where}: the port must be a number from 1 to 65535, not {value!r}") from None
    if not 1 <= port <= 65535:
        raise EndpointError(f"{where}: the port must be a number from 1 to 65535, not {port}")
    return port


def _split_host_port(text: str, where: str) -> tuple[str, int | None]:
    """``host``, ``host:port``, ``[v6]``, ``[v6]:port`` or a bare IPv6 address."""
    text = text.strip()
    match = _BRACKETED_RE.match(text)
    if match:
        host = match.group("host")
        port_text = match.group("port")
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            raise EndpointError(f"{where}: '[{host}]' is not an IPv6 address") from None
        if port_text is None:
            return host, None
        return host, _port(port_text, where)
    if text.count(":") > 1:
        try:
            ipaddress.IPv6Address(text.split("%", 1)[0])
        except ValueError:
            raise EndpointError(
                f"{where}: '{text}' is neither host:port nor an IPv6 address (write IPv6 with a port as [addr]:port)"
            ) from None
        return text, None
    host, sep, port_text = text.partition(":")
    if sep:
        return host.strip(), _port(port_text, where)
    return host.strip(), None


def _display(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_endpoints(items: t.Any, default_ports: t.Sequence[int] = DEFAULT_PORTS,
                    invalid: str = "fail") -> list[dict[str, t.Any]]:
    """Expand the ``endpoints`` option into probe targets, in order.

    Each item is ``host:port``, ``[v6]:port``, ``host`` (probed on every default port) or a dict with ``host``,
    ``port``, ``server_name`` (SNI and the name the certificate is checked against; default the host) and
    ``label`` (returned unchanged, for example the inventory host name). With ``invalid="fail"`` a malformed item
    raises EndpointError listing every bad item; with ``invalid="report"`` it becomes a target carrying its
    ``invalid`` message, which the probe returns as an error entry (error code ``invalid``).
    """
    if not isinstance(items, (list, tuple)):
        raise EndpointError(f"endpoints must be a list, not {type(items).__name__}")
    ports = [_port(p, "default_ports") for p in default_ports]
    if not ports:
        raise EndpointError("default_ports must hold at least one port")
    targets: list[dict[str, t.Any]] = []
    errors: list[str] = []
    for index, item in enumerate(items, start=1):
        where = f"endpoint {index}"
        try:
            targets.extend(_parse_one(item, where, ports))
        except EndpointError as exc:
            errors.append(str(exc))
            targets.append(_invalid_target(item, str(exc).removeprefix(f"{where}: ")))
    if errors and invalid != "report":
        raise EndpointError("; ".join(errors))
    return targets


def _invalid_target(item: t.Any, message: str) -> dict[str, t.Any]:
    label = item.get("label") if isinstance(item, dict) else None
    shown = item.get("host") if isinstance(item, dict) else item
    return {
        "endpoint": str(shown)[:200],
        "host": None,
        "port": None,
        "server_name": None,
        "label": None if label is None else str(label),
        "invalid": f"invalid endpoint: {message}",
    }


def _parse_one(item: t.Any, where: str, default_ports: list[int]) -> list[dict[str, t.Any]]:
    label = None
    server_name = None
    expected = None
    if isinstance(item, dict):
        unknown = sorted(set(item) - {"host", "port", "server_name", "label", "expected_addresses"})
        if unknown:
            raise EndpointError(f"{where}: unknown key(s) {', '.join(unknown)} (use host, port, server_name, label, "
                                "expected_addresses)")
        expected = item.get("expected_addresses")
        if expected is not None and (not isinstance(expected, (list, tuple))
                                     or not all(isinstance(a, str) and a.strip() for a in expected)):
            raise EndpointError(f"{where}: expected_addresses must be a list of IP addresses or host names")
        raw_host = item.get("host")
        if not isinstance(raw_host, str) or not raw_host.strip():
            raise EndpointError(f"{where}: 'host' is required and must be a non-empty string")
        host, port = _split_host_port(raw_host, where)
        if item.get("port") not in (None, ""):
            if port is not None:
                raise EndpointError(f"{where}: the port is given twice (in host and in port)")
            port = _port(item["port"], where)
        server_name = item.get("server_name")
        if server_name is not None and not isinstance(server_name, str):
            raise EndpointError(f"{where}: server_name must be a string")
        label = item.get("label")
        if label is not None:
            label = str(label)
    elif isinstance(item, str):
        host, port = _split_host_port(item, where)
    else:
        raise EndpointError(f"{where}: expected 'host:port' or a dict with host/port, not {type(item).__name__}")
    if not host:
        raise EndpointError(f"{where}: the host is empty")
    name = (server_name or "").strip() or host
    try:
        check_name = normalize_hostname(name)
    except CertificateError as exc:
        raise EndpointError(f"{where}: {exc}") from None
    return [
        {
            "endpoint": _display(host, p),
            "host": host,
            "port": p,
            "server_name": check_name,
            "label": label,
            "expected_addresses": [a.strip() for a in expected] if expected else None,
        }
        for p in ([port] if port is not None else default_ports)
    ]


# ---------------------------------------------------------------------------------------------------------
# TLS


def client_context() -> ssl.SSLContext:
    """A client context that talks to anything an Apex One server may run, and verifies nothing.

    Verification happens afterwards, on the certificates the server sent. Old protocol versions and weak keys
    are allowed so that a legacy server still shows its certificate (and gets a tls_legacy_version warning).
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0/1.1 are deprecated, which is why we look
        try:
            context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        except (ValueError, ssl.SSLError):  # pragma: no cover - a build without the setting
            pass
    try:
        context.set_ciphers("ALL:!aNULL:!eNULL:@SECLEVEL=0")
    except ssl.SSLError:  # pragma: no cover - OpenSSL builds without security levels (LibreSSL)
        pass
    context.options |= _OP_LEGACY_SERVER_CONNECT
    return context


def _wait(sock: socket.socket, for_write: bool, deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _Deadline("handshake")
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLOUT if for_write else select.POLLIN)
        ready = poller.poll(max(1, int(remaining * 1000)))
    else:  # pragma: no cover - controllers are POSIX; select() is limited to fd < FD_SETSIZE
        readable, writable, _errors = select.select([] if for_write else [sock], [sock] if for_write else [], [], remaining)
        ready = readable or writable
    if not ready:
        raise _Deadline("handshake")


def _connect(host: str, port: int, deadline: float) -> socket.socket:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    last: OSError | None = None
    for family, kind, proto, _name, address in infos:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Deadline("connect")
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(remaining)
            sock.connect(address)
            return sock
        except TimeoutError:
            sock.close()
            raise _Deadline("connect") from None
        except OSError as exc:
            sock.close()
            last = exc
    if last is not None:
        raise last
    raise OSError(f"no address found for {host}")  # pragma: no cover - getaddrinfo raises instead


def _handshake(tls: ssl.SSLSocket, deadline: float) -> None:
    tls.setblocking(False)
    while True:
        try:
            tls.do_handshake()
            return
        except ssl.SSLWantReadError:
            _wait(tls, False, deadline)
        except ssl.SSLWantWriteError:
            _wait(tls, True, deadline)


def _served_chain(tls: ssl.SSLSocket) -> tuple[list[bytes], str]:
    """The certificates the server sent (DER, leaf first) and where they came from: ``served`` or ``leaf_only``."""
    getter = getattr(tls, "get_unverified_chain", None)  # Python 3.13+
    if getter is None:
        getter = getattr(getattr(tls, "_sslobj", None), "get_unverified_chain", None)  # 3.10-3.12, private
    leaf = tls.getpeercert(binary_form=True)
    if getter is not None:
        try:
            served = getter() or []
        except (ssl.SSLError, ValueError, AttributeError):
            served = None
        if served is not None:
            ders = [item if isinstance(item, bytes) else item.public_bytes(_ENCODING_DER) for item in served]
            if leaf and (not ders or ders[0] != leaf):
                ders.insert(0, leaf)
            return ders, "served"
    return ([leaf] if leaf else []), "leaf_only"


def _classify(exc: BaseException, port: int, timeout: float) -> tuple[str, str]:
    """An error code and a sentence for a failed probe."""
    if isinstance(exc, _Deadline):
        if exc.phase == "connect":
            return "timeout", f"no TCP connection within {timeout:g} s (filtered port or host down)"
        return "timeout", f"the port accepted the connection but no TLS handshake completed within {timeout:g} s"
    if isinstance(exc, socket.gaierror):
        return "dns", f"the name does not resolve ({exc.strerror or exc})"
    if isinstance(exc, ConnectionRefusedError):
        return "refused", f"connection refused: nothing listens on port {port}"
    if isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionResetError, BrokenPipeError)):
        return "closed", "the server closed the connection during the TLS handshake (not TLS, or it refused the client)"
    if isinstance(exc, ssl.SSLError):
        reason = getattr(exc, "reason", None) or ""
        if reason.upper() in _NOT_TLS_REASONS:
            return "not_tls", f"the endpoint answered, but not with TLS (plain HTTP?): {reason}"
        return "tls_error", f"TLS handshake failed: {reason or exc}"
    if isinstance(exc, TimeoutError):
        return "timeout", f"timed out after {timeout:g} s"
    if isinstance(exc, OSError):
        return "unreachable", f"cannot connect: {exc.strerror or exc}"
    return "internal", f"unexpected error: {type(exc).__name__}: {str(exc)[:200]}"


def _empty_result(target: dict[str, t.Any]) -> dict[str, t.Any]:
    return {
        "endpoint": target["endpoint"],
        "host": target["host"],
        "port": target["port"],
        "server_name": target["server_name"],
        "label": target["label"],
        "ok": False,
        "error": None,
        "error_code": None,
        "thumbprint": None,
        "subject_cn": None,
        "issuer": None,
        "san_dns": [],
        "not_before": None,
        "not_after": None,
        "days_left": None,
        "tls_version": None,
        "cipher": None,
        "certificate_pem": None,
        "chain_pem": [],
        "chain_source": None,
        "chain_valid": None,
        "hostname_valid": None,
        "peer_address": None,
        "address_valid": None,
        "problems": [],
        "elapsed_ms": None,
    }


def resolve_addresses(names: t.Sequence[str]) -> set[str]:
    """Every IP address the names resolve to (an IP address stands for itself); unresolvable names add nothing."""
    out: set[str] = set()
    for name in names:
        try:
            for _family, _kind, _proto, _canon, address in socket.getaddrinfo(name, None, type=socket.SOCK_STREAM):
                out.add(str(ipaddress.ip_address(address[0].split("%", 1)[0])))
        except (OSError, ValueError, UnicodeError):
            continue
    return out


def _check_address(result: dict[str, t.Any], target: dict[str, t.Any]) -> None:
    """Whether the probe reached one of the addresses it was meant to (``expected_addresses``)."""
    expected = target.get("expected_addresses")
    if not expected or result["peer_address"] is None:
        return
    allowed = resolve_addresses(expected)
    result["address_valid"] = result["peer_address"] in allowed
    if not result["address_valid"]:
        result["problems"].append({
            "code": "unexpected_address",
            "severity": SEVERITY_ERROR,
            "message": (f"{result['endpoint']} was answered by {result['peer_address']}, which is not an address of "
                        f"{', '.join(expected)} ({', '.join(sorted(allowed)) or 'none resolved'}): the probe may have "
                        "reached another server"),
        })
        result["ok"] = False


def _judge(result: dict[str, t.Any], ders: list[bytes], source: str, ca: t.Sequence | None, min_days: int,
           now: t.Any) -> None:
    try:
        certs = [ensure_parsable(x509.load_der_x509_certificate(der), "the served certificate") for der in ders]
    except (ValueError, x509.InvalidVersion, CertificateError) as exc:
        result["error_code"] = "bad_certificate"
        result["error"] = f"the server sent a certificate that cannot be parsed ({str(exc)[:160]})"
        return
    leaf, chain = certs[0], certs[1:]
    info = describe_certificate(leaf, chain)
    for key in ("thumbprint", "subject_cn", "issuer", "san_dns", "not_before", "not_after", "certificate_pem",
                "chain_pem"):
        result[key] = info[key]
    result["chain_source"] = source
    chain_known = source == "served"
    verdict = check_webhost_certificate(
        leaf, hostname=result["server_name"], chain=chain, ca=ca if chain_known else None, min_days=min_days, now=now
    )
    problems = list(verdict["problems"])
    if result["tls_version"] in LEGACY_TLS_VERSIONS:
        problems.append({
            "code": "tls_legacy_version",
            "severity": SEVERITY_WARNING,
            "message": f"the server negotiated {result['tls_version']}; agents and browsers expect TLS 1.2 or later",
        })
    if not chain_known and ca:
        problems.append({
            "code": "chain_not_available",
            "severity": SEVERITY_WARNING,
            "message": "this Python cannot read the served chain (only the leaf): no chain verdict was given",
        })
    codes = {p["code"] for p in problems}
    result["problems"] = problems
    result["days_left"] = verdict["days_left"]
    result["chain_valid"] = (not codes & set(CHAIN_CODES)) if (ca and chain_known) else None
    result["hostname_valid"] = not codes & set(NAME_CODES)
    result["ok"] = verdict["ok"]


def probe_one(target: dict[str, t.Any], *, timeout: float, context: ssl.SSLContext, ca: t.Sequence | None = None,
              min_days: int = 30, now: t.Any = None) -> dict[str, t.Any]:
    """Probe one target from parse_endpoints; never raises, errors go into the result."""
    result = _empty_result(target)
    if target.get("invalid"):
        result["error_code"], result["error"], result["elapsed_ms"] = "invalid", target["invalid"], 0
        return result
    started = time.monotonic()
    deadline = started + timeout
    sock = None
    tls = None
    try:
        sock = _connect(target["host"], target["port"], deadline)
        try:
            result["peer_address"] = str(ipaddress.ip_address(sock.getpeername()[0].split("%", 1)[0]))
        except (OSError, ValueError):  # pragma: no cover - a connected TCP socket has a peer
            result["peer_address"] = None
        name = target["server_name"]
        sni = None if _is_ip(name) else name
        tls = context.wrap_socket(sock, server_hostname=sni, do_handshake_on_connect=False)
        sock = None  # the TLS socket owns the descriptor now
        _handshake(tls, deadline)
        result["tls_version"] = tls.version()
        cipher = tls.cipher()
        result["cipher"] = cipher[0] if cipher else None
        ders, source = _served_chain(tls)
        if not ders:
            result["error_code"] = "bad_certificate"
            result["error"] = "the handshake completed but the server sent no certificate"
        else:
            _judge(result, ders, source, ca, min_days, now)
            _check_address(result, target)
    except Exception as exc:
        result["error_code"], result["error"] = _classify(exc, target["port"], timeout)
        result["ok"] = False
    finally:
        for handle in (tls, sock):
            if handle is not None:
                try:
                    handle.close()
                except OSError:  # pragma: no cover
                    pass
    result["elapsed_ms"] = int((time.monotonic() - started) * 1000)
    return result


def probe_endpoints(targets: t.Sequence[dict[str, t.Any]], *, timeout: float = 10.0, concurrency: int = 50,
                    ca: t.Sequence | None = None, min_days: int = 30, now: t.Any = None) -> list[dict[str, t.Any]]:
    """Probe the targets with at most ``concurrency`` at a time; results in the order of ``targets``.

    Total time is about ``ceil(len(targets) / concurrency) * timeout`` in the worst case (every endpoint hangs).
    """
    if not targets:
        return []
    context = client_context()
    workers = max(1, min(int(concurrency), MAX_CONCURRENCY, len(targets)))
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tls_probe") as pool:
        return list(
            pool.map(
                lambda target: probe_one(target, timeout=timeout, context=context, ca=ca, min_days=min_days, now=now),
                targets,
            )
        )


def load_ca(text: t.Any) -> list:
    """The CA bundle (PEM text) for the chain verdict; CertificateError when it holds no certificate."""
    return load_certificates(text, "CA bundle")


def summarize(results: t.Sequence[dict[str, t.Any]]) -> dict[str, int]:
    return {
        "total": len(results),
        "answered": sum(1 for r in results if r["thumbprint"]),
        "ok": sum(1 for r in results if r["ok"]),
        "errors": sum(1 for r in results if r["error"]),
    }
