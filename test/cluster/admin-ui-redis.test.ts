// The Admin UI over two servers on a real Redis (REDIS_URL, default redis://127.0.0.1:6379): the
// shared scenario of test/support/admin-ui-cluster.ts.

import { RedisManager } from "../../src/manager/pubsub/redis.js";
import { adminUiClusterScenario } from "../support/admin-ui-cluster.js";

const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
adminUiClusterScenario({ name: "Redis", url, manager: (channel) => new RedisManager({ url, channel }) });
