// The Admin UI over two servers on a real RabbitMQ (AMQP_URL, default
// amqp://guest:guest@127.0.0.1:5672): the shared scenario of test/support/admin-ui-cluster.ts.

import { AmqpManager } from "../../src/manager/pubsub/amqp.js";
import { adminUiClusterScenario } from "../support/admin-ui-cluster.js";

const url = process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";
adminUiClusterScenario({ name: "RabbitMQ", url, manager: (channel) => new AmqpManager({ url, channel }) });
