// The full scenario with the original @azure/arm-batchai 2.2.1 (api-version 2018-05-01, on
// @azure/ms-rest-js and @azure/ms-rest-azure-js), unmodified and only configured: `baseUri` is the
// gateway, `TokenCredentials` (ms-rest-js) carries the gateway's token, and `longRunningOperationRetryTimeout`
// is the client's own poll delay in seconds when a response has no Retry-After. The package's
// create/deleteMethod/terminate wait for the long-running operation themselves (beginX + pollUntilFinished).
//
// Run by test_original_clients.py with NODE_PATH pointing at .tools/node-oracles/node_modules (make
// gateway-client-oracles); configuration as JSON in GATEWAY_SCENARIO, as for the Python scripts (_scenario.py).
// Output: "step <name> ok <seconds>" per step, "PASSED <client> <n> steps" at the end; exit 1 on a failure.
"use strict";

const http = require("http");
const https = require("https");
const fs = require("fs");
const { BatchAIManagementClient } = require("@azure/arm-batchai");
const { TokenCredentials } = require("@azure/ms-rest-js");
const batchaiVersion = require("@azure/arm-batchai/package.json").version;
const packageDir = require("path").dirname(require.resolve("@azure/arm-batchai/package.json"));

const cfg = JSON.parse(process.env.GATEWAY_SCENARIO);
const TIMEOUT = (cfg.timeout || 120) * 1000;
const RG = cfg.resource_group;
const WS = "gwws";
const EXP = "gwexp";
const CLUSTER = "gwcluster";
// The same job scenario as the Python scripts (_scenario.py).
const PREP_TEXT = "prepared-by-job-preparation";
const RESULT_TEXT = "0123456789abcdef";
const STDOUT_TEXT = "hello from the gateway scenario";
const PREP_COMMAND = `echo ${PREP_TEXT} > $AZ_BATCHAI_JOB_TEMP/prep.txt`;
const JOB_COMMAND = `cp $AZ_BATCHAI_JOB_TEMP/prep.txt $AZ_BATCHAI_OUTPUT_OUTPUTS/prep.txt && ` +
  `printf ${RESULT_TEXT} > $AZ_BATCHAI_OUTPUT_OUTPUTS/result.txt && ` +
  `printf model > $AZ_BATCHAI_OUTPUT_MODELS/model.bin && echo '${STDOUT_TEXT}'`;

const client = new BatchAIManagementClient(new TokenCredentials(cfg.token), cfg.subscription, {
  baseUri: cfg.url,
  longRunningOperationRetryTimeout: 0.2,
});

const done = [];
const started = Date.now();

async function step(name, action) {
  const began = Date.now();
  try {
    const value = await action();
    done.push(name);
    console.log(`step ${name} ok ${((Date.now() - began) / 1000).toFixed(2)}`);
    return value;
  } catch (error) {
    console.log(`step ${name} FAILED: ${error && error.stack ? error.stack : error}`);
    if (error && error.response) {
      console.log(`  HTTP ${error.statusCode}: ${error.response.bodyAsText}`);
    }
    process.exit(1);
  }
}

function check(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(probe, what) {
  const deadline = Date.now() + TIMEOUT;
  for (;;) {
    if (await probe()) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${TIMEOUT / 1000} s waiting for ${what}`);
    }
    await sleep(200);
  }
}

// GET a download URL the service handed out (no Authorization header, as users fetched them), optionally
// with a Range header; resolves to {status, headers, body (Buffer)}.
function httpGet(url, range) {
  const lib = url.startsWith("https:") ? https : http;
  const options = { headers: range ? { Range: `bytes=${range[0]}-${range[1]}` } : {} };
  if (cfg.cafile && url.startsWith("https:")) {
    options.ca = fs.readFileSync(cfg.cafile);
  }
  return new Promise((resolve, reject) => {
    lib.get(url, options, (response) => {
      const chunks = [];
      response.on("data", (chunk) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode, headers: response.headers,
                                         body: Buffer.concat(chunks) }));
    }).on("error", reject);
  });
}

async function expect404(get, what, code) {
  try {
    await get();
  } catch (error) {
    check(error.statusCode === 404, `${what}: expected 404, got ${error.statusCode}: ${error.message}`);
    check(error.code === code, `${what}: error code ${error.code}, expected ${code}`);
    return;
  }
  throw new Error(`${what}: still there after its delete`);
}

// Every page of a paged list (the package returns one page with nextLink; listXNext fetches the next). A
// nextLink that leads back to a page already seen fails at once instead of paging forever.
async function allPages(first, next) {
  let page = await first();
  const items = [...page];
  const seen = new Set();
  while (page.nextLink) {
    check(!seen.has(page.nextLink), `nextLink repeats (the next page was not reached): ${page.nextLink}`);
    seen.add(page.nextLink);
    page = await next(page.nextLink);
    items.push(...page);
  }
  return items;
}

function storageCredentials() {
  return { accountKey: cfg.account_key };
}

function clusterParameters() {
  return {
    vmSize: "STANDARD_D1",
    vmPriority: "lowpriority",
    scaleSettings: { manual: { targetNodeCount: 1 } },
    userAccountSettings: { adminUserName: "demoUser", adminUserPassword: "Pa$$w0rd-of-the-gateway-scenario" },
    nodeSetup: {
      mountVolumes: {
        azureFileShares: [{
          accountName: cfg.account, credentials: storageCredentials(), relativeMountPath: "azfiles",
          azureFileUrl: `https://${cfg.account}.file.core.windows.net/${cfg.share}`,
        }],
        azureBlobFileSystems: [{
          accountName: cfg.account, containerName: cfg.container, credentials: storageCredentials(),
          relativeMountPath: "bfs",
        }],
      },
    },
  };
}

