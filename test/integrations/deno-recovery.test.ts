// Connection state recovery on Deno, in a child process running `deno` from the npm package, on
// both of its paths (docs/runtimes.md): node:http through Deno's Node compatibility (the default)
// and Deno.serve (sockjet/deno), with the official v4 client cut mid-broadcast; with the in-memory
// store and with RedisRecoveryStore (ioredis under Deno; Redis at 127.0.0.1:6379).

import { recoveryOnRuntime } from "../support/recovery-runtime.js";

recoveryOnRuntime("deno, node:http", "in-memory");
recoveryOnRuntime("deno, Deno.serve", "in-memory");
recoveryOnRuntime("deno, node:http", "RedisRecoveryStore");
recoveryOnRuntime("deno, Deno.serve", "RedisRecoveryStore");
