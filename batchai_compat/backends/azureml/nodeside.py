"""Node side of an Azure ML run that carries a Batch AI job (shipped as ``batchai_compat/_aml_node.py``).

The Azure ML backend submits a generated source directory holding a copy of
``batchai_compat.launcher``, this module and ``batchai/aml.json``; the run's command is
``python -m batchai_compat._aml_node batchai/aml.json``. Standard library only (plus the launcher copy):
the job's image needs neither batchai_compat nor azureml-core (secrets are read over REST). It runs under
the Python the job's environment copies into the image (``plan.py``), whatever Python the image has.

What it does, on every process Azure ML starts for the run:

1. Node mode (every multi-node job, when Azure ML gives the node addresses: ``$AZ_BATCH_HOST_LIST`` for
   MPI toolkits' runs, ``TF_CONFIG``'s workers for the others): the run has one process per node
   (``MpiConfiguration(process_count_per_node=1)``: the MPI rank is the node index;
   ``TensorflowConfiguration(worker_count=nodes)``: the worker index is). Every process runs the
   launcher with ``--node-index <rank>`` for the job's real
   nodes (ids from ``$AZ_BATCH_NODE_LIST``, addresses from ``$AZ_BATCH_HOST_LIST``), and the launchers
   act together over TCP (``launcher/group.py``, authenticated by a token of the job): each node runs
   its setup task and job preparation (``stdout-job_prep-<nodeId>.txt``, ``execution-<nodeId>.log``),
   node 0 waits for all of them (the first failure fails the job everywhere), then every node starts
   the toolkit processes Batch AI placed on it (TensorFlow ps/workers on their node's address,
   PyTorch/Caffe2 ranks, the command or the one ``mpirun`` on node 0, whose ranks elsewhere get their
   node's ``AZ_BATCHAI_*`` through the rsh agent), and node 0 ends the job when every node's workers
   have ended (parameter servers are stopped). Node 0's launcher result and exit status are the job's
   (``./logs/batchai/result.json``); the others keep theirs in ``./logs/batchai/result-node<i>.json``
   and exit 0 unless they lost node 0.
   ``$AZ_BATCHAI_SHARED_JOB_TEMP`` is per machine; multi-node PyTorch gets a ``tcp://`` init method.
   Without every node's address a multi-node job fails (``LauncherError``, from the primary process;
   the others exit 0 at once): running every node's work on one machine would silently change the job.
   ``$AZ_BATCH_NODE_LIST`` holds addresses on Azure ML: node ids come from ``$AZ_BATCH_NODE_ID``
   (:func:`node_ids`). Every node uploads its own ``./outputs`` and ``./logs``, and Azure ML refuses an
   artifact name uploaded twice, so only node 0 writes the empty-directory markers; user code writing
   the same output name on two nodes fails the job (deviation, ``docs/compatibility.md``).
2. It writes a :class:`~batchai_compat.launcher.spec.LaunchSpec` for the job's ``nodeCount`` nodes
   (node mode) or virtual nodes on this machine: ``stdouterr`` goes to ``./logs/batchai/stdouterr``
   (``./logs`` is uploaded to the run's artifacts while it runs), output directory ``<ID>`` to
   ``./outputs/<ID>/batchai/outputs[/<pathSuffix>]`` (uploaded when the run ends), mounts link to the
   run's data references (``$AZUREML_DATAREFERENCE_<name>``), secret values are read from the
   workspace Key Vault with the run's token (:func:`resolve_secrets`, the request azureml-core's
   ``Run.get_secrets`` sends).
3. The cluster's ``nodeSetup.setupTask`` (if any) runs first on every node (the launcher's preflight,
   before job preparation), as the local backend runs it when a node joins: cluster mounts linked
   under ``$AZ_BATCHAI_MOUNT_ROOT``, output in
   ``<stdOutErrPathPrefix>/<stdOutErrPathSuffix>/stdout-<nodeId>.txt``; a failure fails the job with
   ``SetupTaskFailed``. (Azure ML has no node start task: it runs in the job's container before every job.)
4. It runs the launcher (job preparation, toolkit processes, ``AZ_BATCHAI_*`` variables, per-role
   TensorFlow arguments, execution log) and exits with the job's exit code; the launcher's result is
   kept in ``./logs/batchai/result.json`` for the backend.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from typing import Any, Dict, List, MutableMapping, Optional

LOGS_DIR = "logs/batchai"
# Azure ML uploads files only: an empty directory of an output gets this marker so that it is listed.
KEEP = ".batchai-keep"
RESULT_FILE = LOGS_DIR + "/result.json"
SEGMENT = "batchai"
# Variables of the Azure ML process layout that must not leak into the job's own processes.
_RUNTIME_PREFIXES = ("OMPI_", "PMI_", "PMIX_", "AZ_BATCH_", "AZ_BATCHAI_")
_KEPT_PREFIXES = ("OMPI_MCA_", "PMIX_MCA_")
# OMPI_MCA_* that mpirun sets for the processes it starts (Open MPI 4), not machine configuration.
_LAUNCH_MCA = tuple("OMPI_MCA_" + name for name in (
    "ess", "initial_wdir", "mpi_oversubscribe", "orte_app_num", "orte_bound_at_launch", "orte_ess_",
    "orte_hnp_uri", "orte_jobfam_session_dir", "orte_launch", "orte_local_daemon_uri", "orte_num_nodes",
    "orte_precondition_transports", "orte_top_session_dir", "pmix", "shmem_RUNTIME_QUERY_hint",
    "orte_num_restarts", "orte_parent_uri", "orte_daemonize"))
_RUNTIME_NAMES = ("TF_CONFIG", "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "NODE_RANK", "GROUP_RANK",
                  "MASTER_ADDR", "MASTER_PORT")


def process_rank(env: Dict[str, str]) -> int:
    """This process's rank in the Azure ML process layout (0 = the primary)."""
    for name in ("OMPI_COMM_WORLD_RANK", "PMI_RANK", "RANK"):
        value = env.get(name)
        if value not in (None, ""):
            try:
                return int(value)
            except ValueError:
                continue
    tf = env.get("TF_CONFIG")
    if tf:
        try:
            config = json.loads(tf)
        except ValueError:
            return 0
        task = config.get("task") or {}
        kind, index = task.get("type"), int(task.get("index") or 0)
        has_chief = bool((config.get("cluster") or {}).get("chief"))
        if kind == "chief" or (kind in ("worker", "master") and not has_chief and index == 0):
            return 0
        return 1
    return 0


