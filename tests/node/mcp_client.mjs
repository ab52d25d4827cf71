// Drives examples/mcp-stdio-server with the official MCP TypeScript SDK's client over stdio.
//   node mcp_client.mjs PATH/TO/mcp-stdio-server
// Exit status 0 when every check passed; each failed check prints a line on stderr.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';

const server = process.argv[2];
let failures = 0;
function check(ok, what) {
  if (!ok) {
    failures++;
    console.error(`FAILED: ${what}`);
  } else {
    console.log(`ok: ${what}`);
  }
}
const textOf = (result) => result.content?.[0]?.text;

async function rejectsWith(promise, code) {
  try {
    await promise;
    return false;
  } catch (e) {
    return e instanceof McpError && e.code === code;
  }
}

const transport = new StdioClientTransport({ command: server, args: [], stderr: 'inherit' });
const client = new Client({ name: 'bsonrpc-tests', version: '1.0.0' });
await client.connect(transport);

check(client.getServerVersion()?.name === 'bsonrpc-mcp-stdio-server', 'initialize names the server');
check(client.getServerCapabilities()?.tools !== undefined, 'initialize announces the tools capability');

const { tools } = await client.listTools();
check(JSON.stringify(tools.map((t) => t.name)) === JSON.stringify(['echo', 'add', 'sleep']),
      'tools/list lists echo, add and sleep');
check(tools.every((t) => t.inputSchema?.type === 'object' && t.inputSchema.required?.length === 1 + (t.name === 'add')),
      'each tool has an input schema with its required arguments');

check(textOf(await client.callTool({ name: 'echo', arguments: { text: 'héllo' } })) === 'héllo',
      'echo answers its text');
check(textOf(await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } })) === '42',
      'add answers the sum');
check(textOf(await client.callTool({ name: 'sleep', arguments: { ms: 50 } })) === 'slept 50',
      'sleep answers slept MS');
check((await client.callTool({ name: 'sleep', arguments: { ms: 600000 } })).isError === true,
      'sleep beyond a minute answers a result with isError');

const sums = await Promise.all(Array.from({ length: 100 }, (_, i) =>
  client.callTool({ name: 'add', arguments: { a: i, b: 1000 } })));
check(sums.every((r, i) => textOf(r) === String(i + 1000)), '100 concurrent calls each get their own sum');

check(await rejectsWith(client.callTool({ name: 'nope', arguments: {} }), -32602),
      'an unknown tool is a JSON-RPC error -32602');
check(await rejectsWith(client.callTool({ name: 'add', arguments: { a: 'x', b: 1 } }), -32602),
      'arguments that do not fit the schema are a JSON-RPC error -32602');

// Progress: the SDK attaches _meta.progressToken when the call has an onprogress callback.
const reports = [];
const slept = await client.callTool({ name: 'sleep', arguments: { ms: 450 } }, undefined,
                                    { onprogress: (p) => reports.push(p) });
check(textOf(slept) === 'slept 450', 'sleep with a progress token still answers slept MS');
check(reports.length === 4 && reports.every((r, i) => r.progress === 100 * (i + 1) && r.total === 450),
      `sleep reports progress every 100 ms, in order (got ${JSON.stringify(reports)})`);

// Cancellation: aborting sends notifications/cancelled; the server stops the sleep and sends
// no reply, and answers the next call at once (the sleep would take a minute).
// The cancelled call asks for progress too: if the server's sleep went on, its reports under a
// token the client has dropped would reach the client's onerror.
const late = [];
client.onerror = (error) => late.push(String(error));
const abort = new AbortController();
const long = client.callTool({ name: 'sleep', arguments: { ms: 60000 } }, undefined,
                             { signal: abort.signal, timeout: 120000, onprogress: () => {} });
await new Promise((resolve) => setTimeout(resolve, 200));
abort.abort('no longer needed');
let aborted = false;
try {
  await long;
} catch {
  aborted = true;
}
check(aborted, 'a cancelled sleep rejects on the client');
const started = Date.now();
check(textOf(await client.callTool({ name: 'echo', arguments: { text: 'next' } })) === 'next',
      'the call after a cancel is answered');
check(Date.now() - started < 10000, 'the call after a cancel does not wait for the cancelled sleep');
// A report already on its way when the server read the cancel may still come; none after.
await new Promise((resolve) => setTimeout(resolve, 500));
const lateSoFar = late.length;
await new Promise((resolve) => setTimeout(resolve, 500));
check(late.length === lateSoFar && lateSoFar <= 2,
      `the cancelled sleep stopped reporting progress (late reports: ${JSON.stringify(late)})`);

await client.ping();
check(true, 'ping is answered');

await client.close();
process.exit(failures === 0 ? 0 : 1);
