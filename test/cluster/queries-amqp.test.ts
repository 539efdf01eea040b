// The cluster seen whole over a real RabbitMQ (AMQP_URL, default amqp://guest:guest@127.0.0.1:5672):
// the shared query scenarios (test/support/cluster-query-scenarios.ts).

import { clusterQueryScenarios } from "../support/cluster-query-scenarios.js";

await clusterQueryScenarios({ name: "RabbitMQ", url: process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672", cliFlag: "--amqp" });
