/**
 * `npm run bench` (or `npm run bench:runtime` at the repository root): every figure is printed next to a baseline
 * measured in the same run, the two sides interleaved so that neither gains from going second.
 *
 * - Handler bundle: esbuild exactly as the construct's ApiHandler.nodejs bundles (minified, module entry points
 *   first, Node 22 target, pg-native and the other engine's driver external).
 * - Module load, and module load plus the first query with a freshly signed IAM token over TLS (through a stand-in
 *   for RDS Proxy that checks the token): fresh node processes, the variants in rotating order each round. The
 *   floor is the same first query written straight on node:tls (handler-floor.ts), with nothing a client adds to
 *   the protocol's steps. On Node older than 22 the process is given Node 22's global `navigator`, as Lambda's
 *   Node 22 and 24 have it (without it, pg's runtime check touches `Response` and so loads undici).
 * - Warm latency against a raw reused pg client, the two alternating query by query in a process of their own
 *   (latency.ts): the ratio over all queries, and per 1000 queries its median and spread.
 * - Physical connections per 1000 invocations: the traffic model's figure, the lower bound that model allows, and a
 *   model without lulls.
 * - Restart: over many trials, the time from the moment the database is back to the first success, and the
 *   connection attempts during the outage, against a reused pg client retried every 100 ms.
 *
 * Uses SQL_TEST_POSTGRES_URL when set, else an embedded PGlite server. BENCH_ROUNDS (21) and BENCH_TRIALS (20)
 * set the sample counts.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { buildSync } from 'esbuild';
import { Client } from 'pg';
import { connect } from '../src';
import { IamProxy } from '../test/iam-proxy';
import { startEmbeddedPostgres, TestServer } from '../test/servers';
import { FaultyRelay } from '../test/tcp-proxy';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 21);
const TRIALS = Number(process.env.BENCH_TRIALS ?? 20);

const row = (cells: Array<string | number>) => console.log(cells.map((c, i) => String(c).padEnd(i === 0 ? 44 : 24)).join('').trimEnd());
const ms = (ns: bigint) => Number(ns) / 1e6;
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
};
const median = (values: number[]) => percentile(values, 50);
const fmt = (v: number, unit = 'ms') => `${v.toFixed(v < 1 ? 3 : v < 10 ? 2 : 1)} ${unit}`;
/** median (p10–p90) */
const num = (v: number) => v.toFixed(v < 1 ? 3 : v < 10 ? 2 : 1);
const spread = (values: number[]) => `${fmt(median(values))} (${num(percentile(values, 10))}–${num(percentile(values, 90))})`;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

const CREDENTIALS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', sessionToken: 'session-token' };
const REGION = 'eu-west-1';

interface Bundle {
  readonly name: string;
  readonly file: string;
  readonly bytes: number;
}

/** Bundles a fixture the way ApiHandler.nodejs does for a PostgreSQL function (src/api-handler.ts). */
function bundle(dir: string, name: string): Bundle {
  const file = path.join(dir, `${name}.js`);
  buildSync({
    entryPoints: [path.join(__dirname, `${name}.ts`)], outfile: file, bundle: true, minify: true, platform: 'node', format: 'cjs',
    target: 'node22', mainFields: ['module', 'main'], external: ['pg-native', 'mysql2'], logLevel: 'silent',
  });
  return { name, file, bytes: fs.statSync(file).size };
}

/** A preload that gives Node 20 the global `navigator` of Node 22 (what Lambda runs), so pg takes Node 22's path. */
function node22Preload(dir: string): string[] {
  if (Number(process.versions.node.split('.')[0]) >= 22) return [];
  const file = path.join(dir, 'node22-navigator.js');
  fs.writeFileSync(file, "Object.defineProperty(globalThis, 'navigator', { value: { userAgent: 'Node.js/22' }, configurable: true });\n");
  return ['--require', file];
}

/**
 * Module load (require of the bundle) and, with `query`, module load plus the handler's first call: one fresh process
 * per sample, the variants in rotating order each round. Returns milliseconds per variant.
 */
