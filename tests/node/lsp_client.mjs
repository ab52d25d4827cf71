// Drives examples/lsp-stdio-server with vscode-jsonrpc (the JSON-RPC layer of VS Code's language
// client) over the server's stdin and stdout, in Content-Length framing.
//   node lsp_client.mjs PATH/TO/lsp-stdio-server
// Exit status 0 when every check passed; each failed check prints a line on stderr.
import { spawn } from 'node:child_process';
import rpc from 'vscode-jsonrpc/node.js';

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

const child = spawn(server, [], { stdio: ['pipe', 'pipe', 'inherit'] });
const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
const connection = rpc.createMessageConnection(new rpc.StreamMessageReader(child.stdout),
                                               new rpc.StreamMessageWriter(child.stdin));
connection.listen();

async function rejectsWith(promise, code) {
  try {
    await promise;
    return false;
  } catch (e) {
    return e instanceof rpc.ResponseError && e.code === code;
  }
}

const hoverParams = (line) => ({
  textDocument: { uri: 'file:///tmp/a.cpp' },
  position: { line, character: 4 },
  workDoneToken: `hover-${line}`,  // extra fields, as editors send them, are ignored
});

check(await rejectsWith(connection.sendRequest('textDocument/hover', hoverParams(0)), -32002),
      'hover before initialize is -32002 Server not initialized');

const init = await connection.sendRequest('initialize', {
  processId: process.pid, rootUri: null, capabilities: {}, clientInfo: { name: 'lsp_client.mjs' },
});
check(init.capabilities?.hoverProvider === true, 'initialize announces hover');
connection.sendNotification('initialized', {});
connection.sendNotification('textDocument/didOpen', {
  textDocument: { uri: 'file:///tmp/a.cpp', languageId: 'cpp', version: 1, text: 'int x;' },
});

const hovers = await Promise.all(Array.from({ length: 50 }, (_, line) =>
  connection.sendRequest('textDocument/hover', hoverParams(line))));
check(hovers.every((h, line) => h.contents.value.includes(`at line ${line}, character 4`)),
      '50 concurrent hovers each describe their own position');

check(await rejectsWith(connection.sendRequest('textDocument/hover', { textDocument: {} }), -32602),
      'hover params without a position are -32602 Invalid params');
check(await rejectsWith(connection.sendRequest('textDocument/definition', hoverParams(1)), -32601),
      'an unknown request is -32601 Method not found');

// $/cancelRequest: vscode-jsonrpc sends it when the request's token is cancelled; the server
// answers the slow request with -32800 Request cancelled, and the next request at once.
const source = new rpc.CancellationTokenSource();
const slow = connection.sendRequest('example/slow', { ms: 60000 }, source.token);
await new Promise((resolve) => setTimeout(resolve, 200));
source.cancel();
check(await rejectsWith(slow, -32800), 'a cancelled slow request is answered -32800 Request cancelled');
const hover = await connection.sendRequest('textDocument/hover', hoverParams(7));
check(hover.contents.value.includes('at line 7'), 'the request after a cancel is answered');
check((await connection.sendRequest('example/slow', { ms: 20 })) === 'waited 20 ms',
      'a slow request that is not cancelled answers its result');

check((await connection.sendRequest('shutdown')) === null, 'shutdown answers null');
connection.sendNotification('exit');
const code = await exited;
check(code === 0, `the server exits 0 on exit after shutdown (got ${code})`);
connection.dispose();
process.exit(failures === 0 ? 0 : 1);
