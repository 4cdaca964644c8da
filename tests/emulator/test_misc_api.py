"""Smaller azureml-core APIs against the emulator: VM sizes, experiment and run tags, child runs,
Key Vault batch operations, datastore default/unregister, artifact metadata and HEAD of a SAS URL."""

from __future__ import annotations

import pytest

from .helpers import gate_path, make_source, wait_until
from .test_features import _cluster, _env

pytestmark = [pytest.mark.azureml]


def test_misc_api(emu, ws, tmp_path):
    import requests
    from azureml.core import Datastore, Experiment, Run, ScriptRunConfig
    from azureml.core.compute import AmlCompute

    sizes = AmlCompute.supported_vmsizes(ws)
    assert any(s["name"] == "STANDARD_D2_V2" for s in sizes)

    exp = Experiment(ws, "misc")
    exp.set_tags({"team": "a", "stage": "dev"})
    exp.remove_tags(["stage"])
    assert Experiment(ws, "misc").tags == {"team": "a"}

    # A parent run created by start_logging (run history PATCH), with a child run.
    parent = exp.start_logging(snapshot_directory=None)
    child = parent.child_run(name="child-1")
    assert [c.id for c in parent.get_children()] == [child.id]
    parent.set_tags({"k1": "v1", "k2": "v2"})
    parent.remove_tags(["k1"])
    assert parent.get_tags() == {"k2": "v2"}
    child.complete()
    parent.complete()
    assert parent.get_status() == "Completed"

    vault = ws.get_default_keyvault()
    vault.set_secrets({"a": "1", "b": "2"})
    assert vault.get_secrets(["a", "b", "c"]) == {"a": "1", "b": "2", "c": None}
    vault.delete_secret("a")
    assert [s["name"] for s in vault.list_secrets()] == ["b"]

    store = Datastore.register_azure_blob_container(ws, "extra", "c", "acct", account_key="a2V5")
    store.set_as_default()
    assert ws.get_default_datastore().name == "extra"
    Datastore.get(ws, "workspaceblobstore").set_as_default()
    store.unregister()
    assert "extra" not in ws.datastores

    ct = _cluster(ws)
    gate = gate_path(emu)
    config = ScriptRunConfig(source_directory=make_source(str(tmp_path / "src")), command="python train.py",
                             compute_target="cpu", environment=_env())
    config.run_config.environment_variables = {"GATE_FILE": gate}
    run = exp.submit(config)
    wait_until(lambda: run.get_status() == "Running")
    assert [r.run_id for r in ct.get_active_runs()] == [run.id]
    open(gate, "w").close()
    run.wait_for_completion(show_output=False)
    assert list(ct.get_active_runs()) == []
    run.download_files(prefix="outputs", output_directory=str(tmp_path / "dl"))
    assert (tmp_path / "dl" / "outputs" / "result_0.txt").read_text().startswith("rank 0 of 1")
    assert [r.id for r in Run.list(exp, properties={"azureml.runsource": "experiment"})] == [run.id]
    url = run._client.artifacts.get_file_uri("ExperimentRun", run._container, "outputs/result_0.txt")
    head = requests.head(url, timeout=10)
    assert head.status_code == 200 and int(head.headers["Content-Length"]) > 0


def test_leak_proxy_catches_non_loopback_requests(leak_proxy):
    """The guard the other tests rely on: a request to a non-loopback host lands in the recording proxy."""
    import requests

    before = len(leak_proxy.seen)
    assert requests.get("http://example.invalid/x", timeout=5).status_code == 502
    with pytest.raises(requests.exceptions.ProxyError):
        requests.get("https://management.azure.com/metadata/endpoints", timeout=5)
    caught = leak_proxy.seen[before:]
    assert caught[0] == "GET http://example.invalid/x"
    assert caught[1].startswith("CONNECT management.azure.com:443")
    del leak_proxy.seen[before:]
