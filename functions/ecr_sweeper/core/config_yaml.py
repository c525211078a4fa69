"""Reading the YAML of an ecrm.yaml: safe, strict about duplicate keys, and every syntax
error reported with its line and column.

Pure: parses text, reads no file.
"""

from __future__ import annotations

from typing import Any

import yaml

from ecr_sweeper.core.messages import clip as _clip
from ecr_sweeper.core.messages import short_repr as _short_repr
from ecr_sweeper.errors import ConfigError

__all__ = ["parse_yaml"]


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


def parse_yaml(text: str, source: str) -> Any:
    """The YAML value of `text`; ConfigError naming `source` and where the text is wrong."""
    try:
        return yaml.load(text, Loader=_Loader)
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
