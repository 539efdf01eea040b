// The shared scenarios on Deno through its Node compatibility: the core's node:http adapter
// (`sio.attach`, with `ws`) run by `deno`: the default path on Deno in docs/runtimes.md (cheaper
// bursts and half the memory per connection of Deno.serve's own WebSocket, see docs/performance.md).

import { nodeOnDenoFixture, runScenarios } from "../support/scenarios.js";

runScenarios(nodeOnDenoFixture());
