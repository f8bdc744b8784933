# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Transport guard: does the connection to a Windows host protect what the collection sends over it?

Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.

A replacement sends the PFX and its password to the server (win_webhost_cert, no_log but still on the wire), and
every run sends the credentials and the commands. This decides, before the first connection, whether the
connection protects them, with the rules and defaults of the connection plugins themselves (ansible-core 2.19
``plugins/connection/winrm.py`` and ``psrp.py``, pywinrm 0.5 ``winrm/transport.py``):

winrm
  * port: ``ansible_port``/``ansible_winrm_port``, default 5986; scheme: ``ansible_winrm_scheme``, default
    ``http`` when the port is 5985, else ``https`` (``Connection._build_winrm_kwargs``).
  * transport list (``ansible_winrm_transport``), default ``kerberos`` when the user is a UPN (contains ``@``),
    else ``ssl`` over https and ``plaintext`` over http (both Basic authentication in pywinrm).
    Ansible tries the transports in order, so every one of them must protect.
  * ``ansible_winrm_server_cert_validation``: pywinrm default ``validate``; anything else disables verification
    (``session.verify = server_cert_validation == "validate"``).
  * ``ansible_winrm_message_encryption``: pywinrm default ``auto``, which encrypts the messages only over http and
    only for ntlm, kerberos and credssp; ``always`` encrypts over https too; ``never`` never encrypts.
psrp
  * protocol ``ansible_psrp_protocol`` / port ``ansible_port``/``ansible_psrp_port``: https/5986 when neither is
    set, https unless the port is 5985, 5986 for https and 5985 for http (``Connection._build_kwargs``).
  * ``ansible_psrp_auth`` default ``negotiate``; only negotiate, kerberos, ntlm and credssp encrypt messages.
  * ``ansible_psrp_cert_validation`` default ``validate`` (``ignore`` disables it);
    ``ansible_psrp_message_encryption`` default ``auto`` (only when not over TLS), ``always``, ``never``.

Protected means: TLS whose server certificate is validated, or message encryption by an authentication
protocol that provides it (NTLM, Kerberos, CredSSP, Negotiate), without an override that disables it. HTTPS with
validation off protects only against a passive listener, not a man in the middle: refused unless message
encryption is ``always``. ssh is protected unless host key checking is off; ``local`` sends nothing over a network.
Any other connection plugin is unknown here: refused unless the operator names it as trusted.

