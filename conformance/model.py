"""The test model: Suite > Group > Test, stable hierarchical ids, typed inputs and presets
(STYLE §1, §9; Inferno's ``dsl/runnable.rb`` is the model, without its class-level DSL).

A test is a plain async function receiving a :class:`conformance.TestContext`; it never talks
HTTP itself except through the context. Full ids are ``<suite>.<group>.<test>``
(``dpi-ldl.dmp.03``); short ids are the last segment inside their parent.

    @test("03", title=Text("…", "…"), verifies=("EX_GEN-1450",))
    async def subject_ins(ctx: TestContext) -> None: ...

    dmp = Group("dmp", Text(...), Text(...), tests=(subject_ins, ...))
    suite = Suite("dpi-ldl", Text(...), Text(...), "1.0.0", inputs=(...), groups=(dmp, ...))
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.text import Text

if TYPE_CHECKING:
    from conformance.context import TestContext

TestFunction = Callable[["TestContext"], Awaitable[None]]

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")


class ModelError(ValueError):
    """A suite definition that cannot be right (duplicate or malformed ids): a programmer error."""


class UnknownIdError(LookupError):
    """An id given by a user names no suite, group or test."""

    def __init__(self, kind: str, given: str, known: Sequence[str]) -> None:
        self.kind = kind
        self.given = given
        self.known = list(known)
        super().__init__(f"unknown {kind} {given!r}")


class PresetError(ValueError):
    """A preset that does not match the suite's inputs; ``field`` names the culprit."""

    def __init__(self, field_name: str, text: Text) -> None:
        self.field = field_name
        self.text = text
        super().__init__(text.en)


def _check_id(kind: str, value: str) -> str:
    if not _ID.match(value):
        raise ModelError(f"{kind} id {value!r} must be lower-case letters, digits, '-' or '_'")
    return value


@dataclass(frozen=True)
class InputSpec:
    """A typed input of a suite (e.g. which OIDC client, which patient)."""

    name: str
    title: Text
    type: type = str
    default: Any = None
    optional: bool = False

    def accepts(self, value: Any) -> bool:
        if value is None:
            return self.optional
        if self.type is float:
            return isinstance(value, int | float) and not isinstance(value, bool)
        if self.type is int:
            return isinstance(value, int) and not isinstance(value, bool)
        return isinstance(value, self.type)

    @property
    def type_name(self) -> str:
        return {str: "string", int: "integer", float: "number", bool: "boolean", list: "array",
                dict: "object"}.get(self.type, self.type.__name__)


@dataclass(frozen=True)
class Test:
    """One test. ``verifies`` names requirement ids of the catalogue."""

    __test__ = False  # not a pytest class

    id: str
    title: Text
    description: Text
    verifies: tuple[str, ...]
    run: TestFunction
    optional: bool = False

    def __post_init__(self) -> None:
        _check_id("test", self.id)


def test(id: str, *, title: Text, description: Text | None = None, verifies: Sequence[str] = (),
         optional: bool = False) -> Callable[[TestFunction], Test]:
    """Decorator form of :class:`Test`: the decorated coroutine function becomes the test."""

    def wrap(fn: TestFunction) -> Test:
        desc = description or Text((fn.__doc__ or "").strip(), (fn.__doc__ or "").strip())
        return Test(id, title, desc, tuple(verifies), fn, optional)

    return wrap


test.__test__ = False  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Group:
    id: str
    title: Text
    description: Text
    tests: tuple[Test, ...]

    def __post_init__(self) -> None:
        _check_id("group", self.id)
        object.__setattr__(self, "tests", tuple(self.tests))
        seen: set[str] = set()
        for t in self.tests:
            if t.id in seen:
                raise ModelError(f"two tests {t.id!r} in group {self.id!r}")
            seen.add(t.id)


@dataclass(frozen=True)
class TestRef:
    """A test in its place: the suite and group it belongs to and its full id."""

    __test__ = False

    full_id: str
    group: Group
    test: Test


