"""Framework toolkits started directly by the launcher: TensorFlow, PyTorch, Caffe2
(``docs/service-behaviour.md`` §c.8–§c.10)."""

from __future__ import annotations

import textwrap

from .helpers import make_job, processes_mentioning, run

TF_SCRIPT = textwrap.dedent("""
    import json, os, socket, sys, time
    args = dict(a.lstrip("-").split("=", 1) for a in sys.argv[1:])
    config = json.loads(os.environ["TF_CONFIG"])
    task = config["task"]
    index = int(os.environ["AZ_BATCHAI_TASK_INDEX"])
    role = "ps" if task["type"] == "ps" else "worker"
    me = config["cluster"][role][index]
    host, port = me.rsplit(":", 1)
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((host, int(port)))  # every task owns a distinct address:port
    print(args["job_name"], task["type"], task["index"], index, me, os.environ["AZ_BATCHAI_PS_HOSTS"],
          os.environ["AZ_BATCHAI_WORKER_HOSTS"], config["environment"], flush=True)
    if role == "ps":
        server.listen(8)
        while True:  # parameter servers block forever; the launcher stops them
            conn, _ = server.accept()
            print("ps got:", conn.recv(100).decode(), flush=True)
            conn.sendall(b"ack")
            conn.close()
    ps_host, ps_port = config["cluster"]["ps"][0].rsplit(":", 1)
    for _ in range(200):
        try:
            conn = socket.create_connection((ps_host, int(ps_port)))
            break
        except OSError:
            time.sleep(0.05)
    conn.sendall(f"hello from {task['type']} {index}".encode())
    assert conn.recv(3) == b"ack"
    sys.exit(int(args.get("exit", 0)))
""")


def _tf_job(tmp_path, **overrides):
    script = tmp_path / "tf.py"
    script.write_text(TF_SCRIPT)
    settings = {
        "pythonScriptFilePath": str(script),
        "masterCommandLineArgs": "--job_name=worker --task_index=$AZ_BATCHAI_TASK_INDEX --master=yes",
        "workerCommandLineArgs": "--job_name=worker --task_index=$AZ_BATCHAI_TASK_INDEX",
        "parameterServerCommandLineArgs": "--job_name=ps --task_index=$AZ_BATCHAI_TASK_INDEX",
        "workerCount": 2,
        "parameterServerCount": 1,
        **overrides,
    }
    return make_job(tmp_path, node_count=2, tensorFlowSettings=settings)


def test_tensorflow_one_ps_two_workers(tmp_path):
    job = _tf_job(tmp_path)
    a, b = (n.address for n in job.spec.nodes)
    out = run(job)
    assert out.result.error_code is None, out.files
    assert set(out.without_logs()) == {"stdout-ps-0.txt", "stderr-ps-0.txt", "stdout-wk-0.txt",
                                       "stderr-wk-0.txt", "stdout-wk-1.txt", "stderr-wk-1.txt"}
    # Round-robin from node 0 per role, ps first; ports count up from 2222 per node.
    ps_hosts, workers = f"{a}:2222", f"{a}:2223,{b}:2222"
    assert out.files["stdout-wk-0.txt"] == f"worker master 0 0 {a}:2223 {ps_hosts} {workers} cloud\n"
    assert out.files["stdout-wk-1.txt"] == f"worker worker 1 1 {b}:2222 {ps_hosts} {workers} cloud\n"
    ps_out = out.files["stdout-ps-0.txt"].splitlines()
    assert ps_out[0] == f"ps ps 0 0 {a}:2222 {ps_hosts} {workers} cloud"
    assert sorted(ps_out[1:]) == ["ps got: hello from master 0", "ps got: hello from worker 1"]
    assert out.files["stderr-wk-0.txt"] == out.files["stderr-wk-1.txt"] == ""
    # The parameter server was stopped when the workers ended.
    assert processes_mentioning(str(tmp_path / "tf.py")) == []


