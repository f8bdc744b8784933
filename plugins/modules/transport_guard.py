#!/usr/bin/python

# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: transport_guard
short_description: Refuse a connection that does not protect the PFX, the password and the commands
version_added: 0.1.0
description:
  - Runs on the controller before the first connection to a Windows host and sends nothing to it. It reads the
    options the host's connection plugin resolved and fails, saying how to fix it, unless the connection protects
    what is sent.
  - C(winrm) and C(psrp) are protected by HTTPS with server certificate validation on, or by NTLM, Kerberos,
    CredSSP (psrp also Negotiate) with message encryption not disabled; the defaults are those of ansible-core and
    pywinrm (port 5986 means https; port 5985 means http; a user without C(@) and no transport means Basic
    authentication, clear text over http). HTTPS with validation off is refused unless message encryption is
    C(always). C(ssh) is protected unless host key checking is off; C(local) sends nothing over a network.
  - Any other connection plugin is refused unless named in O(trusted_connections).
options:
  allow_insecure:
    description:
      - Send anyway over an unprotected connection; a warning says what is exposed.
    type: bool
    default: false
  trusted_connections:
    description:
      - Connection plugin names (short or fully qualified) the operator vouches for although this collection does
        not know them.
    type: list
    elements: str
    default: []
  what:
    description: What would be exposed, for the message.
    type: str
    default: the PFX and its password
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms:
      - windows
notes:
  - The role runs it first (O(allow_insecure) from C(apexone_cert_allow_insecure_transport), O(trusted_connections)
    from C(apexone_cert_trusted_connections)), and so does C(playbooks/rollback.yml).
  - It also fails in check mode, so that a dry run shows what the real run would refuse.
seealso:
  - name: Windows Remote Management (Ansible documentation)
    description: WinRM transports, message encryption and certificate validation.
    link: https://docs.ansible.com/ansible/latest/os_guide/windows_winrm.html
author:
  - apexone.certificates maintainers (@apexone-certificates)
"""

EXAMPLES = r"""
- name: Refuse to send the PFX over an unprotected connection
  apexone.certificates.transport_guard:
    allow_insecure: "{{ apexone_cert_allow_insecure_transport | default(false) }}"
"""

RETURN = r"""
protected:
  description: Whether the connection protects what is sent.
  returned: always
  type: bool
connection:
  description: The connection plugin.
  returned: always
  type: str
  sample: winrm
summary:
  description: The resolved connection settings the decision is based on.
  returned: always
  type: str
  sample: winrm https://...:5986 transport ntlm
problems:
  description: Why the connection does not protect what is sent (empty when it does).
  returned: always
  type: list
  elements: str
overridden:
  description: True when the connection is not protected and O(allow_insecure) let it through.
  returned: when overridden
  type: bool
"""
