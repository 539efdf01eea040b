// The shared scenarios on Deno (sockjet/deno: Deno.serve + Deno.upgradeWebSocket), in a child
// process running `deno` from the npm package. Deno has no permessage-deflate: asking for it must
// fail at start-up.

import { nativeFixture, runScenarios } from "../support/scenarios.js";

runScenarios(nativeFixture("deno", { error: /perMessageDeflate is not supported on Deno/ }));
