// Validates the OpenRPC document that bsonrpc-server answers to rpc.discover, as
// `bsonrpc-client --discover` prints it, with the OpenRPC project's own validator
// (@open-rpc/schema-utils-js): against the OpenRPC meta-schema, and again once every "$ref" is
// resolved. The one remote reference, the meta-schema URL that the specification's own
// rpc.discover entry gives as its result schema, is left out of that second pass: the test
// runs offline, and the dereferencer would read the meta-schema's inner "#/definitions/..."
// references against our document.
//   node openrpc_validate.mjs SERVER CLIENT   for each codec: serve, discover, validate; and
//                                             check the validator rejects a broken document
//   node openrpc_validate.mjs --file DOC      validate one document; exit 1 if it is invalid
// Exit status 0 when every check passed; each failed check prints a line on stderr.
import { spawn, execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import {
  parseOpenRPCDocument,
  validateOpenRPCDocument,
} from '@open-rpc/schema-utils-js';
import resolverModule from '@json-schema-tools/reference-resolver';

// The resolver the validator uses for "$ref"s (one shared instance), offline: a remote
// reference fails rather than going to the network.
const metaSchemaUrl = 'https://raw.githubusercontent.com/open-rpc/meta-schema/master/schema.json';
const resolver = resolverModule.default ?? resolverModule;
const offline = async (uri) => {
  throw new Error(`no network in this test: ${uri}`);
};
resolver.protocolHandlerMap.https = offline;
resolver.protocolHandlerMap.http = offline;

let failures = 0;
function check(ok, what, detail = '') {
  if (ok) {
    console.log(`ok: ${what}`);
  } else {
    failures++;
    console.error(`FAILED: ${what}${detail ? `\n${detail}` : ''}`);
  }
}

// undefined when `doc` is a valid OpenRPC document, else why not.
async function problemWith(doc) {
  const verdict = validateOpenRPCDocument(doc);
  if (verdict !== true) return verdict.message;
  const local = structuredClone(doc);
  for (const m of local.methods ?? [])
    if (m.result?.schema?.$ref === metaSchemaUrl) m.result.schema = {};
  try {
    await parseOpenRPCDocument(local, { resolver });
  } catch (e) {
    return e.message ?? String(e);
  }
  return undefined;
}

if (process.argv[2] === '--file') {
  const problem = await problemWith(JSON.parse(readFileSync(process.argv[3], 'utf8')));
  if (problem) console.error(`invalid OpenRPC document:\n${problem}`);
  else console.log('valid OpenRPC document');
  process.exit(problem ? 1 : 0);
}

const [server, client] = process.argv.slice(2);

async function startServer(codec) {
  const child = spawn(server, ['--listen', '127.0.0.1:0', '--codec', codec],
                      { stdio: ['ignore', 'pipe', 'inherit'] });
  let seen = '';
  for await (const chunk of child.stdout) {
    seen += chunk;
    const m = /listening on (\S+)/.exec(seen);
    if (m) return { child, address: m[1] };
  }
  throw new Error(`bsonrpc-server --codec ${codec} did not say where it listens`);
}

function discover(address, codec) {
  return new Promise((resolve) => {
    execFile(client, ['--connect', address, '--codec', codec, '--discover'], { timeout: 20000 },
             (error, stdout) => resolve({ code: error ? error.code ?? 1 : 0, stdout }));
  });
}

const documents = {};
for (const codec of ['json', 'bson']) {
  const { child, address } = await startServer(codec);
  try {
    const { code, stdout } = await discover(address, codec);
    check(code === 0, `${codec}: bsonrpc-client --discover exits 0`);
    let doc;
    try {
      doc = JSON.parse(stdout);
    } catch (e) {
      check(false, `${codec}: stdout is one JSON text`, stdout);
      continue;
    }
    documents[codec] = doc;
    check(doc.openrpc === '1.2.6', `${codec}: the document is OpenRPC 1.2.6`);
    const problem = await problemWith(doc);
    check(problem === undefined, `${codec}: @open-rpc/schema-utils-js validates the document`,
          problem);
    const names = doc.methods.map((m) => m.name);
    check(names[0] === 'rpc.discover' && names.includes('echo'),
          `${codec}: rpc.discover and the services are listed`, names.join(' '));
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}
check(JSON.stringify(documents.json?.methods) === JSON.stringify(documents.bson?.methods),
      'both codecs describe the same methods');

// The validator can fail: the same document without its info, or with a param missing its
// schema, is rejected.
if (documents.json) {
  const { info, ...withoutInfo } = documents.json;
  const problem = await problemWith(withoutInfo);
  check(problem !== undefined, 'the validator rejects the document without info');
  if (problem) console.log(`  (as expected: ${problem.split('\n').slice(0, 8).join(' ')})`);
  const broken = structuredClone(documents.json);
  delete broken.methods.find((m) => m.params.length > 0).params[0].schema;
  check(await problemWith(broken) !== undefined,
        'the validator rejects a param without a schema');
  const dangling = structuredClone(documents.json);
  dangling.methods.find((m) => m.params.length > 0).params[0].schema =
      { $ref: '#/components/schemas/nowhere' };
  check(await problemWith(dangling) !== undefined,
        'the validator rejects a $ref to a schema that is not there');
}

process.exit(failures === 0 ? 0 : 1);
