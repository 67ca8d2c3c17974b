/**
 * The SnapStart lifecycle for container images, against a stand-in for the Lambda Runtime API that answers
 * GET /runtime/restore/next as a restore would, and records the error reports.
 */
import * as http from 'http';
import { AddressInfo } from 'net';
import { connect, coordinateSnapStart } from '../src';
import { postgresServers, TestServer } from './servers';
import { FaultyRelay } from './tcp-proxy';

interface Call {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  readonly at: number;
}

async function runtimeApi(restoreStatus = 200, onRestoreNext: () => void = () => undefined) {
  const calls: Call[] = [];
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', chunk => { body += chunk; });
    request.on('end', () => {
      calls.push({ method: request.method!, path: request.url!, headers: request.headers, body, at: Date.now() });
      if (request.url!.endsWith('/restore/next')) onRestoreNext();
      // a restore comes a while after the snapshot
      const delay = request.url!.endsWith('/restore/next') ? 50 : 0;
      setTimeout(() => {
        response.writeHead(request.url!.endsWith('/restore/next') ? restoreStatus : 202);
        response.end();
      }, delay);
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    calls,
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise(resolve => server.close(resolve)),
  };
}

describe('coordinateSnapStart', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await postgresServers()[0]();
  });
  afterAll(async () => server?.stop());

  test('outside a SnapStart initialization it does nothing and calls nothing', async () => {
    const api = await runtimeApi();
    let ran = false;
    for (const type of [undefined, 'on-demand', 'provisioned-concurrency']) {
      const outcome = await coordinateSnapStart({ beforeSnapshot: () => { ran = true; } },
        { AWS_LAMBDA_INITIALIZATION_TYPE: type, AWS_LAMBDA_RUNTIME_API: api.address });
      expect(outcome).toBe('not-snap-start');
    }
    expect(ran).toBe(false);
    expect(api.calls).toEqual([]);
    await api.stop();
  });

  test('before-snapshot hooks, then restore/next, then after-restore hooks; no connection is frozen into the snapshot', async () => {
    const relay = await FaultyRelay.start({ host: new URL(server.url).hostname, port: Number(new URL(server.url).port) });
    let openAtSnapshot = -1;
    // the socket count the moment the snapshot is asked for
    const api = await runtimeApi(200, () => { openAtSnapshot = relay.open; });
    const db = connect({ url: relay.url(server.url) });
    await db.query('select 1');
    expect(relay.open).toBe(1);
    const order: string[] = [];
    const outcome = await coordinateSnapStart({
      clients: [db],
      beforeSnapshot: () => { order.push(`before (restore/next asked ${api.calls.length} times)`); },
      afterRestore: () => { order.push(`after (restore/next asked ${api.calls.length} times)`); },
    }, { AWS_LAMBDA_INITIALIZATION_TYPE: 'snap-start', AWS_LAMBDA_RUNTIME_API: api.address });
    expect(outcome).toBe('restored');
    expect(order).toEqual(['before (restore/next asked 0 times)', 'after (restore/next asked 1 times)']);
    expect(api.calls.map(c => `${c.method} ${c.path}`)).toEqual(['GET /2018-06-01/runtime/restore/next']);
    expect(openAtSnapshot).toBe(0);
    // after the restore the counters start again, and the first query opens a connection of its own
    expect(db.stats().opened).toBe(0);
    await db.query('select 1');
    expect(db.stats()).toMatchObject({ opened: 1, reused: 0 });
    expect(relay.accepted).toBe(2);
    await db.close();
    await relay.stop();
    await api.stop();
  });

  test('a failing after-restore hook is reported to restore/error and thrown', async () => {
    const api = await runtimeApi();
    await expect(coordinateSnapStart({ afterRestore: () => { throw new Error('credentials not refreshed'); } },
      { AWS_LAMBDA_INITIALIZATION_TYPE: 'snap-start', AWS_LAMBDA_RUNTIME_API: api.address })).rejects.toThrow('credentials not refreshed');
    const report = api.calls[1];
    expect(`${report.method} ${report.path}`).toBe('POST /2018-06-01/runtime/restore/error');
    expect(report.headers['lambda-runtime-function-error-type']).toBe('Runtime.AfterRestoreError');
    expect(JSON.parse(report.body)).toMatchObject({ errorMessage: 'credentials not refreshed', errorType: 'Runtime.AfterRestoreError' });
    await api.stop();
  });

  test('a failing before-snapshot hook is reported to init/error and thrown, and no snapshot is asked for', async () => {
    const api = await runtimeApi();
    await expect(coordinateSnapStart({ beforeSnapshot: () => Promise.reject(new Error('cannot close')) },
      { AWS_LAMBDA_INITIALIZATION_TYPE: 'snap-start', AWS_LAMBDA_RUNTIME_API: api.address })).rejects.toThrow('cannot close');
    expect(api.calls.map(c => `${c.method} ${c.path} ${c.headers['lambda-runtime-function-error-type']}`))
      .toEqual(['POST /2018-06-01/runtime/init/error Runtime.BeforeSnapshotError']);
    await api.stop();
  });

  test('an unexpected answer to restore/next fails, and so does a SnapStart initialization without the Runtime API', async () => {
    const api = await runtimeApi(500);
    await expect(coordinateSnapStart({}, { AWS_LAMBDA_INITIALIZATION_TYPE: 'snap-start', AWS_LAMBDA_RUNTIME_API: api.address }))
      .rejects.toThrow(/answered 500 to GET \/runtime\/restore\/next/);
    await api.stop();
    await expect(coordinateSnapStart({}, { AWS_LAMBDA_INITIALIZATION_TYPE: 'snap-start' })).rejects.toThrow(/AWS_LAMBDA_RUNTIME_API is not set/);
  });
});
