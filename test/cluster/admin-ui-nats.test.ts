// The Admin UI over two servers on a real NATS server (NATS_URL, default nats://127.0.0.1:4222): the
// shared scenario of test/support/admin-ui-cluster.ts.

import { NatsManager } from "../../src/manager/pubsub/nats.js";
import { adminUiClusterScenario } from "../support/admin-ui-cluster.js";

const url = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
adminUiClusterScenario({ name: "NATS", url, manager: (channel) => new NatsManager({ url, channel }) });
