"""The sample training scripts on their own, outside Batch AI: ``mnist_replica.py`` configured by
``TF_CONFIG`` alone (the other way Batch AI described the cluster), and its flag parsing."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import socket
import subprocess
import sys

import pytest

from .conftest import SAMPLES

REPLICA = SAMPLES / "seed_tensorflow_distributed" / "mnist_replica.py"


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, str(path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _flags(**values):
    base = {"job_name": None, "task_index": None, "ps_hosts": None, "worker_hosts": None}
    base.update(values)
    return argparse.Namespace(**base)


def test_cluster_from_flags_then_tf_config(monkeypatch):
    replica = _load(REPLICA, "mnist_replica_under_test")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert replica.cluster_from(_flags(job_name="ps", task_index=0, ps_hosts="a:1", worker_hosts="b:2,c:3")) == (
        ["a:1"], ["b:2", "c:3"], "ps", 0)
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"ps": ["a:1"], "worker": ["b:2", "c:3"]},
                                               "task": {"type": "master", "index": 0}, "environment": "cloud"}))
    assert replica.cluster_from(_flags()) == (["a:1"], ["b:2", "c:3"], "worker", 0)
    # Batch AI passes an empty $AZ_BATCHAI_PS_HOSTS when there is no parameter server: TF_CONFIG decides
    assert replica.cluster_from(_flags(ps_hosts="", task_index=1, job_name="worker"))[2:] == ("worker", 1)
    monkeypatch.delenv("TF_CONFIG")
    with pytest.raises(SystemExit):
        replica.cluster_from(_flags(job_name="worker"))


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.spawns_processes
def test_parameter_server_and_workers_from_tf_config(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(SAMPLES))
    dataset = _load(SAMPLES / "utilities" / "dataset.py", "dataset_under_test")
    data = tmp_path / "data"
    data.mkdir()
    dataset.generate_mnist_dataset(str(data), train_count=400, test_count=100)
    cluster = {"ps": [f"127.0.0.1:{_free_port()}"], "worker": [f"127.0.0.1:{_free_port()}"] * 2}

    def start(kind, index):
        env = dict(os.environ, TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": kind, "index": index}}))
        args = [sys.executable, str(REPLICA), "--train_steps", "400", f"--data_dir={data}",
                f"--checkpoint_dir={tmp_path / 'model'}", f"--log_dir={tmp_path / 'logs'}"]
        return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    ps = start("ps", 0)
    try:
        workers = [start("master", 0), start("worker", 1)]
        outputs = [w.communicate(timeout=120)[0] for w in workers]
        assert [w.returncode for w in workers] == [0, 0], outputs
    finally:
        ps.terminate()
        ps.communicate(timeout=30)
    assert "Test accuracy" in outputs[0] and "Test accuracy" not in outputs[1]
    assert "job name = worker, task index = 1" in outputs[1]
    checkpoint = (tmp_path / "model" / "checkpoint").read_text()
    model = json.loads((tmp_path / "model" / checkpoint.split('"')[1]).read_text())
    assert model["global_step"] >= 400 and len(model["weights"]) == 650
    assert sorted(p.name for p in (tmp_path / "logs").iterdir()) == ["worker-0-loss.csv", "worker-1-loss.csv"]
