/**
 * IAM mode end to end on the PostgreSQL protocol, through a TLS-only stand-in for RDS Proxy that checks every
 * token's signature: a fresh token per physical connection, one refresh after a refused login, TLS verified.
 */
import { execFileSync } from 'child_process';
import * as path from 'path';
import { AuthenticationError, connect } from '../src';
import { IamProxy, PROXY_CERT } from './iam-proxy';
import { postgresServers, TestServer } from './servers';

const region = 'eu-west-1';
const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret/test+key', sessionToken: 'session' };

describe('IAM authentication through a TLS proxy', () => {
  let server: TestServer;
  let backend: { host: string; port: number; user: string; database: string };

  beforeAll(async () => {
    server = await postgresServers()[0]();
    const url = new URL(server.url);
    backend = { host: url.hostname, port: Number(url.port), user: decodeURIComponent(url.username), database: url.pathname.slice(1) };
  });
  afterAll(async () => server?.stop());

  const client = (proxy: IamProxy, extra: object = {}) => connect({
    engine: 'postgres',
    host: 'localhost',
    port: proxy.port,
    database: backend.database,
    user: 'app_user',
    region,
    credentials: () => credentials,
    ssl: { ca: PROXY_CERT, servername: 'localhost', rejectUnauthorized: true },
    ...extra,
  });

  test('signs a valid token for each new physical connection, none for a reused one', async () => {
    const proxy = await IamProxy.start({ backend, region, credentials });
    const db = client(proxy);
    await db.query('select 1');
    await db.query('select 2');
    expect(proxy.tokens).toHaveLength(1);
    expect(proxy.rejections).toEqual([]);
    await db.close();
    await db.query('select 3');
    expect(proxy.tokens).toHaveLength(2);
    expect(proxy.tokens[0]).toMatch(/^localhost:\d+\/\?Action=connect&DBUser=app_user&X-Amz-Algorithm=AWS4-HMAC-SHA256&/);
    await db.close();
    await proxy.stop();
  });

  test('a refused login is retried once with a fresh token', async () => {
    const proxy = await IamProxy.start({ backend, region, credentials, refuseFirst: 1 });
    const db = client(proxy);
    await expect(db.query('select 1 as ok')).resolves.toMatchObject({ rows: [{ ok: 1 }] });
    expect(db.stats().authRefreshes).toBe(1);
    expect(proxy.tokens).toHaveLength(2);
    await db.close();
    await proxy.stop();
  });

  test('wrong credentials fail with an AuthenticationError that says what to check', async () => {
    const proxy = await IamProxy.start({ backend, region, credentials });
    const db = client(proxy, { credentials: () => ({ ...credentials, secretAccessKey: 'wrong' }) });
    const error = await db.query('select 1').catch(e => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.message).toMatch(/refused the IAM token of user "app_user".*rds-db:connect/);
    expect(proxy.rejections).toEqual(['bad signature', 'bad signature']);
    await proxy.stop();
  });

  test('an expired token is refused, refreshed once, and then reported', async () => {
    const proxy = await IamProxy.start({ backend, region, credentials });
    // the client's clock is 20 minutes behind: every token it signs is already past its 15-minute lifetime
    const db = client(proxy, { clock: () => Date.now() - 20 * 60_000 });
    await expect(db.query('select 1')).rejects.toThrow(/refused the IAM token/);
    expect(proxy.rejections).toEqual(['expired', 'expired']);
    expect(db.stats().authRefreshes).toBe(1);
    await proxy.stop();
  });

  test('TLS is verified: a certificate the client does not trust is refused, and plain TCP is never used', async () => {
    const proxy = await IamProxy.start({ backend, region, credentials });
    // default: system roots with host name verification; the test certificate is self-signed
    const db = client(proxy, { ssl: undefined });
    await expect(db.query('select 1')).rejects.toThrow(/self[- ]signed|certificate/i);
    expect(proxy.tokens).toEqual([]);
    expect(() => client(proxy, { ssl: false })).toThrow(/needs TLS/);
    expect(proxy.plainConnections).toBe(0);
    await proxy.stop();
  });

  test('lazy: creating a client opens nothing, signs nothing and loads no driver', () => {
    // a clean process: which modules does creating a client load?
    const script = `
      const { connect } = require(${JSON.stringify(path.join(__dirname, '..', 'dist'))});
      connect({ engine: 'mysql', host: 'h', database: 'd', user: 'u', region: 'eu-west-1',
        credentials: () => { throw new Error('signed at init'); } });
      const drivers = Object.keys(require.cache).filter(k => /node_modules[\\/](pg|mysql2)[\\/]/.test(k));
      process.stdout.write(JSON.stringify({ drivers, handles: process.getActiveResourcesInfo().filter(r => /TCP|Timeout|GetAddrInfo|TLS/.test(r)) }));`;
    const result = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
    expect(result).toEqual({ drivers: [], handles: [] });
  });
});
