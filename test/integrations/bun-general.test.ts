// The shared scenarios on Bun with the native topic publish turned off (`nativePublish: false`):
// every broadcast on the general per-socket path, as on Node and Deno. test/integrations/bun.test.ts
// runs the same scenarios with the native publish (the default), so both paths behave the same.

import { nativeFixture, runScenarios } from "../support/scenarios.js";

runScenarios(nativeFixture("bun", true, { nativePublish: false }));
