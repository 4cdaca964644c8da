"""The framework: entry points, output formats, --query, defaults, abbreviations, errors, start-up."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml


def test_help_names_the_program_batchai(run_cli):
    code, out, err = run_cli("--help")
    assert code == 0, err
    assert "batchai" in out
    for group in ("workspace", "cluster", "experiment", "file-server", "job", "list-usages"):
        assert group in out
    code, out, err = run_cli("cluster", "-h")
    assert code == 0, err
    assert "batchai cluster : Commands to manage clusters." in out
    assert "node       : Commands to work with cluster nodes." in out
    code, out, err = run_cli("cluster", "create", "--help")
    assert code == 0 and "Examples" in out and "batchai cluster create -g MyRG -w MyWorkspace" in out


def test_output_piped_into_a_reader_that_leaves_is_quiet(cli_env):
    import subprocess as sp

    proc = sp.run(f"{sys.executable} -m batchai_compat.cli cluster create --help | head -c 10", shell=True,
                  capture_output=True, text=True, env=cli_env, timeout=120)
    assert proc.stderr == ""


def test_console_script_main_returns_exit_code(run_cli_inproc):
    code, out, _ = run_cli_inproc("workspace", "list")
    assert code == 0
    assert json.loads(out) == []


def test_unknown_option_is_an_argument_error_exit_2(run_cli):
    code, out, err = run_cli("workspace", "list", "--bogus")
    assert code == 2
    assert out == ""
    assert err.startswith("ERROR: batchai: error: unrecognized arguments: --bogus\nusage: batchai ")


def test_missing_required_argument_exit_2(run_cli):
    code, _, err = run_cli("workspace", "show", "-g", "rg")
    assert code == 2
    assert err.startswith("ERROR: batchai workspace show: error: the following arguments are required: "
                          "--workspace/-n\nusage: batchai workspace show ")


def _make_ws(run_json, rg="rg", name="ws"):
    return run_json("workspace", "create", "-g", rg, "-n", name, "-l", "eastus")


def test_output_formats(run_cli, run_json):
    _make_ws(run_json)
    code, out, _ = run_cli("workspace", "show", "-g", "rg", "-n", "ws", "-o", "json")
    assert code == 0
    body = json.loads(out)
    assert body["name"] == "ws" and body["resourceGroup"] == "rg" and body["provisioningState"] == "succeeded"
    code, out, _ = run_cli("workspace", "show", "-g", "rg", "-n", "ws", "-o", "jsonc")
    assert code == 0 and '"name"' in out and "ws" in out
    code, out, _ = run_cli("workspace", "show", "-g", "rg", "-n", "ws", "-o", "yaml")
    assert code == 0 and yaml.safe_load(out)["name"] == "ws"
    code, out, _ = run_cli("workspace", "show", "-g", "rg", "-n", "ws", "-o", "tsv",
                           "--query", "{n: name, l: location}")
    assert code == 0 and out == "ws\teastus\n"
    code, out, _ = run_cli("workspace", "show", "-g", "rg", "-n", "ws", "-o", "none")
    assert code == 0 and out == ""
    code, out, _ = run_cli("workspace", "list", "-o", "table")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["Name", "Resource", "Group", "Location", "State"]
    assert lines[2].split() == ["ws", "rg", "eastus", "succeeded"]


def test_query_jmespath(run_json):
    _make_ws(run_json, name="a")
    _make_ws(run_json, name="b")
    assert run_json("workspace", "list", "--query", "[].name") == ["a", "b"]
    assert run_json("workspace", "list", "--query", "[?name=='b'].location | [0]") == "eastus"


def test_configured_defaults_group_and_location(run_cli, run_json, az_defaults):
    az_defaults(group="rgdef", location="westus2")
    body = run_json("workspace", "create", "-n", "ws")
    assert body["resourceGroup"] == "rgdef" and body["location"] == "westus2"
    assert run_json("workspace", "show", "-n", "ws", "--query", "name") == "ws"


def test_defaults_from_environment_variables(run_json):
    body = run_json("workspace", "create", "-n", "ws", env={"AZURE_DEFAULTS_GROUP": "rgenv",
                                                            "AZURE_DEFAULTS_LOCATION": "eastus"})
    assert body["resourceGroup"] == "rgenv"


def test_unique_prefix_abbreviations(run_json):
    _make_ws(run_json)
    assert run_json("workspace", "show", "--resource-gr", "rg", "--works", "ws", "--query", "name") == "ws"


def test_not_found_exit_codes(run_cli):
    # 0.4.10 registered show commands with azure-cli-core's show_command: a 404 exits 3
    code, out, err = run_cli("workspace", "show", "-g", "rg", "-n", "nope")
    assert code == 3 and out == ""
    assert err == "ERROR: The specified workspace nope is not found\n"
    # other commands: CloudError -> 1
    code, out, err = run_cli("cluster", "list", "-g", "rg", "-w", "nope")
    assert code == 1 and out == ""
    assert err == "ERROR: The specified workspace nope is not found\n"


def test_ids_select_the_resource(run_cli, run_json):
    ws = _make_ws(run_json, name="a")
    _make_ws(run_json, name="b")
    assert run_json("workspace", "show", "--ids", ws["id"], "--query", "name") == "a"
    ids = [w["id"] for w in run_json("workspace", "list")]
    assert run_json("workspace", "show", "--ids", *ids, "--query", "[].name") == ["a", "b"]
    code, _, err = run_cli("workspace", "show", "--ids", "not-an-id")
    assert code == 2 and "invalid resource ID: 'not-an-id'" in err
    code, _, err = run_cli("workspace", "show")
    assert code == 2
    assert "the following arguments are required: --resource-group/-g, --workspace/-n" in err


def test_subscription_from_option_environment_and_configured_default(run_json, az_defaults):
    other = "11111111-1111-1111-1111-111111111111"
    body = run_json("workspace", "create", "-g", "rg", "-n", "ws", "-l", "eastus", "--subscription", other)
    assert body["id"].startswith(f"/subscriptions/{other}/")
    env_sub = "22222222-2222-2222-2222-222222222222"
    body = run_json("workspace", "create", "-g", "rg", "-n", "ws2", "-l", "eastus",
                    env={"BATCHAI_COMPAT_SUBSCRIPTION": env_sub})
    assert body["id"].startswith(f"/subscriptions/{env_sub}/")
    az_defaults(subscription=other)
    body = run_json("workspace", "create", "-g", "rg", "-n", "ws3", "-l", "eastus")
    assert body["id"].startswith(f"/subscriptions/{other}/")


def test_verbose_and_only_show_errors_are_accepted(run_cli):
    code, _, err = run_cli("workspace", "list", "--verbose")
    assert code == 0
    code, _, err = run_cli("workspace", "list", "--only-show-errors")
    assert code == 0 and err == ""


def test_describe_commands_lists_every_argument():
    from batchai_compat.cli._core import describe_commands

    table = describe_commands()
    create = table["workspace create"]["arguments"]
    assert create["workspace_name"]["options"] == ["--workspace", "-n"]
    assert create["location"]["configured_default"] == "location"
    assert table["workspace delete"]["confirmation"] and table["workspace delete"]["supports_no_wait"]


def test_import_batchai_compat_does_not_import_the_cli_framework():
    code = ("import sys, batchai_compat, batchai_compat.cli; "
            "bad = [m for m in ('knack', 'batchai_compat.cli._core', 'jmespath', 'yaml') if m in sys.modules]; "
            "print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_inproc_runner_captures_stderr(run_cli_inproc):
    code, out, err = run_cli_inproc("workspace", "show", "-g", "rg", "-n", "nope")
    assert (code, out, err) == (3, "", "ERROR: The specified workspace nope is not found\n")
    code, out, err = run_cli_inproc("workspace", "list", "--bogus")
    assert code == 2 and err.startswith("ERROR: batchai: error: unrecognized arguments: --bogus")


def test_debug_logs_on_stderr(run_cli):
    code, out, err = run_cli("workspace", "list", "--debug")
    assert code == 0 and out.strip() == "[]"
    assert "DEBUG: " in err
