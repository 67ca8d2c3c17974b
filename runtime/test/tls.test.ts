/**
 * TLS failures are permanent: refused at once, never retried. Against a MariaDB whose certificate, issued by a test
 * CA, names db.example.invalid only (CI starts it; see .ci/services.sh), and a PostgreSQL server without TLS.
 */
import * as fs from 'fs';
import { connect, TlsError } from '../src';
import { configured, postgresServers, TestServer } from './servers';

const tlsUrl = configured('SQL_TEST_MYSQL_TLS_URL');
const caFile = configured('SQL_TEST_TLS_CA');

async function timed(work: Promise<unknown>): Promise<{ ms: number; error: any }> {
  const started = Date.now();
  const error = await work.then(() => undefined, e => e);
  return { ms: Date.now() - started, error };
}

(tlsUrl && caFile ? describe : describe.skip)('MySQL TLS: a trusted certificate that names another host', () => {
  const ca = () => fs.readFileSync(caFile!, 'utf8');

  test('is refused at once, as a host name mismatch, with no retry', async () => {
    const db = connect({ url: tlsUrl!, ssl: { ca: ca() } });
    const { ms, error } = await timed(db.query('select 1'));
    expect(error).toBeInstanceOf(TlsError);
    expect(error.message).toMatch(/^TLS with 127\.0\.0\.1:3307 failed \(.*(db\.example\.invalid|altnames|does not match).*\): it is not retried/i);
    expect(ms).toBeLessThan(1_000);
    expect(db.stats()).toMatchObject({ opened: 0, connectRetries: 0 });
    await db.close();
  });

  test('connects when, in password mode, the host name check is turned off on purpose: the refusal above is the host name', async () => {
    const db = connect({ url: tlsUrl!, ssl: { ca: ca(), checkServerIdentity: () => undefined } });
    const { rows } = await db.query<{ Value: string }>("show session status like 'Ssl_cipher'");
    expect(rows[0].Value).not.toBe('');
    await db.close();
  });

  test('a certificate from an authority not trusted is refused at once', async () => {
    const db = connect({ url: tlsUrl!, ssl: true });
    const { ms, error } = await timed(db.query('select 1'));
    expect(error).toBeInstanceOf(TlsError);
    expect(ms).toBeLessThan(1_000);
    expect(db.stats().connectRetries).toBe(0);
    await db.close();
  });
});

describe('PostgreSQL without TLS', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await postgresServers()[0]();
  });
  afterAll(async () => server?.stop());

  test('asking for TLS of a server that has none fails at once with TlsError', async () => {
    const db = connect({ url: server.url, ssl: true });
    const { ms, error } = await timed(db.query('select 1'));
    expect(error).toBeInstanceOf(TlsError);
    expect(error.message).toMatch(/does not support SSL/);
    expect(ms).toBeLessThan(1_000);
    expect(db.stats().connectRetries).toBe(0);
    await db.close();
  });
});
