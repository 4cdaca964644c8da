"""``python -m batchai_compat.launcher --spec SPEC.json``: run one Batch AI job on its nodes.

Contract with the engine (the local backend's supervisor):

* start it as a new session / process group; stdout gets the result JSON, stderr diagnostics;
* SIGTERM (or SIGINT/SIGHUP) = terminate the job: every process of the job is killed (SIGTERM,
  then SIGKILL after 2 s), ``JobTerminated`` is reported. Send SIGKILL to the group only after a
  longer grace (>= 5 s);
* the result is written atomically to ``spec.result_path`` (when set) as ``LaunchResult`` JSON;
* exit status: 0 job succeeded, 1 job failed (JobFailed / JobPreparationFailed /
  FailedStartingContainer), 143 terminated, 70 launcher error (LauncherError), 2 bad usage.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from typing import List, Optional

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
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def exit_status(result: LaunchResult) -> int:
    if result.error_code is None:
        return EXIT_OK
    if result.error_code == "JobTerminated":
        return EXIT_TERMINATED
    if result.error_code == "LauncherError":
        return EXIT_INTERNAL
    return EXIT_FAILED


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m batchai_compat.launcher",
                                     description="Run a Batch AI job on its (virtual) nodes.")
    parser.add_argument("--spec", required=True, help="launch spec JSON (LaunchSpec)")
    args = parser.parse_args(argv)
    try:
        spec = LaunchSpec.read(args.spec)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        sys.stderr.write(f"batchai launcher: cannot read spec {args.spec}: {exc}\n")
        return EXIT_USAGE
    become_subreaper()
    runner = JobRunner(spec)
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
