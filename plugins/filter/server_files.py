# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: server_files
short_description: Read the Apex One files that win_server_info gathered as raw bytes
version_added: 0.1.0
author: apexone.certificates maintainers (@apexone-certificates)
description:
  - M(apexone.certificates.win_server_info) returns C(service_ini), C(apricot_config), C(ofcipcer) and
    C(ofcscan_ini) as raw bytes (C(content), base64) with their C(sha256); nothing on the server parses them.
    This filter returns a copy of the facts with the parsed fields added to each of the four entries, read with the
    code that also computes the new bytes of the replacement (the P(apexone.certificates.webhost_plan#filter)
    filter does the same before planning).
  - C(service_ini) gets C(encoding), C(https), C(https_cert), C(https_cert_friendly_name); C(apricot_config)
    C(encoding), C(cert_cn), C(cert_friendly_name) (XML escapes decoded); C(ofcipcer) C(size), C(encoding) (V(der),
    V(pem), V(empty), V(unknown)), C(newline), C(thumbprint) and C(certificate) (C(thumbprint), C(subject),
    C(subject_cn), C(issuer), C(serial_number), C(not_before), C(not_after), C(key_type), C(key_size), C(self_signed),
    C(dns_names)); C(ofcscan_ini) C(encoding), C(master_domain_name), C(master_domain_port). Missing files and
    missing keys give V(null).
  - C(encoding) of the text files is V(utf-8-bom), V(utf-16le) or V(utf-16be) (decoded as Unicode), V(ansi) or
    V(utf-8) (no byte order mark; read and edited byte for byte, so only ASCII values can be written).
  - Each entry gets C(error), why its bytes could not be used (unreadable on the server, not base64, content that
    does not have the reported SHA-256, not DER or PEM), else V(null). Certificates of RV(_value.certificates) whose
    thumbprint is the one in C(OfcIPCer.dat) get the reference V(ofcipcer).
  - Runs on the controller; pure computation, no connection.
options:
  _input:
    description: The registered result of M(apexone.certificates.win_server_info).
    type: dict
    required: true
requirements:
  - cryptography >= 43 on the controller
"""

EXAMPLES = r"""
- name: Gather the Apex One facts (raw file bytes)
  apexone.certificates.win_server_info:
  register: apexone_info

- name: Show the certificate name Service.ini gives the Smart Protection Server
  ansible.builtin.debug:
    msg: "{{ (apexone_info | apexone.certificates.server_files).service_ini.https_cert }}"
"""

RETURN = r"""
_value:
  description: The facts, with the parsed fields added to C(service_ini), C(apricot_config), C(ofcipcer) and C(ofcscan_ini).
  type: dict
  contains:
    service_ini:
      description: C(path), C(exists), C(sha256), C(content), C(error), C(encoding), C(https), C(https_cert),
        C(https_cert_friendly_name).
      type: dict
    apricot_config:
      description: C(path), C(exists), C(sha256), C(content), C(error), C(encoding), C(cert_cn), C(cert_friendly_name).
      type: dict
    ofcipcer:
      description: C(path), C(exists), C(sha256), C(content), C(error), C(size), C(encoding), C(newline), C(thumbprint),
        C(certificate).
      type: dict
    ofcscan_ini:
      description: C(path), C(exists), C(sha256), C(content), C(error), C(encoding), C(master_domain_name),
        C(master_domain_port).
      type: dict
    certificates:
      description: As gathered, with the reference V(ofcipcer) added where it applies.
      type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.apexone.certificates.plugins.module_utils._apexone_files import enrich_server_info


def server_files(server_info):
    """The facts of win_server_info with the parsed file fields added."""
    if not isinstance(server_info, dict):
        raise AnsibleFilterError(
            "server_files: the input must be the registered result of apexone.certificates.win_server_info (a dict), "
            f"not {type(server_info).__name__}"
        )
    return enrich_server_info(server_info)


class FilterModule:
    def filters(self):
        return {"server_files": server_files}
