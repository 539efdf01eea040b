// The shared scenarios on Bun (sockjet/bun: Bun.serve with native WebSockets), in a child process
// running `bun` from the npm package, with room and namespace broadcasts through Bun's native topic
// publish (the default). bun-general.test.ts runs them again on the general per-socket path.

import { nativeFixture, runScenarios } from "../support/scenarios.js";

runScenarios(nativeFixture("bun", true));
