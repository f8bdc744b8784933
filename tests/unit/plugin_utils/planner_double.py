"""The planner tests' server: a test double of a server still on its old self-signed certificate, the new
certificate as a PFX, and what the role does with a plan (shared by test_planner.py and test_planner_procedure.py;
the fixtures are in conftest.py)."""

import base64

import pki
import winsim

from ansible_collections.apexone.certificates.plugins.module_utils import _x509

HOST = "apex01.corp.example"
PASSWORD = "Plan-Pfx-Pw"
FRIENDLY = "Apex One web host 2026"


def make_material() -> dict:
    lab = pki.LabPki()
    _key_old, old = pki.make_cert(HOST, issuer=None, key=pki.rsa_key(2048, slot=600))
    key, new = lab.server(HOST, key=pki.rsa_key(2048, slot=601))
    pfx = pki.make_pfx(key, new, [lab.intermediate.cert], password=PASSWORD)
    return {"old": old, "new": new, "pfx": pfx, "info": _x509.pfx_info(pfx, PASSWORD), "lab": lab}


def make_server(material: dict) -> winsim.ApexOneServer:
    return winsim.ApexOneServer(winsim.new_state(material["old"], hostname=HOST))


def facts(server):
    return server.call("apexone.certificates.win_server_info", {})


def apply(server, result, material):
    """What the role does with a plan: each action's args, plus the PFX for the import."""
    for action in result["actions"]:
        args = dict(action["args"])
        if action["module"].endswith("win_webhost_cert"):
            args.update(_pfx_b64=base64.b64encode(material["pfx"]).decode(), password=PASSWORD)
        server.call(action["module"], args)
