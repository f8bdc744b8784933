"""Static checks for the collection's PowerShell modules (no PowerShell needed).

There is no Windows and no pwsh where ``make test`` runs, so ``ansible-test sanity`` cannot run
``validate-modules``' PowerShell argument-spec comparison or ``pslint``. This helper gives the same
safety net statically:

* **Syntax**: every file is parsed with the tree-sitter PowerShell grammar (PyPI ``tree-sitter`` +
  ``tree-sitter-pwsh``); every ERROR/MISSING node is reported with file and line. A ``try`` without
  ``catch``/``finally`` is also reported (the grammar accepts it, PowerShell does not).
* **Headers**: ``#!powershell`` on the first line, ``#AnsibleRequires -CSharpUtil Ansible.Basic``,
  a ``.py`` doc stub (or ``.yml`` sidecar) next to the module, every ``#AnsibleRequires -PowerShell``
  util reference resolvable, and (collection policy) ``Set-StrictMode -Version 2.0`` or later.
  Why strict mode is enforced here: ansible-core 2.19's ``Ansible.Basic.cs`` and its module wrapper
  (``executor/powershell/module_wrapper.ps1``) only set ``$ErrorActionPreference = 'Stop'``; strict
  mode is set by nothing but the legacy ``Ansible.ModuleUtils.Legacy.psm1``. So an Ansible.Basic
  module runs without strict mode unless it sets it itself (as ansible.windows ``win_auto_logon``,
  ``win_dns_client``, ``win_hosts`` do). Our modules must set it.
* **Spec versus docs**: ``$spec`` (the hashtable passed to ``[Ansible.Basic.AnsibleModule]::Create``)
  is evaluated from the parse tree (never executed) and compared with the stub's DOCUMENTATION the
  way ansible-test ``validate-modules`` does it (same error codes): names, type, required, default,
  choices, elements, aliases, nested options/suboptions, no_log for secret-looking names, and
  ``supports_check_mode`` against ``attributes.check_mode.support``.
* **Footguns**: command aliases (``%``, ``?``, ``gci``, ``where``...), ``Write-Host``/``Write-Output``,
  ``Invoke-Expression``, ``ConvertTo-SecureString -AsPlainText``, ``Import-PfxCertificate``,
  ``Export-PfxCertificate``, secret (``no_log``/PFX) option values flowing into a file write or into
  results/messages, anything executed before ``Create()`` other than ``Set-StrictMode`` (ansible-test
  runs that part under pwsh on Linux), legacy ``Parse-Args``/``Fail-Json``, ``$module.Params.x`` for
  an option the spec does not have, empty ``catch`` blocks, and the layout rules of ansible-test's
  pslint settings (160 columns, no tabs, no trailing white space, ``}`` then newline before
  ``else``/``catch``/``finally``).

Grammar gaps (``GRAMMAR_GAPS``): tree-sitter-pwsh 0.38 rejects a few valid constructs. Each entry
rewrites exactly that construct to a same-length neutral text (so line numbers stay right) and the
file is parsed again; any error that remains is reported. A gap can therefore never hide a syntax
error outside the rewritten construct. Constructs that are *not* allow-listed because our code can
simply avoid them: one-line ``switch``/``function`` bodies with clauses on a single line, and a
command argument of the form ``$a.Method()[$i]``; write them over several lines or in parentheses.
"""

from __future__ import annotations

import ast
import glob
import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import tree_sitter
import tree_sitter_pwsh
import yaml

try:  # the type validators validate-modules uses to normalise defaults and choices
    from ansible.module_utils.common.parameters import DEFAULT_TYPE_VALIDATORS
except ImportError:  # pragma: no cover - ansible-core is in requirements-dev
    DEFAULT_TYPE_VALIDATORS = {}

LANGUAGE = tree_sitter.Language(tree_sitter_pwsh.language())
PARSER = tree_sitter.Parser(LANGUAGE)

# --------------------------------------------------------------------------------------------
# Findings
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: [{self.code}] {self.message}"


# --------------------------------------------------------------------------------------------
# Parsing and grammar gaps
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrammarGap:
    name: str
    reason: str
    rewrite: Callable[[str], str]


def _blank_generic_type_arguments(text: str) -> str:
    """``[Func[[Object], [Char]]]`` -> ``[Func__________________]`` (same length, one line)."""
    out = list(text)
    for match in re.finditer(r"\[[A-Za-z_][\w.`]*\[\[", text):
        start = match.start()
        depth = 0
        end = None
        for index in range(start, len(text)):
            char = text[index]
            if char == "\n":
                break
            if char == "[":
                depth += 1
            elif char == "]":
                depth -= 1
                if depth == 0:
                    end = index
                    break
        if end is None:
            continue  # unbalanced: leave it, the parser reports it
        name_end = text.index("[", start + 1)
        for index in range(name_end, end):
            out[index] = "_"
    return "".join(out)


def _blank_loop_labels(text: str) -> str:
    """``break outerLoop`` -> ``break          `` (same length)."""
    return re.sub(
        r"(?im)^(\s*(?:break|continue))([ \t]+)([A-Za-z_]\w*)[ \t]*$",
        lambda m: m.group(1) + " " * (len(m.group(2)) + len(m.group(3))),
        text,
    )


GRAMMAR_GAPS: tuple[GrammarGap, ...] = (
    GrammarGap(
        "generic-type-bracketed-arguments",
        "tree-sitter-pwsh 0.38 cannot parse generic type arguments written in brackets, e.g. "
        "[Func[[Object], [Char]]] (ansible.windows win_service.ps1, win_dsc.ps1)",
        _blank_generic_type_arguments,
    ),
    GrammarGap(
        "labelled-break-continue",
        "tree-sitter-pwsh 0.38 cannot parse 'break <label>' / 'continue <label>' (ansible.windows win_package.ps1)",
        _blank_loop_labels,
    ),
)


def parse(source: bytes) -> tree_sitter.Tree:
    return PARSER.parse(source)


def _error_nodes(node: tree_sitter.Node) -> Iterable[tree_sitter.Node]:
    if node.is_error or node.is_missing:
        yield node
        return
    if node.has_error:
        for child in node.children:
            yield from _error_nodes(child)


