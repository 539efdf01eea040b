// The scale run's memory sessions at tiny sizes against sockjet, socket.io and the bare control on Bun (see ./scale-smoke-cases.ts).

import { scaleSmoke } from "./scale-smoke-cases.js";

scaleSmoke("bun", "memory");
