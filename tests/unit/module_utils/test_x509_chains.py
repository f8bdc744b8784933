"""Chain diagnosis (chain_incomplete / chain_untrusted) over real-world-shaped and real public chains.

Lab chains are built with cryptography (tests/lab/pki.py); the public ones are real certificates from
tests/fixtures/public_chains (see its README for their source) checked against Mozilla's roots from certifi.
Each verdict is asserted as a whole: code, severity and the exact message.
"""

import datetime
import os

import certifi
import pki
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from ansible_collections.apexone.certificates.plugins.module_utils import _x509

HOST = "apex01.corp.example"
FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "fixtures",
                        "public_chains")
VERIFIER_NO_ISSUER = ("no issuer of it is in the chain or the CA bundle (cryptography: validation failed: candidates "
                      "exhausted: all candidates exhausted with no interior errors)")
ROOT_NOT_IN_BUNDLE = ("it is a root CA, and the CA bundle does not hold it (cryptography: validation failed: "
                      "candidates exhausted: all candidates exhausted with no interior errors)")


def chain_problems(result):
    return [p for p in result["problems"] if p["code"].startswith("chain_")]


def check(cert, **kwargs):
    kwargs.setdefault("hostname", HOST)
    return _x509.check_webhost_certificate(cert, **kwargs)