def syntax_errors(path: str, source: bytes | None = None) -> list[Finding]:
    """Parse errors of a PowerShell file after the documented grammar-gap rewrites."""
    if source is None:
        with open(path, "rb") as handle:
            source = handle.read()
    tree = parse(source)
    if tree.root_node.has_error:
        text = source.decode("utf-8", errors="surrogateescape")
        for gap in GRAMMAR_GAPS:
            text = gap.rewrite(text)
        source = text.encode("utf-8", errors="surrogateescape")
        tree = parse(source)
    findings = []
    for node in _error_nodes(tree.root_node):
        snippet = source[node.start_byte:node.end_byte].decode("utf-8", "replace").strip().splitlines()
        shown = snippet[0][:60] if snippet else ""
        kind = "missing " + node.type if node.is_missing else "unexpected"
        findings.append(Finding(path, node.start_point[0] + 1, "syntax", f"syntax error ({kind}) near '{shown}'"))
    for node in walk(tree.root_node):
        if node.type == "try_statement":
            kinds = {child.type for child in node.children}
            if not kinds & {"catch_clauses", "catch_clause", "finally_clause"}:
                findings.append(Finding(path, node.start_point[0] + 1, "syntax",
                                        "syntax error: 'try' without 'catch' or 'finally'"))
    return findings


def walk(node: tree_sitter.Node) -> Iterable[tree_sitter.Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def text_of(node: tree_sitter.Node) -> str:
    return node.text.decode("utf-8", "replace") if node.text is not None else ""


def line_of(node: tree_sitter.Node) -> int:
    return node.start_point[0] + 1


# --------------------------------------------------------------------------------------------
# Literal evaluation of $spec
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dynamic:
    """A spec value that is not a literal (a variable, a call...): it cannot be compared."""

    text: str

    def __repr__(self) -> str:
        return f"<dynamic {self.text}>"


class LDict(dict):
    """A dict evaluated from a hash literal; ``lines`` maps each key to its source line."""

    lines: dict[str, int]

    def __init__(self) -> None:
        super().__init__()
        self.lines = {}


_PASSTHROUGH = {
    "pipeline", "pipeline_chain", "unary_expression", "assignment_value", "argument_expression",
    "statement_list", "logical_expression", "bitwise_expression", "comparison_expression",
    "additive_expression", "multiplicative_expression", "format_expression", "range_expression",
    "array_literal_expression_wrapper",
}


def _named(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    return [child for child in node.children if child.is_named and child.type != "comment"]


def evaluate(node: tree_sitter.Node, env: dict[str, Any] | None = None) -> Any:
    """Evaluate a PowerShell literal expression to Python; anything else becomes ``Dynamic``."""
    env = env or {}
    kind = node.type
    named = _named(node)
    if kind in _PASSTHROUGH and len(named) == 1:
        return evaluate(named[0], env)
    if kind == "parenthesized_expression" and len(named) == 1:
        return evaluate(named[0], env)
    if kind == "array_expression":  # @( ... ), one statement or several (one per line)
        statements = named
        if len(named) == 1 and named[0].type == "statement_list":
            statements = _named(named[0])
        items: list[Any] = []
        for statement in statements:
            value = evaluate(statement, env)
            if isinstance(value, list):
                items.extend(value)
            else:
                items.append(value)
        return items
    if kind == "array_literal_expression":  # a, b, c
        return [evaluate(child, env) for child in named]
    if kind == "expression_with_unary_operator":
        operator = node.children[0].type if node.children else ""
        if operator == "," and named:
            return [evaluate(named[-1], env)]
        if operator == "-" and named:
            value = evaluate(named[-1], env)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return -value
        return Dynamic(text_of(node))
    if kind == "hash_literal_expression":
        result = LDict()
        body = next((child for child in node.children if child.type == "hash_literal_body"), None)
        if body is not None:
            for entry in body.children:
                if entry.type != "hash_entry":
                    continue
                parts = _named(entry)
                if len(parts) < 2:
                    continue
                key = _key_text(parts[0])
                result[key] = evaluate(parts[1], env)
                result.lines[key] = line_of(entry)
        return result
    if kind == "string_literal" and named:
        return evaluate(named[0], env)
    if kind == "verbatim_string_characters":
        return text_of(node)[1:-1].replace("''", "'")
    if kind == "expandable_string_literal":
        inner = text_of(node)[1:-1]
        if "$" in inner or "`" in inner:
            return Dynamic(text_of(node))
        return inner.replace('""', '"')
    if kind == "verbatim_here_string_characters":
        raw = text_of(node)
        return re.sub(r"^@'\r?\n|\r?\n'@$", "", raw)
    if kind == "integer_literal":
        raw = text_of(node).lower()
        try:
            return int(raw, 16) if raw.startswith("0x") else int(raw)
        except ValueError:
            return Dynamic(raw)
    if kind == "real_literal":
        try:
            return float(text_of(node))
        except ValueError:
            return Dynamic(text_of(node))
    if kind == "variable":
        name = text_of(node).lower()
        if name == "$true":
            return True
        if name == "$false":
            return False
        if name == "$null":
            return None
        if name in env:
            return env[name]
        return Dynamic(text_of(node))
    return Dynamic(text_of(node))


def _key_text(node: tree_sitter.Node) -> str:
    raw = text_of(node).strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return raw[1:-1]
    return raw


# --------------------------------------------------------------------------------------------
# Module structure: Create() call, $spec, top-level statements
# --------------------------------------------------------------------------------------------


@dataclass
class ModuleInfo:
    path: str
    source: bytes
    tree: tree_sitter.Tree
    create_node: tree_sitter.Node | None = None
    create_statement_index: int | None = None
    spec: Any = None
    spec_line: int = 0
    spec_fragments: bool = False
    top_statements: list[tree_sitter.Node] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.source.decode("utf-8", "replace")

    @property
    def options(self) -> dict[str, Any]:
        if isinstance(self.spec, dict) and isinstance(self.spec.get("options"), dict):
            return self.spec["options"]
        return {}


def _is_create_call(node: tree_sitter.Node) -> bool:
    if node.type != "invocation_expression":
        return False
    children = node.children
    if not children or children[0].type != "type_literal":
        return False
    type_name = text_of(children[0]).strip("[]").lower()
    member = next((child for child in children if child.type == "member_name"), None)
    return type_name.endswith("ansible.basic.ansiblemodule") and member is not None and text_of(member).lower() == "create"


def _top_statements(tree: tree_sitter.Tree) -> list[tree_sitter.Node]:
    root = tree.root_node
    statements: list[tree_sitter.Node] = []
    for child in root.children:
        if child.type == "statement_list":
            statements.extend(c for c in child.children if c.is_named and c.type != "comment")
        elif child.is_named and child.type != "comment":
            statements.append(child)
    return statements


def _contains(outer: tree_sitter.Node, inner: tree_sitter.Node) -> bool:
    return outer.start_byte <= inner.start_byte and inner.end_byte <= outer.end_byte


def _assignment_parts(node: tree_sitter.Node) -> tuple[str, tree_sitter.Node] | None:
    """(lower-case variable name, value node) for ``$x = value`` statements."""
    target = node
    while target.type in ("pipeline", "pipeline_chain") and len(_named(target)) == 1:
        target = _named(target)[0]
    if target.type != "assignment_expression":
        return None
    left = next((c for c in target.children if c.type == "left_assignment_expression"), None)
    value = next((c for c in target.children if c.type == "assignment_value"), None)
    if left is None or value is None:
        return None
    return text_of(left).strip().lower(), value


def load_module(path: str, source: bytes | None = None) -> ModuleInfo:
    if source is None:
        with open(path, "rb") as handle:
            source = handle.read()
    tree = parse(source)
    info = ModuleInfo(path=path, source=source, tree=tree, top_statements=_top_statements(tree))
    create = next((node for node in walk(tree.root_node) if _is_create_call(node)), None)
    if create is None:
        return info
    info.create_node = create
    for index, statement in enumerate(info.top_statements):
        if _contains(statement, create):
            info.create_statement_index = index
            break
    arg_list = next((c for c in create.children if c.type == "argument_list"), None)
    args = []
    if arg_list is not None:
        expr_list = next((c for c in arg_list.children if c.type == "argument_expression_list"), None)
        if expr_list is not None:
            args = [c for c in expr_list.children if c.type == "argument_expression"]
    info.spec_fragments = len(args) > 2
    if len(args) < 2:
        return info
    spec_arg = args[1]
    # literal environment: top-level $x = <literal> before Create()
    env: dict[str, Any] = {}
    spec_node = None
    limit = info.create_statement_index if info.create_statement_index is not None else len(info.top_statements)
    arg_text = text_of(spec_arg).strip().lower()
    for statement in info.top_statements[:limit]:
        parts = _assignment_parts(statement)
        if parts is None:
            continue
        name, value = parts
        if name == arg_text:
            spec_node = value
        else:
            evaluated = evaluate(value, env)
            env[name] = evaluated
    if spec_node is None and not arg_text.startswith("$"):
        spec_node = spec_arg
    if spec_node is not None:
        info.spec = evaluate(spec_node, env)
        info.spec_line = line_of(spec_node)
    return info


# --------------------------------------------------------------------------------------------
# Documentation
# --------------------------------------------------------------------------------------------

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
DEPS = os.path.join(REPO, ".build", "deps", "ansible_collections")
OWN_COLLECTION = "apexone.certificates"


def stub_path(ps1_path: str) -> str | None:
    base = os.path.splitext(ps1_path)[0]
    for extension in (".py", ".yml"):
        if os.path.isfile(base + extension):
            return base + extension
    return None


def _py_strings(path: str) -> dict[str, str]:
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), filename=path)
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                found[node.targets[0].id] = node.value.value
    return found


