/**
 * The database servers the tests run against. Real servers come from SQL_TEST_* URLs (CI sets them with
 * SQL_TEST_REQUIRE_SERVERS=1, which makes a missing one a failure); without them, PostgreSQL tests run against an
 * embedded PGlite served over the wire protocol, so the suite passes on a laptop with nothing installed.
 */
import { fork } from 'child_process';
import * as path from 'path';

export const REQUIRE_SERVERS = process.env.SQL_TEST_REQUIRE_SERVERS === '1';

export interface TestServer {
  readonly name: string;
  readonly url: string;
  readonly kind: 'embedded' | 'postgres' | 'pgbouncer' | 'mysql';
  stop(): Promise<void>;
}

export function configured(variable: string): string | undefined {
  const value = process.env[variable];
  if (!value && REQUIRE_SERVERS) {
    throw new Error(`${variable} is not set but SQL_TEST_REQUIRE_SERVERS=1 makes real-server tests mandatory`);
  }
  return value || undefined;
}

/** PostgreSQL-protocol servers to run the shared suite against. */
export function postgresServers(): Array<() => Promise<TestServer>> {
  const servers: Array<() => Promise<TestServer>> = [];
  const postgres = configured('SQL_TEST_POSTGRES_URL');
  const pgbouncer = configured('SQL_TEST_PGBOUNCER_URL');
  if (postgres) servers.push(async () => ({ name: 'PostgreSQL', url: postgres, kind: 'postgres', stop: async () => {} }));
  if (pgbouncer) servers.push(async () => ({ name: 'pgbouncer (transaction pooling)', url: pgbouncer, kind: 'pgbouncer', stop: async () => {} }));
  if (!postgres) servers.push(startEmbeddedPostgres);
  return servers;
}

export async function startEmbeddedPostgres(): Promise<TestServer> {
  const child = fork(path.join(__dirname, 'embedded-postgres-server.js'), [], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', chunk => {
      output += chunk;
      const match = /READY (\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', code => reject(new Error(`embedded PostgreSQL exited with ${code} before it was ready`)));
  });
  return {
    name: 'embedded PostgreSQL (PGlite)',
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    kind: 'embedded',
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise(resolve => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
