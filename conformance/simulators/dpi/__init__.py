"""Reference DPI simulator (hospital EHR) for suite ``dpi-ldl``: wire protocols only, plus a
catalogue of named vendor mistakes.

    with DpiSimulator(SimulatorConfig("http://127.0.0.1:8080", workspace="w1", faults=("pkce-missing",))) as sim:
        sim.perform("psc.login", {"professional": "899700218896"})
"""

from collections.abc import Sequence

from conformance.simulators.dpi.config import SimulatorConfig
from conformance.simulators.dpi.faults import BY_NAME, FAULTS, Fault
from conformance.simulators.dpi.mail import MailEndpoints
from conformance.simulators.dpi.scenario import SCENARIO, Step, play
from conformance.simulators.dpi.simulator import ACTIONS, DpiSimulator, Record, UnknownAction


def simulator(base_url: str, workspace: str, faults: Sequence[str] = (), api_key: str = "",
              mail: MailEndpoints | None = None) -> DpiSimulator:
    """Factory registered for suite ``dpi-ldl`` (entry-point group ``mes_sandbox.conformance_simulators``);
    ``api_key`` opens the sandbox's own API (default: this machine's operator key); ``mail`` says where
    MSSanté's SMTP and IMAP listen (default: this machine's sandbox settings)."""
    return DpiSimulator(SimulatorConfig(base_url, workspace=workspace, faults=tuple(faults), api_key=api_key,
                                        mail=mail))


__all__ = ["ACTIONS", "BY_NAME", "FAULTS", "SCENARIO", "DpiSimulator", "Fault", "MailEndpoints", "Record",
           "SimulatorConfig", "Step", "UnknownAction", "play", "simulator"]
