// Connection state recovery on Bun (sockjet/bun, rooms broadcast with Bun's native topic publish),
// in a child process running `bun` from the npm package, with the official v4 client cut
// mid-broadcast: with the in-memory store, and with RedisRecoveryStore (Redis at 127.0.0.1:6379),
// where a recovered socket is kept off the topics and its room broadcasts take the per-socket path.

import { recoveryOnRuntime } from "../support/recovery-runtime.js";

recoveryOnRuntime("bun", "in-memory");
recoveryOnRuntime("bun", "RedisRecoveryStore");
