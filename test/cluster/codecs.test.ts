// The cluster's codecs, without a broker: sockjet's envelope (literal bytes both ways), the
// restricted pickle decoder (vectors produced by CPython 3.11's pickle.dumps), and
// python-socketio's message format.

import { test } from "node:test";
import assert from "node:assert/strict";
import { peekType } from "../../src/manager/pubsub/envelope.js";
import { decodeMessage, encodeMessage, decodePickle, decodePythonMessage, encodePythonCallback, type ClusterMessage } from "../../src/manager/pubsub/index.js";

const hex = (s: string) => Uint8Array.from(Buffer.from(s, "hex"));

test("envelope: literal bytes of a text-only emit", () => {
  const message: ClusterMessage = { type: "emit", host: "h1", namespace: "/", event: "ev", args: [1], rooms: null, skip: [] };
  const bytes = encodeMessage(message);
  const json = '{"type":"emit","host":"h1","namespace":"/","event":"ev","args":[1],"rooms":null,"skip":[]}';
  const expected = Buffer.concat([Buffer.from([0x00, 0x53, 0x4a, 0x01, 0, 0, 0, json.length]), Buffer.from(json)]);
  assert.deepEqual(Buffer.from(bytes), expected);
  assert.deepEqual(decodeMessage(bytes), { ok: true, message });
});

test("envelope: binary arguments travel as attachments after the header", () => {
  const message: ClusterMessage = {
    type: "emit",
    host: "h",
    namespace: "/x",
    event: "bin",
    args: [{ a: Buffer.from([1, 2]) }, new Uint8Array([3])],
    rooms: ["r"],
    skip: ["s"],
    request: "7",
  };
  const bytes = Buffer.from(encodeMessage(message));
  const json =
    '{"type":"emit","host":"h","namespace":"/x","event":"bin","args":[{"a":{"_placeholder":true,"num":0}},{"_placeholder":true,"num":1}],"rooms":["r"],"skip":["s"],"request":"7","attachments":2}';
  assert.equal(bytes.readUInt32BE(4), json.length);
  assert.equal(bytes.subarray(8, 8 + json.length).toString(), json);
  assert.deepEqual([...bytes.subarray(8 + json.length)], [0, 0, 0, 2, 1, 2, 0, 0, 0, 1, 3]);
  const decoded = decodeMessage(bytes);
  assert.ok(decoded.ok);
  assert.deepEqual(decoded.message, { ...message, args: [{ a: Buffer.from([1, 2]) }, Buffer.from([3])] });
});

test("envelope: every message type round-trips", () => {
  const messages: ClusterMessage[] = [
    { type: "enter_room", host: "h", namespace: "/", sid: "s", room: "r" },
    { type: "leave_room", host: "h", namespace: "/", sid: "s", room: "r" },
    { type: "close_room", host: "h", namespace: "/n", room: "r" },
    { type: "disconnect", host: "h", namespace: "/", sid: "s" },
    { type: "callback", host: "h", to: "h2", request: "3", args: ["ok", Buffer.from([9])] },
  ];
  for (const m of messages) {
    assert.deepEqual(decodeMessage(encodeMessage(m)), { ok: true, message: m });
    assert.equal(peekType(encodeMessage(m)), m.type);
  }
});

test("envelope: malformed messages are errors, not exceptions", () => {
  const good = encodeMessage({ type: "disconnect", host: "h", namespace: "/", sid: "s" });
  const bad: Array<[Uint8Array, RegExp]> = [
    [hex("0053"), /not a sockjet/],
    [Uint8Array.from([...good.subarray(0, 3), 9, ...good.subarray(4)]), /version 9/],
    [good.subarray(0, good.length - 1), /truncated header/],
    [Uint8Array.from([...good, 1]), /trailing bytes/],
    [encodeMessage({ type: "callback", host: "h", to: "x", request: "1", args: [Buffer.from([1])] }).subarray(0, -1), /truncated attachment/],
  ];
  for (const [bytes, why] of bad) {
    const result = decodeMessage(bytes);
    assert.equal(result.ok, false);
    if (!result.ok) assert.match(result.message, why);
  }
  const header = JSON.stringify({ type: "nope", host: "h" });
  const forged = Buffer.concat([Buffer.from([0, 0x53, 0x4a, 1, 0, 0, 0, header.length]), Buffer.from(header)]);
  assert.deepEqual(decodeMessage(forged), { ok: false, message: 'unknown message type "nope"' });
});