Pure Python, no Ansible imports, no I/O.
"""

from __future__ import annotations

import typing as t

MESSAGE_ENCRYPTING_WINRM = ("ntlm", "kerberos", "credssp")
MESSAGE_ENCRYPTING_PSRP = ("negotiate", "kerberos", "ntlm", "credssp")
NO_NETWORK = ("local",)


def _short(name: t.Any) -> str:
    return str(name or "").rsplit(".", 1)[-1].lower()


def _port(value: t.Any, default: int | None) -> int | None:
    if value in (None, ""):
        return default
    try:
        return int(str(value).strip())
    except ValueError:
        return default


def _text(value: t.Any, default: str) -> str:
    return default if value is None else str(value).strip().lower()


def _transports(value: t.Any) -> list[str] | None:
    if value in (None, "", []):
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    out = [str(i).strip().lower() for i in items if str(i).strip()]
    return out or None


def winrm(facts: dict) -> dict:
    """The decision for ansible.builtin.winrm."""
    port = _port(facts.get("port"), 5986)
    scheme = _text(facts.get("scheme"), "http" if port == 5985 else "https")
    user = str(facts.get("remote_user") or "")
    transports = _transports(facts.get("transport"))
    if transports is None:
        transports = ["kerberos"] if "@" in user else (["ssl"] if scheme == "https" else ["plaintext"])
    validation = _text(facts.get("server_cert_validation"), "validate")
    encryption = _text(facts.get("message_encryption"), "auto")
    tls_ok = scheme == "https" and validation == "validate"
    problems = []
    for transport in transports:
        message_ok = transport in MESSAGE_ENCRYPTING_WINRM and (
            encryption == "always" or (encryption == "auto" and scheme == "http"))
        if tls_ok or message_ok:
            continue
        if scheme == "http":
            why = (f"transport '{transport}' over http sends everything in clear text" if transport not in
                   MESSAGE_ENCRYPTING_WINRM else f"transport '{transport}' over http with message encryption "
                   f"'{encryption}' sends everything in clear text")
        else:
            why = (f"https with server certificate validation '{validation}' lets a man in the middle read "
                   f"everything (transport '{transport}', message encryption '{encryption}')")
        problems.append(why)
    summary = f"winrm {scheme}://...:{port} transport {','.join(transports)}"
    return _decision("winrm", summary, problems, fix=(
        "use ansible_winrm_scheme: https with a server certificate the controller validates "
        "(ansible_winrm_server_cert_validation: validate, ansible_winrm_ca_trust_path for a private CA), or "
        "ansible_winrm_transport: kerberos, ntlm or credssp with ansible_winrm_message_encryption auto or always"))


def psrp(facts: dict) -> dict:
    """The decision for ansible.builtin.psrp."""
    protocol = facts.get("protocol")
    port = _port(facts.get("port"), None)
    if protocol in (None, "") and port is None:
        protocol, port = "https", 5986
    elif protocol in (None, ""):
        protocol = "https" if port != 5985 else "http"
    elif port is None:
        port = 5986 if str(protocol).lower() == "https" else 5985
    protocol = str(protocol).lower()
    auth = _text(facts.get("auth"), "negotiate")
    validation = _text(facts.get("cert_validation"), "validate")
    encryption = _text(facts.get("message_encryption"), "auto")
    tls_ok = protocol == "https" and validation != "ignore"
    message_ok = auth in MESSAGE_ENCRYPTING_PSRP and (encryption == "always" or (encryption == "auto" and protocol == "http"))
    problems = []
    if not (tls_ok or message_ok):
        if protocol == "http":
            problems.append(f"auth '{auth}' over http with message encryption '{encryption}' sends everything in "
                            "clear text")
        else:
            problems.append(f"https with cert_validation '{validation}' lets a man in the middle read everything "
                            f"(auth '{auth}', message encryption '{encryption}')")
    return _decision("psrp", f"psrp {protocol}://...:{port} auth {auth}", problems, fix=(
        "use ansible_psrp_protocol: https with ansible_psrp_cert_validation: validate (ansible_psrp_ca_cert for a "
        "private CA), or ansible_psrp_auth negotiate, kerberos, ntlm or credssp with "
        "ansible_psrp_message_encryption auto or always"))


def ssh(facts: dict) -> dict:
    checking = facts.get("host_key_checking")
    problems = []
    if checking is not None and str(checking).strip().lower() in ("false", "no", "0", "off"):
        problems.append("host key checking is off, so a man in the middle can pose as the server")
    return _decision("ssh", "ssh", problems, fix="turn host key checking back on (ansible_ssh_host_key_checking)")


def _decision(connection: str, summary: str, problems: list[str], fix: str) -> dict:
    return {"connection": connection, "summary": summary, "protected": not problems, "problems": problems,
            "fix": "" if not problems else fix}


def assess(facts: dict, trusted: t.Iterable[str] = ()) -> dict:
    """``{connection, summary, protected, problems, fix}`` for the connection described by ``facts``.

    ``facts['connection']`` is the connection plugin name (``winrm``, ``ansible.builtin.psrp``...), the other keys
    are that plugin's resolved options (None when not set): winrm ``port, scheme, transport, remote_user,
    server_cert_validation, message_encryption``; psrp ``port, protocol, auth, cert_validation,
    message_encryption``; ssh ``host_key_checking``.
    """
    name = _short(facts.get("connection"))
    if name == "winrm":
        return winrm(facts)
    if name == "psrp":
        return psrp(facts)
    if name in ("ssh", "paramiko_ssh"):
        return ssh(facts)
    if name in NO_NETWORK:
        return _decision(name, name, [], fix="")
    if name in {_short(x) for x in trusted}:
        return _decision(name, f"{name} (named trusted by apexone_cert_trusted_connections)", [], fix="")
    return _decision(name, name, [f"the connection plugin '{name}' is unknown to this collection, which cannot tell "
                                  "whether it protects what is sent"],
                     fix="if it encrypts and authenticates the server, name it in apexone_cert_trusted_connections")


def refusal(decision: dict, host: str, what: str) -> str:
    """The error message for an unprotected connection."""
    return (f"{host}: refusing to send {what} over this connection ({decision['summary']}): "
            f"{'; '.join(decision['problems'])}. Fix: {decision['fix']}. To send it anyway (not recommended), set "
            "apexone_cert_allow_insecure_transport: true.")
