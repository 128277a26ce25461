"""Conformance suites, one package per software family (registered through the entry-point group
``mes_sandbox.conformance_suites``)."""

__all__: list[str] = []
