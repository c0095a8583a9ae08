"""Rule files read with line numbers, so a defect is reported as `file:line: key: problem`, like case files.

Every mapping loaded from a rule file is a `Located` dict that remembers its own line and the line
of each key; `required` turns a missing key into a `RuleFileError` naming the file, the line and
the key (never a Python `KeyError('kind')`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import yaml

from engine.errors import RuleFileError


class Located(dict[str, Any]):
    """A mapping from a rule file that knows where it was written."""

    line: int | None = None
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int | None:
        """The line of `key` in its file (else the mapping's own line)."""
        return getattr(self, "key_lines", {}).get(key, self.line)


class _LineLoader(yaml.SafeLoader):
    """PyYAML's safe loader building `Located` mappings."""


def _located_mapping(loader: _LineLoader, node: yaml.MappingNode) -> Any:
    """A mapping node as a `Located` dict (filled after it is yielded, so aliases and nesting work)."""
    data = Located()
    data.line = node.start_mark.line + 1
    data.key_lines = {str(k.value): k.start_mark.line + 1 for k, _v in node.value if isinstance(k, yaml.ScalarNode)}
    yield data
    data.update(cast("dict[str, Any]", loader.construct_mapping(node)))


_LineLoader.add_constructor("tag:yaml.org,2002:map", _located_mapping)

_FastLineLoader: Any = None
"""The same loader on libyaml's parser when PyYAML has it: the rule book in 15 ms, not 120 ms (#14).

Every process that decides loads the rule book once (each batch or replay worker, every command).
The located mappings are the same (same constructor; line marks from the same positions); a file
libyaml refuses is read again by PyYAML's own parser, so errors are worded as they always were.
"""
if hasattr(yaml, "CSafeLoader"):
    class _CLineLoader(yaml.CSafeLoader):
        """`_LineLoader` on libyaml's parser."""

    _CLineLoader.add_constructor("tag:yaml.org,2002:map", _located_mapping)
    _FastLineLoader = _CLineLoader


def load_rule_yaml(path: Path) -> Any:
    """One rule file's YAML (safe loader, line numbers kept); RuleFileError naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleFileError(f"{path.name}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise RuleFileError(f"{path.name}: not UTF-8 text") from None
    if _FastLineLoader is not None:
        try:
            return yaml.load(text, Loader=_FastLineLoader)  # noqa: S506 - a CSafeLoader subclass
        except yaml.YAMLError:
            pass  # said below as PyYAML's own parser says it
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = " ".join(str(exc.problem or exc.context or "cannot be parsed").split())
        raise RuleFileError(f"{path.name}{line}: invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise RuleFileError(f"{path.name}: invalid YAML: {' '.join(str(exc).split())}") from None


def where(file: str, mapping: Any, key: str = "") -> str:
    """`file:line` of `mapping` (or of its `key`), for messages."""
    line = mapping.line_of(key) if isinstance(mapping, Located) and key else getattr(mapping, "line", None)
    return f"{file}:{line}" if line else file


def required(mapping: Any, key: str, file: str, path: str) -> Any:
    """`mapping[key]`, or a RuleFileError `file:line: path.key: missing required key`."""
    if not isinstance(mapping, dict):
        raise RuleFileError(f"{where(file, mapping)}: {path}: must be a mapping")
    if key not in mapping:
        raise RuleFileError(f"{where(file, mapping)}: {path}.{key}: missing required key")
    return mapping[key]
