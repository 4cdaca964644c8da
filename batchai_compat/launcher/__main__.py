"""``python -m batchai_compat.launcher --spec SPEC.json``: run one Batch AI job on its nodes.

Contract with the engine (the local backend's supervisor):

* start it as a new session / process group; stdout gets the result JSON, stderr diagnostics;
* SIGTERM (or SIGINT/SIGHUP) = terminate the job: every process of the job is killed (SIGTERM,
  then SIGKILL after 2 s), ``JobTerminated`` is reported. Send SIGKILL to the group only after a
  longer grace (>= 5 s);
* the result is written atomically to ``spec.result_path`` (when set) as ``LaunchResult`` JSON;
* exit status: 0 job succeeded, 1 job failed (JobFailed / JobPreparationFailed /
  FailedStartingContainer), 143 terminated, 70 launcher error (LauncherError), 2 bad usage.

Without ``--node-index`` the launcher runs every virtual node of the spec ("local mode"). With
``--node-index N`` (or ``auto``: ``$NODE_RANK``, ``$OMPI_COMM_WORLD_RANK`` or ``$PMI_RANK``) it runs
only node N's share ("node mode", one launcher per machine, e.g. inside an Azure ML run): that
node's directories, job preparation and toolkit processes, with the machine's real ssh. MPI
toolkits in node mode run mpirun from node 0 only and need a working ssh between machines. When
the spec has ``group`` settings, the launchers of a job's nodes act together over TCP (``group.py``):
node 0 starts the job once every node's preparation succeeded, and ends it when every node's
workers have ended.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from typing import Any, Callable, Dict, List, Optional

from .execlog import utc_now_iso
from .processes import become_subreaper
from .runner import JobRunner
from .spec import LaunchResult, LaunchSpec

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL, EXIT_TERMINATED = 0, 1, 2, 70, 143


def write_result(result: LaunchResult, path: Optional[str]) -> None:
    text = result.to_json()
    if path:
        tmp = f"{path}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except (OSError, ValueError):  # nobody listens on stdout: the result file is what counts
        pass


def resolve_node_index(value: Optional[str]) -> Optional[int]:
    if value is None:
        return None
    if value == "auto":
        for name in ("NODE_RANK", "OMPI_COMM_WORLD_RANK", "PMI_RANK"):
            if os.environ.get(name, "").isdigit():
                return int(os.environ[name])
        return 0
    if not value.isdigit():
        raise ValueError(f"--node-index must be a non-negative integer or 'auto', not {value!r}")
    return int(value)


def exit_status(result: LaunchResult) -> int:
    if result.error_code is None:
        return EXIT_OK
    if result.error_code == "JobTerminated":
        return EXIT_TERMINATED
    if result.error_code == "LauncherError":
        return EXIT_INTERNAL
    return EXIT_FAILED


def main(argv: Optional[List[str]] = None,
         preflight: Optional[Callable[[], Optional[Dict[str, Any]]]] = None) -> int:
    """The command line. ``preflight`` (when called in-process by an engine, e.g. the Azure ML node
    side): run on this launcher's nodes before job preparation; see :class:`JobRunner`."""
    parser = argparse.ArgumentParser(prog="python -m batchai_compat.launcher",
                                     description="Run a Batch AI job on its (virtual) nodes.")
    parser.add_argument("--spec", required=True, help="launch spec JSON (LaunchSpec)")
    parser.add_argument("--node-index", default=None,
                        help="run only this node of the spec (an integer, or 'auto' to read the rank from "
                             "NODE_RANK / OMPI_COMM_WORLD_RANK / PMI_RANK)")
    args = parser.parse_args(argv)
    try:
        node_index = resolve_node_index(args.node_index)
    except ValueError as exc:
        parser.error(str(exc))
    try:
        spec = LaunchSpec.read(args.spec)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        sys.stderr.write(f"batchai launcher: cannot read spec {args.spec}: {exc}\n")
        return EXIT_USAGE
    become_subreaper()
    runner = JobRunner(spec, node_index, preflight)
    runner.install_signal_handlers()
    try:
        result = runner.run()
    except Exception as exc:  # a launcher bug must still produce a result for the engine
        traceback.print_exc()
        result = LaunchResult(exit_code=None, error_code="LauncherError", error_message=f"launcher error: {exc}",
                              start_time=runner.start_time, end_time=utc_now_iso())
    write_result(result, spec.result_path)
    return exit_status(result)


if __name__ == "__main__":
    sys.exit(main())