def clean_environment(env: "MutableMapping[str, str]") -> None:
    """Drop the Azure ML process layout, including what the mpirun that started this process told it
    (a ``mpirun`` started with those refuses: "mpirun does not support recursive calls"); keep the
    machine's own OpenMPI/PMIx settings (other ``*_MCA_*`` variables, e.g. of the image)."""
    for key in list(env):
        if key in _RUNTIME_NAMES or key.startswith(_LAUNCH_MCA) or \
                key.startswith(_RUNTIME_PREFIXES) and not key.startswith(_KEPT_PREFIXES):
            del env[key]


def _ssl_context(url: str) -> Any:
    """Certificates for the workspace endpoint: a bundle the run names (``REQUESTS_CA_BUNDLE`` /
    ``SSL_CERT_FILE``), else the copied conda prefix's own (``<prefix>/ssl/cacert.pem``: a relocated
    conda OpenSSL looks in its original prefix), else the image's system bundle."""
    if not url.lower().startswith("https:"):
        return None
    import ssl

    candidates = [os.environ.get("REQUESTS_CA_BUNDLE"), os.environ.get("SSL_CERT_FILE"),
                  os.path.join(sys.prefix, "ssl", "cacert.pem"), os.path.join(sys.prefix, "ssl", "cert.pem"),
                  "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"]
    for path in candidates:
        if path and os.path.isfile(path):
            return ssl.create_default_context(cafile=path)
    return ssl.create_default_context()


