// The cluster seen whole over a real NATS (NATS_URL, default nats://127.0.0.1:4222): the shared
// query scenarios (test/support/cluster-query-scenarios.ts).

import { clusterQueryScenarios } from "../support/cluster-query-scenarios.js";

await clusterQueryScenarios({ name: "NATS", url: process.env.NATS_URL ?? "nats://127.0.0.1:4222", cliFlag: "--nats" });
