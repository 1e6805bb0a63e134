"""`yaml.safe_load` with a bound on what aliases can expand to.

`yaml.safe_load` builds no Python objects from tags, but YAML aliases still let a 1 KB file
describe a structure of 10^9 elements ("billion laughs"): PyYAML shares the aliased objects, so
loading is quick, and the blow-up comes later, when something walks the structure (hashing a
grid's values, validating against a schema, printing a command: 38 s, 3.5 GB and a 738 MB command
line before this bound). Here the document is composed into nodes first (aliases are references,
cheap), its size with every alias counted at every use is computed in one memoised pass, and only
a document within `MAX_YAML_NODES` is constructed. A recursive alias (`&a [*a]`) is refused too.

A mapping that names a key twice is refused as well (`duplicate_key`): `yaml.safe_load` keeps the
last value silently, so a sweep file with two `max_seq_length:` entries ran the second only. Keys
brought in by a merge (`<<: *base`) may be overridden, as YAML means them to be.
"""

from __future__ import annotations

from typing import Any

import yaml

from timing_trainer.errors import YamlBoundError, YamlDuplicateKeyError

MAX_YAML_NODES = 1_000_000  # scalars, lists and mappings, each alias counted at every use


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def expanded_size(root: yaml.Node, limit: int = MAX_YAML_NODES) -> int:
    """Nodes of the document with aliases expanded; stops counting past `limit`.

    Iterative (no recursion limit) and memoised by node identity, so the cost is the number of
    distinct nodes, whatever the aliases multiply them to.
    """
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            total = 1 + sum(sizes[id(child)] for child in _children(node))
            sizes[key] = min(total, limit + 1)
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise YamlBoundError("an alias refers to the structure that contains it")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    return sizes[id(root)]


def _duplicate_in(node: yaml.MappingNode) -> str | None:
    seen: dict[tuple[str, str], int] = {}
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            continue
        line = key.start_mark.line + 1
        if (key.tag, key.value) in seen:
            return (f"the key {key.value!r} appears twice in one mapping (lines "
                    f"{seen[(key.tag, key.value)]} and {line}); YAML would keep the last silently")
        seen[(key.tag, key.value)] = line
    return None


def duplicate_key(root: yaml.Node) -> None:
    """Raise `YamlDuplicateKeyError` for the first mapping that names a key twice (each distinct
    node visited once, however often aliases refer to it)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode) and (problem := _duplicate_in(node)):
            raise YamlDuplicateKeyError(problem)
        stack.extend(_children(node))


def bounded_safe_load(text: str, limit: int = MAX_YAML_NODES) -> Any:
    """`yaml.safe_load(text)`, refusing documents that expand to more than `limit` nodes.

    Raises `yaml.YAMLError` for invalid YAML (as `yaml.safe_load` does), `YamlBoundError`
    for a document over the bound and `YamlDuplicateKeyError` for a key named twice.
    """
    loader = yaml.SafeLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            raise YamlBoundError("nested too deeply") from None
        if node is None:
            return None
        size = expanded_size(node, limit)
        if size > limit:
            raise YamlBoundError(
                f"expands to more than {limit:,} YAML nodes (aliases counted at every use)"
            )
        duplicate_key(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()
