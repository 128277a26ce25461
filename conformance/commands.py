"""``mes-sandbox conformance`` and ``mes-sandbox simulate``, registered lazily (sandbox/services.py,
"commands")."""

from sandbox.services import Command

command = Command("conformance", "Conformance suites: run, verify a report, coverage of requirements.",
                  "conformance.cli:register")

simulate = Command("simulate", "Reference vendors (e.g. a DPI) that play a suite through the real protocols.",
                   "conformance.simulators.cli:register")