def _credential_endpoint(env: Dict[str, str]) -> str:
    """Where the credential service is, as azureml-core's service context finds it (``_restclient/
    service_context.py``: the ``experimentation`` entry of the workspace's discovery document at
    ``$AZUREML_DISCOVERY_SERVICE_ENDPOINT``), else the run's ``$AZUREML_SERVICE_ENDPOINT`` (the same
    regional host on Azure ML)."""
    import urllib.request

    fallback = env["AZUREML_SERVICE_ENDPOINT"].rstrip("/")
    discovery = env.get("AZUREML_DISCOVERY_SERVICE_ENDPOINT")
    if not discovery:
        return fallback
    try:
        with urllib.request.urlopen(discovery, timeout=30, context=_ssl_context(discovery)) as response:
            found = json.loads(response.read().decode("utf-8") or "{}").get("experimentation")
    except (OSError, ValueError, AttributeError):
        return fallback
    return str(found).rstrip("/") if found else fallback


def resolve_secrets(names: Dict[str, str], env: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """``{variable: value}`` for ``{variable: key vault secret name}``, with the standard library only (no
    azureml-core in the image): the request ``Run.get_context().get_secrets`` sends (azureml-core
    ``_restclient/secrets_client.py`` → ``credential_operations.get_batch``: ``POST
    {credential service}/credential/v2.0/subscriptions/{sub}/resourceGroups/{rg}/providers/
    Microsoft.MachineLearningServices/workspaces/{ws}/secrets:getbatch`` with ``{"secrets": [{"name"}]}``,
    answered ``{"secrets": [{"name", "value"}], "notFoundSecrets": [...]}``), authenticated with the
    run's own token (``AZUREML_RUN_TOKEN``, which Azure ML gives every run). Values are never logged."""
    if not names:
        return {}
    import time
    import urllib.error
    import urllib.parse
    import urllib.request

    env = dict(os.environ) if env is None else env
    missing_vars = [v for v in ("AZUREML_SERVICE_ENDPOINT", "AZUREML_RUN_TOKEN", "AZUREML_ARM_SUBSCRIPTION",
                                "AZUREML_ARM_RESOURCEGROUP", "AZUREML_ARM_WORKSPACE_NAME") if not env.get(v)]
    if missing_vars:
        raise RuntimeError("this job has secrets (kept in the workspace Key Vault) but the run's environment "
                           "does not say where to read them: {} not set".format(", ".join(missing_vars)))
    quote = urllib.parse.quote
    url = "{}/credential/v2.0/subscriptions/{}/resourceGroups/{}/providers/Microsoft.MachineLearningServices/" \
          "workspaces/{}/secrets:getbatch".format(_credential_endpoint(env),
                                                 quote(env["AZUREML_ARM_SUBSCRIPTION"], safe=""),
                                                 quote(env["AZUREML_ARM_RESOURCEGROUP"], safe=""),
                                                 quote(env["AZUREML_ARM_WORKSPACE_NAME"], safe=""))
    wanted = sorted(set(names.values()))
    body = json.dumps({"secrets": [{"name": n} for n in wanted]}).encode("utf-8")
    context = _ssl_context(url)
    answer: Dict[str, Any] = {}
    for attempt in range(4):
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Authorization": "Bearer " + env["AZUREML_RUN_TOKEN"], "Content-Type": "application/json; charset=utf-8",
            "x-ms-client-request-id": str(uuid.uuid4())})
        try:
            with urllib.request.urlopen(request, timeout=60, context=context) as response:
                answer = json.loads(response.read().decode("utf-8") or "{}")
            break
        except urllib.error.HTTPError as exc:
            if exc.code < 500 and exc.code != 429 or attempt == 3:
                raise RuntimeError("reading the job's secrets from the workspace Key Vault failed: "
                                   f"HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            if attempt == 3:
                raise RuntimeError(f"reading the job's secrets from the workspace Key Vault failed: {exc}") from None
        time.sleep(2 ** attempt)
    values = {str(s.get("name")): s.get("value") for s in answer.get("secrets") or [] if isinstance(s, dict)}
    lowered = {k.lower(): v for k, v in values.items()}  # Key Vault names are case-insensitive
    result = {}
    for var, secret in names.items():
        value = values.get(secret, lowered.get(secret.lower()))
        if value is None:
            raise RuntimeError(f"secret {secret} (for {var}) was not found in the workspace Key Vault")
        result[var] = str(value)
    return result


def job_for_node(aml: Dict[str, Any], cwd: str, secrets: Dict[str, str]) -> Dict[str, Any]:
    job = json.loads(json.dumps(aml["job"]))
    props = job.setdefault("properties", {})
    props["stdOutErrPathPrefix"] = os.path.join(cwd, "logs")
    props["jobOutputDirectoryPathSegment"] = SEGMENT
    for directory in props.get("outputDirectories") or []:
        directory["pathPrefix"] = os.path.join(cwd, "outputs", str(directory["id"]))
    for secret in props.get("secrets") or []:
        if secret.get("name") in secrets:
            secret["value"] = secrets[secret["name"]]
    return job


def mounts(aml: Dict[str, Any], level: str, env: Dict[str, str]) -> List[Dict[str, Any]]:
    result = []
    for mount in (aml.get("mounts") or {}).get(level) or []:
        source = env.get("AZUREML_DATAREFERENCE_" + mount["reference"])
        if not source:
            raise RuntimeError("data reference {} for mount {} is not available on this node".format(
                mount["reference"], mount["relative_mount_path"]))
        result.append({"relative_mount_path": mount["relative_mount_path"], "source": source,
                       "kind": mount["kind"], "read_only": bool(mount.get("read_only"))})
    return result


def _link(link: str, target: str) -> None:
    os.makedirs(target, exist_ok=True)
    os.makedirs(os.path.dirname(link), exist_ok=True)
    if os.path.islink(link):
        if os.readlink(link) == target:
            return
        os.unlink(link)
    elif os.path.exists(link):
        return
    os.symlink(target, link)


def run_setup_task(task: Dict[str, Any], spec: Dict[str, Any], secrets: Dict[str, str]) -> Optional[Dict[str, Any]]:
    """Run the cluster's setup task on every virtual node; the failure result, or None."""
    from .launcher.env import expand

    for node in spec["nodes"]:
        if node.get("local") is False:
            continue
        root = node["root"]
        for mount in spec["cluster_mounts"]:
            _link(os.path.join(root, "mounts", mount["relative_mount_path"].strip("/")), mount["source"])
        os.makedirs(os.path.join(root, "jobs"), exist_ok=True)
        env = dict(os.environ)
        env.update({"AZ_BATCHAI_MOUNT_ROOT": os.path.join(root, "mounts"),
                    "AZ_BATCHAI_JOB_TEMP_DIR": os.path.join(root, "jobs")})
        env.update({str(v["name"]): str(v.get("value") or "") for v in task.get("environmentVariables") or []})
        env.update(secrets)
        prefix = expand(str(task.get("stdOutErrPathPrefix") or root), env)
        if not os.path.isabs(prefix):
            prefix = os.path.join(root, prefix)
        out_dir = os.path.join(prefix, str(task.get("stdOutErrPathSuffix") or "").strip("/"))
        os.makedirs(out_dir, exist_ok=True)
        env["AZ_BATCHAI_STDOUTERR_DIR"] = out_dir
        stdout = os.path.join(out_dir, "stdout-{}.txt".format(node["id"]))
        stderr = os.path.join(out_dir, "stderr-{}.txt".format(node["id"]))
        with open(stdout, "wb") as out, open(stderr, "wb") as err:
            code = subprocess.call(["/bin/bash", "-c", str(task.get("commandLine") or "")], stdin=subprocess.DEVNULL,
                                   stdout=out, stderr=err, env=env, cwd=root)
        if code:
            return {"exit_code": code, "error_code": "SetupTaskFailed", "start_time": None, "end_time": None,
                    "error_message": "The setup task failed on node {} with exit code {}; see {}".format(
                        node["id"], code, stderr)}
    return None


def _tf_layout(env: Dict[str, str]) -> Optional[Dict[str, Any]]:
    """``{"hosts": [...], "index": i}`` from ``TF_CONFIG`` (the TensorFlow parameter-server layout the
    backend submits non-MPI toolkits with: one worker per node, no ps), or None."""
    raw = env.get("TF_CONFIG")
    if not raw:
        return None
    try:
        config = json.loads(raw)
        cluster = config.get("cluster") or {}
        task = config.get("task") or {}
        workers = list(cluster.get("chief") or []) + list(cluster.get("worker") or cluster.get("master") or [])
        kind, index = str(task.get("type") or ""), int(task.get("index") or 0)
    except (ValueError, TypeError, AttributeError):
        return None
    if kind == "chief":
        position = 0
    elif kind in ("worker", "master"):
        position = len(cluster.get("chief") or []) + index
    else:
        return None
    hosts = [str(w).rsplit(":", 1)[0] for w in workers]
    return {"hosts": hosts, "index": position} if 0 <= position < len(hosts) else None


def node_addresses(count: int, env: Dict[str, str]) -> Optional[List[str]]:
    """The allocation's node addresses in node order: ``$AZ_BATCH_HOST_LIST`` (MPI runs), else the
    workers' hosts of ``TF_CONFIG`` (one worker per node); None when this run does not say them for
    every node."""
    listed = [h.strip() for h in (env.get("AZ_BATCH_HOST_LIST") or "").split(",") if h.strip()]
    if len(listed) == count:
        return listed
    layout = _tf_layout(env)
    if layout is not None and len(layout["hosts"]) == count:
        return list(layout["hosts"])
    return None


def spread_index(count: int, env: Dict[str, str]) -> Optional[int]:
    """This process's node when the job runs one launcher per node ("node mode"), else None.

    Node mode needs one Azure ML process per node (``MpiConfiguration(process_count_per_node=1)``, so
    the MPI rank is the node index) and the node addresses."""
    if count < 2 or node_addresses(count, env) is None:
        return None
    layout = _tf_layout(env)
    listed = [h.strip() for h in (env.get("AZ_BATCH_HOST_LIST") or "").split(",") if h.strip()]
    index = layout["index"] if layout is not None and len(listed) != count else process_rank(env)
    return index if 0 <= index < count else None


def _is_address(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text.strip())
        return True
    except ValueError:
        return False


def node_ids(count: int, env: Dict[str, str], index: Optional[int] = None) -> List[str]:
    """The job's node ids, node order. On Azure ML ``$AZ_BATCH_NODE_LIST`` lists the nodes' IP addresses, not
    their ids: it is used only when it holds ids. This node's own id is ``$AZ_BATCH_NODE_ID`` (the id
    ``AmlCompute.list_nodes`` reports); the others, when unknown, get ids derived from the run."""
    listed = [n for n in (env.get("AZ_BATCH_NODE_LIST") or "").split(";") if n]
    base = (env.get("AZUREML_RUN_ID") or "run")[-12:]
    if len(listed) == count and not any(_is_address(n) for n in listed):
        ids = listed
    else:
        ids = [f"tvm-aml{base}_{i}" for i in range(count)]
    own = (env.get("AZ_BATCH_NODE_ID") or "").strip()
    if index is not None and 0 <= index < count and own and own not in ids:
        ids[index] = own
    return ids


def gpus_on_this_node() -> int:
    """GPUs of this machine as ``nvidia-smi -L`` lists them (``GPU <n>: <model> (UUID: ...)``), 0 without it."""
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in out.splitlines() if line.strip().startswith("GPU "))


