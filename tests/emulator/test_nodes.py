"""Emulated cluster nodes look like separate machines: one loopback address and one set of directories per
node, ``ssh`` between the nodes of a run, and a real ``mpirun`` on node 0 spreading ranks over the nodes
through that ssh. Everything through the real azureml-core and real processes."""

from __future__ import annotations

import os
import shutil
import textwrap

import pytest

from .helpers import read

pytestmark = [pytest.mark.azureml, pytest.mark.spawns_processes]

LAYOUT_SH = textwrap.dedent('''
    rank=$OMPI_COMM_WORLD_RANK
    echo "$AZ_BATCH_HOST_LIST|$AZ_BATCH_NODE_LIST|$AZ_BATCH_NODE_ID|$PWD|$TMPDIR|$AZ_BATCH_NODE_ROOT_DIR" \\
        > outputs/layout_$rank.txt
    echo "log of $rank" > logs/node_$rank.log
''')

SSH_SH = textwrap.dedent('''
    if [ "$OMPI_COMM_WORLD_RANK" = 0 ]; then
        node1=$(echo "$AZ_BATCH_HOST_LIST" | cut -d, -f2)
        ssh -o StrictHostKeyChecking=no -p 22 "root@$node1" \\
            'echo $AZ_BATCH_NODE_ID $PWD; echo rank=$OMPI_COMM_WORLD_RANK' > outputs/ssh.txt 2> outputs/ssh_err.txt
        echo $? > outputs/ssh_rc.txt
        ssh 10.0.0.5 true 2> outputs/unknown_err.txt
        echo $? > outputs/unknown_rc.txt
        ssh "$node1" 2> outputs/nocmd_err.txt
        echo $? > outputs/nocmd_rc.txt
        ssh "$node1" 'exit 7'
        echo $? > outputs/exit_rc.txt
    fi
''')

MPIRUN_SH = textwrap.dedent('''
    if [ "$OMPI_COMM_WORLD_RANK" = 0 ] && [ "$AZUREML_NODE_RANK" = 0 ]; then
        for h in $(echo "$AZ_BATCH_HOST_LIST" | tr , ' '); do echo "$h slots=1"; done > hostfile
        mpirun --hostfile hostfile --mca plm_rsh_agent ssh -np 2 sh -c 'echo $AZ_BATCH_NODE_ID' \\
            > outputs/mpirun.txt 2> outputs/mpirun_err.txt
        echo $? > outputs/mpirun_rc.txt
    fi
''')


def _cluster(ws, name="cpu", max_nodes=2):
    from azureml.core.compute import AmlCompute, ComputeTarget
    ct = ComputeTarget.create(ws, name, AmlCompute.provisioning_configuration(
        vm_size="STANDARD_D2_V2", min_nodes=0, max_nodes=max_nodes))
    ComputeTarget.wait_for_completion(ct, show_output=False)
    return ct


def _run_two_nodes(ws, tmp_path, script, name):
    from azureml.core import Environment, Experiment, ScriptRunConfig
    from azureml.core.runconfig import MpiConfiguration

    _cluster(ws)
    src = tmp_path / "src"
    src.mkdir()
    (src / "node.sh").write_text(script)
    env = Environment.from_docker_image("img", "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04")
    env._environment_variables = {}
    run = Experiment(ws, name).submit(ScriptRunConfig(
        source_directory=str(src), command="sh node.sh", compute_target="cpu", environment=env,
        distributed_job_config=MpiConfiguration(process_count_per_node=1, node_count=2)))
    run.wait_for_completion(show_output=False, raise_on_error=False)
    return run


def _artifact(run, tmp_path, name):
    target = str(tmp_path / name.replace("/", "_"))
    run.download_file(name, target)
    return read(target)


def test_nodes_have_own_addresses_and_directories(emu, ws, tmp_path):
    run = _run_two_nodes(ws, tmp_path, LAYOUT_SH, "layout")
    assert run.get_status() == "Completed", run.get_details().get("error")
    state = emu.run(run.id)
    names = set(run.get_file_names())
    # Both nodes' ./outputs and ./logs are run artifacts.
    assert {"outputs/layout_0.txt", "outputs/layout_1.txt", "logs/node_0.log", "logs/node_1.log"} <= names
    layouts = [_artifact(run, tmp_path, f"outputs/layout_{i}.txt").strip().split("|") for i in range(2)]
    hosts, node_list = layouts[0][0].split(","), layouts[0][1].split(";")
    assert len(hosts) == 2 and hosts[0] != hosts[1]
    assert all(h.startswith("127.") and h != "127.0.0.1" for h in hosts)
    assert layouts[1][:2] == layouts[0][:2]
    assert node_list == state.node_ids and hosts == state.node_addresses
    for i, (_hosts, _nodes, node_id, pwd, tmpdir, root) in enumerate(layouts):
        assert node_id == state.node_ids[i]
        node_root = os.path.join(state.run_dir, "nodes", node_id)
        assert root == node_root
        assert pwd == os.path.join(node_root, "wd") == state.node_work_dirs[i]
        assert tmpdir == os.path.join(node_root, "tmp")
    assert state.work_dir == state.node_work_dirs[0] != state.node_work_dirs[1]
    # One copy of the project per node.
    assert all(os.path.isfile(os.path.join(wd, "node.sh")) for wd in state.node_work_dirs)
    # (A file name written on both nodes fails the run: tests/azureml/test_findings_nodes.py.)
    # The addresses are real: each node's address can be bound (Linux routes 127.0.0.0/8 to lo).
    import socket
    for host in hosts:
        with socket.socket() as sock:
            sock.bind((host, 0))