def load_doc_strings(stub: str) -> dict[str, Any]:
    """{'DOCUMENTATION': dict, 'EXAMPLES': str|list, 'RETURN': dict} from a .py stub or .yml sidecar."""
    if stub.endswith(".yml"):
        with open(stub, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
        return {key: data.get(key) for key in ("DOCUMENTATION", "EXAMPLES", "RETURN")}
    strings = _py_strings(stub)
    result: dict[str, Any] = {}
    for key in ("DOCUMENTATION", "EXAMPLES", "RETURN"):
        raw = strings.get(key)
        result[key] = yaml.safe_load(raw) if raw is not None else None
    return result


def _fragment_file(name: str, own_root: str) -> tuple[str | None, str]:
    """(file, variable) of a doc fragment name such as ``ansible.builtin.action_common_attributes``."""
    parts = name.split(".")
    variable = "DOCUMENTATION"
    if len(parts) in (1, 2) or (len(parts) >= 3 and parts[0] == "ansible" and parts[1] == "builtin"):
        plain = parts[2:] if parts[:2] == ["ansible", "builtin"] else parts
        if len(plain) == 2:
            variable = plain[1].upper()
        try:
            import ansible.plugins.doc_fragments as core_fragments
        except ImportError:  # pragma: no cover
            return None, variable
        candidate = os.path.join(os.path.dirname(core_fragments.__file__), plain[0] + ".py")
        return (candidate if os.path.isfile(candidate) else None), variable
    namespace, collection, fragment = parts[0], parts[1], parts[2]
    if len(parts) == 4:
        variable = parts[3].upper()
    roots = []
    if f"{namespace}.{collection}" == OWN_COLLECTION:
        roots.append(own_root)
    roots.append(os.path.join(DEPS, namespace, collection))
    for root in roots:
        candidate = os.path.join(root, "plugins", "doc_fragments", fragment + ".py")
        if os.path.isfile(candidate):
            return candidate, variable
    return None, variable


def _fragment_doc(path: str, variable: str) -> dict[str, Any] | None:
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), filename=path)
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "ModuleDocFragment":
            for item in node.body:
                if (isinstance(item, ast.Assign) and len(item.targets) == 1 and isinstance(item.targets[0], ast.Name)
                        and item.targets[0].id == variable and isinstance(item.value, ast.Constant)):
                    return yaml.safe_load(item.value.value) or {}
    return None


