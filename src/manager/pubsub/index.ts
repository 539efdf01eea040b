// "sockjet/cluster": the broker-independent scale-out pieces. Broker drivers with a dependency
// live in their own entry points ("sockjet/redis", "sockjet/amqp", "sockjet/nats").

export { PubSubManager, type PubSubManagerOptions } from "./manager.js";
export type { ClusterErrorEvent, ClusterEvents, ClusterStage, CallbackOperation } from "./node.js";
export { encodeMessage, decodeMessage, type ClusterMessage, type DecodedMessage } from "./envelope.js";
export { InMemoryBroker } from "../drivers/memory-broker.js";
export type { PubSubDriver, DriverEvents } from "../driver.js";
export { decodePythonMessage, encodePythonCallback } from "../python-format.js";
export { decodePickle, type PickleResult } from "../pickle.js";
export { NoStickySessions, NODE_ID_LENGTH, type NoStickyOptions, type NoStickyStats } from "../nosticky/index.js";
