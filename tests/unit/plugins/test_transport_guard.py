"""Transport guard (issue #14): the PFX is sent only over a connection that protects it.

The matrix of connection variables is resolved by the real ansible-core connection plugins (winrm, psrp): their
own code (``_build_winrm_kwargs`` / ``_build_kwargs``, no network) computes the scheme, transports, certificate
validation and message encryption they would use, and the guard's decision must agree with what those settings
mean in pywinrm/pypsrp. So a change of defaults in ansible-core shows up here.
"""

from __future__ import annotations

import itertools
import re

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import connection_loader
from ansible.template import Templar

from ansible_collections.apexone.certificates.plugins.action.transport_guard import connection_facts
from ansible_collections.apexone.certificates.plugins.plugin_utils import _transport

ENCRYPTING = ("ntlm", "kerberos", "credssp")


def connection_for(name: str, variables: dict):
    """The connection plugin with its options set from host variables, as TaskExecutor does (no connection)."""
    connection = connection_loader.get(name, PlayContext(), None)
    variables = {"inventory_hostname": "apex01", **variables}
    templar = Templar(loader=DataLoader(), variables=variables)
    connection.set_options(var_options=connection._resolve_option_variables(variables, templar))
    return connection


def winrm_connection(variables: dict):
    return connection_for("winrm", variables)


def psrp_connection(variables: dict):
    return connection_for("psrp", variables)


def winrm_truth(connection) -> bool:
    """Protected, from the settings ansible-core's winrm plugin itself computed (pywinrm 0.5 semantics)."""
    connection._build_winrm_kwargs()
    https = connection._winrm_scheme == "https"
    kwargs = connection._winrm_kwargs
    validates = kwargs.get("server_cert_validation", "validate") == "validate"  # pywinrm: verify = (x == "validate")
    encryption = kwargs.get("message_encryption", "auto")
    for transport in connection._winrm_transport:
        # pywinrm Transport.build_session: encryption set up for ntlm/kerberos/credssp when 'always', or 'auto'
        # and the endpoint is not https.
        message = transport in ENCRYPTING and (encryption == "always" or (encryption == "auto" and not https))
        if not ((https and validates) or message):
            return False
    return True


WINRM_MATRIX = [
    {"ansible_port": port, "ansible_winrm_scheme": scheme, "ansible_user": user, "ansible_winrm_transport": transport,
     "ansible_winrm_server_cert_validation": validation, "ansible_winrm_message_encryption": encryption}
    for port, scheme, user, transport, validation, encryption in itertools.product(
        (None, 5985, 5986, 443), (None, "http", "https"), ("admin", "admin@CORP.EXAMPLE"),
        (None, "basic", "ntlm", "kerberos", "credssp", "ssl", "plaintext", "ntlm,basic", "certificate"),
        (None, "validate", "ignore"), (None, "auto", "always", "never"),
    )
]


def _clean(variables: dict) -> dict:
    return {k: v for k, v in variables.items() if v is not None}


def test_winrm_matrix_agrees_with_ansible_core():
    disagreements, protected = [], 0
    for variables in WINRM_MATRIX:
        connection = winrm_connection(_clean(variables))
        decision = _transport.assess(connection_facts(connection))
        protected += decision["protected"]
        if decision["protected"] is not winrm_truth(connection):
            disagreements.append((_clean(variables), decision))
    assert not disagreements, disagreements[:5]
    assert 0 < protected < len(WINRM_MATRIX)  # both outcomes occur


def psrp_truth(connection) -> bool:
    connection._build_kwargs()
    kwargs = connection._psrp_conn_kwargs
    tls = kwargs["ssl"] and kwargs["cert_validation"] is not False
    encryption = kwargs["encryption"]
    # pypsrp: negotiate/kerberos/ntlm/credssp encrypt messages when 'always', or 'auto' without TLS.
    message = kwargs["auth"] in ("negotiate", "kerberos", "ntlm", "credssp") and (
        encryption == "always" or (encryption == "auto" and not kwargs["ssl"]))
    return tls or message


