/**
 * `npm run bench` (or `npm run bench:runtime` at the repository root): prints, side by side with baselines measured
 * in the same run, the bundle size and module load time of a minimal handler, warm query latency, physical
 * connections per 1000 invocations, and time to first success after a database restart. Uses SQL_TEST_POSTGRES_URL
 * when set, else an embedded PGlite server.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildSync } from 'esbuild';
import { Client } from 'pg';
import { connect } from '../src';
import { startEmbeddedPostgres, TestServer } from '../test/servers';
import { FaultyRelay } from '../test/tcp-proxy';

const row = (cells: Array<string | number>) => console.log(cells.map((c, i) => String(c).padEnd(i === 0 ? 46 : 18)).join(''));
const ms = (ns: bigint) => Number(ns) / 1e6;
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const fmt = (v: number, unit = 'ms') => `${v.toFixed(v < 1 ? 3 : v < 10 ? 2 : 1)} ${unit}`;

function bundleAndLoad() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlapi-bench-'));
  const build = (name: string) => {
    const outfile = path.join(dir, `${name}.js`);
    buildSync({
      entryPoints: [path.join(__dirname, `${name}.ts`)], outfile, bundle: true, minify: true, platform: 'node', target: 'node22',
      external: ['pg-native', 'mysql2'], logLevel: 'silent',
    });
    return outfile;
  };
  const ours = build('handler-package');
  const common = build('handler-common');
  const load = (file?: string) => {
    const script = file
      ? `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(process.hrtime.bigint()-t))`
      : 'const t=process.hrtime.bigint();process.stdout.write(String(process.hrtime.bigint()-t))';
    const samples: number[] = [];
    for (let i = 0; i < 25; i++) {
      const env = { ...process.env, SQL_ENGINE: 'postgres', SQL_HOST: 'h', SQL_PORT: '5432', SQL_DATABASE: 'd', SQL_USER: 'u', AWS_REGION: 'eu-west-1' };
      samples.push(ms(BigInt(execFileSync(process.execPath, ['-e', script], { env, encoding: 'utf8' }))));
    }
    return percentile(samples, 50);
  };
  console.log('\nHandler bundle (esbuild, minified, pg bundled) and module load (median of 25 cold node processes)');
  row(['', 'this package', 'pg + rds-signer', 'empty module']);
  row(['bundle size', `${(fs.statSync(ours).size / 1024).toFixed(1)} KiB`, `${(fs.statSync(common).size / 1024).toFixed(1)} KiB`, '-']);
  row(['module load (require of the bundle)', fmt(load(ours)), fmt(load(common)), fmt(load())]);
}

async function latency(url: string) {
  const warm = 2000;
  const cold = 200;
  const db = connect({ url, auth: 'password', password: 'local' });
  const raw = new Client({ connectionString: url });
  await raw.connect();
  const time = async (n: number, fn: () => Promise<unknown>) => {
    for (let i = 0; i < Math.min(50, n); i++) await fn();
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = process.hrtime.bigint();
      await fn();
      samples.push(ms(process.hrtime.bigint() - t));
    }
    return samples;
  };
  const ours = await time(warm, () => db.query('select $1::int as n', [1]));
  const base = await time(warm, () => raw.query({ text: 'select $1::int as n', values: [1] }));
  const perInvocation = await time(cold, async () => {
    const c = new Client({ connectionString: url });
    await c.connect();
    await c.query({ text: 'select $1::int as n', values: [1] });
    await c.end();
  });
  await db.close();
  await raw.end();
  console.log(`\nWarm query latency, loopback (${warm} queries; connect-per-invocation: ${cold})`);
  row(['', 'this package', 'raw reused pg', 'connect per call']);
  row(['p50', fmt(percentile(ours, 50)), fmt(percentile(base, 50)), fmt(percentile(perInvocation, 50))]);
  row(['p99', fmt(percentile(ours, 99)), fmt(percentile(base, 99)), fmt(percentile(perInvocation, 99))]);
  row(['p50 ratio to raw reused pg', (percentile(ours, 50) / percentile(base, 50)).toFixed(2), '1.00', (percentile(perInvocation, 50) / percentile(base, 50)).toFixed(1)]);
}

async function connectionsPerThousand(url: string) {
  const target = new URL(url);
  const sandboxes = 10;
  const invocations = 1000;
  const relay = await FaultyRelay.start({ host: target.hostname, port: Number(target.port) });
  // simulated time: invocations arrive every 2 s on average across the sandboxes; one gap in 20 is a 40-minute lull
  let now = 0;
  const clients = Array.from({ length: sandboxes }, () => connect({ url: relay.url(url), auth: 'password', password: 'local', clock: () => now, maxIdleMs: 24 * 60_000 }));
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < invocations; i++) {
    now += random() < 0.05 ? 40 * 60_000 : Math.floor(random() * 4_000);
    await clients[Math.floor(random() * sandboxes)].query('select 1');
  }
  const opened = relay.accepted;
  const evicted = clients.reduce((sum, c) => sum + c.stats().evicted, 0);
  await Promise.all(clients.map(c => c.close()));
  await relay.stop();
  console.log(`\nPhysical connections for ${invocations} invocations over ${sandboxes} sandboxes (1 in 20 gaps idle past the eviction bound)`);
  row(['', 'this package', 'connect per call', '']);
  row(['connections opened', opened, invocations, '']);
  row(['evicted as idle (no ping)', evicted, '-', '']);
}

async function restart(url: string) {
  const target = new URL(url);
  const downMs = 1500;
  const relay = await FaultyRelay.start({ host: target.hostname, port: Number(target.port) });
  const db = connect({ url: relay.url(url), auth: 'password', password: 'local' });
  await db.query('select 1');
  relay.restart(downMs);
  let t = Date.now();
  await db.query('select 1', [], { context: { getRemainingTimeInMillis: () => 10_000 } });
  const ours = Date.now() - t;

  // baseline: a reused pg client; after a failure the next invocation (every 100 ms) opens a new one
  const open = async () => {
    const client = new Client({ connectionString: relay.url(url) });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  };
  let raw: Client | undefined = await open();
  relay.restart(downMs);
  t = Date.now();
  let failures = 0;
  for (;;) {
    try {
      raw ??= await open();
      await raw.query('select 1');
      break;
    } catch {
      failures++;
      await raw?.end().catch(() => undefined);
      raw = undefined;
      await new Promise(resolve => setTimeout(resolve, 100));
    }
  }
  const baseline = Date.now() - t;
  await raw.end().catch(() => undefined);
  await db.close();
  await relay.stop();
  console.log(`\nDatabase restart (connections dropped, new ones refused for ${downMs} ms)`);
  row(['', 'this package', 'reused pg, retry/100ms', '']);
  row(['time to first success', `${ours} ms`, `${baseline} ms`, '']);
  row(['failed invocations on the way', 0, failures, '']);
}

async function main() {
  let server: TestServer | undefined;
  let url = process.env.SQL_TEST_POSTGRES_URL;
  if (!url) {
    server = await startEmbeddedPostgres();
    url = server.url;
  }
  console.log(`Benchmark against ${server ? 'embedded PostgreSQL (PGlite)' : url} on node ${process.version}, ${os.cpus().length} CPUs`);
  bundleAndLoad();
  await latency(url);
  await connectionsPerThousand(url);
  await restart(url);
  await server?.stop();
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