def resolve_fragments(doc: dict[str, Any], own_root: str = REPO) -> tuple[dict[str, Any], list[str]]:
    """DOCUMENTATION with extends_documentation_fragment merged in, plus the fragment names not found.

    Same semantics as ansible's ``plugin_docs.add_fragments``/``merge_fragment``: each option (and
    each attribute) is merged key by key with the module's keys winning; lists are joined.
    """
    doc = dict(doc)
    missing: list[str] = []
    for name in doc.get("extends_documentation_fragment") or []:
        path, variable = _fragment_file(name, own_root)
        fragment = _fragment_doc(path, variable) if path else None
        if fragment is None:
            missing.append(name)
            continue
        for section in ("options", "attributes"):
            if section in fragment:
                merged = {key: dict(value or {}) for key, value in (fragment[section] or {}).items()}
                for key, value in (doc.get(section) or {}).items():
                    merged[key] = {**merged.get(key, {}), **(value or {})}
                doc[section] = merged
        for key, value in fragment.items():
            if key in ("options", "attributes"):
                continue
            if key not in doc:
                doc[key] = value
            elif isinstance(doc[key], dict) and isinstance(value, dict):
                doc[key] = {**value, **doc[key]}
            elif isinstance(doc[key], list) and isinstance(value, list):
                doc[key] = value + doc[key]
    return doc, missing


# --------------------------------------------------------------------------------------------
# Spec versus documentation (semantics and codes of ansible-test validate-modules)
# --------------------------------------------------------------------------------------------

NO_LOG_REGEX = re.compile(r"(?:pass(?!ive)|secret|token|key)", re.I)


def is_potential_secret_option(name: str) -> bool:
    """Copy of validate-modules' heuristic (ansible-test 2.19 validate_modules/main.py)."""
    if not NO_LOG_REGEX.search(name):
        return False
    if name.endswith(("_count", "_type", "_alg", "_algorithm", "_timeout", "_name", "_comment", "_bits", "_id",
                      "_identifier", "_period", "_file", "_filename")):
        return False
    if any(part in name for part in ("publickey", "public_key", "keyusage", "key_usage", "keyserver", "key_server",
                                     "keysize", "key_size", "keyservice", "key_service", "pub_key", "pubkey",
                                     "keyboard", "secretary")):
        return False
    return True


def _normalise(value: Any, type_name: str) -> Any:
    checker = DEFAULT_TYPE_VALIDATORS.get(type_name)
    if checker is None or value is None:
        return value
    try:
        return checker(value)
    except Exception:  # reported by the caller as an incompatible value
        raise ValueError(f"{value!r} is not a valid {type_name}") from None


def _same_members(a: list, b: list) -> bool:
    return len(a) == len(b) and all(x in b for x in a) and all(x in a for x in b)


def compare_options(path: str, spec_options: dict[str, Any], doc_options: dict[str, Any], context: list[str],
                    lines: dict[str, int], default_line: int, strict_literals: bool,
                    completed_elsewhere: bool = False) -> list[Finding]:
    """Compare one level of options. ``strict_literals`` adds this collection's policy (literal
    values only, no aliases on required options). ``completed_elsewhere``: Create() also merges
    spec fragments, so an option without ``type`` here is completed at run time; only its names
    are compared."""
    findings: list[Finding] = []
    where = f" found in {' -> '.join(context)}" if context else ""
    doc_options = doc_options or {}

    def add(arg: str, code: str, message: str) -> None:
        findings.append(Finding(path, lines.get(arg, default_line), code, message))

    spec_names: set[str] = set()
    for arg, data in spec_options.items():
        if isinstance(data, Dynamic) or not isinstance(data, dict):
            if strict_literals:
                add(arg, "spec-not-literal", f"Argument '{arg}'{where} is not a literal hashtable: {data!r}")
            continue
        aliases = data.get("aliases") or []
        if isinstance(aliases, str):
            aliases = [aliases]
        spec_names.add(arg)
        spec_names.update(a for a in aliases if isinstance(a, str))
        if strict_literals:
            for key, value in data.items():
                if isinstance(value, Dynamic):
                    add(arg, "spec-not-literal", f"Argument '{arg}'{where} has a non-literal '{key}': {value.text}")
        if completed_elsewhere and "type" not in data:
            doc_aliases = set((doc_options.get(arg) or {}).get("aliases") or [])
            if arg in doc_options and set(aliases) != doc_aliases:
                add(arg, "parameter-documented-aliases-differ",
                    f"Argument '{arg}' in argument_spec{where} has aliases {sorted(aliases)}, "
                    f"but its documentation has aliases {sorted(doc_aliases)}")
            continue
        type_name = data.get("type", "str")
        if not isinstance(type_name, str):
            if strict_literals:
                add(arg, "spec-not-literal", f"Argument '{arg}'{where} has a non-literal type: {type_name!r}")
            continue
        if data.get("required") is True and "default" in data:
            add(arg, "no-default-for-required-parameter",
                f"Argument '{arg}' in argument_spec{where} is marked as required but specifies a default")
        if type_name == "list" and not data.get("elements"):
            add(arg, "parameter-list-no-elements",
                f"Argument '{arg}' in argument_spec{where} defines type as list but elements is not defined")
        if strict_literals and data.get("required") is True and aliases:
            add(arg, "required-option-alias", f"Argument '{arg}'{where} is required and has aliases {aliases}")
        no_log = data.get("no_log")
        if (no_log is None and is_potential_secret_option(arg) and type_name not in ("path", "bool")
                and data.get("choices") is None):
            add(arg, "no-log-needed",
                f"Argument '{arg}' in argument_spec{where} could be a secret, though doesn't have `no_log` set")

        documented = [name for name in sorted({arg, *aliases}) if name in doc_options]
        if not documented:
            add(arg, "undocumented-parameter",
                f"Argument '{arg}'{where} is listed in the argument_spec, but not documented in the module documentation")
            continue
        doc = doc_options[documented[0]] or {}

        doc_aliases = set(doc.get("aliases") or [])
        if {arg, *aliases} != {documented[0], *doc_aliases}:
            add(arg, "parameter-documented-aliases-differ",
                f"Argument '{arg}' in argument_spec{where} has names {sorted({arg, *aliases})}, "
                f"but its documentation has names {sorted({documented[0], *doc_aliases})}")

        doc_type = doc.get("type")
        if "type" in data:
            if doc_type is None and not arg.startswith("_"):
                add(arg, "parameter-type-not-in-doc",
                    f"Argument '{arg}' in argument_spec{where} defines type as '{type_name}' but documentation doesn't define type")
            elif doc_type is not None and doc_type != type_name:
                add(arg, "doc-type-does-not-match-spec",
                    f"Argument '{arg}' in argument_spec{where} defines type as '{type_name}' but documentation defines type as '{doc_type}'")
        elif doc_type is None:
            add(arg, "doc-missing-type", f"Argument '{arg}' in argument_spec{where} uses default type ('str') but documentation doesn't define type")
        elif doc_type != "str":
            add(arg, "implied-parameter-type-mismatch",
                f"Argument '{arg}' in argument_spec{where} implies type as 'str' but documentation defines as '{doc_type}'")

        spec_default = data.get("default")
        if not isinstance(spec_default, Dynamic):
            try:
                spec_default_n = _normalise(spec_default, type_name)
                doc_default_n = _normalise(doc.get("default"), type_name)
            except ValueError as exc:
                add(arg, "incompatible-default-type", f"Argument '{arg}'{where} default: {exc}")
            else:
                if spec_default_n != doc_default_n:
                    add(arg, "doc-default-does-not-match-spec",
                        f"Argument '{arg}' in argument_spec{where} defines default as ({spec_default_n!r}) "
                        f"but documentation defines default as ({doc_default_n!r})")

        spec_choices = data.get("choices")
        if not isinstance(spec_choices, Dynamic) and not (isinstance(spec_choices, list) and any(isinstance(c, Dynamic) for c in spec_choices)):
            if isinstance(spec_choices, (str, int, float)):
                spec_choices = [spec_choices]
            element_type = data.get("elements", type_name) if type_name == "list" else type_name
            try:
                spec_choices_n = [_normalise(c, element_type) for c in (spec_choices or [])]
                doc_choices_n = [_normalise(c, element_type) for c in (doc.get("choices") or [])]
            except ValueError as exc:
                add(arg, "incompatible-choices", f"Argument '{arg}'{where} choices: {exc}")
            else:
                if not _same_members(spec_choices_n, doc_choices_n):
                    add(arg, "doc-choices-do-not-match-spec",
                        f"Argument '{arg}' in argument_spec{where} defines choices as ({spec_choices_n!r}) "
                        f"but documentation defines choices as ({doc_choices_n!r})")

        spec_required = data.get("required", False) is True
        doc_required = doc.get("required", False) is True
        if spec_required != doc_required:
            state = "is required, but is not documented as being required" if spec_required else \
                "is not required, but is documented as being required"
            add(arg, "doc-required-mismatch", f"Argument '{arg}' in argument_spec{where} {state}")

        spec_elements = data.get("elements")
        doc_elements = doc.get("elements")
        if (spec_elements or doc_elements) and spec_elements != doc_elements:
            add(arg, "doc-elements-mismatch",
                f"Argument '{arg}' in argument_spec{where} specifies elements as {spec_elements!r}, "
                f"but elements is documented as being {doc_elements!r}")

        sub_spec = data.get("options")
        if isinstance(sub_spec, dict) and sub_spec:
            doc_sub = doc.get("suboptions") or {}
            if not doc_sub:
                add(arg, "missing-suboption-docs",
                    f"Argument '{arg}' in argument_spec{where} has sub-options but documentation does not define it")
            sub_lines = sub_spec.lines if isinstance(sub_spec, LDict) else {}
            findings.extend(compare_options(path, sub_spec, doc_sub, [*context, arg], sub_lines,
                                            lines.get(arg, default_line), strict_literals))
        elif doc.get("suboptions") and not isinstance(sub_spec, Dynamic):
            add(arg, "nonexistent-parameter-documented",
                f"Argument '{arg}'{where} documents suboptions that the argument_spec does not have")

    for name, doc in doc_options.items():
        names = {name, *((doc or {}).get("aliases") or [])}
        if not names & spec_names and name not in spec_options:
            findings.append(Finding(path, default_line, "nonexistent-parameter-documented",
                                    f"Argument '{name}'{where} is listed in DOCUMENTATION.options, but not accepted by the module argument_spec"))
    return findings


