"""Make ``ansible_collections.apexone.certificates`` importable from the source tree.

Unit tests import the collection by its real name, as ansible-test does. The repository root is the
collection root, so a symlink tree under .build/src gives it the ``ansible_collections/apexone/certificates``
path without copying anything.
"""

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(REPO, ".build", "src")


def _link_source_tree() -> None:
    namespace = os.path.join(SRC, "ansible_collections", "apexone")
    link = os.path.join(namespace, "certificates")
    os.makedirs(namespace, exist_ok=True)
    if not os.path.islink(link):
        os.symlink(REPO, link)
    if SRC not in sys.path:
        sys.path.insert(0, SRC)
    deps = os.path.join(REPO, ".build", "deps")
    if os.path.isdir(deps) and deps not in sys.path:
        sys.path.append(deps)


_link_source_tree()
