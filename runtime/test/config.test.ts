import { ConfigurationError, connect, isReadStatement } from '../src';
import { resolveConfig } from '../src/config';

const contract = {
  SQL_ENGINE: 'postgres', SQL_HOST: 'api.proxy-abc.eu-west-1.rds.amazonaws.com', SQL_PORT: '5432', SQL_DATABASE: 'app',
  SQL_USER: 'app_user', SQL_AUTH: 'iam', SQL_PROXY_IDLE_TIMEOUT: '1800', AWS_REGION: 'eu-west-1',
};

describe('configuration', () => {
  test('the SQL_* environment the construct sets is all it takes: IAM, TLS verified, eviction below the proxy timeout', () => {
    expect(resolveConfig({}, contract)).toMatchObject({
      engine: 'postgres', host: contract.SQL_HOST, port: 5432, database: 'app', user: 'app_user', auth: 'iam',
      region: 'eu-west-1', ssl: { rejectUnauthorized: true, servername: contract.SQL_HOST },
      maxConnections: 1, maxIdleMs: 1_440_000, maxLifetimeMs: 3_600_000,
    });
    expect(resolveConfig({}, { ...contract, SQL_PROXY_IDLE_TIMEOUT: '120' }).maxIdleMs).toBe(96_000);
  });

  test('local mode from a URL, with a static password and no TLS', () => {
    expect(resolveConfig({ url: 'mysql://root:p%40ss@127.0.0.1:3307/test' }, {})).toMatchObject({
      engine: 'mysql', host: '127.0.0.1', port: 3307, user: 'root', password: 'p@ss', database: 'test', auth: 'password', ssl: false,
    });
    expect(resolveConfig({}, { SQL_URL: 'postgres://me:pw@localhost/db' })).toMatchObject({ engine: 'postgres', port: 5432, auth: 'password' });
  });

  test.each([
    [{}, {}, /engine must be "postgres" or "mysql" \(got undefined\)/],
    [{}, { ...contract, SQL_ENGINE: 'oracle' }, /engine must be .* \(got "oracle"\)/],
    [{}, { ...contract, SQL_HOST: '' }, /host is not set: pass \{ host \} or set SQL_HOST/],
    [{}, { ...contract, SQL_PORT: 'abc' }, /port must be a whole number .* \(got "abc"\)/],
    [{}, { ...contract, SQL_AUTH: 'kerberos' }, /auth must be "iam" or "password" \(got "kerberos"\)/],
    [{ ssl: false }, contract, /needs TLS/],
    [{ auth: 'password' as const }, contract, /needs \{ password \}/],
    [{ url: 'redis://x' }, {}, /scheme must be postgres:\/\/ or mysql:\/\//],
    [{ maxConnections: 0 }, contract, /maxConnections must be a whole number of at least 1 \(got 0\)/],
  ])('refuses incomplete or invalid settings (%#)', (options, env, message) => {
    expect(() => resolveConfig(options, env)).toThrow(ConfigurationError);
    expect(() => resolveConfig(options, env)).toThrow(message);
  });

  test('IAM mode without a Region is refused at creation', () => {
    const saved = { ...process.env };
    try {
      Object.assign(process.env, contract);
      delete process.env.AWS_REGION;
      delete process.env.AWS_DEFAULT_REGION;
      expect(() => connect()).toThrow(/needs a Region/);
    } finally {
      process.env = saved;
    }
  });
});

describe('read detection (which statements may be replayed)', () => {
  test.each([
    'select 1', '  SELECT * FROM t WHERE id = $1', '/* note */ select 1', '-- c\nselect 1', 'with x as (select 1) select * from x',
    'show tables', 'explain select 1', 'values (1)', "select 'insert into x' as text",
  ])('read: %s', sql => expect(isReadStatement(sql)).toBe(true));

  test.each([
    'insert into t values (1)', 'update t set a = 1', 'delete from t', 'with d as (delete from t returning *) select * from d',
    'select * from t for update', 'select nextval(\'s\')', 'select * into t2 from t', 'call p()', 'begin', 'create table x (a int)',
    'explain analyze delete from t',
  ])('write: %s', sql => expect(isReadStatement(sql)).toBe(false));
});
