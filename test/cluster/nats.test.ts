// The cluster over a real NATS server (NATS_URL, default nats://127.0.0.1:4222): the shared
// scenarios (test/support/cluster-scenarios.ts); python-socketio has no NATS manager.

import { clusterScenarios } from "../support/cluster-scenarios.js";

await clusterScenarios({ name: "NATS", url: process.env.NATS_URL ?? "nats://127.0.0.1:4222", cliFlag: "--nats" });
