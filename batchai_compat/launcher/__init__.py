"""The node launcher: what makes a Batch AI job a Batch AI job wherever it runs.

``python -m batchai_compat.launcher --spec SPEC.json [--node-index N|auto]`` (see ``__main__``
for the contract with the engine). Stdlib only: it also ships into Azure ML runs.

Modules, in the order a job goes through them (sections of ``docs/service-behaviour.md``):

* ``spec``      the input (``LaunchSpec``) and output (``LaunchResult``) formats;
* ``layout``    node directories, mount links, stdouterr/output paths, file names (§d, §e.3);
* ``env``       the identical prep/job environment of each node (§c.1, §d.1);
* ``context``   builds all of the above into a ``JobContext``;
* ``ssh``/``mpi`` the virtual cluster: password-less ssh shim, OpenMPI on loopback nodes;
* ``toolkits``  which process runs where for each toolkit (§c.2–§c.10);
* ``containers`` one container per node through a docker-CLI-compatible runtime (§c.1 step 2);
* ``processes`` starting, waiting for and killing process trees;
* ``execlog``   Batch AI's own ``execution*.log``;
* ``runner``    the order of execution (§c.1) and the result (§f.1–§f.2).

Deviations from the service (also listed in the report to docs/compatibility.md's owner):
``containerSettings`` are ignored (logged) when no container runtime is configured
(``LaunchSpec.container_runtime``), and run in containers otherwise (see ``containers``);
read-only mounts are not enforced (symlinks); the cwd of job processes is the node's
``$AZ_BATCHAI_JOB_TEMP``; ssh sessions carry the node's ``AZ_BATCHAI_*`` variables (the
service's did not).
"""