@dataclass(frozen=True)
class Suite:
    id: str
    title: Text
    description: Text
    version: str
    inputs: tuple[InputSpec, ...]
    groups: tuple[Group, ...]
    #: requirement sources in the suite's scope (catalogue file stems); empty = every source
    #: a test of the suite verifies something in
    scope: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        _check_id("suite", self.id)
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "groups", tuple(self.groups))
        seen: set[str] = set()
        for g in self.groups:
            if g.id in seen:
                raise ModelError(f"two groups {g.id!r} in suite {self.id!r}")
            seen.add(g.id)
        names = [i.name for i in self.inputs]
        if len(names) != len(set(names)):
            raise ModelError(f"two inputs with the same name in suite {self.id!r}")

    def tests(self) -> Iterator[TestRef]:
        for g in self.groups:
            for t in g.tests:
                yield TestRef(f"{self.id}.{g.id}.{t.id}", g, t)

    def test_ids(self) -> list[str]:
        return [r.full_id for r in self.tests()]

    def group(self, group_id: str) -> Group:
        for g in self.groups:
            if g.id == group_id:
                return g
        raise UnknownIdError("group", group_id, [f"{self.id}.{g.id}" for g in self.groups])

    def select(self, only: Sequence[str] = ()) -> list[TestRef]:
        """The tests named by ``only`` (full or suite-relative test or group ids), in suite order.

        Raises :class:`UnknownIdError` for an id that names nothing."""
        refs = list(self.tests())
        if not only:
            return refs
        groups = {f"{self.id}.{g.id}" for g in self.groups}
        wanted: set[str] = set()
        for raw in only:
            given = raw.strip()
            full = given if given.startswith(self.id + ".") else f"{self.id}.{given}"
            if full in groups:
                wanted.update(r.full_id for r in refs if r.full_id.startswith(full + "."))
            elif any(r.full_id == full for r in refs):
                wanted.add(full)
            else:
                raise UnknownIdError("test", given, sorted(groups) + [r.full_id for r in refs])
        return [r for r in refs if r.full_id in wanted]

    def resolve_inputs(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Check ``given`` against the suite's inputs; fill defaults. Raises :class:`PresetError`."""
        specs = {i.name: i for i in self.inputs}
        for name in given:
            if name not in specs:
                raise PresetError(name, Text(
                    f"entrée inconnue « {name} » pour la suite {self.id} (entrées : {', '.join(specs) or 'aucune'})",
                    f"unknown input '{name}' for suite {self.id} (inputs: {', '.join(specs) or 'none'})"))
        out: dict[str, Any] = {}
        for spec in self.inputs:
            value = given.get(spec.name, spec.default)
            if value is None and not spec.optional:
                raise PresetError(spec.name, Text(f"entrée obligatoire « {spec.name} » absente",
                                                  f"required input '{spec.name}' is missing"))
            if not spec.accepts(value):
                raise PresetError(spec.name, Text(
                    f"l'entrée « {spec.name} » doit être de type {spec.type_name}, pas {type(value).__name__}",
                    f"input '{spec.name}' must be of type {spec.type_name}, not {type(value).__name__}"))
            out[spec.name] = value
        return out


def load_preset(path: Path) -> dict[str, Any]:
    """Read a preset file: a JSON object mapping input names to values. Raises :class:`PresetError`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PresetError("(file)", Text(f"préréglage illisible : {path} ({exc.strerror})",
                                         f"cannot read preset {path} ({exc.strerror})")) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PresetError("(file)", Text(f"préréglage {path} : JSON invalide ({exc})",
                                         f"preset {path}: invalid JSON ({exc})")) from None
    if not isinstance(data, dict):
        raise PresetError("(file)", Text(f"préréglage {path} : un objet JSON est attendu",
                                         f"preset {path}: a JSON object is expected"))
    return data
