# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: webhost_plan
short_description: Plan the changes that give an Apex One server its new web host certificate
version_added: 0.1.0
author: apexone.certificates maintainers (@apexone-certificates)
description:
  - Compares the facts gathered by M(apexone.certificates.win_server_info) with the desired certificate and
    returns the actions needed, in the order the knowledge-base procedure (KA-0009125, KA-0004491) applies them,
    each with the module that applies it and why.
  - C(compliant) is true, with no action, when nothing needs to change; such a host costs one remote call.
  - C(blockers) lists what must be fixed by a person before anything is applied, by code. C(friendly_name_reused) (a
    friendly name equal to the original certificate's name), C(friendly_name_invalid) (a friendly name that
    C(Service.ini) or C(apricot_config) cannot hold unchanged, such as a non-ASCII name in a file without byte order
    mark, the usual ANSI case, although Windows itself would take it), C(certificate_disallowed) (the new certificate is in
    the Untrusted Certificates store), C(persistence_file_unusable) (C(Service.ini) or C(apricot_config) cannot be
    edited, for example no C(<cert_cn>) element, or C(HTTPS_CERT) missing in a file with several sections),
    C(ofcipcer_unusable) and C(certificate_pem_missing) (the new C(OfcIPCer.dat) cannot be computed).
  - The files are read here, not on the server. M(apexone.certificates.win_server_info) returns the raw bytes and
    SHA-256 of C(Service.ini), C(apricot_config), C(OfcIPCer.dat) and C(ofcscan.ini); the filter parses them (the
    parsed fields, such as C(service_ini.https_cert) or C(ofcipcer.thumbprint), are added to a copy of the facts) and
    computes the new bytes of steps 4 and 7. The actions of M(apexone.certificates.win_agent_cert) and
    M(apexone.certificates.win_cert_persistence) carry those bytes (C(content), base64) with the SHA-256 of the file
    they replace (C(expected_sha256)); the modules write only if the file is still what was gathered.
  - Runs on the controller; pure computation, no connection.
options:
  _input:
    description: The registered result of M(apexone.certificates.win_server_info).
    type: dict
    required: true
  desired:
    description:
      - The desired state. Keys C(thumbprint), C(subject_cn) and C(friendly_name) are required (take the first two
        from the P(apexone.certificates.pfx_info#lookup) lookup).
      - Optional keys C(site_name), C(ports) (list of int), C(exportable) (bool, default true), C(key_provider)
        (C(legacy) or C(cng)), C(key_readers) (list of accounts or SIDs given read access to the new private key;
        default none beyond SYSTEM and Administrators, see docs/security.md), C(copy_key_readers) (bool, default
        false; true also gives read access to the SIDs that could read the old key, except SYSTEM, Administrators and
        CREATOR OWNER), C(pfx_encryption) (from pfx_info, to decide on a legacy re-pack),
        C(client_auth_trust_mode) (0, 1, 2 or null to leave it), C(move_non_self_signed_roots) (bool),
        C(agent_cert_warn_days) (int, default 60), C(certificate_pem) (the new certificate, needed to compute
        C(OfcIPCer.dat); take it from pfx_info).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Gather the Apex One facts (one round trip, read-only)
  apexone.certificates.win_server_info:
  register: apexone_facts

- name: Plan
  ansible.builtin.set_fact:
    apexone_plan: "{{ apexone_facts | apexone.certificates.webhost_plan(desired) }}"
  vars:
    desired:
      thumbprint: "{{ new_cert.thumbprint }}"
      subject_cn: "{{ new_cert.subject_cn }}"
      friendly_name: Apex One web host 2026
      pfx_encryption: "{{ new_cert.encryption }}"

- name: Show what would change
  ansible.builtin.debug:
    msg: "{{ apexone_plan.actions | map(attribute='reason') }}"
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    compliant:
      description: True when no action is needed and nothing blocks.
      type: bool
    applicable:
      description: False when a blocker must be fixed first.
      type: bool
    actions:
      description: The module calls needed, in the order to apply them.
      type: list
      elements: dict
      contains:
        step:
          description: First knowledge-base step (1-7) the action carries out.
          type: int
        steps:
          description: Every step the action carries out.
          type: list
          elements: int
        module:
          description: Fully qualified name of the module that applies it.
          type: str
        reason:
          description: Why, in one line.
          type: str
        args:
          description: The module options the role passes (never a secret).
          type: dict
    modules:
      description: The modules of RV(_value.actions), in order.
      type: list
      elements: str
    binding_changes:
      description: Every binding and http.sys entry that will change, with C(site), C(binding), C(old_thumbprint), C(new_thumbprint).
      type: list
      elements: dict
    files:
      description:
        - Every file the actions write, with C(file) (V(ofcipcer), V(service_ini) or V(apricot_config)), C(path),
          C(sha256_before) (the SHA-256 gathered, V(null) for a new file), C(sha256_after), C(content_before) (the
          gathered bytes, base64, kept by the role to roll back) and C(diff) (a unified text diff of the change, or a
          line describing the OfcIPCer.dat certificate change). The Windows modules only report SHA-256 values; this is
          where a person sees what changes.
      type: list
      elements: dict
    old_thumbprints:
      description: Thumbprints the Apex One bindings carry now, other than the new one.
      type: list
      elements: str
    restart_services:
      description: Whether the Apex One services must be restarted (any change).
      type: bool
    warnings:
      description: Things a person should know (code, severity, message); never changed automatically.
      type: list
      elements: dict
    blockers:
      description: Problems that stop the replacement (code, severity, message).
      type: list
      elements: dict
    lines:
      description: The plan in human-readable lines (actions, binding changes, blockers, warnings).
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.apexone.certificates.plugins.plugin_utils._planner import PlanError, plan


def webhost_plan(server_info, desired=None):
    """Plan the actions for one Apex One server."""
    try:
        return plan(server_info, desired)
    except PlanError as exc:
        raise AnsibleFilterError(f"webhost_plan: {exc}") from None


class FilterModule:
    def filters(self):
        return {"webhost_plan": webhost_plan}
