// The cluster over a real Redis (REDIS_URL, default redis://127.0.0.1:6379): the shared scenarios
// (test/support/cluster-scenarios.ts) with python-socketio's RedisManager as the Python worker.

import { clusterScenarios } from "../support/cluster-scenarios.js";

await clusterScenarios({ name: "Redis", url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379", cliFlag: "--redis", python: "redis" });
