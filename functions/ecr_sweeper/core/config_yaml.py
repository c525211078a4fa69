"""Reading the YAML of an ecrm.yaml: safe, strict about duplicate keys, every syntax
error reported with its line and column, and where each key and value was written
(`Marks`), so that the checker's problems have a line and column too.

Pure: parses text, reads no file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from ecr_sweeper.core.messages import Path, key_text
from ecr_sweeper.core.messages import clip as _clip
from ecr_sweeper.core.messages import short_repr as _short_repr
from ecr_sweeper.errors import ConfigError

__all__ = ["Marks", "parse_yaml"]

# Beyond this many nodes (aliases can make a small text a huge tree) the rest of the
# document goes unmarked: its problems are located by the nearest marked parent.
MAX_MARKED_NODES = 100_000

Position = tuple[int, int]  # line, column; both from 1, as editors count


@dataclass
class Marks:
    """Where each value, and each mapping key, of a document was written, by Path."""

    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)

    def find(self, path: Path, *, key: bool = False) -> Position | None:
        """The key at `path` (key=True) or the value there; failing that, the nearest
        enclosing value that was written (a missing key: the mapping that lacks it)."""
        if key and path in self.keys:
            return self.keys[path]
        for end in range(len(path), -1, -1):
            if path[:end] in self.values:
                return self.values[path[:end]]
        return None


def _position(mark: yaml.Mark) -> Position:
    return mark.line + 1, mark.column + 1


def _mark_nodes(loader: yaml.SafeLoader, root: yaml.Node) -> Marks:
    """Walk the composed nodes as the constructor built the data: a mapping's keys are
    constructed again (scalars) to get the Path element the checker uses."""
    marks = Marks()
    budget = [MAX_MARKED_NODES]

    def walk(node: yaml.Node, path: Path, open_nodes: set[int]) -> None:
        if budget[0] <= 0 or id(node) in open_nodes:  # spent, or an alias of itself
            return
        budget[0] -= 1
        marks.values.setdefault(path, _position(node.start_mark))
        if isinstance(node, yaml.SequenceNode):
            inner = open_nodes | {id(node)}
            for index, item in enumerate(node.value):
                walk(item, (*path, index), inner)
        elif isinstance(node, yaml.MappingNode):
            inner = open_nodes | {id(node)}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    continue
                at = (*path, key_text(loader.construct_object(key_node)))
                marks.keys.setdefault(at, _position(key_node.start_mark))
                walk(value_node, at, inner)

    walk(root, (), set())
    return marks


class _Loader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys (PyYAML silently keeps the last one; ecrm's
    YAML library reports them) instead of losing a section."""

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: set[tuple[str, str]] = set()
            for key_node, _ in node.value:
                if (
                    isinstance(key_node, yaml.ScalarNode)
                    and key_node.tag != "tag:yaml.org,2002:merge"
                ):
                    ident = (key_node.tag, key_node.value)
                    if ident in seen:
                        raise yaml.constructor.ConstructorError(
                            "while constructing a mapping",
                            node.start_mark,
                            f"found duplicate key {_short_repr(key_node.value)}",
                            key_node.start_mark,
                        )
                    seen.add(ident)
        return super().construct_mapping(node, deep=deep)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as e:
            # e.g. `!!int abc`, `!!bool maybe`, an integer of more than 4300 digits
            value = node.value if isinstance(node.value, str) else "..."
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"cannot read {_short_repr(value)} as {node.tag.rsplit(':', 1)[-1]} ({e})",
                node.start_mark,
            ) from None


# Dates and times are read as the text written (as ecrm's YAML reads them into strings):
# no field wants a date, and a tag such as 2024-01-01 is a string.
_Loader.add_constructor(
    "tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node)
)


def parse_yaml(text: str, source: str) -> tuple[Any, Marks]:
    """The YAML value of `text` and where its parts were written; ConfigError naming
    `source` and where the text is wrong."""
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, Marks()
            data = loader.construct_document(node)
            return data, _mark_nodes(loader, node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown place"
        what = e.problem or e.context or "syntax error"
        context = f" ({e.context})" if e.context and e.problem else ""
        raise ConfigError(f"{source}: invalid YAML at {where}: {what}{context}") from None
    except yaml.reader.ReaderError as e:
        ch = e.character
        code = ord(ch) if isinstance(ch, str) and len(ch) == 1 else ch
        what = f"character U+{code:04X}" if isinstance(code, int) else "a character"
        raise ConfigError(
            f"{source}: invalid YAML at character {e.position + 1}: {what} is not allowed "
            f"({e.reason})"
        ) from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{source}: invalid YAML: {_clip(str(e), 200)}") from None
    except RecursionError:
        raise ConfigError(f"{source}: invalid YAML: nested too deeply") from None
    except Exception as e:
        raise ConfigError(f"{source}: invalid YAML: {_clip(str(e), 200)}") from None
