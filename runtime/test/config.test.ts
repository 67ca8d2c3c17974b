import { isIP } from 'net';
import { ConfigurationError, connect, isReadStatement } from '../src';
import { isIpLiteral, resolveConfig } from '../src/config';

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
    [{}, { ...contract, SQL_PORT: 'abc' }, /SQL_PORT must be a whole number \(got "abc"\)/],
    [{}, { ...contract, SQL_AUTH: 'kerberos' }, /auth must be "iam" or "password" \(got "kerberos"\)/],
    [{ ssl: false }, contract, /needs TLS/],
    [{ url: 'redis://x' }, {}, /scheme must be postgres:\/\/ or mysql:\/\//],
    [{ maxConnections: 0 }, contract, /maxConnections must be a whole number of at least 1 \(got 0\)/],
    [{ maxConnections: 1.5 }, contract, /maxConnections must be a whole number of at least 1 \(got 1.5\)/],
    [{ queryTimeoutMs: 0 }, contract, /queryTimeoutMs must be a whole number of at least 1 \(got 0\)/],
    [{ queryTimeoutMs: Number.NaN }, contract, /queryTimeoutMs must be a whole number .*got NaN/],
    [{ connectTimeoutMs: -5 }, contract, /connectTimeoutMs must be a whole number of at least 1 \(got -5\)/],
    [{ connectDeadlineMs: '100' as unknown as number }, contract, /connectDeadlineMs must be a whole number .*got "100"/],
    [{ maxIdleMs: -1 }, contract, /maxIdleMs must be a whole number of at least 0/],
    [{ maxLifetimeMs: 0 }, contract, /maxLifetimeMs must be a whole number of at least 1/],
    [{ keepAliveInitialDelayMs: 350_000 }, contract, /keepAliveInitialDelayMs must be a whole number from 1000 to 349999 \(got 350000\): .*350 s/],
    [{ keepAliveInitialDelayMs: 10 }, contract, /keepAliveInitialDelayMs must be a whole number from 1000/],
    [{ maxRows: 0 }, contract, /^maxRows must be a whole number of at least 1 \(got 0\): read larger results with stream\(\)/],
    [{ maxRows: Infinity }, contract, /^maxRows must be a whole number of at least 1 \(got Infinity\)/],
    [{ port: 70000 }, contract, /port must be a whole number from 1 to 65535 \(got 70000\)/],
    [{}, { ...contract, SQL_PORT: '5432x' }, /SQL_PORT must be a whole number \(got "5432x"\)/],
    [{}, { ...contract, SQL_PORT: '' }, /SQL_PORT must be a whole number \(got ""\)/],
    [{}, { ...contract, SQL_PROXY_IDLE_TIMEOUT: '30m' }, /SQL_PROXY_IDLE_TIMEOUT must be a whole number of at least 1 \(got "30m"\)/],
    [{}, { ...contract, SQL_PROXY_IDLE_TIMEOUT: '0' }, /SQL_PROXY_IDLE_TIMEOUT must be a whole number of at least 1/],
    [{ multipleStatements: 'yes' as unknown as boolean }, contract, /multipleStatements must be true or false/],
    [{ ssl: { rejectUnauthorized: false } }, contract, /must verify the server's certificate.*remove rejectUnauthorized: false/],
    [{ ssl: { checkServerIdentity: () => undefined } }, contract, /checks the server's host name itself: remove checkServerIdentity/],
    [{ auth: 'iam' as const, url: 'postgres://u@h/db?sslmode=require' }, { AWS_REGION: 'eu-west-1' }, /needs the server's certificate and host name verified \(got sslmode=require in url\)/],
    [{ auth: 'iam' as const, url: 'postgres://u@h/db?sslmode=disable' }, {}, /needs TLS/],
    [{ url: 'postgres://u@h/db?sslmode=prefer' }, {}, /url has sslmode=prefer, which falls back to plain text without telling/],
    [{ url: 'postgres://u@h/db?sslmode=sometimes' }, {}, /url has sslmode=sometimes: use disable, require, verify-ca or verify-full/],
    [{}, { SQL_URL: 'postgres://u@h/db?connect_timeout=5' }, /SQL_URL has the parameter "connect_timeout", which is not read/],
    [{}, { SQL_URL: 'not a url' }, /SQL_URL is not a URL/],
    [{ engine: 'mysql' as const, url: 'postgres://u@h/db' }, {}, /engine is "mysql" but url is a postgres URL/],
  ])('refuses incomplete or invalid settings (%#)', (options, env, message) => {
    expect(() => resolveConfig(options, env)).toThrow(ConfigurationError);
    expect(() => resolveConfig(options, env)).toThrow(message);
  });

  test('a URL means local mode, even without a password (trust authentication), and even where SQL_AUTH is iam', () => {
    expect(resolveConfig({ url: 'postgres://postgres@127.0.0.1:5432/app' }, contract)).toMatchObject({
      auth: 'password', password: '', ssl: false, verifyHostname: false, host: '127.0.0.1', user: 'postgres',
    });
    expect(resolveConfig({}, { SQL_URL: 'mysql://root@localhost/app' })).toMatchObject({ auth: 'password', password: '', ssl: false });
    expect(resolveConfig({ auth: 'password', host: 'h', user: 'u', database: 'd', engine: 'postgres' }, {})).toMatchObject({ password: '' });
    // the Lambda environment alone stays IAM
    expect(resolveConfig({}, contract).auth).toBe('iam');
  });

  test.each([
    ['disable', false, false],
    ['require', { rejectUnauthorized: false, servername: 'db.local' }, false],
    ['verify-ca', { rejectUnauthorized: true, servername: 'db.local' }, false],
    ['verify-full', { rejectUnauthorized: true, servername: 'db.local' }, true],
    ['VERIFY_IDENTITY', { rejectUnauthorized: true, servername: 'db.local' }, true],
  ])('sslmode=%s in the URL', (mode, ssl, verifyHostname) => {
    const config = resolveConfig({ url: `postgres://me:pw@db.local/app?sslmode=${mode}` }, {});
    expect(config.ssl === false ? false : { rejectUnauthorized: config.ssl.rejectUnauthorized, servername: config.ssl.servername }).toEqual(ssl);
    expect(config.verifyHostname).toBe(verifyHostname);
    if (mode === 'verify-ca') expect((config.ssl as { checkServerIdentity: () => unknown }).checkServerIdentity()).toBeUndefined();
  });

  test('TLS: IAM mode always verifies; an IP address is never sent as the server name; a CA can be added', () => {
    const ca = '-----BEGIN CERTIFICATE-----';
    expect(resolveConfig({ ssl: { ca } }, contract)).toMatchObject({
      ssl: { ca, rejectUnauthorized: true, servername: contract.SQL_HOST }, verifyHostname: true,
    });
    const byIp = resolveConfig({ ssl: true, url: 'mysql://root:pw@10.0.0.5/app' }, {});
    expect(byIp.ssl).toEqual({ rejectUnauthorized: true, servername: undefined });
    expect(byIp.verifyHostname).toBe(true);
    expect(resolveConfig({ ssl: { checkServerIdentity: () => undefined }, url: 'mysql://root:pw@db.local/app' }, {}).verifyHostname).toBe(false);
    expect(resolveConfig({ ssl: true, url: 'postgres://u@[::1]:5432/app' }, {}).ssl).toEqual({ rejectUnauthorized: true, servername: undefined });
    expect(resolveConfig({ ssl: true, url: 'postgres://u@[fd00:ec2::23]/app' }, {}).ssl).toEqual({ rejectUnauthorized: true, servername: undefined });
  });

  test('an IP address is told from a host name as Node tells it, without its IPv6 pattern', () => {
    const addresses = ['10.0.0.5', '0.0.0.0', '255.255.255.255', '::', '::1', '1::', 'fe80::1%eth0', 'fd00:ec2::23', '2001:db8::ff00:42:8329',
      '::ffff:192.0.2.128', '1:2:3:4:5:6:7:8', '64:ff9b::192.0.2.33'];
    const names = ['localhost', 'db.local', 'app.proxy-abc123.eu-west-1.rds.amazonaws.com', 'deadbeef', 'cafe.babe', 'a', '10.0.0.5.nip.io',
      'xn--bcher-kva.example', 'db-1', '1.2.3', '256.1.1.1', '1.2.3.4.5', 'beef'];
    for (const host of addresses) expect({ host, literal: isIpLiteral(host), node: isIP(host) !== 0 }).toEqual({ host, literal: true, node: true });
    for (const host of names) expect({ host, literal: isIpLiteral(host), node: isIP(host) !== 0 }).toEqual({ host, literal: false, node: false });
  });

  test('timeouts and keepalive default to documented values', () => {
    expect(resolveConfig({}, contract)).toMatchObject({
      queryTimeoutMs: 30_000, keepAliveInitialDelayMs: 60_000, maxRows: 100_000, connectTimeoutMs: 5_000, connectDeadlineMs: 10_000,
    });
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
    'select count(*), max(a) from t', 'select coalesce(a, 0) from t;', "select 'a;b' from t", 'select $$delete$$',
    "select E'it\\'s; delete' as s", '/* don\'t */ select 1', "-- it's\nselect 1", 'select "insert" from t',
    "select E'\\'; delete from t; --'",
  ])('read: %s', sql => expect(isReadStatement(sql, 'postgres')).toBe(true));

  test.each([
    'select 1', 'select `delete` from t', "select 'it\\'s; delete' as s", '# it\'s\nselect 1', 'select count(*) from t',
    "select 'a\\'; delete from t; -- '",
  ])('read on MySQL: %s', sql => expect(isReadStatement(sql, 'mysql')).toBe(true));

  test.each([
    'insert into t values (1)', 'update t set a = 1', 'delete from t', 'with d as (delete from t returning *) select * from d',
    'select * from t for update', 'select nextval(\'s\')', 'select * into t2 from t', 'call p()', 'begin', 'create table x (a int)',
    'explain analyze delete from t',
    'select add_row($1)', 'select public.add_row($1)', 'select "add_row"(1)', 'select 1; delete from t', 'select 1; select 2',
    "select /* ' */ 1; delete from t", "select 'a\\'; delete from t; --'", 'select setval(\'s\', 1)', 'select pg_advisory_lock(1)',
    'select * from t for share', "select 'unterminated", 'select $x$ body',
  ])('write: %s', sql => expect(isReadStatement(sql, 'postgres')).toBe(false));

  test.each([
    'select get_lock(\'x\', 1)', 'select * from t lock in share mode', 'select a into @v from t',
    'select last_insert_id()', 'select `f`(1)',
  ])('write on MySQL: %s', sql => expect(isReadStatement(sql, 'mysql')).toBe(false));
});