def compare_spec_with_doc(info: ModuleInfo, doc: dict[str, Any] | None, *, require_attributes: bool,
                          strict_literals: bool, own_root: str = REPO) -> list[Finding]:
    path = info.path
    if info.create_node is None:
        return [Finding(path, 1, "no-create", "no [Ansible.Basic.AnsibleModule]::Create($args, $spec) call found")]
    if not isinstance(info.spec, dict):
        if not strict_literals:
            return []  # e.g. win_dsc builds its spec at run time; validate-modules skips it too
        return [Finding(path, line_of(info.create_node), "spec-not-literal",
                        f"the spec passed to Create() is not a literal hashtable: {info.spec!r}")]
    if doc is None:
        return [Finding(path, 1, "missing-documentation", "the doc stub has no DOCUMENTATION")]
    findings: list[Finding] = []
    doc, missing = resolve_fragments(doc, own_root)
    for name in missing:
        findings.append(Finding(path, 1, "doc-fragment-unresolved", f"documentation fragment '{name}' not found"))
    spec_options = info.spec.get("options") or {}
    if isinstance(spec_options, Dynamic):
        if not strict_literals:
            return findings
        return [*findings, Finding(path, info.spec_line, "spec-not-literal", f"options is not literal: {spec_options.text}")]
    lines = spec_options.lines if isinstance(spec_options, LDict) else {}
    doc_options = doc.get("options") or {}
    if info.spec_fragments:
        # Create($args, $spec, @(Get-...Spec)): options come from elsewhere too, so extra documented
        # options cannot be judged; still compare every option the literal spec has.
        doc_options = {k: v for k, v in doc_options.items() if k in spec_options}
    findings.extend(compare_options(path, spec_options, doc_options, [], lines, info.spec_line, strict_literals,
                                    completed_elsewhere=info.spec_fragments))

    supports = info.spec.get("supports_check_mode", False)
    check_mode = (doc.get("attributes") or {}).get("check_mode")
    if isinstance(check_mode, dict) and "support" in check_mode:
        support = check_mode.get("support")
        if supports is True and support not in ("full", "partial", "N/A"):
            findings.append(Finding(path, info.spec_line, "attributes-check-mode",
                                    f"The module does declare support for check mode, but the check_mode attribute's support value is '{support}'"))
        if supports is not True and support != "none":
            findings.append(Finding(path, info.spec_line, "attributes-check-mode",
                                    "The module does not declare support for check mode, but the check_mode attribute's "
                                    f"support value is '{support}' and not 'none'"))
    elif require_attributes:
        findings.append(Finding(path, 1, "attributes-check-mode",
                                "DOCUMENTATION has no attributes.check_mode.support to compare with supports_check_mode"))
    return findings