GROUP_PORTS = 16  # node 0 listens on the first free port of GROUP_PORTS from group_port()


def group_port(job_uid: str) -> int:
    """Where node 0 listens for the other nodes: a port in 20000-39999 derived from the job, so
    that two runs sharing machines rarely try the same one (and the next ones are tried)."""
    return 20000 + int(hashlib.sha256(job_uid.encode()).hexdigest()[:8], 16) % 20000


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    spec_file = argv[0] if argv else "batchai/aml.json"
    env = dict(os.environ)
    with open(spec_file, encoding="utf-8") as fh:
        aml = json.load(fh)
    count = max(1, int(aml.get("node_count") or 1))
    index = spread_index(count, env)
    if index is None and process_rank(env) != 0:
        print("batchai_compat: secondary process of the run; the job runs from the primary process")
        return 0
    cwd = os.getcwd()
    os.makedirs(os.path.join(cwd, LOGS_DIR), exist_ok=True)
    ids = node_ids(count, env, index)
    group = None
    if index is None and count > 1:
        # Without every node's address the other nodes cannot be reached: running their work here would
        # silently change the job (and could report success), so the job fails, saying why.
        message = ("the run does not list the addresses of the job's {} nodes ($AZ_BATCH_HOST_LIST has {!r}, "
                   "TF_CONFIG {!r}): the nodes cannot act as one job").format(
                       count, env.get("AZ_BATCH_HOST_LIST") or "", "set" if env.get("TF_CONFIG") else "not set")
        _write_result(cwd, {"exit_code": None, "error_code": "LauncherError", "error_message": message,
                            "start_time": None, "end_time": None})
        sys.stderr.write(f"batchai_compat: {message}\n")
        return 70
    if index is None:  # the primary process runs every virtual node of the job
        if count > 1:
            print("batchai_compat: the run does not list its nodes' addresses ($AZ_BATCH_HOST_LIST): every "
                  f"process of the job's {count} nodes runs on this node")
        addresses = [f"127.0.0.{i + 1}" for i in range(count)]
        scratch = tempfile.mkdtemp(prefix="batchai-nodes-")
        job_uid = str(uuid.uuid4())
        result_path = os.path.join(cwd, RESULT_FILE)
    else:  # node mode: this process runs node `index` of the job; the other nodes run theirs
        addresses = node_addresses(count, env) or []
        # The same job uid on every node ($AZ_BATCHAI_JOB_TEMP is one path on all nodes).
        job_uid = str(uuid.uuid5(uuid.NAMESPACE_URL, "batchai-aml-run:" + (env.get("AZUREML_RUN_ID") or "")))
        scratch = tempfile.mkdtemp(prefix=f"batchai-node{index}-")
        # Node 0's result is the job's (it knows every node's); the others keep theirs beside it.
        result_path = os.path.join(cwd, RESULT_FILE if index == 0 else node_result_file(index))
        group = {"token": str(aml.get("group_token") or job_uid), "port": group_port(job_uid),
                 "ports": GROUP_PORTS}
    try:
        secrets = resolve_secrets(aml.get("secrets") or {}, env)
        setup = aml.get("setup_task")
        setup_secrets = resolve_secrets((setup or {}).get("secrets") or {}, env)
        spec: Dict[str, Any] = {
            "job": job_for_node(aml, cwd, secrets),
            "nodes": [{"id": ids[i], "address": addresses[i], "root": os.path.join(scratch, str(i))}
                      for i in range(count)],
            "shared_job_temp": os.path.join(scratch, "shared"),
            "job_uid": job_uid,
            "cluster_mounts": mounts(aml, "cluster", env),
            "job_mounts": mounts(aml, "job", env),
            "result_path": result_path,
            # Framework toolkits run the image's own `python` (as on Batch AI), not the interpreter the
            # environment copied in for this node side (plan.py).
            "python": None,
            # Azure ML's count for the VM size (backend), else this node's own.
            "gpus_per_node": gpus_on_this_node() if aml.get("gpus_per_node") is None
            else int(aml["gpus_per_node"]),
            "container_runtime": None,
            "extra_env": {},
            "group": group,
        }
    except Exception as exc:  # report like the launcher would: a LauncherError result
        _write_result(cwd, {"exit_code": None, "error_code": "LauncherError", "error_message": str(exc),
                            "start_time": None, "end_time": None},
                      None if not index else node_result_file(index))
        sys.stderr.write(f"batchai_compat: {exc}\n")
        shutil.rmtree(scratch, ignore_errors=True)
        return 70
    preflight = None
    if setup:
        setup_spec = spec if index is None else \
            dict(spec, nodes=[dict(n, local=i == index) for i, n in enumerate(spec["nodes"])])

        def preflight() -> Optional[Dict[str, Any]]:  # on Batch AI it ran when the node joined the cluster
            return run_setup_task(setup, setup_spec, setup_secrets)

    spec_path = os.path.join(scratch, "spec.json")
    fd = os.open(spec_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # holds secret values
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(spec, fh)
    clean_environment(os.environ)
    try:
        from .launcher.__main__ import main as launcher_main

        args = ["--spec", spec_path] + ([] if index is None else ["--node-index", str(index)])
        status = launcher_main(args, preflight=preflight)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if not index:  # one node writes the markers: Azure ML refuses an artifact name uploaded by two nodes
            mark_empty_directories([os.path.join(cwd, "outputs"), os.path.join(cwd, LOGS_DIR)])
        write_manifests(cwd, index or 0)
    if index:
        return _member_status(result_path, status)
    return _exit_status(result_path, status)


def _member_status(result_path: str, launcher_status: int) -> int:
    """Nodes other than 0 exit 0 once node 0 has given its verdict: node 0's exit status and result are
    the job's (a failure on this node included). Exiting non-zero first could let the mpirun that
    started the run's processes kill node 0 before it recorded the job's result. Only a node that lost
    node 0 (LauncherError) fails by itself."""
    try:
        with open(result_path, encoding="utf-8") as fh:
            error = json.load(fh).get("error_code")
    except (OSError, ValueError, AttributeError):
        return launcher_status
    return launcher_status if error == "LauncherError" else 0


def node_result_file(index: int) -> str:
    return f"{LOGS_DIR}/result-node{index}.json"


def mark_empty_directories(roots: List[str]) -> None:
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            if not dirnames and not filenames and dirpath != root:
                try:
                    open(os.path.join(dirpath, KEEP), "w").close()
                except OSError:
                    pass


MANIFEST_STEM = "files-node"  # <dir>/files-node<i>.json: {artifact path: [size, mtime]} of node i's files


def write_manifests(cwd: str, node: int) -> None:
    """Size and modification time of every file this node uploads, beside each listable directory
    (``logs/batchai/files-node<i>.json`` for ``stdouterr``, ``outputs/<ID>/batchai/files-node<i>.json`` for
    output directory ``<ID>``): the artifact service lists names and URLs only, so the backend reads these
    (one request per node) instead of one HEAD request per file. A name per node: no upload conflicts."""
    bases = [(os.path.join(cwd, LOGS_DIR), LOGS_DIR, ["stdouterr"])]
    outputs = os.path.join(cwd, "outputs")
    if os.path.isdir(outputs):
        for name in sorted(os.listdir(outputs)):
            bases.append((os.path.join(outputs, name, SEGMENT), f"outputs/{name}/{SEGMENT}", ["outputs"]))
    for base, artifact_base, tops in bases:
        entries: Dict[str, List[float]] = {}
        for top in tops:
            for dirpath, _dirs, names in os.walk(os.path.join(base, top)):
                for name in names:
                    full = os.path.join(dirpath, name)
                    try:
                        info = os.stat(full)
                    except OSError:
                        continue
                    rel = os.path.relpath(full, base).replace(os.sep, "/")
                    entries[f"{artifact_base}/{rel}"] = [info.st_size, info.st_mtime]
        if not entries:
            continue
        try:
            with open(os.path.join(base, f"{MANIFEST_STEM}{node}.json"), "w", encoding="utf-8") as fh:
                json.dump(entries, fh)
        except OSError:
            pass  # the backend falls back to HEAD requests


def _write_result(cwd: str, result: Dict[str, Any], name: Optional[str] = None) -> None:
    with open(os.path.join(cwd, name or RESULT_FILE), "w", encoding="utf-8") as fh:
        json.dump(result, fh)


def _exit_status(result_path: str, launcher_status: int) -> int:
    """The job's own exit code when it failed with one (Azure ML reports it), else the launcher's."""
    try:
        with open(result_path, encoding="utf-8") as fh:
            result = json.load(fh)
    except (OSError, ValueError):
        return launcher_status
    code = result.get("exit_code")
    if result.get("error_code") and isinstance(code, int) and code != 0:
        return code if 0 < code < 256 else 1
    return launcher_status


if __name__ == "__main__":
    sys.exit(main())
