"""The Feast project of an mlledger project: an injective name, fixed at first use.

Feast project names allow letters, digits and `_` (and SQLite online tables cannot take `-`),
while mlledger's allow `.`, `-` and `_` as well. Mapping each of those to `_` made `team-a`,
`team_a` and `team.a` one Feast project — one registry, one set of online values. Here every
letter and digit stands for itself and the three others are escaped behind `_` (`__`, `_h`,
`_d`), a prefix-free code, so two names never meet. The name is recorded on the project's row
when first used (store/metadata/projects.feast_project) and never derived again; projects that
had feature views before this mapping keep the name they had (migration 0005).
"""

from __future__ import annotations

_ESCAPES = {"_": "__", "-": "_h", ".": "_d"}


def encode(project: str) -> str:
    """`team-a` → `team_ha`, `team_a` → `team__a`, `team.a` → `team_da`.

    Raises:
        ValueError: a character mlledger's project names never hold.
    """
    out = []
    for ch in project:
        if ch.isascii() and ch.isalnum():
            out.append(ch)
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        else:
            raise ValueError(f"project name {project!r} holds {ch!r}")
    return "".join(out)