def test_ssh_between_the_nodes_of_a_run(emu, ws, tmp_path):
    run = _run_two_nodes(ws, tmp_path, SSH_SH, "ssh")
    assert run.get_status() == "Completed", run.get_details().get("error")
    state = emu.run(run.id)
    node1_root = os.path.join(state.run_dir, "nodes", state.node_ids[1])
    # Login environment of node 1 (its id, its root as cwd), not the caller's (no MPI rank).
    assert _artifact(run, tmp_path, "outputs/ssh_rc.txt") == "0\n"
    assert _artifact(run, tmp_path, "outputs/ssh.txt") == f"{state.node_ids[1]} {node1_root}\nrank=\n"
    assert _artifact(run, tmp_path, "outputs/unknown_rc.txt") == "255\n"
    assert "ssh: Could not resolve hostname 10.0.0.5: Name or service not known" in \
        _artifact(run, tmp_path, "outputs/unknown_err.txt")
    assert _artifact(run, tmp_path, "outputs/nocmd_rc.txt") == "255\n"
    assert _artifact(run, tmp_path, "outputs/exit_rc.txt") == "7\n"


@pytest.mark.mpi
def test_mpirun_on_node_0_starts_ranks_on_both_nodes(emu, ws, tmp_path):
    assert shutil.which("mpirun"), "OpenMPI's mpirun is missing: make test installs it (system-deps)"
    run = _run_two_nodes(ws, tmp_path, MPIRUN_SH, "mpirun")
    assert run.get_status() == "Completed", run.get_details().get("error")
    state = emu.run(run.id)
    names = set(run.get_file_names())
    assert "outputs/mpirun_rc.txt" in names, names
    err = _artifact(run, tmp_path, "outputs/mpirun_err.txt")
    assert _artifact(run, tmp_path, "outputs/mpirun_rc.txt") == "0\n", err
    # One rank per emulated node, each with its node's id (the daemon ran in that node's login environment).
    assert sorted(_artifact(run, tmp_path, "outputs/mpirun.txt").split()) == sorted(state.node_ids), err


@pytest.mark.parametrize("args, expected", [
    (["127.200.0.2", "echo", "hi"], ("127.200.0.2", ["echo", "hi"])),
    (["-o", "StrictHostKeyChecking=no", "-p", "22", "-q", "u@node", "ls"], ("node", ["ls"])),
    (["-oBatchMode=yes", "-tt", "-x", "node", "a b"], ("node", ["a b"])),
    (["-i", "key", "--", "node"], ("node", [])),
    (["-p"], (None, [])),
])
def test_ssh_argument_parsing(args, expected):
    from batchai_compat.testing.amlemu.nodessh import parse_args
    assert parse_args(args) == expected


def test_orted_launch_gets_the_nodes_session_dir_and_stays_in_the_foreground():
    from batchai_compat.testing.amlemu.nodessh import daemon_command
    command = ('PATH=/usr/bin:$PATH ; export PATH ; /usr/bin/orted -mca ess "env" --daemonize '
               '-mca orte_tmpdir_base "/tmp/node0" -mca orte_hnp_uri "1.0;tcp://127.0.0.1:5"')
    adjusted = daemon_command(command, "/tmp/node 1")
    assert "--daemonize" not in adjusted and "/tmp/node0" not in adjusted
    assert "/usr/bin/orted -mca orte_tmpdir_base '/tmp/node 1' -mca ess" in adjusted
    assert daemon_command("echo orted-like", "/x") == "echo orted-like"


def test_node_addresses_are_distinct_loopback_addresses(tmp_path):
    from batchai_compat.testing import AzureMLEmulator
    emu = AzureMLEmulator(root=str(tmp_path / "emu"), patch_environ=False)
    addresses = [emu.next_node_address() for _ in range(260)]
    assert len(set(addresses)) == 260
    assert all(a.startswith(f"127.{emu.address_octet}.") for a in addresses)
    assert 200 <= emu.address_octet <= 249 and addresses[0].endswith(".0.1") and addresses[250].endswith(".1.1")


def test_list_nodes_reports_the_address_jobs_see():
    from batchai_compat.testing.amlemu.state import Node

    assert Node("n0", 0).as_dict()["privateIpAddress"] == "10.0.0.4"  # before it ran anything
    node = Node("n1", 1, address="127.201.0.2")
    assert node.as_dict()["privateIpAddress"] == "127.201.0.2" and node.as_dict()["publicIpAddress"] == "127.0.0.1"
