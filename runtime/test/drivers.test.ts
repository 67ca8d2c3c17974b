/**
 * The driver parts the client loads by path rather than by a package's main entry point: an upgrade that moves one
 * must fail here, loudly, rather than at a user's first query.
 */
import { int32, pgMessage } from './pg-wire';

describe('driver entry points', () => {
  test("pg/lib/connection is the protocol connection pg's Client speaks through, with the messages the session sends", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Connection = require('pg/lib/connection');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    expect(new (require('pg').Client)().connection).toBeInstanceOf(Connection);
    for (const method of ['connect', 'requestSsl', 'startup', 'password', 'sendSASLInitialResponseMessage', 'sendSCRAMClientFinalMessage',
      'query', 'parse', 'bind', 'describe', 'execute', 'sync', 'close', 'sendCopyFail', 'end']) {
      expect({ method, type: typeof Connection.prototype[method] }).toEqual({ method, type: 'function' });
    }
  });

  test("pg/lib/result parses rows with pg-types and reads the command tag, as pg's Client does", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Result = require('pg/lib/result');
    const result = new Result();
    result.addFields([{ name: 'n', dataTypeID: 23, format: 'text' }, { name: 'at', dataTypeID: 1184, format: 'text' }]);
    expect(result.parseRow(['42', '2026-12-07 10:00:00+00'])).toEqual({ n: 42, at: new Date('2026-12-07T10:00:00Z') });
    result.addCommandComplete({ text: 'INSERT 0 3' });
    expect([result.command, result.rowCount]).toEqual(['INSERT', 3]);
  });

  test("pg/lib/utils and pg/lib/crypto are pg's value mapping and password exchanges", () => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    expect(require('pg/lib/utils').prepareValue(new Uint8Array([1]))).toEqual(Buffer.from([1]));
    expect(require('pg/lib/utils').prepareValue([1, null])).toBe('{"1",NULL}');
    const sasl = require('pg/lib/crypto/sasl');
    expect(sasl.startSession(['SCRAM-SHA-256'], false).mechanism).toBe('SCRAM-SHA-256');
    expect(typeof sasl.continueSession).toBe('function');
    expect(typeof sasl.finalizeSession).toBe('function');
    expect(typeof require('pg/lib/crypto/utils').postgresMd5PasswordHash).toBe('function');
    /* eslint-enable @typescript-eslint/no-require-imports */
  });

  test('the client opens connections with it: pg is loaded without its Client, pool or native binding; its password exchanges when a server asks for one, its row parsing once the password is sent', () => {
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
    expect(loaded).toEqual(expect.arrayContaining([expect.stringMatching(/^pg[\\/]lib[\\/]connection\.js$/)]));
    expect(loaded.filter(file => /^pg-pool|^pg[\\/]lib[\\/](index|native|client|connection-parameters|query)/.test(file))).toEqual([]);
    // SCRAM and MD5: a connection that sends an IAM token in clear text does not need them
    expect(loaded.filter(file => /^pg[\\/]lib[\\/]crypto/.test(file))).toEqual([]);
    // row parsing and value mapping load while the server checks the password: not for a connection refused before
    expect(loaded.filter(file => /^pg[\\/]lib[\\/](result|utils)/.test(file))).toEqual([]);
  });
});

describe('the PostgreSQL session', () => {
  /** A server that accepts any login, answers every query with an error and no ReadyForQuery, then hangs up. */
  async function errorThenHangUp(): Promise<{ port: number; close: () => void }> {
    const net = require('net') as typeof import('net');
    const server = net.createServer(socket => {
      let started = false;
      socket.on('data', () => {
        if (!started) {
          started = true;
          socket.write(Buffer.concat([pgMessage('R', int32(0)), pgMessage('Z', Buffer.from('I'))]));
          return;
        }
        socket.write(pgMessage('E', Buffer.from('SERROR\0C22012\0Mdivision by zero\0\0')));
        setTimeout(() => socket.destroy(), 100);
      });
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    return { port: (server.address() as import('net').AddressInfo).port, close: () => server.close() };
  }

  test('a statement sent while the one before waits for ReadyForQuery fails, not hangs, when the socket dies', async () => {
    const { postgresDriver } = require('../src/drivers') as typeof import('../src/drivers');
    const server = await errorThenHangUp();
    try {
      const session = await postgresDriver.open({
        host: '127.0.0.1', port: server.port, database: 'd', user: 'u', ssl: false, iam: false, multipleStatements: false,
        verifyHostname: false, keepAliveInitialDelayMs: 60_000,
      }, async () => '', 2_000);
      await expect(session.query('select 1/0')).rejects.toMatchObject({ code: '22012', message: 'division by zero' });
      // the server has not said ReadyForQuery: this one waits, and fails when the socket goes
      await expect(session.query('ROLLBACK')).rejects.toThrow('Connection terminated unexpectedly');
      expect(session.broken).toBe(true);
    } finally {
      server.close();
    }
  });
});
