/**
 * The database servers the tests run against. Real servers come from SQL_TEST_* URLs (CI sets them with
 * SQL_TEST_REQUIRE_SERVERS=1, which makes a missing one a failure); without them, PostgreSQL tests run against an
 * embedded PGlite served over the wire protocol, so the suite passes on a laptop with nothing installed.
 */
import { fork, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
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

/** The pgbouncer binary, if installed (Debian puts it in /usr/sbin). */
export function pgbouncerBinary(): string | undefined {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { execFileSync } = require('child_process') as typeof import('child_process');
  for (const candidate of ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer']) {
    if (fs.existsSync(candidate)) return candidate;
  }
  try {
    return execFileSync('sh', ['-c', 'command -v pgbouncer'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export interface OwnPgbouncer extends TestServer {
  /** The admin console (database `pgbouncer`), for PAUSE, RESUME, RECONNECT. */
  readonly adminUrl: string;
}

/**
 * A pgbouncer of the test's own, in transaction pooling mode on a free port, in front of the PostgreSQL at
 * `postgresUrl` (trust authentication there; `auth` for its own clients), so that a test can PAUSE it without disturbing
 * anyone sharing the servers.
 * pgbouncer refuses to run as root: as root it runs as the `postgres` user.
 */
export async function startPgbouncer(binary: string, postgresUrl: string,
  auth: { type: 'trust' | 'md5' | 'scram-sha-256'; password: string } = { type: 'trust', password: '' }): Promise<OwnPgbouncer> {
  const target = new URL(postgresUrl);
  const database = target.pathname.replace(/^\//, '');
  const user = decodeURIComponent(target.username) || 'postgres';
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlapi-pgbouncer-'));
  // clients log in to pgbouncer with `auth` (pgbouncer checks MD5 and SCRAM against the plain password here); it logs
  // in to PostgreSQL by trust
  fs.writeFileSync(path.join(dir, 'users.txt'), `"${user}" "${auth.password}"\n`);
  fs.writeFileSync(path.join(dir, 'pgbouncer.ini'), [
    '[databases]',
    `${database} = host=${target.hostname} port=${target.port || 5432} dbname=${database} user=${user}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1', `listen_port = ${port}`, `auth_type = ${auth.type}`, `auth_file = ${dir}/users.txt`,
    `admin_users = ${user}`, 'pool_mode = transaction', 'default_pool_size = 5', 'server_reset_query =',
    `logfile = ${dir}/pgbouncer.log`, 'unix_socket_dir =', '',
  ].join('\n'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    for (const file of ['', 'users.txt', 'pgbouncer.ini']) fs.chownSync(path.join(dir, file), ...postgresIds());
  }
  const child = asRoot
    ? spawn('su', ['postgres', '-s', '/bin/sh', '-c', `exec ${binary} ${dir}/pgbouncer.ini`], { stdio: 'ignore' })
    : spawn(binary, [path.join(dir, 'pgbouncer.ini')], { stdio: 'ignore' });
  const exited = new Promise(resolve => child.once('exit', resolve));
  for (let i = 0; i < 100; i++) {
    if (await canConnect(port)) break;
    if (child.exitCode !== null) break;
    await new Promise(resolve => setTimeout(resolve, 50));
  }
  if (!(await canConnect(port))) {
    const log = fs.existsSync(path.join(dir, 'pgbouncer.log')) ? fs.readFileSync(path.join(dir, 'pgbouncer.log'), 'utf8') : '';
    child.kill('SIGTERM');
    throw new Error(`pgbouncer did not start on port ${port}: ${log}`);
  }
  const url = `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/${database}`;
  return {
    name: 'pgbouncer (own instance)',
    url,
    adminUrl: `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/pgbouncer`,
    kind: 'pgbouncer',
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        // su passes the signal on to pgbouncer (exec), which exits at once on SIGTERM... or SIGINT
        await Promise.race([exited, new Promise(resolve => setTimeout(resolve, 2_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresIds(): [number, number] {
  const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find(entry => entry.startsWith('postgres:'));
  if (!line) throw new Error('pgbouncer does not run as root, and there is no postgres user to run it as');
  const [, , uid, gid] = line.split(':');
  return [Number(uid), Number(gid)];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
