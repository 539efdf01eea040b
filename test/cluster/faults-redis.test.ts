// Redis link cut and silent link under load: test/support/fault-scenario.ts.

import { brokerFaultTest } from "../support/fault-scenario.js";

brokerFaultTest({ name: "Redis", url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" });
