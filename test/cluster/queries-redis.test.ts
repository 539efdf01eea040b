// The cluster seen whole over a real Redis (REDIS_URL, default redis://127.0.0.1:6379): the shared
// query scenarios (test/support/cluster-query-scenarios.ts).

import { clusterQueryScenarios } from "../support/cluster-query-scenarios.js";

await clusterQueryScenarios({ name: "Redis", url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379", cliFlag: "--redis" });