def org_ca(cn, org, parent=None, slot=0):
    """A CA of another organisation (pki.make_ca names every CA 'O=Apex Lab')."""
    key = pki.rsa_key(2048, slot=700 + slot)
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, org), x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    builder = (
        x509.CertificateBuilder().subject_name(name).issuer_name(parent.cert.subject if parent else name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(pki.NOW - 365 * pki.DAY).not_valid_after(pki.NOW + 3650 * pki.DAY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if parent:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(parent.key.public_key()), critical=False)
    return pki.Issuer(key, builder.sign(parent.key if parent else key, hashes.SHA256()))


@pytest.fixture(scope="module")
def three_tier():
    """Corp root -> policy CA -> issuing CA -> server (a three-tier AD CS hierarchy)."""
    root = pki.make_ca("Corp Root CA", key=pki.rsa_key(2048, slot=720))
    policy = pki.make_ca("Corp Policy CA", parent=root, key=pki.rsa_key(2048, slot=721))
    issuing = pki.make_ca("Corp Issuing CA", parent=policy, key=pki.rsa_key(2048, slot=722))
    _key, leaf = pki.make_cert(HOST, issuer=issuing, key=pki.rsa_key(2048, slot=723))
    return {"root": root, "policy": policy, "issuing": issuing, "leaf": leaf}


@pytest.fixture(scope="module")
def mozilla_roots():
    with open(certifi.where(), "rb") as handle:
        return x509.load_pem_x509_certificates(handle.read())


@pytest.fixture(scope="module")
def public_chain():
    with open(os.path.join(FIXTURES, "cryptography.io.chain.pem"), "rb") as handle:
        leaf, intermediate = x509.load_pem_x509_certificates(handle.read())
    return leaf, intermediate


PUBLIC_TIME = datetime.datetime(2016, 6, 1, tzinfo=datetime.timezone.utc)  # inside the public chain's validity


def public_check(cert, **kwargs):
    return _x509.check_webhost_certificate(cert, hostname=None, check_names=False, now=PUBLIC_TIME, **kwargs)


def roots_text(anchors, limit=5):
    names = [f"'{c.subject.rfc4514_string()}'" for c in anchors]
    if len(names) == 1:
        return f"one certificate, {names[0]}"
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return f"{len(names)} certificates: {', '.join(names[:limit])}{more}"


# ------------------------------------------------------------------------------------- a different CA


def test_chain_from_another_organisation_is_untrusted_not_incomplete(lab_pki):
    """Leaf + intermediate of another company's CA against the corporate root: adding intermediates cannot help."""
    other_root = org_ca("Partner Root CA", "Partner Corp", slot=1)
    other_issuing = org_ca("Partner Issuing CA", "Partner Corp", parent=other_root, slot=2)
    _key, leaf = pki.make_cert(HOST, issuer=other_issuing, key=pki.rsa_key(2048, slot=724))
    result = check(leaf, chain=[other_issuing.cert], ca=[lab_pki.root.cert])
    assert result["ok"] is False
    assert chain_problems(result) == [{
        "code": "chain_untrusted", "severity": "error",
        "message": "the chain leads to 'CN=Partner Root CA,O=Partner Corp' (the issuer of 'CN=Partner Issuing CA,"
        "O=Partner Corp'), a CA of another organisation that is not in the CA bundle (which holds one certificate, "
        "'CN=Apex Lab Root CA,O=Apex Lab'): the certificate was issued by another CA, and adding intermediates to "
        "the PFX cannot fix this. Use a certificate issued under a root of the bundle, or, if agents and browsers "
        "trust 'CN=Partner Root CA,O=Partner Corp', add that root to the CA bundle (apexone_cert_ca_bundle_path); "
        "path validation stops at 'CN=Partner Issuing CA,O=Partner Corp': " + VERIFIER_NO_ISSUER,
    }]


def test_real_public_chain_against_a_corporate_root(lab_pki, public_chain):
    """A real public-CA certificate (RapidSSL/GeoTrust) checked against the corporate root."""
    leaf, intermediate = public_chain
    result = public_check(leaf, chain=[intermediate], ca=[lab_pki.root.cert])
    (problem,) = chain_problems(result)
    assert problem["code"] == "chain_untrusted" and problem["severity"] == "error"
    assert problem["message"] == (
        "the chain leads to 'CN=GeoTrust Global CA,O=GeoTrust Inc.,C=US' (the issuer of 'CN=RapidSSL SHA256 CA - G3,"
        "O=GeoTrust Inc.,C=US'), a CA of another organisation that is not in the CA bundle (which holds one "
        "certificate, 'CN=Apex Lab Root CA,O=Apex Lab'): the certificate was issued by another CA, and adding "
        "intermediates to the PFX cannot fix this. Use a certificate issued under a root of the bundle, or, if agents "
        "and browsers trust 'CN=GeoTrust Global CA,O=GeoTrust Inc.,C=US', add that root to the CA bundle "
        "(apexone_cert_ca_bundle_path); path validation stops at 'CN=RapidSSL SHA256 CA - G3,O=GeoTrust Inc.,C=US': "
        + VERIFIER_NO_ISSUER
    )


def test_pfx_holding_another_root_is_untrusted(lab_pki, three_tier):
    chain = [three_tier["issuing"].cert, three_tier["policy"].cert, three_tier["root"].cert]
    result = check(three_tier["leaf"], chain=chain, ca=[lab_pki.root.cert])
    assert chain_problems(result) == [{
        "code": "chain_untrusted", "severity": "error",
        "message": "the chain leads to the root CA 'CN=Corp Root CA,O=Apex Lab', which is not in the CA bundle (the "
        "bundle holds one certificate, 'CN=Apex Lab Root CA,O=Apex Lab'); adding intermediates cannot fix this: use "
        "a certificate issued under a root of the bundle, or, if agents and browsers trust 'CN=Corp Root CA,"
        "O=Apex Lab', add it to the CA bundle (apexone_cert_ca_bundle_path); path validation stops at "
        "'CN=Corp Root CA,O=Apex Lab': " + ROOT_NOT_IN_BUNDLE,
    }]


# ------------------------------------------------------------------------------ root missing from the bundle


def test_real_root_missing_from_mozilla_bundle(mozilla_roots, public_chain):
    """GeoTrust Global CA left Mozilla's store: the real chain now leads to a root the bundle lacks."""
    leaf, intermediate = public_chain
    assert not any(r.subject == intermediate.issuer for r in mozilla_roots)  # the premise of the test
    result = public_check(leaf, chain=[intermediate], ca=mozilla_roots)
    (problem,) = chain_problems(result)
    assert problem == {
        "code": "chain_untrusted", "severity": "error",
        "message": "the chain leads to 'CN=GeoTrust Global CA,O=GeoTrust Inc.,C=US' (the issuer of 'CN=RapidSSL "
        "SHA256 CA - G3,O=GeoTrust Inc.,C=US'), a CA of another organisation that is not in the CA bundle (which "
        f"holds {roots_text(mozilla_roots)}): the certificate was issued by another CA, and adding intermediates to "
        "the PFX cannot fix this. Use a certificate issued under a root of the bundle, or, if agents and browsers "
        "trust 'CN=GeoTrust Global CA,O=GeoTrust Inc.,C=US', add that root to the CA bundle "
        "(apexone_cert_ca_bundle_path); path validation stops at 'CN=RapidSSL SHA256 CA - G3,O=GeoTrust Inc.,C=US': "
        + VERIFIER_NO_ISSUER,
    }
    assert f"{len(mozilla_roots)} certificates: " in problem["message"] and " more)" in problem["message"]


def test_real_lets_encrypt_x3_alone_names_both_fixes(mozilla_roots):
    """A CA certificate alone (no chain): its issuer may be an intermediate, so the verdict names both fixes."""
    with open(os.path.join(FIXTURES, "letsencryptx3.pem"), "rb") as handle:
        x3 = x509.load_pem_x509_certificate(handle.read())
    result = public_check(x3, ca=mozilla_roots)
    assert [p["code"] for p in result["problems"]] == ["is_ca", "chain_incomplete"]
    message = chain_problems(result)[0]["message"]
    assert message.startswith(
        "the chain stops at the certificate itself: its issuer 'CN=DST Root CA X3,O=Digital Signature Trust Co.' is "
        "neither in the PFX/chain nor in the CA bundle")
    assert "add it (and any CA above it up to the root) to the PFX" in message
    assert "if it is a root CA that agents and browsers trust, add it to the CA bundle" in message


def test_root_missing_from_bundle_same_organisation_may_be_an_intermediate(three_tier):
    """Bundle holds only the policy CA's sibling world: the issuer could be a missing CA of the same PKI."""
    unrelated_same_org = pki.make_ca("Corp Other Root", key=pki.rsa_key(2048, slot=725))
    chain = [three_tier["issuing"].cert, three_tier["policy"].cert]
    result = check(three_tier["leaf"], chain=chain, ca=[unrelated_same_org.cert])
    assert [p["code"] for p in chain_problems(result)] == ["chain_incomplete"]
    assert chain_problems(result)[0]["message"].startswith(
        "the chain stops at intermediate 'CN=Corp Policy CA,O=Apex Lab': its issuer 'CN=Corp Root CA,O=Apex Lab' is "
        "neither in the PFX/chain nor in the CA bundle (which holds one certificate, 'CN=Corp Other Root,"
        "O=Apex Lab'). If 'CN=Corp Root CA,O=Apex Lab' is an intermediate CA, add it")


# ------------------------------------------------------------------------------ a missing middle intermediate


def test_missing_middle_intermediate_is_incomplete_naming_both_fixes(three_tier):
    result = check(three_tier["leaf"], chain=[three_tier["issuing"].cert], ca=[three_tier["root"].cert])
    assert chain_problems(result) == [{
        "code": "chain_incomplete", "severity": "error",
        "message": "the chain stops at intermediate 'CN=Corp Issuing CA,O=Apex Lab': its issuer 'CN=Corp Policy CA,"
        "O=Apex Lab' is neither in the PFX/chain nor in the CA bundle (which holds one certificate, 'CN=Corp Root "
        "CA,O=Apex Lab'). If 'CN=Corp Policy CA,O=Apex Lab' is an intermediate CA, add it (and any CA above it up "
        "to the root) to the PFX: export with 'Include all certificates in the certification path'; if it is a root "
        "CA that agents and browsers trust, add it to the CA bundle (apexone_cert_ca_bundle_path); path validation "
        "stops at 'CN=Corp Issuing CA,O=Apex Lab': " + VERIFIER_NO_ISSUER,
    }]
    complete = check(three_tier["leaf"], chain=[three_tier["issuing"].cert, three_tier["policy"].cert],
                     ca=[three_tier["root"].cert])
    assert complete["ok"] is True and complete["problems"] == []


def test_leaf_alone_is_incomplete(lab_pki, server):
    result = check(server[1], chain=[], ca=[lab_pki.root.cert])
    assert chain_problems(result) == [{
        "code": "chain_incomplete", "severity": "error",
        "message": "the chain stops at the certificate itself: its issuer 'CN=Apex Lab Issuing CA,O=Apex Lab' is "
        "neither in the PFX/chain nor in the CA bundle (which holds one certificate, 'CN=Apex Lab Root CA,"
        "O=Apex Lab'). If 'CN=Apex Lab Issuing CA,O=Apex Lab' is an intermediate CA, add it (and any CA above it up "
        "to the root) to the PFX: export with 'Include all certificates in the certification path'; if it is a root "
        "CA that agents and browsers trust, add it to the CA bundle (apexone_cert_ca_bundle_path); path validation "
        "stops at the certificate itself: " + VERIFIER_NO_ISSUER,
    }]


def test_real_public_leaf_alone_is_incomplete(mozilla_roots, public_chain):
    leaf, _intermediate = public_chain
    (problem,) = chain_problems(public_check(leaf, ca=mozilla_roots))
    assert problem["code"] == "chain_incomplete"
    assert problem["message"].startswith(
        "the chain stops at the certificate itself: its issuer 'CN=RapidSSL SHA256 CA - G3,O=GeoTrust Inc.,C=US' is "
        "neither in the PFX/chain nor in the CA bundle")


# ------------------------------------------------------------------------------------ several roots


def test_bundle_with_several_roots_validates_the_right_one(lab_pki, server, mozilla_roots, three_tier):
    bundle = [*mozilla_roots, three_tier["root"].cert, lab_pki.root.cert]
    assert check(server[1], chain=[lab_pki.intermediate.cert], ca=bundle)["problems"] == []
    three = check(three_tier["leaf"], chain=[three_tier["issuing"].cert, three_tier["policy"].cert], ca=bundle)
    assert three["problems"] == []


def test_several_roots_none_of_them_the_chains(lab_pki, three_tier):
    partner = org_ca("Partner Root CA", "Partner Corp", slot=1)
    bundle = [lab_pki.root.cert, three_tier["root"].cert]
    partner_issuing = org_ca("Partner Issuing CA", "Partner Corp", parent=partner, slot=2)
    _key, leaf = pki.make_cert(HOST, issuer=partner_issuing, key=pki.rsa_key(2048, slot=726))
    (problem,) = chain_problems(check(leaf, chain=[partner_issuing.cert, partner.cert], ca=bundle))
    assert problem == {
        "code": "chain_untrusted", "severity": "error",
        "message": "the chain leads to the root CA 'CN=Partner Root CA,O=Partner Corp', which is not in the CA bundle "
        "(the bundle holds 2 certificates: 'CN=Apex Lab Root CA,O=Apex Lab', 'CN=Corp Root CA,O=Apex Lab'); adding "
        "intermediates cannot fix this: use a certificate issued under a root of the bundle, or, if agents and "
        "browsers trust 'CN=Partner Root CA,O=Partner Corp', add it to the CA bundle (apexone_cert_ca_bundle_path); "
        "path validation stops at 'CN=Partner Root CA,O=Partner Corp': " + ROOT_NOT_IN_BUNDLE,
    }


# -------------------------------------------------------------- where the path stops, as the verifier says


def test_expired_intermediate_is_named_with_the_verifiers_reason(three_tier):
    expired = pki.make_ca("Corp Issuing CA", parent=three_tier["policy"], key=three_tier["issuing"].key,
                          not_before=pki.NOW - 900 * pki.DAY, not_after=pki.NOW - pki.DAY)
    result = check(three_tier["leaf"], chain=[expired.cert, three_tier["policy"].cert], ca=[three_tier["root"].cert])
    assert chain_problems(result) == [{
        "code": "chain_untrusted", "severity": "error",
        "message": "the chain does not validate against the CA bundle: path validation stops at 'CN=Corp Issuing CA,"
        "O=Apex Lab': it is expired or not yet valid at the validation time (cryptography: validation failed: cert "
        "is not valid at validation time); re-issue or replace the certificate named there (or give the CA bundle the agents "
        "really trust)",
    }]


def test_intermediate_that_is_not_a_ca_is_named(three_tier):
    _key, not_ca = pki.make_cert("Corp Issuing CA", issuer=three_tier["policy"], key=three_tier["issuing"].key,
                                 eku=None)
    result = check(three_tier["leaf"], chain=[not_ca, three_tier["policy"].cert], ca=[three_tier["root"].cert])
    (problem,) = chain_problems(result)
    assert problem["code"] == "chain_untrusted"
    assert problem["message"] == (
        "the chain does not validate against the CA bundle: path validation stops at 'CN=Corp Issuing CA,O=Apex "
        "Lab': it lacks an extension its role requires (2.5.29.15 is Key Usage) (cryptography: validation failed: "
        "invalid extension: 2.5.29.15: Certificate is missing required extension); re-issue or replace the certificate "
        "named there (or give the CA bundle the agents really "
        "trust)"
    )


def test_bundle_ca_with_the_same_name_but_another_key(lab_pki, server):
    impostor = pki.make_ca("Apex Lab Root CA", key=pki.rsa_key(2048, slot=727))
    (problem,) = chain_problems(check(server[1], chain=[lab_pki.intermediate.cert], ca=[impostor.cert]))
    assert problem["code"] == "chain_untrusted"
    assert problem["message"].startswith(
        "'CN=Apex Lab Issuing CA,O=Apex Lab' was issued by a CA named 'CN=Apex Lab Root CA,O=Apex Lab', but the CA "
        "bundle's 'CN=Apex Lab Root CA,O=Apex Lab' has another key and did not sign it")


def test_intermediate_only_in_bundle_is_incomplete(lab_pki, server):
    result = check(server[1], chain=[], ca=[lab_pki.root.cert, lab_pki.intermediate.cert])
    assert chain_problems(result) == [{
        "code": "chain_incomplete", "severity": "error",
        "message": "intermediate 'CN=Apex Lab Issuing CA,O=Apex Lab' is only in the CA bundle: include it in the PFX "
        "so the server can send it to agents and browsers (export with 'Include all certificates in the "
        "certification path')",
    }]


def test_bundle_roots_are_listed_shortly():
    roots = [pki.make_ca(f"Root {i}", key=pki.rsa_key(2048, slot=730 + i)).cert for i in range(7)]
    assert _x509._bundle_roots(roots[:1]) == "one certificate, 'CN=Root 0,O=Apex Lab'"
    assert _x509._bundle_roots(roots) == (
        "7 certificates: 'CN=Root 0,O=Apex Lab', 'CN=Root 1,O=Apex Lab', 'CN=Root 2,O=Apex Lab', "
        "'CN=Root 3,O=Apex Lab', 'CN=Root 4,O=Apex Lab' and 2 more")