# --------------------------------------------------------------------------------------------
# Headers
# --------------------------------------------------------------------------------------------

ANSIBLE_BASIC_RE = re.compile(r"(?im)^#\s*ansiblerequires\s+-csharputil\s+Ansible\.Basic\s*$")
PS_UTIL_RE = re.compile(r"(?im)^#\s*ansiblerequires\s+-powershell\s+(\S+)\s*$")
LEGACY_RE = re.compile(r"(?im)^#\s*requires\s+-module\s+Ansible\.ModuleUtils\.Legacy\b")
STRICT_RE = re.compile(r"(?im)^\s*Set-StrictMode\s+-Version\s+(?:'|\")?(\d+(?:\.\d+)?|latest)(?:'|\")?\s*$")


def resolve_ps_util(module_path: str, reference: str) -> str | None:
    """Path of a '#AnsibleRequires -PowerShell' util, or None when it cannot be found."""
    modules_dir = os.path.dirname(os.path.abspath(module_path))
    plugins_dir = os.path.dirname(modules_dir)
    if reference.startswith(".."):
        relative = reference[2:].replace(".", os.sep)
        candidate = os.path.join(plugins_dir, relative + ".psm1")
        return candidate if os.path.isfile(candidate) else None
    if reference.startswith("Ansible.ModuleUtils."):
        try:
            import ansible.module_utils.powershell as core_ps
        except ImportError:  # pragma: no cover
            return None
        candidate = os.path.join(os.path.dirname(core_ps.__file__), reference + ".psm1")
        return candidate if os.path.isfile(candidate) else None
    match = re.match(r"ansible_collections\.(\w+)\.(\w+)\.plugins\.module_utils\.([\w.]+)$", reference)
    if match:
        namespace, collection, name = match.groups()
        roots = [os.path.join(DEPS, namespace, collection)]
        if f"{namespace}.{collection}" == OWN_COLLECTION:
            roots.insert(0, plugins_dir and os.path.dirname(plugins_dir))
        for root in roots:
            candidate = os.path.join(root, "plugins", "module_utils", name.replace(".", os.sep) + ".psm1")
            if os.path.isfile(candidate):
                return candidate
    return None


def header_findings(path: str, text: str, *, require_strict_mode: bool) -> list[Finding]:
    findings: list[Finding] = []
    first = text.splitlines()[0] if text else ""
    if first.rstrip() != "#!powershell":
        findings.append(Finding(path, 1, "shebang", f"the first line must be '#!powershell', not '{first[:40]}'"))
    if not ANSIBLE_BASIC_RE.search(text):
        findings.append(Finding(path, 1, "ansible-basic", "missing '#AnsibleRequires -CSharpUtil Ansible.Basic'"))
    if LEGACY_RE.search(text):
        findings.append(Finding(path, 1, "legacy-module-util", "uses the legacy Ansible.ModuleUtils.Legacy util"))
    if stub_path(path) is None:
        findings.append(Finding(path, 1, "missing-doc-stub", f"no {os.path.basename(os.path.splitext(path)[0])}.py documentation stub next to the module"))
    for match in PS_UTIL_RE.finditer(text):
        if resolve_ps_util(path, match.group(1)) is None:
            line = text.count("\n", 0, match.start()) + 1
            findings.append(Finding(path, line, "module-util-missing", f"module util '{match.group(1)}' not found"))
    if require_strict_mode:
        versions = [m.group(1).lower() for m in STRICT_RE.finditer(text)]
        good = [v for v in versions if v == "latest" or float(v) >= 2.0]
        if not good:
            findings.append(Finding(path, 1, "strict-mode",
                                    "the module must call 'Set-StrictMode -Version 2.0' (or later): Ansible.Basic does not enable strict mode"))
    return findings


# --------------------------------------------------------------------------------------------
# Footguns
# --------------------------------------------------------------------------------------------

# Built-in aliases of Windows PowerShell 5.1 (Get-Alias on a default install) plus the ones of
# PowerShell 7 that differ. ansible-test pslint (PSAvoidUsingCmdletAliases) rejects them all.
POWERSHELL_ALIASES = frozenset("""
% ? ac asnp cat cd cfs chdir clc clear clhy cli clp cls clv cnsn compare copy cp cpi cpp curl cvpa dbp del diff
dir dnsn ebp echo epal epcsv epsn erase etsn exsn fc fhx fl foreach ft fw gal gbp gc gcb gci gcm gcs gdr ghy gi
gin gjb gl gm gmo gp gps gpv group gsn gsnp gsv gtz gu gv gwmi h history icm iex ihy ii ipal ipcsv ipmo ipsn irm
ise iwmi iwr kill lp ls man md measure mi mount move mp mv nal ndr ni nmo npssc nsn nv ogv oh popd ps pushd pwd r
rbp rcjb rcsn rd rdr ren ri rjb rm rmdir rmo rni rnp rp rsn rsnp rujb rv rvpa rwmi sajb sal saps sasv sbp sc scb
select set shcm si sl sleep sls sort sp spjb spps spsv start stz sujb sv swmi tee trcm type wget where wjb write
""".split())

FORBIDDEN_COMMANDS = {
    "write-host": ("write-host", "Write-Host writes to the host, not to the module result; use $module.Result / $module.Warn"),
    "write-output": ("write-output", "Write-Output corrupts the module's JSON output; put results in $module.Result"),
    "out-host": ("write-host", "Out-Host writes to the host, not to the module result"),
    "invoke-expression": ("invoke-expression", "Invoke-Expression runs arbitrary strings; call commands directly"),
    "import-pfxcertificate": ("import-pfxcertificate",
                              "Import-PfxCertificate cannot set MachineKeySet|PersistKeySet; use X509Certificate2Collection.Import and X509Store"),
    "export-pfxcertificate": ("pfx-to-disk", "Export-PfxCertificate writes a PFX (private key) to disk"),
    "parse-args": ("legacy-module-util", "Parse-Args is the legacy module style; use [Ansible.Basic.AnsibleModule]::Create"),
    "get-ansibleparam": ("legacy-module-util", "Get-AnsibleParam is the legacy module style; use $module.Params"),
    "fail-json": ("legacy-module-util", "Fail-Json is the legacy module style; use $module.FailJson"),
    "exit-json": ("legacy-module-util", "Exit-Json is the legacy module style; use $module.ExitJson"),
}