async function coldSamples(bundles: Array<Bundle | undefined>, preload: string[], env: NodeJS.ProcessEnv, query: boolean): Promise<number[][]> {
  const samples = bundles.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < bundles.length; k++) {
      const i = (round + k) % bundles.length;
      const target = bundles[i];
      const script = !target
        ? 'const t=process.hrtime.bigint();process.stdout.write(String(process.hrtime.bigint()-t))'
        : query
          ? `const t=process.hrtime.bigint();require(${JSON.stringify(target.file)}).handler().then(r=>{const d=process.hrtime.bigint()-t;if(!r||!r.length)process.exit(2);process.stdout.write(String(d));process.exit(0)},e=>{console.error(e);process.exit(1)})`
          : `const t=process.hrtime.bigint();require(${JSON.stringify(target.file)});process.stdout.write(String(process.hrtime.bigint()-t))`;
      // asynchronous: the IAM stand-in answering the first query runs in this process
      const { stdout } = await promisify(execFile)(process.execPath, [...preload, '-e', script], { env, encoding: 'utf8' });
      samples[i].push(ms(BigInt(stdout)));
    }
  }
  return samples;
}

async function coldStart(url: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlapi-bench-'));
  const ours = bundle(dir, 'handler-package');
  const common = bundle(dir, 'handler-common');
  const floor = bundle(dir, 'handler-floor');
  const preload = node22Preload(dir);
  const backend = new URL(url);
  const proxy = await IamProxy.start({
    backend: { host: backend.hostname, port: Number(backend.port), user: decodeURIComponent(backend.username), database: backend.pathname.slice(1) },
    region: REGION, credentials: CREDENTIALS,
  });
  const caFile = path.join(dir, 'proxy-ca.pem');
  fs.copyFileSync(path.join(__dirname, '..', 'test', 'fixtures', 'proxy-cert.pem'), caFile);
  const env = {
    PATH: process.env.PATH, SQL_ENGINE: 'postgres', SQL_HOST: 'localhost', SQL_PORT: String(proxy.port), SQL_DATABASE: backend.pathname.slice(1),
    SQL_USER: 'app_user', SQL_AUTH: 'iam', AWS_REGION: REGION, AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey, AWS_SESSION_TOKEN: CREDENTIALS.sessionToken, NODE_EXTRA_CA_CERTS: caFile,
  };
  const [loadOurs, loadCommon, loadEmpty] = await coldSamples([ours, common, undefined], preload, env, false);
  const [firstOurs, firstCommon, firstFloor] = await coldSamples([ours, common, floor], preload, env, true);
  await proxy.stop();
  if (proxy.rejections.length) throw new Error(`the IAM stand-in refused tokens: ${proxy.rejections.join('; ')}`);

  const emptyMs = median(loadEmpty);
  const over = (values: number[]) => Math.max(0, median(values) - emptyMs);
  console.log(`\nMinimal handler, bundled as ApiHandler.nodejs bundles (${ROUNDS} fresh processes per figure, interleaved; ${preload.length ? 'Node 22 navigator emulated' : 'native'})`);
  row(['', 'this package', 'pg + rds-signer', 'ratio (goal)']);
  row(['bundle size', kib(ours.bytes), kib(common.bytes), `${(ours.bytes / common.bytes).toFixed(2)} (≤ 90 KiB)`]);
  row(['module load, median (p10–p90)', spread(loadOurs), spread(loadCommon), '']);
  row(['module load over an empty module', fmt(over(loadOurs)), fmt(over(loadCommon)), `${(over(loadOurs) / over(loadCommon)).toFixed(2)} (≤ 0.25)`]);
  row(['load + first query, token, TLS', spread(firstOurs), spread(firstCommon), `${(median(firstOurs) / median(firstCommon)).toFixed(2)} (≤ 0.5)`]);
  row(['  the floor: hand-written on node:tls', spread(firstFloor), '', `${(median(firstFloor) / median(firstCommon)).toFixed(2)}`]);
  row(['empty module', spread(loadEmpty), '', '']);
}

