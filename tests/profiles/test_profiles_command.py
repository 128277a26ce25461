"""``python -m profiles validate`` / ``mes-sandbox validate``: supporting definitions (``--ig``
folders, JSON files, packages), ``--profile`` as a file, many files sharing compiled state, and a
start that imports nothing of the server stack."""

from __future__ import annotations

import json
import subprocess
import sys

from profiles_testutil import CASES, FIXTURES, REPO

from profiles import registry as registry_module
from profiles.__main__ import main
from profiles.command import ExitCode, Format, Lang, run

FX = FIXTURES / "cr-bio-transaction.json"
CASE = CASES / "profile-element-not-in-base-invalid"  # a Patient profile in ig/, an invalid Patient
PROFILE_URL = "https://mes-sandbox.invalid/fhir/test/StructureDefinition/pat-bad-path"


def test_module_entry_valid_file_exit_0(capsys) -> None:
    assert main(["validate", str(FX)]) == ExitCode.OK
    assert capsys.readouterr().out.strip().endswith(": OK")


def test_module_entry_usage_errors_exit_2(tmp_path, capsys) -> None:
    assert main(["validate", str(tmp_path / "absent.json")]) == ExitCode.USAGE
    assert main(["validate", str(FX), "--format", "xml"]) == ExitCode.USAGE
    assert main(["validate", str(FX), "--ig", str(tmp_path / "nothing.tgz")]) == ExitCode.USAGE
    not_conformance = tmp_path / "patient.json"
    not_conformance.write_text('{"resourceType": "Patient"}')
    assert main(["validate", str(FX), "--ig", str(not_conformance)]) == ExitCode.USAGE
    assert main(["validate", str(FX), "--profile", str(tmp_path / "absent-profile.json")]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "absent-profile.json" in err


def test_ig_folder_and_profile_url() -> None:
    code, out = run([CASE / "input.json"], PROFILE_URL, [CASE / "ig"], Format.JSON, Lang.EN, None)
    assert code == ExitCode.ERRORS
    ids = [i["message_id"] for i in json.loads(out)[0]["issues"]]
    assert ids == ["CARD_MIN", "PROF_ELEMENT_UNKNOWN"]


def test_ig_json_file_and_profile_file() -> None:
    sd = CASE / "ig" / "pat-bad-path.json"
    code, out = run([CASE / "input.json"], str(sd), [], Format.JSON, Lang.EN, None)
    assert code == ExitCode.ERRORS
    assert [i["message_id"] for i in json.loads(out)[0]["issues"]] == ["CARD_MIN", "PROF_ELEMENT_UNKNOWN"]
    code, out = run([CASE / "input.json"], PROFILE_URL, [sd], Format.TEXT, Lang.EN, None)
    assert code == ExitCode.ERRORS and "[CARD_MIN]" in out


def test_without_the_definitions_the_profile_is_unknown() -> None:
    code, out = run([CASE / "input.json"], PROFILE_URL, [], Format.JSON, Lang.EN, None)
    assert code == ExitCode.ERRORS
    assert [i["message_id"] for i in json.loads(out)[0]["issues"]] == ["PROF_UNKNOWN"]


def test_many_files_compile_each_profile_once(monkeypatch, tmp_path) -> None:
    calls: list[str] = []
    real = registry_module.compile_sd

    def counting(sd, *args):
        calls.append(sd["url"])
        return real(sd, *args)

    monkeypatch.setattr(registry_module, "compile_sd", counting)
    files = []
    for n in range(5):
        f = tmp_path / f"p{n}.json"
        f.write_text(json.dumps({"resourceType": "Patient", "gender": "female"}))
        files.append(f)
    code, out = run(files, PROFILE_URL, [CASE / "ig"], Format.TEXT, Lang.EN, None)
    assert code == ExitCode.ERRORS and out.count("[CARD_MIN]") == 5
    assert calls.count(PROFILE_URL) == 1


def test_validate_command_imports_nothing_of_the_server_stack() -> None:
    # `ins` may load: its identifier rules (INS OIDs, NIR key) are the one home the validator uses,
    # and `import ins` is database-free; its repository (sqlalchemy, sandbox.db) must not load
    code = (
        "import sys\n"
        "import profiles.service\n"
        "from profiles.__main__ import main\n"
        f"rc = main(['validate', {str(FX)!r}])\n"
        "stack = sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'starlette', 'sqlalchemy', "
        "'uvicorn', 'alembic', 'httpx', 'psc', 'dmp', 'mss', 'conformance') or m in ('sandbox.app', "
        "'sandbox.db', 'sandbox.context', 'sandbox.server'))\n"
        "print(rc, stack)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "0 []"


def test_python_m_profiles_runs() -> None:
    out = subprocess.run([sys.executable, "-m", "profiles", "validate", str(FX), "--format", "outcome"],
                         cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0
    assert json.loads(out.stdout)["resourceType"] == "OperationOutcome"


def test_typer_command_takes_ig_and_profile_file() -> None:
    import typer
    from typer.testing import CliRunner

    from profiles.cli import register

    app = typer.Typer()
    register(app)

    @app.command("noop")
    def noop() -> None:  # a second command keeps typer in multi-command mode
        """Placeholder."""

    r = CliRunner().invoke(app, ["validate", str(CASE / "input.json"), "--ig", str(CASE / "ig"),
                                 "--profile", PROFILE_URL, "--format", "json", "--lang", "en"])
    assert r.exit_code == 1
    assert [i["message_id"] for i in json.loads(r.stdout)[0]["issues"]] == ["CARD_MIN", "PROF_ELEMENT_UNKNOWN"]
    r = CliRunner().invoke(app, ["validate", str(CASE / "input.json"), "--profile",
                                 str(CASE / "ig" / "pat-bad-path.json")])
    assert r.exit_code == 1 and "[CARD_MIN]" in r.stdout


def test_mes_sandbox_validate_starts_without_pydantic_or_the_server_stack() -> None:
    # typer coerces typed parameters (the root group's --help/--version included) through pydantic,
    # ≈ 0.25 s of import: `mes-sandbox validate` is dispatched past the root group and parses its
    # options with the standard library (issue 16: ≤ 0.4 s to first result)
    code = (
        "import sys\n"
        f"sys.argv = ['mes-sandbox', 'validate', {str(FX)!r}, '--format', 'json']\n"
        "from sandbox.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    rc = exc.code\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'fastapi', 'sqlalchemy', "
        "'uvicorn', 'httpx', 'rich'))\n"
        "print(rc, heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    *body, last = out.stdout.strip().splitlines()
    assert last == "0 []"
    assert json.loads("\n".join(body))[0]["issues"] == []


def test_mes_sandbox_validate_usage_and_help() -> None:
    exe = [sys.executable, "-c", "from sandbox.cli import main; main()"]
    r = subprocess.run([*exe, "validate", str(FX), "--format", "xml"], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == ExitCode.USAGE and "--format" in r.stderr
    r = subprocess.run([*exe, "validate"], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == ExitCode.USAGE and "files" in r.stderr
    r = subprocess.run([*exe, "validate", "--help"], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0 and "--ig" in r.stdout and "--policy" in r.stdout
    r = subprocess.run([*exe, "validate", str(CASE / "input.json"), "--ig", str(CASE / "ig"), "--profile",
                        PROFILE_URL, "--lang", "en"], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == ExitCode.ERRORS and "[CARD_MIN]" in r.stdout


def test_ig_questionnaire_and_guide_are_used_by_the_command() -> None:
    qr_case = CASES / "questionnaire-response-invalid"
    code, out = run([qr_case / "input.json"], None, [qr_case / "ig"], Format.JSON, Lang.EN, None)
    assert code == ExitCode.ERRORS
    ids = {i["message_id"] for i in json.loads(out)[0]["issues"]}
    assert {"QR_LINKID_UNKNOWN", "QR_ANSWER_TYPE", "QR_REPEATS", "QR_ANSWER_OPTION"} <= ids
    # without the Questionnaire the response is checked on its own
    code, out = run([qr_case / "input.json"], None, [], Format.JSON, Lang.EN, None)
    assert not {i["message_id"] for i in json.loads(out)[0]["issues"]} & {i for i in ids if i.startswith("QR_")}
    ig_case = CASES / "ig-global-profile-invalid"
    ig_file = ig_case / "ig" / "ImplementationGuide-test-ig.json"
    sd_file = ig_case / "ig" / "StructureDefinition-pat-with-name.json"
    code, out = run([ig_case / "input.json"], None, [ig_file, sd_file], Format.TEXT, Lang.EN, None)
    assert code == ExitCode.ERRORS and "Bundle.entry[0].resource [CARD_MIN]" in out
