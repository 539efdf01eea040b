// RabbitMQ link cut and silent link under load: test/support/fault-scenario.ts.

import { brokerFaultTest } from "../support/fault-scenario.js";

brokerFaultTest({ name: "RabbitMQ", url: process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672" });
