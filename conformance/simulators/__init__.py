"""Reference vendors for the conformance suites (DESIGN "The conformance runner", *simulators*).

Each simulator stands where a vendor's product stands: it talks to the sandbox only through the
wire protocols (HTTP/OIDC, SOAP, FHIR), never through the sandbox's Python internals, and carries a
catalogue of named faults copying real vendor mistakes (data: each fault names the tests it must
make fail).
"""

__all__: list[str] = []