test("random and mutated input never throws from any decoder", () => {
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const samples = [hex(EMIT_P4), encodeMessage({ type: "callback", host: "h", to: "x", request: "1", args: [Buffer.from([1, 2]), { a: [null] }] })];
  for (let i = 0; i < 3000; i++) {
    let bytes: Uint8Array;
    if (i % 2 === 0) {
      bytes = Uint8Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256));
    } else {
      bytes = samples[i % 4 === 1 ? 0 : 1]!.slice();
      for (let k = 0; k < 1 + Math.floor(random() * 4); k++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      if (random() < 0.3) bytes = bytes.subarray(0, Math.floor(random() * bytes.length));
    }
    for (const decode of [decodePickle, decodePythonMessage, decodeMessage]) {
      const result = decode(bytes);
      assert.equal(typeof result.ok, "boolean");
    }
  }
});

// pickle.dumps({'method':'emit','event':'ev','data':(1,b'\x00\x01',[None,True,False,2.5,{'a':-1, 3:'k'}], 2**70, -300, 70000, 'é☃😀'),
//   'namespace':'/chat','room':['r1','r2'],'skip_sid':'s1','callback':None,'host_id':'abc'}, protocol=4)
const EMIT_P4 =
  "800495cc000000000000007d94288c066d6574686f64948c04656d6974948c056576656e74948c026576948c046461746194284b0143020001945d94284e88894740040000000000007d94288c0161944affffffff4b038c016b9475658a090000000000000000404ad4feffff4a701101008c09c3a9e29883f09f98809474948c096e616d657370616365948c052f63686174948c04726f6f6d945d94288c027231948c02723294658c08736b69705f736964948c027331948c0863616c6c6261636b944e8c07686f73745f6964948c0361626394752e";

test("pickle: protocol 4 dict with a tuple, bytes, nested list and dict, big and negative ints, unicode", () => {
  const result = decodePickle(hex(EMIT_P4));
  assert.ok(result.ok);
  const value = result.value as Record<string, unknown>;
  const data = value.data as unknown[];
  assert.ok(result.tuples.has(data));
  assert.deepEqual(data, [1, new Uint8Array([0, 1]), [null, true, false, 2.5, { a: -1, "3": "k" }], 2 ** 70, -300, 70000, "é☃😀"]);
  assert.equal(value.room instanceof Array && result.tuples.has(value.room as unknown[]), false);
  assert.deepEqual(value.room, ["r1", "r2"]);
});

test("pickle: protocols 0, 2 and 5 (memo get, BINBYTES, text opcodes)", () => {
  const p2 = decodePickle(
    hex(
      "80027d71002858060000006d6574686f6471015804000000656d6974710258050000006576656e747103580200000065767104580400000064617461710558020000006869710658090000006e616d65737061636571074e5804000000726f6f6d71084e5808000000736b69705f73696471094e580800000063616c6c6261636b710a4e5807000000686f73745f6964710b580100000068710c752e",
    ),
  );
  assert.ok(p2.ok);
  assert.deepEqual(p2.value, { method: "emit", event: "ev", data: "hi", namespace: null, room: null, skip_sid: null, callback: null, host_id: "h" });

  const p0 = decodePickle(
    hex(
      "286470300a566d6574686f640a70310a56656d69740a70320a73566576656e740a70330a5665760a70340a7356646174610a70350a286c70360a49310a615678e95c75323630330a70370a6146312e350a614930310a614e6173566e616d6573706163650a70380a562f0a70390a7356726f6f6d0a7031300a56720a7031310a7356736b69705f7369640a7031320a4e735663616c6c6261636b0a7031330a4e732e",
    ),
  );
  assert.ok(p0.ok);
  assert.deepEqual(p0.value, { method: "emit", event: "ev", data: [1, "xé☃", 1.5, true, null], namespace: "/", room: "r", skip_sid: null, callback: null });

  const p5 = decodePickle(
    hex(
      "800595a5010000000000007d94288c066d6574686f64948c04656d6974948c056576656e74948c026576948c046461746194422c010000" +
        "78".repeat(300) +
        "948c096e616d657370616365948c012f948c04726f6f6d944e8c08736b69705f736964944e8c0863616c6c6261636b948c04736964319468084b0787948c07686f73745f6964948c016894752e",
    ),
  );
  assert.ok(p5.ok);
  const v = p5.value as Record<string, unknown>;
  assert.equal((v.data as Uint8Array).length, 300);
  assert.deepEqual(v.callback, ["sid1", "/", 7]);
});