FILE_WRITE_COMMANDS = {"set-content", "add-content", "out-file", "new-item", "export-clixml"}
FILE_WRITE_METHODS = re.compile(
    r"(?i)\[(?:system\.)?io\.file\]::(?:writeallbytes|writealltext|writealllines|appendalltext|appendalllines|create|openwrite)\b")
OUTPUT_METHODS = re.compile(r"(?i)\$module\.(?:failjson|warn|deprecate|exitjson)\s*\(")
PFX_NAME_RE = re.compile(r"(?i)pfx|pkcs12|p12")
DICTIONARY_MEMBERS = {"keys", "values", "count", "containskey", "item", "comparer"}
BEFORE_CREATE_ALLOWED = re.compile(r"(?i)^(?:set-strictmode|get-[\w-]*spec)$")


def _command_name(node: tree_sitter.Node) -> str | None:
    name = next((c for c in node.children if c.type == "command_name"), None)
    return text_of(name) if name is not None else None


def secret_options(info: ModuleInfo) -> set[str]:
    names = set()
    for name, data in info.options.items():
        if isinstance(data, dict) and data.get("no_log") is True:
            names.add(name.lower())
        if PFX_NAME_RE.search(name):
            names.add(name.lower())
    return names


def _tainted_variables(info: ModuleInfo, secrets: set[str]) -> set[str]:
    if not secrets:
        return set()
    param_re = re.compile(
        r"(?i)\$module\.params(?:\.|\[\s*['\"])(?:" + "|".join(re.escape(s) for s in secrets) + r")\b")
    assignments = []
    for node in walk(info.tree.root_node):
        if node.type == "assignment_expression":
            parts = _assignment_parts(node)
            if parts is not None and re.fullmatch(r"\$[\w:]+", parts[0]):
                assignments.append((parts[0].split(":")[-1].lstrip("$"), text_of(parts[1])))
    tainted: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, value in assignments:
            if name in tainted:
                continue
            if param_re.search(value) or any(re.search(r"(?i)\$(?:\w+:)?" + re.escape(t) + r"\b", value) for t in tainted):
                tainted.add(name)
                changed = True
    return tainted


def _references_secret(text: str, secrets: set[str], tainted: set[str]) -> bool:
    if secrets and re.search(r"(?i)\$module\.params(?:\.|\[\s*['\"])(?:" + "|".join(re.escape(s) for s in secrets) + r")\b", text):
        return True
    return any(re.search(r"(?i)\$(?:\w+:)?" + re.escape(t) + r"\b", text) for t in tainted)


def footgun_findings(info: ModuleInfo, *, is_module: bool = True) -> list[Finding]:
    path = info.path
    findings: list[Finding] = []
    secrets = secret_options(info)
    tainted = _tainted_variables(info, secrets)
    known_params = {name.lower() for name in info.options}

    # before Create(): only Set-StrictMode, spec hashtables and function definitions
    if is_module and info.create_statement_index is not None:
        for statement in info.top_statements[:info.create_statement_index]:
            if statement.type == "function_statement":
                continue
            for node in walk(statement):
                if node.type == "command":
                    name = _command_name(node) or text_of(node).split()[0]
                    if not BEFORE_CREATE_ALLOWED.match(name):
                        findings.append(Finding(path, line_of(node), "before-create",
                                                f"'{name}' runs before Create(); ansible-test runs that part under pwsh on Linux, "
                                                "so only Set-StrictMode and spec hashtables may come first"))
                elif node.type in ("invocation_expression", "member_access") and node.children \
                        and node.children[0].type == "type_literal" and not _is_create_call(node) \
                        and not (node.parent is not None and node.parent.type == "invocation_expression"):
                    findings.append(Finding(path, line_of(node), "before-create",
                                            f"'{text_of(node).splitlines()[0][:60]}' runs before Create(); move it after Create()"))

    for node in walk(info.tree.root_node):
        kind = node.type
        if kind == "command":
            name = _command_name(node)
            if name is None:
                continue
            lower = name.lower()
            if lower in POWERSHELL_ALIASES:
                findings.append(Finding(path, line_of(node), "alias",
                                        f"'{name}' is an alias; write the full cmdlet name (PSAvoidUsingCmdletAliases)"))
            if lower in FORBIDDEN_COMMANDS:
                code, message = FORBIDDEN_COMMANDS[lower]
                findings.append(Finding(path, line_of(node), code, message))
            command_text = text_of(node)
            if lower == "convertto-securestring" and re.search(r"(?i)-asplaintext\b", command_text):
                findings.append(Finding(path, line_of(node), "plaintext-password",
                                        "ConvertTo-SecureString -AsPlainText keeps the secret as plain text in memory and logs; "
                                        "pass the password string straight to the .NET API"))
            if lower in FILE_WRITE_COMMANDS:
                if _references_secret(command_text, secrets, tainted):
                    findings.append(Finding(path, line_of(node), "pfx-to-disk",
                                            f"{name} writes a secret option (PFX/password) to disk"))
                elif re.search(r"(?i)\.(?:pfx|p12)\b", command_text):
                    findings.append(Finding(path, line_of(node), "pfx-to-disk", f"{name} writes a .pfx/.p12 file"))
        elif kind == "invocation_expression":
            call_text = text_of(node)
            if FILE_WRITE_METHODS.match(call_text):
                if _references_secret(call_text, secrets, tainted):
                    findings.append(Finding(path, line_of(node), "pfx-to-disk",
                                            f"'{call_text[:50]}' writes a secret option (PFX/password) to disk"))
                elif re.search(r"(?i)\.(?:pfx|p12)\b", call_text):
                    findings.append(Finding(path, line_of(node), "pfx-to-disk", f"'{call_text[:50]}' writes a .pfx/.p12 file"))
            if OUTPUT_METHODS.match(call_text):
                arg_list = next((c for c in node.children if c.type == "argument_list"), None)
                first_arg = ""
                if arg_list is not None:
                    exprs = [c for c in walk(arg_list) if c.type == "argument_expression"]
                    first_arg = text_of(exprs[0]) if exprs else ""
                if _references_secret(first_arg, secrets, tainted):
                    findings.append(Finding(path, line_of(node), "secret-in-output",
                                            "a secret option (no_log/PFX) is put into a module message"))
        elif kind == "assignment_expression":
            parts = _assignment_parts(node)
            if parts is not None and parts[0].startswith(("$module.result", "$module.diff")):
                if _references_secret(text_of(parts[1]), secrets, tainted):
                    findings.append(Finding(path, line_of(node), "secret-in-output",
                                            f"a secret option (no_log/PFX) is put into {parts[0]}"))
        elif kind == "member_access" and is_module and known_params:
            text = text_of(node)
            match = re.fullmatch(r"(?is)\$module\.params\.(\w+)", text)
            if match and match.group(1).lower() not in known_params | DICTIONARY_MEMBERS:
                findings.append(Finding(path, line_of(node), "unknown-param",
                                        f"$module.Params.{match.group(1)} is not an option of the spec"))
        elif kind == "catch_clause":
            block = next((c for c in node.children if c.type == "statement_block"), None)
            if block is not None and not any(c.type == "statement_list" for c in block.children):
                findings.append(Finding(path, line_of(node), "empty-catch",
                                        "empty catch block hides errors (PSAvoidUsingEmptyCatchBlock)"))
        if kind in ("else_clause", "elseif_clause", "catch_clause", "finally_clause"):
            previous = node.prev_sibling
            if previous is None and node.parent is not None and node.parent.type.endswith("_clauses"):
                previous = node.parent.prev_sibling
            # pslint's PSPlaceCloseBrace (NewLineAfter, IgnoreOneLineBlock): a '}' that closes a
            # multi-line block is followed by a newline.
            if (previous is not None and previous.end_point[0] == node.start_point[0]
                    and previous.start_point[0] != previous.end_point[0]):
                findings.append(Finding(path, line_of(node), "brace-style",
                                        f"'{text_of(node).split()[0]}' must start on the line after '}}' (pslint PSPlaceCloseBrace)"))

    for number, line in enumerate(info.text.splitlines(), start=1):
        if len(line) > 160:
            findings.append(Finding(path, number, "long-line", f"line is {len(line)} characters long; pslint allows 160"))
        if "\t" in line:
            findings.append(Finding(path, number, "tab", "tab character; indent with 4 spaces (pslint)"))
        if line != line.rstrip():
            findings.append(Finding(path, number, "trailing-whitespace", "trailing white space (pslint PSAvoidTrailingWhitespace)"))
    return sorted(set(findings), key=lambda f: (f.line, f.code, f.message))


