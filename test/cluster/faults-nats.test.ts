// NATS link cut and silent link under load: test/support/fault-scenario.ts.

import { brokerFaultTest } from "../support/fault-scenario.js";

brokerFaultTest({ name: "NATS", url: process.env.NATS_URL ?? "nats://127.0.0.1:4222" });