function jobParameters(clusterId, command, prep) {
  const parameters = {
    cluster: { id: clusterId },
    nodeCount: 1,
    stdOutErrPathPrefix: "$AZ_BATCHAI_MOUNT_ROOT/azfiles",
    outputDirectories: [
      { id: "OUTPUTS", pathPrefix: "$AZ_BATCHAI_MOUNT_ROOT/azfiles", pathSuffix: "files" },
      { id: "MODELS", pathPrefix: "$AZ_BATCHAI_MOUNT_ROOT/bfs" },
    ],
    customToolkitSettings: { commandLine: command },
  };
  if (prep) {
    parameters.jobPreparation = { commandLine: PREP_COMMAND };
  }
  return parameters;
}

// Every file of the listing; a small pageSize makes the client follow nextLink page by page.
async function outputFiles(job, outputId, pageSize) {
  const options = { outputdirectoryid: outputId, maxResults: pageSize || 1000 };
  const files = await allPages(
    () => client.jobs.listOutputFiles(RG, WS, EXP, job, options),
    (link) => client.jobs.listOutputFilesNext(link));
  return Object.fromEntries(files.map((f) => [f.name, f]));
}

async function jobState(job) {
  return (await client.jobs.get(RG, WS, EXP, job)).executionState;
}

async function main() {
  console.log(`client @azure/arm-batchai ${batchaiVersion} from ${packageDir}`);
  await step("wrong token (401 AuthenticationFailed)", async () => {
    const intruder = new BatchAIManagementClient(new TokenCredentials("wrong-" + cfg.token), cfg.subscription,
                                                 { baseUri: cfg.url });
    try {
      await intruder.workspaces.get(RG, WS);
    } catch (error) {
      check(error.statusCode === 401 && error.code === "AuthenticationFailed",
            `wrong token: ${error.statusCode} ${error.code} ${error.message}`);
      return;
    }
    throw new Error("a wrong token was accepted");
  });
  await step("operations.list", async () => check((await client.operations.list()).length > 0, "no operations"));
  await step("usages.list", async () => check((await client.usages.list(cfg.location)).length > 0, "no usages"));
  const workspace = await step("workspaces.create", () => client.workspaces.create(RG, WS, { location: cfg.location }));
  check(workspace.provisioningState === "succeeded", `workspace ${workspace.provisioningState}`);
  await step("workspaces.get", async () => check((await client.workspaces.get(RG, WS)).name === WS, "workspace name"));
  await step("experiments.create", () => client.experiments.create(RG, WS, EXP));
  const cluster = await step("clusters.create", () => client.clusters.create(RG, WS, CLUSTER, clusterParameters()));
  check(cluster.provisioningState === "succeeded", `cluster ${cluster.provisioningState}`);
  await step("clusters.get (one idle node)", () => waitFor(
    async () => (await client.clusters.get(RG, WS, CLUSTER)).nodeStateCounts.idleNodeCount === 1, "an idle node"));
  await step("clusters.listByWorkspace", async () => {
    const names = (await client.clusters.listByWorkspace(RG, WS)).map((c) => c.name);
    check(names.length === 1 && names[0] === CLUSTER, `clusters ${names}`);
  });
  await step("clusters.listRemoteLoginInformation", async () => {
    const logins = await client.clusters.listRemoteLoginInformation(RG, WS, CLUSTER);
    check(logins.length === 1 && logins[0].ipAddress && logins[0].port, "one node to log in to");
  });

  await step("jobs.create", () => client.jobs.create(RG, WS, EXP, "job1", jobParameters(cluster.id, JOB_COMMAND, true)));
  await step("jobs.get (until succeeded)", () => waitFor(
    async () => ["succeeded", "failed"].includes(await jobState("job1")), "job1 to finish"));
  const job = await client.jobs.get(RG, WS, EXP, "job1");
  check(job.executionState === "succeeded", `job1 ${job.executionState}: ${JSON.stringify(job.executionInfo)}`);
  check(job.executionInfo.exitCode === 0, `job1 exit code ${job.executionInfo.exitCode}`);
  await step("jobs.listByExperiment", async () => {
    const names = (await client.jobs.listByExperiment(RG, WS, EXP)).map((j) => j.name);
    check(names.length === 1 && names[0] === "job1", `jobs ${names}`);
  });

  const outputs = await step("jobs.listOutputFiles OUTPUTS (1 per page)", () => outputFiles("job1", "OUTPUTS", 1));
  check(outputs["prep.txt"] && outputs["result.txt"], `OUTPUTS holds ${Object.keys(outputs)}`);
  await step("download result.txt (Range bytes=0-4)", async () => {
    const whole = await httpGet(outputs["result.txt"].downloadUrl);
    check(whole.status === 200 && whole.body.toString() === RESULT_TEXT, `download: ${whole.status} ${whole.body}`);
    const part = await httpGet(outputs["result.txt"].downloadUrl, [0, 4]);
    check(part.status === 206, `ranged download: HTTP ${part.status}, expected 206`);
    check(part.body.toString() === RESULT_TEXT.slice(0, 5), `ranged download: body ${part.body}`);
    const expected = `bytes 0-4/${RESULT_TEXT.length}`;
    check(part.headers["content-range"] === expected, `Content-Range ${part.headers["content-range"]}`);
  });
  await step("download prep.txt", async () => check(
    (await httpGet(outputs["prep.txt"].downloadUrl)).body.toString().trim() === PREP_TEXT, "job preparation output"));
  const modelFiles = await step("jobs.listOutputFiles MODELS", () => outputFiles("job1", "MODELS"));
  check(modelFiles["model.bin"], `MODELS holds ${Object.keys(modelFiles)}`);
  const logs = await step("jobs.listOutputFiles stdouterr", () => outputFiles("job1", "stdouterr"));
  check((await httpGet(logs["stdout.txt"].downloadUrl)).body.toString().includes(STDOUT_TEXT), "stdout.txt");

  await step("jobs.create (failing)", () => client.jobs.create(
    RG, WS, EXP, "job3", jobParameters(cluster.id, "echo failing on purpose >&2; exit 3", false)));
  await step("jobs.get (until failed)", () => waitFor(
    async () => ["succeeded", "failed"].includes(await jobState("job3")), "job3 to finish"));
  const failed = await client.jobs.get(RG, WS, EXP, "job3");
  check(failed.executionState === "failed", `job3 ${failed.executionState}`);
  check(failed.executionInfo.exitCode === 3, `job3 exit code ${failed.executionInfo.exitCode}`);
  const failures = (failed.executionInfo.errors || []).map((e) => e.code);
  check(failures.length === 1 && failures[0] === "JobFailed", `errors ${failures}`);

  await step("jobs.create (long running)", () => client.jobs.create(
    RG, WS, EXP, "job2", jobParameters(cluster.id, "sleep 600", false)));
  await step("jobs.get (until running)", () => waitFor(async () => (await jobState("job2")) === "running", "job2 to run"));
  await step("jobs.terminate", () => client.jobs.terminate(RG, WS, EXP, "job2"));
  const terminated = await client.jobs.get(RG, WS, EXP, "job2");
  check(terminated.executionState === "failed", `terminated job2 is ${terminated.executionState}`);
  const codes = (terminated.executionInfo.errors || []).map((e) => e.code);
  check(codes.length === 1 && codes[0] === "JobTerminated", `errors ${codes}`);

  const resized = await step("clusters.update (scale to 0)", () => client.clusters.update(
    RG, WS, CLUSTER, { scaleSettings: { manual: { targetNodeCount: 0 } } }));
  check(resized.scaleSettings.manual.targetNodeCount === 0, "the update's answer keeps the new target");
  await step("clusters.get (until 0 nodes)", () => waitFor(async () => {
    const shrunk = await client.clusters.get(RG, WS, CLUSTER);
    return shrunk.allocationState === "steady" && shrunk.currentNodeCount === 0;
  }, "the cluster to shrink to 0 nodes"));

  for (const name of ["job1", "job2", "job3"]) {
    await step(`jobs.deleteMethod ${name}`, () => client.jobs.deleteMethod(RG, WS, EXP, name));
    await expect404(() => client.jobs.get(RG, WS, EXP, name), `job ${name}`, "JobNotFound");
  }
  await step("experiments.deleteMethod", () => client.experiments.deleteMethod(RG, WS, EXP));
  await expect404(() => client.experiments.get(RG, WS, EXP), "experiment", "ExperimentNotFound");
  await step("clusters.deleteMethod", () => client.clusters.deleteMethod(RG, WS, CLUSTER));
  await expect404(() => client.clusters.get(RG, WS, CLUSTER), "cluster", "ClusterNotFound");
  await step("workspaces.deleteMethod", () => client.workspaces.deleteMethod(RG, WS));
  await expect404(() => client.workspaces.get(RG, WS), "workspace", "WorkspaceNotFound");
  console.log(`PASSED @azure/arm-batchai ${batchaiVersion} ${done.length} steps in ` +
              `${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((error) => {
  console.log(`FAILED: ${error && error.stack ? error.stack : error}`);
  process.exit(1);
});
