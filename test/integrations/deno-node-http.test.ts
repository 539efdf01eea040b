// The shared scenarios on Deno through its Node compatibility: the core's node:http adapter
// (`sio.attach`, with `ws`) run by `deno`, the path docs/runtimes.md suggests on Deno when memory per
// connection matters (Deno's own WebSocket costs more per connection than `ws` does there).

import { nodeOnDenoFixture, runScenarios } from "../support/scenarios.js";

runScenarios(nodeOnDenoFixture());
