"""mes-sandbox platform: settings, app factory, persistence, personas, workspaces, evidence,
fault injection, test PKI, CLI and testing kit."""

__version__ = "0.1.0"