PSRP_MATRIX = [
    {"ansible_port": port, "ansible_psrp_protocol": protocol, "ansible_psrp_auth": auth,
     "ansible_psrp_cert_validation": validation, "ansible_psrp_message_encryption": encryption}
    for port, protocol, auth, validation, encryption in itertools.product(
        (None, 5985, 5986, 8443), (None, "http", "https"),
        (None, "basic", "certificate", "negotiate", "kerberos", "ntlm", "credssp"),
        (None, "validate", "ignore"), (None, "auto", "always", "never"),
    )
]


def test_psrp_matrix_agrees_with_ansible_core():
    disagreements, protected = [], 0
    for variables in PSRP_MATRIX:
        connection = psrp_connection(_clean(variables))
        decision = _transport.assess(connection_facts(connection))
        protected += decision["protected"]
        if decision["protected"] is not psrp_truth(connection):
            disagreements.append((_clean(variables), decision))
    assert not disagreements, disagreements[:5]
    assert 0 < protected < len(PSRP_MATRIX)


# ------------------------------------------------------------------------------ the cases of the review
@pytest.mark.parametrize(("variables", "problem"), [
    ({"ansible_winrm_scheme": "http", "ansible_winrm_transport": "basic"}, r"transport 'basic' over http sends everything in clear text"),
    ({"ansible_port": 5986, "ansible_winrm_server_cert_validation": "ignore"}, r"https with server certificate validation 'ignore' lets a man in the middle"),
    # ansible-core picks plaintext by itself on port 5985 with a non-UPN user.
    ({"ansible_port": 5985, "ansible_user": "Administrator"}, r"transport 'plaintext' over http sends everything in clear text"),
    ({"ansible_port": 5985, "ansible_winrm_transport": "ntlm", "ansible_winrm_message_encryption": "never"}, r"message encryption 'never'"),
])
def test_review_cases_are_refused_with_how_to_fix(variables, problem):
    decision = _transport.assess(connection_facts(winrm_connection(variables)))
    assert not decision["protected"]
    message = _transport.refusal(decision, "apex01", "the PFX and its password")
    assert re.search(problem, message), message
    assert "ansible_winrm_scheme: https" in message and "apexone_cert_allow_insecure_transport: true" in message


@pytest.mark.parametrize("variables", [
    {"ansible_port": 5986},                                                  # https + validate + basic (ssl)
    {"ansible_port": 5985, "ansible_winrm_transport": "ntlm"},               # http + NTLM message encryption
    {"ansible_port": 5985, "ansible_user": "svc@CORP.EXAMPLE"},              # UPN -> kerberos, encrypted
    {"ansible_port": 5986, "ansible_winrm_server_cert_validation": "ignore", "ansible_winrm_transport": "credssp",
     "ansible_winrm_message_encryption": "always"},
])
def test_protected_winrm_settings_pass(variables):
    assert _transport.assess(connection_facts(winrm_connection(variables)))["protected"]


@pytest.mark.parametrize(("facts", "protected"), [
    ({"connection": "ansible.builtin.local"}, True),
    ({"connection": "ssh", "host_key_checking": True}, True),
    ({"connection": "ssh", "host_key_checking": False}, False),
    ({"connection": "community.general.something"}, False),
    ({"connection": "apexone_double"}, False),
])
def test_other_connections(facts, protected):
    assert _transport.assess(facts)["protected"] is protected


def test_an_unknown_connection_can_be_named_trusted():
    assert _transport.assess({"connection": "apexone_double"}, trusted=["apexone_double"])["protected"]
    assert _transport.assess({"connection": "x.y.apexone_double"}, trusted=["apexone_double"])["protected"]
    assert not _transport.assess({"connection": "winrm", "port": 5985}, trusted=["winrm"])["protected"]
