"""Where suites come from: the entry-point group ``mes_sandbox.conformance_suites`` (one line per
suite in ``pyproject.toml``: ``dpi-ldl = "conformance.suites.dpi_ldl:suite"``), like services
(STYLE §9). A registry object is built per app, so tests can add a suite of their own without
any module-level state."""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import entry_points

from conformance.model import ModelError, Suite, UnknownIdError

ENTRY_POINT_GROUP = "mes_sandbox.conformance_suites"


class SuiteRegistry:
    def __init__(self, suites: Iterable[Suite] = ()) -> None:
        self._suites: dict[str, Suite] = {}
        for s in suites:
            self.add(s)

    @classmethod
    def discover(cls, extra: Iterable[Suite] = ()) -> SuiteRegistry:
        """Every suite registered under :data:`ENTRY_POINT_GROUP`, plus ``extra``."""
        reg = cls()
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            suite = ep.load()
            if not isinstance(suite, Suite):
                raise ModelError(f"entry point {ep.name!r} does not point to a conformance Suite")
            reg.add(suite)
        for s in extra:
            reg.add(s)
        return reg

    def add(self, suite: Suite) -> None:
        if suite.id in self._suites:
            raise ModelError(f"two suites registered under the id {suite.id!r}")
        self._suites[suite.id] = suite

    def get(self, suite_id: str) -> Suite:
        try:
            return self._suites[suite_id]
        except KeyError:
            raise UnknownIdError("suite", suite_id, sorted(self._suites)) from None

    def all(self) -> list[Suite]:
        return [self._suites[k] for k in sorted(self._suites)]

    def find_test(self, full_id: str) -> tuple[Suite, str]:
        """The suite owning a full test or group id (``dpi-ldl.dmp.03``)."""
        suite_id = full_id.split(".", 1)[0]
        suite = self.get(suite_id)
        suite.select([full_id])  # raises UnknownIdError for an id naming nothing
        return suite, full_id
