/**
 * The driver parts the client loads by path rather than by a package's main entry point: an upgrade that moves one
 * must fail here, loudly, rather than at a user's first query.
 */
describe('driver entry points', () => {
  test("pg/lib/client is pg's Client", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Client = require('pg/lib/client');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    expect(Client).toBe(require('pg').Client);
    expect(typeof Client.prototype.query).toBe('function');
    expect(typeof Client.prototype.connect).toBe('function');
  });

  test("pg/lib/query is pg's Query, which streams rows through 'row' events when it has no callback", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Query = require('pg/lib/query');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    expect(Query).toBe(require('pg').Query);
    const query = new Query({ text: 'select 1' });
    query.on('row', () => undefined);
    query.handleRowDescription({ fields: [] });
    // pg keeps no rows of its own for a query with a row listener and no callback (what stream() relies on)
    expect(query._accumulateRows).toBeFalsy();
  });

  test('the client opens connections with it: pg is loaded without its pool or native binding', () => {
    const { execFileSync } = require('child_process') as typeof import('child_process');
    const script = `
      const { postgresDriver } = require(${JSON.stringify(require.resolve('../src/drivers'))});
      postgresDriver.open({ host: '127.0.0.1', port: 1, database: 'd', user: 'u', ssl: false, iam: false, multipleStatements: false,
        verifyHostname: false, keepAliveInitialDelayMs: 60000 }, async () => '', 200).catch(() => {
        const loaded = Object.keys(require.cache).filter(k => /node_modules[\\\\/](pg|pg-pool)[\\\\/]/.test(k)).map(k => k.replace(/.*node_modules[\\\\/]/, ''));
        process.stdout.write(JSON.stringify(loaded));
      });`;
    const loaded: string[] = JSON.parse(execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
      encoding: 'utf8', env: { ...process.env, TS_NODE_PROJECT: require.resolve('./tsconfig.json') },
    }));
    expect(loaded).toEqual(expect.arrayContaining([expect.stringMatching(/^pg[\\/]lib[\\/]client\.js$/)]));
    expect(loaded.filter(file => /^pg-pool|^pg[\\/]lib[\\/](index|native)/.test(file))).toEqual([]);
  });
});
