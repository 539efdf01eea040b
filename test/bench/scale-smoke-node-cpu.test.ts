// The scale run's cpu sessions at tiny sizes against sockjet, socket.io and the bare control on Node (see ./scale-smoke-cases.ts).

import { scaleSmoke } from "./scale-smoke-cases.js";

scaleSmoke("node", "cpu");