def test_tensorflow_job_exit_is_the_first_failing_worker(tmp_path):
    job = _tf_job(tmp_path, workerCommandLineArgs="--job_name=worker --task_index=$AZ_BATCHAI_TASK_INDEX --exit=3")
    out = run(job)
    assert (out.result.exit_code, out.result.error_code) == (3, "JobFailed")


def test_tensorflow_single_process(tmp_path):
    script = tmp_path / "single.py"
    script.write_text("import os, sys; print('single', sys.argv[1:], os.environ['AZ_BATCHAI_TASK_INDEX'])\n")
    out = run(make_job(tmp_path, tensorFlowSettings={"pythonScriptFilePath": str(script),
                                                     "masterCommandLineArgs": "--a $AZ_BATCHAI_NUM_GPUS"}))
    assert out.result.error_code is None
    assert out.without_logs() == {"stdout-wk-0.txt": "single ['--a', '0'] 0\n", "stderr-wk-0.txt": ""}


PYTORCH_SCRIPT = textwrap.dedent("""
    import os, socket, sys, time
    rank, world = int(os.environ["AZ_BATCHAI_TASK_INDEX"]), int(sys.argv[1])
    init = os.environ["AZ_BATCHAI_PYTORCH_INIT_METHOD"]
    assert init.startswith("file:///")
    rendezvous = os.path.dirname(init[len("file://"):])  # the job's shared temp dir
    if rank == 0:
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(world)
        tmp = os.path.join(rendezvous, "port.tmp")
        with open(tmp, "w") as fh:
            fh.write(str(server.getsockname()[1]))
        os.rename(tmp, os.path.join(rendezvous, "port"))
        got = sorted(server.accept()[0].recv(100).decode() for _ in range(world - 1))
        print("rank 0 of", world, os.environ["AZ_BATCHAI_PYTORCH_BACKEND"], "got", got)
    else:
        path = os.path.join(rendezvous, "port")
        while not os.path.exists(path):
            time.sleep(0.02)
        socket.create_connection(("127.0.0.1", int(open(path).read()))).sendall(f"hi from {rank}".encode())
        print("rank", rank, "of", world, "on", os.environ["AZ_BATCHAI_MOUNT_ROOT"])
""")


def test_pytorch_two_ranks_rendezvous_through_shared_job_temp(tmp_path):
    script = tmp_path / "pt.py"
    script.write_text(PYTORCH_SCRIPT)
    job = make_job(tmp_path, node_count=2, pyTorchSettings={
        "pythonScriptFilePath": str(script), "commandLineArgs": "2", "communicationBackend": "gloo"})
    out = run(job)
    assert out.result.error_code is None, out.files
    assert out.without_logs() == {
        "stdout-0.txt": "rank 0 of 2 gloo got ['hi from 1']\n",
        "stdout-1.txt": f"rank 1 of 2 on {tmp_path}/node1/mounts\n",
        "stderr-0.txt": "",
        "stderr-1.txt": "",
    }


def test_caffe2_one_process_per_node(tmp_path):
    script = tmp_path / "c2.py"
    script.write_text("import os, sys; print(sys.argv[1], os.environ['AZ_BATCHAI_TASK_INDEX'], "
                      "os.environ['AZ_BATCHAI_MOUNT_ROOT'], os.environ['AZ_BATCHAI_SHARED_JOB_TEMP'])\n")
    job = make_job(tmp_path, node_count=2, caffe2Settings={
        "pythonScriptFilePath": str(script), "commandLineArgs": "--shard_id=$AZ_BATCHAI_TASK_INDEX"})
    out = run(job)
    assert out.result.error_code is None
    shared = job.spec.shared_job_temp
    assert out.without_logs() == {
        "stdout-0.txt": f"--shard_id=0 0 {tmp_path}/node0/mounts {shared}\n",
        "stdout-1.txt": f"--shard_id=1 1 {tmp_path}/node1/mounts {shared}\n",
        "stderr-0.txt": "",
        "stderr-1.txt": "",
    }
