/**
 * Warm query latency of this package against a raw reused pg client, run by run.ts in a process of its own, bundled
 * as a handler is, so that the harness (ts-node, the embedded server, the IAM stand-in) adds nothing to either
 * side's garbage collections. The two sides alternate query by query and take turns at going first, so that both
 * meet the same moments of the machine (a collection, a scheduler pause, the server's own work). Prints the
 * samples in milliseconds as JSON: `{ "ours": [...], "raw": [...] }`.
 */
import { Client } from 'pg';
import { connect } from '../src';

async function main() {
  const [url, pairs] = [process.argv[2], Number(process.argv[3])];
  const db = connect({ url });
  const raw = new Client({ connectionString: url });
  await raw.connect();
  const sides: Array<() => Promise<unknown>> = [
    () => db.query('select $1::int as n', [1]),
    () => raw.query({ text: 'select $1::int as n', values: [1] }),
  ];
  for (let i = 0; i < 500; i++) for (const side of sides) await side();
  const samples: number[][] = [[], []];
  for (let i = 0; i < pairs; i++) {
    for (const s of i % 2 === 0 ? [0, 1] : [1, 0]) {
      const t = process.hrtime.bigint();
      await sides[s]();
      samples[s].push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }
  await db.close();
  await raw.end();
  process.stdout.write(JSON.stringify({ ours: samples[0], raw: samples[1] }));
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
