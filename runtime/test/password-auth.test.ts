/**
 * Password authentication in local mode, as the PostgreSQL session answers it: MD5 and SCRAM-SHA-256, against a
 * pgbouncer of the test's own that asks for them (in front of SQL_TEST_POSTGRES_URL), and a wrong password refused.
 * RDS Proxy asks for the IAM token in clear text, which the IAM proxy stand-in covers.
 */
import { AuthenticationError, connect } from '../src';
import { configured, OwnPgbouncer, pgbouncerBinary, REQUIRE_SERVERS, startPgbouncer } from './servers';

const postgresUrl = configured('SQL_TEST_POSTGRES_URL');
const binary = pgbouncerBinary();
if (REQUIRE_SERVERS && !binary) throw new Error('pgbouncer is not installed but SQL_TEST_REQUIRE_SERVERS=1 makes the password tests mandatory');
const run = postgresUrl && binary ? describe : describe.skip;

run.each(['md5', 'scram-sha-256'] as const)('password authentication: %s', type => {
  const password = 'pa$$ wörd:/@';
  let pooler: OwnPgbouncer;
  beforeAll(async () => {
    pooler = await startPgbouncer(binary!, postgresUrl!, { type, password });
  });
  afterAll(async () => pooler?.stop());

  const withPassword = (secret: string) => {
    const url = new URL(pooler.url);
    url.password = encodeURIComponent(secret);
    return url.toString();
  };

  test('the right password opens a session', async () => {
    const db = connect({ url: withPassword(password) });
    await expect(db.query('select 1 + $1::int as n', [1])).resolves.toMatchObject({ rows: [{ n: 2 }] });
    await db.close();
  });

  test('a wrong password is refused with an AuthenticationError', async () => {
    const db = connect({ url: withPassword('wrong') });
    await expect(db.query('select 1')).rejects.toBeInstanceOf(AuthenticationError);
    await db.close();
  });
});