# --------------------------------------------------------------------------------------------
# Collection policy for our own modules
# --------------------------------------------------------------------------------------------


def csharp_namespace_findings(info: ModuleInfo, collection: str = OWN_COLLECTION) -> list[Finding]:
    """Inline C# passed to Add-CSharpType must use ansible_collections.<ns>.<coll>.<module>."""
    module = os.path.splitext(os.path.basename(info.path))[0]
    expected = f"ansible_collections.{collection}.{module}"
    findings = []
    for node in walk(info.tree.root_node):
        if node.type == "command" and (_command_name(node) or "").lower() == "add-csharptype":
            for match in re.finditer(r"(?m)^\s*namespace\s+([\w.]+)", text_of(node)):
                if not (match.group(1) == expected or match.group(1).startswith(expected + ".")):
                    findings.append(Finding(info.path, line_of(node), "csharp-namespace",
                                            f"inline C# namespace '{match.group(1)}' must be '{expected}'"))
    return findings


def check_module(path: str, *, policy: bool = True, own_root: str = REPO) -> list[Finding]:
    """Every check for one module. ``policy`` adds the rules of this collection (strict mode,
    literal spec, attributes, C# namespace) on top of what ansible-test itself requires."""
    with open(path, "rb") as handle:
        source = handle.read()
    findings = syntax_errors(path, source)
    if findings:
        return findings  # the rest would only repeat the parse problem
    text = source.decode("utf-8", "replace")
    findings.extend(header_findings(path, text, require_strict_mode=policy))
    info = load_module(path, source)
    stub = stub_path(path)
    if stub:
        try:
            docs = load_doc_strings(stub)
        except (yaml.YAMLError, SyntaxError) as exc:
            findings.append(Finding(path, 1, "doc-yaml", f"{os.path.basename(stub)} cannot be read: {exc}".replace("\n", " ")))
        else:
            findings.extend(compare_spec_with_doc(info, docs.get("DOCUMENTATION"), require_attributes=policy,
                                                  strict_literals=policy, own_root=own_root))
    findings.extend(footgun_findings(info))
    if policy:
        findings.extend(csharp_namespace_findings(info))
    return findings


def check_module_util(path: str) -> list[Finding]:
    """Checks for a PowerShell module util (.psm1): syntax, footguns, Export-ModuleMember."""
    with open(path, "rb") as handle:
        source = handle.read()
    findings = syntax_errors(path, source)
    if findings:
        return findings
    info = load_module(path, source)
    findings.extend(footgun_findings(info, is_module=False))
    text = source.decode("utf-8", "replace")
    if not re.search(r"(?im)^Export-ModuleMember\b", text):
        findings.append(Finding(path, 1, "export-module-member", "a .psm1 util must end with Export-ModuleMember"))
    defined = {m.group(1).lower() for m in re.finditer(r"(?im)^function\s+([\w-]+)", text)}
    export = re.search(r"(?is)^Export-ModuleMember\s+-Function\s+(.*)\Z", text, re.M)
    if export:
        exported = {name.lower() for name in re.findall(r"['\"]?([A-Za-z]+-[\w]+)['\"]?", export.group(1))}
        for name in sorted(exported - defined):
            findings.append(Finding(path, 1, "export-module-member", f"exports '{name}' which is not defined"))
    return findings


def discover_modules(root: str) -> list[str]:
    """The PowerShell modules of a collection root: plugins/modules/*.ps1, sorted."""
    return sorted(glob.glob(os.path.join(root, "plugins", "modules", "*.ps1")))


def discover_module_utils(root: str) -> list[str]:
    return sorted(glob.glob(os.path.join(root, "plugins", "module_utils", "*.psm1")))
