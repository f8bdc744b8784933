"""Finding secrets in test output: base64 runs that decode to a PKCS#12 file or a private key (shared by the secret
tests of tests/unit/reliability and tests/unit/role; tests/unit is on sys.path through its conftest.py)."""

from __future__ import annotations

import base64
import binascii
import re

# DER that starts a PFX (SEQUENCE, INTEGER 3) or a private key (SEQUENCE, INTEGER 0 or 1: PKCS#8, PKCS#1, SEC 1).
_SECRET_DER_RE = re.compile(rb"^\x30(?:[\x00-\x7f]|\x81.|\x82..|\x83...)\x02\x01[\x00\x01\x03]", re.DOTALL)
_BLOB_RE = re.compile(r"[A-Za-z0-9+/]{120,}={0,2}")


def compact(text: str) -> str:
    """The text without white space and JSON-escaped line breaks (so wrapped base64 becomes one run)."""
    return re.sub(r"\s+", "", text.replace("\\r", "").replace("\\n", ""))


def secret_blobs(text: str) -> list[str]:
    """Base64 runs in ``text`` that decode to a PKCS#12 file or a private key."""
    found = []
    for blob in _BLOB_RE.findall(compact(text)):
        for offset in range(4):
            chunk = blob[offset:]
            chunk = chunk[: len(chunk) - len(chunk) % 4]
            try:
                decoded = base64.b64decode(chunk, validate=True)
            except (binascii.Error, ValueError):
                continue
            if _SECRET_DER_RE.match(decoded):
                found.append(blob[:40] + "...")
                break
    return found
