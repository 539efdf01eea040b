// The cluster over a real RabbitMQ (AMQP_URL, default amqp://guest:guest@127.0.0.1:5672): the shared
// scenarios (test/support/cluster-scenarios.ts) with python-socketio's KombuManager as the Python
// worker.

import { clusterScenarios } from "../support/cluster-scenarios.js";

await clusterScenarios({ name: "RabbitMQ", url: process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672", cliFlag: "--amqp", python: "kombu" });
