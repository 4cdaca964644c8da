"""Job scripts for multi-node tests that run one launcher per node (tests/launcher/test_group.py on the
launcher alone, tests/azureml/test_multinode.py end to end): processes on different nodes that must
find each other over the addresses the launcher gave them."""

# TensorFlow, both roles (from TF_CONFIG): a parameter server answers with its name on its own address and
# port until it is stopped; a worker asks every parameter server, writes a checkpoint into the output
# directory OUTPUTS when the job has one, and ends. SLEEP_ON=<worker index> keeps that worker busy.
TF_SCRIPT = """
import json, os, socket, sys, time
config = json.loads(os.environ["TF_CONFIG"])
kind, index = config["task"]["type"], config["task"]["index"]
if kind == "ps":
    address = config["cluster"]["ps"][index]
    host, port = address.rsplit(":", 1)
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((host, int(port)))
    server.listen(8)
    print("ps", index, "on", address, flush=True)
    while True:
        conn, _ = server.accept()
        conn.sendall(b"ps%d" % index)
        conn.close()
if os.environ.get("SLEEP_ON") == str(index):
    time.sleep(120)
replies = []
for address in config["cluster"].get("ps", []):
    host, port = address.rsplit(":", 1)
    deadline = time.time() + 30
    while True:
        try:
            with socket.create_connection((host, int(port)), timeout=5) as conn:
                replies.append(conn.recv(16).decode())
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.05)
if os.environ.get("AZ_BATCHAI_OUTPUT_OUTPUTS"):
    with open(os.path.join(os.environ["AZ_BATCHAI_OUTPUT_OUTPUTS"], "model-%d.ckpt" % index), "w") as fh:
        fh.write("worker %d\\n" % index)
print("worker", index, "on", config["cluster"]["worker"][index], "got", " ".join(replies))
"""

# PyTorch ranks meeting at $AZ_BATCHAI_PYTORCH_INIT_METHOD (tcp://host:port): rank 0 listens there, the
# others connect and say hello.
RENDEZVOUS_SCRIPT = """
import os, socket, time
init = os.environ["AZ_BATCHAI_PYTORCH_INIT_METHOD"]
rank = int(os.environ["AZ_BATCHAI_TASK_INDEX"])
host, port = init[len("tcp://"):].rsplit(":", 1)
if rank == 0:
    server = socket.socket()
    server.bind((host, int(port)))
    server.listen(1)
    conn, _ = server.accept()
    print("rank 0 got", conn.recv(64).decode(), "via", init)
else:
    deadline = time.time() + 30
    while True:
        try:
            conn = socket.create_connection((host, int(port)), timeout=5)
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.05)
    conn.sendall(("hello from rank %d" % rank).encode())
    print("rank", rank, "sent via", init)
"""