test("pickle: anything that names or calls an object is refused, nothing runs", () => {
  // class Evil: __reduce__ = lambda self: (os.system, ("echo pwned",))
  const evil = decodePickle(hex("80049525000000000000008c05706f736978948c0673797374656d9493948c0a6563686f2070776e656494859452942e"));
  assert.deepEqual(evil, { ok: false, message: "pickle opcode 0x93 (STACK_GLOBAL) is not allowed" });
  const inDict = decodePickle(
    hex(
      "80027d71002858060000006d6574686f6471015804000000656d6974710258050000006576656e7471035801000000657104580400000064617461710563706f7369780a73797374656d0a7106580a0000006563686f2070776e65647107857108527109752e",
    ),
  );
  assert.deepEqual(inDict, { ok: false, message: "pickle opcode 0x63 (GLOBAL) is not allowed" });
  assert.deepEqual(decodePickle(hex("80049509000000000000008f94284b014b02902e")), { ok: false, message: "pickle opcode 0x8f (EMPTY_SET) is not allowed" });
  assert.deepEqual(decodePickle(hex("8004")), { ok: false, message: "truncated pickle" });
  assert.deepEqual(decodePickle(hex("80044b014b022e")), { ok: false, message: "unbalanced pickle" });
  assert.deepEqual(decodePickle(hex("8004284b0161")), { ok: false, message: "stack underflow" });
  assert.deepEqual(decodePickle(hex("80044b0168052e")), { ok: false, message: "memo 5 is not defined" });
});

test("python-socketio messages become cluster operations", () => {
  const emit = decodePythonMessage(hex(EMIT_P4));
  assert.ok(emit.ok);
  assert.deepEqual(emit.message, {
    type: "emit",
    host: "abc",
    namespace: "/chat",
    event: "ev",
    args: [1, new Uint8Array([0, 1]), [null, true, false, 2.5, { a: -1, "3": "k" }], 2 ** 70, -300, 70000, "é☃😀"],
    rooms: ["r1", "r2"],
    skip: ["s1"],
  });
  const json = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
  // Newer python-socketio releases publish JSON; None data is no argument, a list is one argument.
  assert.deepEqual(decodePythonMessage(json({ method: "emit", event: "e", data: null, namespace: "/", room: "r", skip_sid: null, callback: null, host_id: "p" })), {
    ok: true,
    message: { type: "emit", host: "p", namespace: "/", event: "e", args: [], rooms: ["r"], skip: [] },
  });
  assert.deepEqual(decodePythonMessage(json({ method: "emit", event: "e", data: [1, 2], room: null, callback: ["sid", "/", 3], host_id: "p" })), {
    ok: true,
    message: { type: "emit", host: "p", namespace: "/", event: "e", args: [[1, 2]], rooms: null, skip: [], python: { host: "p", sid: "sid", namespace: "/", id: 3 } },
  });
  assert.deepEqual(decodePythonMessage(json({ method: "disconnect", sid: "s", namespace: "/n" })), {
    ok: true,
    message: { type: "disconnect", host: "python-socketio", namespace: "/n", sid: "s" },
  });
  assert.deepEqual(decodePythonMessage(json({ method: "close_room", room: "r", namespace: null })), {
    ok: true,
    message: { type: "close_room", host: "python-socketio", namespace: "/", room: "r" },
  });
  assert.deepEqual(decodePythonMessage(json({ method: "enter_room", sid: "s", room: "r", namespace: "/", host_id: "p" })), {
    ok: true,
    message: { type: "enter_room", host: "p", namespace: "/", sid: "s", room: "r" },
  });
  assert.equal(decodePythonMessage(json({ method: "emit", event: "e", room: 5 })).ok, false);
  assert.equal(decodePythonMessage(json({ method: "nope" })).ok, false);
  assert.equal(decodePythonMessage(json([1])).ok, false);
  assert.equal(decodePythonMessage(new TextEncoder().encode("{oops")).ok, false);
  assert.deepEqual(
    JSON.parse(new TextDecoder().decode(encodePythonCallback({ host: "p", sid: "sid", namespace: "/", id: 3 }, ["ok", 1]))),
    { method: "callback", host_id: "p", sid: "sid", namespace: "/", id: 3, args: ["ok", 1] },
  );
  assert.throws(() => encodePythonCallback({ host: "p", sid: "s", namespace: "/", id: 1 }, [Buffer.from([1])]), /binary/);
});
