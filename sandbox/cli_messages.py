"""Messages the ``mes-sandbox`` command prints for its user, French by default, English when
``MES_SANDBOX_LANGUAGE=en`` (the same setting as every vendor-facing text). Each has a stable id;
the help texts of the commands stay in English like the code (they are reference, not dialogue)."""

from __future__ import annotations

from enum import StrEnum


class CliMsg(StrEnum):
    NOT_RUNNING = "CLI_NOT_RUNNING"
    HTTP_ERROR = "CLI_HTTP_ERROR"
    EMPTY_DATA_DIR = "CLI_EMPTY_DATA_DIR"
    DATA_DIR = "CLI_DATA_DIR"
    BROKEN_INSTALL = "CLI_BROKEN_INSTALL"
    CANNOT_LISTEN = "CLI_CANNOT_LISTEN"
    DATABASE_MISSING = "CLI_DATABASE_MISSING"
    DATABASE_CREATED = "CLI_DATABASE_CREATED"
    NO_TOKEN = "CLI_NO_TOKEN"
    FILE_UNREADABLE = "CLI_FILE_UNREADABLE"
    WROTE = "CLI_WROTE"
    NO_MATCH = "CLI_NO_MATCH"
    ERROR = "CLI_ERROR"
    BOUND_ORGANISATION_ONLY = "CLI_BOUND_ORGANISATION_ONLY"
    HTTPS_LISTENER = "CLI_HTTPS_LISTENER"
    OPEN_API = "CLI_OPEN_API"
    OPERATOR_KEY_FIRST = "CLI_OPERATOR_KEY_FIRST"
    OPERATOR_KEY_FROM_ENV = "CLI_OPERATOR_KEY_FROM_ENV"
    WORKERS = "CLI_WORKERS"
    WORKSPACE_SEEDED = "CLI_WORKSPACE_SEEDED"
    WORKSPACE_CREATED = "CLI_WORKSPACE_CREATED"
    WORKSPACE_KEY = "CLI_WORKSPACE_KEY"
    WORKSPACE_RESET = "CLI_WORKSPACE_RESET"
    WORKSPACE_DELETED = "CLI_WORKSPACE_DELETED"
    BOUND_TO = "CLI_BOUND_TO"


_TEXTS: dict[CliMsg, tuple[str, str]] = {
    CliMsg.NOT_RUNNING: (
        "aucun bac à sable ne répond sur {url} ({reason}) : démarrez-le avec `mes-sandbox serve` ou donnez --url",
        "no sandbox answers on {url} ({reason}): start one with `mes-sandbox serve` or pass --url"),
    CliMsg.HTTP_ERROR: ("{method} {url} : {status} {detail}", "{method} {url}: {status} {detail}"),
    CliMsg.EMPTY_DATA_DIR: (
        "attention : le dossier de données {path} était vide, un nouveau bac à sable vient d'y être créé "
        "(MES_SANDBOX_DATA_DIR choisit un autre dossier)",
        "warning: the data folder {path} was empty, a new sandbox was just created there "
        "(MES_SANDBOX_DATA_DIR picks another folder)"),
    CliMsg.DATA_DIR: ("données : {path}   base : {database}", "data: {path}   database: {database}"),
    CliMsg.BROKEN_INSTALL: (
        "installation incomplète de mes-sandbox : {problem} — réinstallez (pip install -e .) puis relancez",
        "broken mes-sandbox installation: {problem} — reinstall (pip install -e .) and start again"),
    CliMsg.CANNOT_LISTEN: ("impossible d'écouter sur {host}:{port} : {reason}",
                           "cannot listen on {host}:{port}: {reason}"),
    CliMsg.DATABASE_MISSING: (
        "la base PostgreSQL {name!r} n'existe pas et n'a pas pu être créée ({reason}) : "
        "créez-la (createdb {name}) ou changez MES_SANDBOX_DATABASE_URL",
        "the PostgreSQL database {name!r} does not exist and could not be created ({reason}): "
        "create it (createdb {name}) or change MES_SANDBOX_DATABASE_URL"),
    CliMsg.DATABASE_CREATED: ("base PostgreSQL {name!r} créée", "created the PostgreSQL database {name!r}"),
    CliMsg.NO_TOKEN: ("pas de jeton dans la réponse : {detail}", "no token in the answer: {detail}"),
    CliMsg.FILE_UNREADABLE: ("fichier illisible {path} : {reason}", "cannot read {path}: {reason}"),
    CliMsg.WROTE: ("écrit {path}", "wrote {path}"),
    CliMsg.NO_MATCH: ("aucun résultat", "no match"),
    CliMsg.ERROR: ("erreur : {detail}", "error: {detail}"),
    CliMsg.BOUND_ORGANISATION_ONLY: (
        "--workspace : certificats d'organisation seulement (INSI-AUTO, INSI-MANU)",
        "--workspace: organisation certificates only (INSI-AUTO, INSI-MANU)"),
    CliMsg.HTTPS_LISTENER: (
        "HTTPS (PKI de test, certificats clients facultatifs) : {url}   ancre de confiance : {bundle}",
        "HTTPS (test PKI, optional client certificates): {url}   trust anchor: {bundle}"),
    CliMsg.OPEN_API: ("--open : /sandbox/api sans clé (portable mono-utilisateur)",
                      "--open: /sandbox/api needs no key (single-user laptop)"),
    CliMsg.OPERATOR_KEY_FIRST: (
        "clé d'opérateur (tous les espaces de travail ; affichée au premier démarrage seulement) : {key}\n"
        "  ensuite : mes-sandbox operator-key show",
        "operator key (all workspaces; shown on first start only): {key}\n"
        "  later: mes-sandbox operator-key show"),
    CliMsg.OPERATOR_KEY_FROM_ENV: (
        "MES_SANDBOX_OPERATOR_KEY fixe la clé : changez cette variable",
        "MES_SANDBOX_OPERATOR_KEY sets the key: change that variable instead"),
    CliMsg.WORKERS: ("{count} processus de travail", "{count} worker processes"),
    CliMsg.WORKSPACE_SEEDED: ("espace de travail {name} : {total} personas (graine {seed})",
                              "workspace {name}: {total} personas (seed {seed})"),
    CliMsg.WORKSPACE_CREATED: ("espace de travail {name} créé", "created workspace {name}"),
    CliMsg.WORKSPACE_KEY: ("clé d'API (affichée une seule fois) : {key}", "API key (shown once): {key}"),
    CliMsg.WORKSPACE_RESET: ("espace de travail {name} réinitialisé à son monde d'origine",
                             "workspace {name} reset to its seeded world"),
    CliMsg.WORKSPACE_DELETED: ("espace de travail {name} supprimé", "deleted workspace {name}"),
    CliMsg.BOUND_TO: ("lié à l'espace de travail {workspace}   sha256 {fingerprint}",
                      "bound to workspace {workspace}   sha256 {fingerprint}"),
}


def language() -> str:
    """The ``language`` setting (``fr`` unless ``MES_SANDBOX_LANGUAGE=en``)."""
    from sandbox.settings import from_environment

    return from_environment().language


def say(msg: CliMsg, **args: object) -> str:
    """The text of ``msg`` in the user's language, with ``args`` filled in."""
    fr, en = _TEXTS[msg]
    return (en if language() == "en" else fr).format(**args)