async function latency(url: string) {
  const segments = 20;
  const perSegment = 1000;
  const script = bundle(fs.mkdtempSync(path.join(os.tmpdir(), 'sqlapi-bench-')), 'latency').file;
  const { stdout } = await promisify(execFile)(process.execPath, [script, url, String(segments * perSegment)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const samples: { ours: number[]; raw: number[] } = JSON.parse(stdout);
  const all = [samples.ours, samples.raw];
  const ratios50: number[] = [];
  const ratios99: number[] = [];
  for (let g = 0; g < segments; g++) {
    const [ours, raw] = all.map(side => side.slice(g * perSegment, (g + 1) * perSegment));
    ratios50.push(median(ours) / median(raw));
    ratios99.push(percentile(ours, 99) / percentile(raw, 99));
  }
  // the common alternative on Lambda without a proxy-aware client: a connection per invocation
  const perCall: number[] = [];
  for (let i = 0; i < 100; i++) {
    const t = process.hrtime.bigint();
    const c = new Client({ connectionString: url });
    await c.connect();
    await c.query({ text: 'select $1::int as n', values: [1] });
    await c.end();
    perCall.push(ms(process.hrtime.bigint() - t));
  }
  const r = (values: number[]) => `${median(values).toFixed(3)} (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})`;
  const ratio = (p: number) => `${(percentile(all[0], p) / percentile(all[1], p)).toFixed(3)}`;
  console.log(`\nWarm query latency (${segments * perSegment} queries per side, alternating query by query, after 500 warm-up queries per side, in a process of their own)`);
  row(['', 'this package', 'raw reused pg', 'connect per call']);
  row(['p50', fmt(median(all[0])), fmt(median(all[1])), fmt(median(perCall))]);
  row(['p99', fmt(percentile(all[0], 99)), fmt(percentile(all[1], 99)), fmt(percentile(perCall, 99))]);
  row(['p50 ratio, all queries', ratio(50), '1.00', '(goal ≤ 1.05)']);
  row([`  per ${perSegment} queries: median (min–max)`, r(ratios50), '', '']);
  row(['p99 ratio, all queries', ratio(99), '1.00', '(goal ≤ 1.05)']);
  row([`  per ${perSegment} queries: median (min–max)`, r(ratios99), '', '']);
}

/**
 * Simulated traffic: 1000 invocations spread over 10 sandboxes, 0–4 s apart; with lulls, one gap in 20 is 40
 * minutes, past the eviction bound (24 minutes). Counts connections opened, and the lower bound the model allows:
 * every sandbox's first invocation and every invocation after its connection sat idle past the bound.
 */
async function connections(url: string, lulls: boolean) {
  const target = new URL(url);
  const sandboxes = 10;
  const invocations = 1000;
  const maxIdleMs = 24 * 60_000;
  const relay = await FaultyRelay.start({ host: target.hostname, port: Number(target.port) });
  let now = 0;
  const clients = Array.from({ length: sandboxes }, () => connect({ url: relay.url(url), clock: () => now, maxIdleMs }));
  const lastUse: Array<number | undefined> = new Array(sandboxes).fill(undefined);
  let bound = 0;
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < invocations; i++) {
    now += lulls && random() < 0.05 ? 40 * 60_000 : Math.floor(random() * 4_000);
    const s = Math.floor(random() * sandboxes);
    if (lastUse[s] === undefined || now - lastUse[s]! > maxIdleMs) bound++;
    lastUse[s] = now;
    await clients[s].query('select 1');
  }
  const opened = relay.accepted;
  await Promise.all(clients.map(c => c.close()));
  await relay.stop();
  return { opened, bound, invocations };
}

async function connectionFigures(url: string) {
  const model = await connections(url, true);
  const calm = await connections(url, false);
  console.log('\nPhysical connections for 1000 invocations over 10 sandboxes');
  row(['', 'this package', 'lower bound', 'connect per call']);
  row(['1 gap in 20 idle 40 min (past eviction)', model.opened, model.bound, model.invocations]);
  row(['no lulls', calm.opened, calm.bound, calm.invocations]);
}

/**
 * Restart: the relay drops every connection and refuses new ones for `downMs`. This package: one invocation with a
 * 10 s context spanning the outage. Baseline: a reused pg client; after a failure the next invocation (every 100 ms)
 * opens a new one. Both timed from the moment the database is back; attempts counted by the relay.
 */
async function restart(url: string) {
  const target = new URL(url);
  const downMs = 1_500;
  const ours = { sinceBack: [] as number[], attempts: [] as number[], failures: 0 };
  const base = { sinceBack: [] as number[], attempts: [] as number[], failures: 0 };
  const relay = await FaultyRelay.start({ host: target.hostname, port: Number(target.port) });
  for (let trial = 0; trial < TRIALS; trial++) {
    for (const side of trial % 2 === 0 ? ['ours', 'base'] : ['base', 'ours']) {
      if (side === 'ours') {
        const db = connect({ url: relay.url(url) });
        await db.query('select 1');
        const refusedBefore = relay.refused;
        const back = relay.restart(downMs);
        try {
          await db.query('select 1', [], { context: { getRemainingTimeInMillis: () => 10_000 } });
        } catch {
          ours.failures++;
        }
        ours.sinceBack.push(Math.max(0, Date.now() - back));
        ours.attempts.push(relay.refused - refusedBefore);
        await db.close();
      } else {
        const open = async () => {
          const client = new Client({ connectionString: relay.url(url) });
          client.on('error', () => undefined);
          await client.connect();
          return client;
        };
        let raw: Client | undefined = await open();
        const refusedBefore = relay.refused;
        const back = relay.restart(downMs);
        for (;;) {
          try {
            raw ??= await open();
            await raw.query('select 1');
            break;
          } catch {
            base.failures++;
            await raw?.end().catch(() => undefined);
            raw = undefined;
            await new Promise(resolve => setTimeout(resolve, 100));
          }
        }
        base.sinceBack.push(Math.max(0, Date.now() - back));
        base.attempts.push(relay.refused - refusedBefore);
        await raw.end().catch(() => undefined);
      }
    }
  }
  await relay.stop();
  console.log(`\nDatabase restart: connections dropped, new ones refused for ${downMs} ms (${TRIALS} trials each, interleaved)`);
  row(['', 'this package', 'reused pg, retry/100ms', '(goal)']);
  row(['first success after back: median', fmt(median(ours.sinceBack)), fmt(median(base.sinceBack)), '']);
  row(['p90', fmt(percentile(ours.sinceBack, 90)), fmt(percentile(base.sinceBack, 90)), '(≤ 500 ms)']);
  row(['max', fmt(Math.max(...ours.sinceBack)), fmt(Math.max(...base.sinceBack)), '']);
  row(['connection attempts refused, median (max)', `${median(ours.attempts)} (${Math.max(...ours.attempts)})`, `${median(base.attempts)} (${Math.max(...base.attempts)})`, '']);
  row(['failed invocations', ours.failures, base.failures, '(0)']);
}

async function main() {
  let server: TestServer | undefined;
  let url = process.env.SQL_TEST_POSTGRES_URL;
  if (!url) {
    server = await startEmbeddedPostgres();
    url = server.url;
  }
  console.log(`Benchmark against ${server ? 'embedded PostgreSQL (PGlite)' : url} on node ${process.version}, ${os.cpus().length} CPUs`);
  const only = process.env.BENCH_ONLY?.split(',');
  const run = (name: string) => !only || only.includes(name);
  if (run('cold')) await coldStart(url);
  if (run('latency')) await latency(url);
  if (run('connections')) await connectionFigures(url);
  if (run('restart')) await restart(url);
  await server?.stop();
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
