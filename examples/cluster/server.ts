// Several sockjet servers as one. Start two (or more) on different ports with the same broker:
//
//   PORT=8000 npx tsx examples/cluster/server.ts            # Redis (REDIS_URL, default local)
//   PORT=8001 npx tsx examples/cluster/server.ts
//   BROKER=amqp PORT=8000 npx tsx examples/cluster/server.ts  # RabbitMQ (AMQP_URL)
//   BROKER=nats PORT=8000 npx tsx examples/cluster/server.ts  # NATS (NATS_URL)
//
// A client of either server that sends "chat message" reaches the clients of every server, and
// `npx tsx src/cli.ts emit --redis redis://127.0.0.1:6379 "chat message" '"hello from a script"'`
// reaches them all from outside.

import { Server, type ClientManager } from "../../src/index.js";

async function manager(): Promise<ClientManager> {
  switch (process.env.BROKER ?? "redis") {
    case "amqp": {
      const { AmqpManager } = await import("../../src/manager/pubsub/amqp.js");
      return new AmqpManager({ url: process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672" });
    }
    case "nats": {
      const { NatsManager } = await import("../../src/manager/pubsub/nats.js");
      return new NatsManager({ url: process.env.NATS_URL ?? "nats://127.0.0.1:4222" });
    }
    default: {
      const { RedisManager } = await import("../../src/manager/pubsub/redis.js");
      const redis = new RedisManager({ url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" });
      // Every broker failure, including each operation that could not reach the other servers.
      redis.on("error", ({ stage, error, operation }) => console.warn("cluster", stage, error.message, operation?.type ?? ""));
      return redis;
    }
  }
}

const sio = new Server({ clientManager: await manager(), logger: true });

sio.on("connect", (sid) => sio.enterRoom(sid, "lobby"));
sio.on("chat message", async (sid: string, text: string) => {
  await sio.emit("chat message", text, { room: "lobby", skipSid: sid });
  return "delivered";
});

const port = Number(process.env.PORT ?? 8000);
await sio.listen(port);
console.log(`listening on http://localhost:${port}`);
