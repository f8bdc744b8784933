"""The post-change probe checks that it reached the server it meant to (issue #14): ``expected_addresses``."""

from __future__ import annotations

import pytest
from test_tls_probe import NAME, servers, tls10  # noqa: F401 pylint: disable=unused-import  # the module-scoped lab TLS servers

from ansible_collections.apexone.certificates.plugins.module_utils import _tls_probe as tp


def probe_with(servers, expected):  # noqa: F811
    targets = tp.parse_endpoints([{"host": "127.0.0.1", "port": servers["ports"]["good"], "server_name": NAME,
                                   "expected_addresses": expected}])
    (result,) = tp.probe_endpoints(targets, timeout=3.0, ca=tp.load_ca(servers["ca"]))
    return result


def test_answer_from_an_expected_address_passes(servers):  # noqa: F811
    result = probe_with(servers, ["127.0.0.1"])
    assert result["ok"] is True and result["peer_address"] == "127.0.0.1" and result["address_valid"] is True
    assert probe_with(servers, ["localhost", "192.0.2.1"])["address_valid"] is True  # names are resolved


def test_answer_from_another_address_is_an_error(servers):  # noqa: F811
    result = probe_with(servers, ["192.0.2.1", "name.that.does.not.resolve.invalid"])
    assert result["ok"] is False and result["address_valid"] is False
    (problem,) = [p for p in result["problems"] if p["code"] == "unexpected_address"]
    assert problem["severity"] == "error"
    assert "answered by 127.0.0.1, which is not an address of 192.0.2.1" in problem["message"]


def test_without_expectation_no_address_verdict(servers):  # noqa: F811
    targets = tp.parse_endpoints([{"host": "127.0.0.1", "port": servers["ports"]["good"], "server_name": NAME}])
    (result,) = tp.probe_endpoints(targets, timeout=3.0)
    assert result["peer_address"] == "127.0.0.1" and result["address_valid"] is None and result["ok"] is True


@pytest.mark.parametrize("bad", ["10.0.0.1", [""], [1], {}])
def test_expected_addresses_must_be_a_list_of_names(bad):
    with pytest.raises(tp.EndpointError, match="expected_addresses must be a list"):
        tp.parse_endpoints([{"host": "h", "port": 1, "expected_addresses": bad}])
