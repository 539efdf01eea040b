// The shared scenarios on Bun (sockjet/bun: Bun.serve with native WebSockets), in a child process
// running `bun` from the npm package.

import { nativeFixture, runScenarios } from "../support/scenarios.js";

runScenarios(nativeFixture("bun", true));
