/**
 * What the client reports about itself: how the sandbox started, its first invocation, the time spent signing,
 * connecting and waiting, and the embedded metric format line, validated against the format's JSON schema.
 */
import * as fs from 'fs';
import * as path from 'path';
import Ajv from 'ajv';
import { connect, metricsDocument } from '../src';
import { IamProxy, PROXY_CERT } from './iam-proxy';
import { postgresServers, TestServer } from './servers';

const schema = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'emf-schema.json'), 'utf8'));
const region = 'eu-west-1';
const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret', sessionToken: 'session' };
const invocation = (awsRequestId: string) => ({ awsRequestId, getRemainingTimeInMillis: () => 5_000 });

/** Checks a document against the schema and against the rules the schema cannot state (every target member present). */
function validEmf(document: any): string[] {
  const validate = new Ajv({ allErrors: true }).compile(schema);
  const errors = validate(document) ? [] : validate.errors!.map(e => `${e.instancePath} ${e.message}`);
  for (const directive of document._aws?.CloudWatchMetrics ?? []) {
    for (const set of directive.Dimensions) {
      for (const name of set) if (typeof document[name] !== 'string') errors.push(`dimension ${name} is not a string member of the root`);
    }
    for (const metric of directive.Metrics) {
      if (typeof document[metric.Name] !== 'number') errors.push(`metric ${metric.Name} is not a number member of the root`);
    }
  }
  return errors;
}

describe('telemetry', () => {
  let server: TestServer;
  let backend: { host: string; port: number; user: string; database: string };
  const saved = { ...process.env };

  beforeAll(async () => {
    server = await postgresServers()[0]();
    const url = new URL(server.url);
    backend = { host: url.hostname, port: Number(url.port), user: decodeURIComponent(url.username), database: url.pathname.slice(1) };
  });
  afterAll(async () => server?.stop());
  afterEach(() => {
    process.env = { ...saved };
  });

  const iamClient = (proxy: IamProxy, extra: object = {}) => connect({
    engine: 'postgres', host: 'localhost', port: proxy.port, database: backend.database, user: 'app_user', region,
    credentials: () => credentials, ssl: { ca: PROXY_CERT, servername: 'localhost', rejectUnauthorized: true }, ...extra,
  });

  test.each(['on-demand', 'provisioned-concurrency', 'snap-start'])('initType %s comes from AWS_LAMBDA_INITIALIZATION_TYPE', async type => {
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = type;
    const db = connect({ url: server.url, auth: 'password', password: 'local' });
    expect(db.stats().initType).toBe(type);
    delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
    expect(db.stats().initType).toBeUndefined();
  });

  test('the first invocation is told from the request ids of the contexts; afterRestore starts over', async () => {
    const db = connect({ url: server.url, auth: 'password', password: 'local' });
    expect(db.stats().firstInvocation).toBeUndefined();
    await db.query('select 1', [], { context: invocation('r-1') });
    await db.query('select 2', [], { context: invocation('r-1') });
    expect(db.stats()).toMatchObject({ invocations: 1, firstInvocation: true });
    await db.transaction(async tx => tx.query('select 3'), { context: invocation('r-2') });
    expect(db.stats()).toMatchObject({ invocations: 2, firstInvocation: false });
    await db.afterRestore();
    await db.query('select 4', [], { context: invocation('r-3') });
    expect(db.stats()).toMatchObject({ invocations: 1, firstInvocation: true });
    await db.close();
  });

  test('time spent signing tokens and connecting is counted, once per physical connection', async () => {
    const proxy = await IamProxy.start({ backend, region, credentials });
    const db = iamClient(proxy);
    await db.query('select 1');
    const first = db.stats();
    expect(first.signingMs).toBeGreaterThan(0);
    expect(first.connectingMs).toBeGreaterThan(first.signingMs);
    await db.query('select 2');
    expect(db.stats()).toMatchObject({ signingMs: first.signingMs, connectingMs: first.connectingMs, waitingMs: 0 });
    await db.close();
    await db.query('select 3');
    expect(db.stats().signingMs).toBeGreaterThan(first.signingMs);
    await db.close();
    await proxy.stop();
  });

  test('time waiting for a busy connection is counted', async () => {
    const db = connect({ url: server.url, auth: 'password', password: 'local', maxConnections: 1 });
    const holding = db.transaction(async tx => {
      await tx.query('select 1');
      await new Promise(resolve => setTimeout(resolve, 200));
    });
    await Promise.all([holding, db.query('select 2')]);
    expect(db.stats().waitingMs).toBeGreaterThan(100);
    await db.close();
  });

  test('emitMetrics writes one valid embedded metric format line with the changes since the last one', async () => {
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'orders-api';
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
    const db = connect({ url: server.url, auth: 'password', password: 'local' });
    const lines: string[] = [];
    const write = (line: string) => lines.push(line);
    await db.query('select 1', [], { context: invocation('a') });
    db.emitMetrics({ write });
    await db.query('select 1', [], { context: invocation('b') });
    await db.query('select 1', [], { context: invocation('b') });
    db.emitMetrics({ write });

    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line.endsWith('\n') && !line.slice(0, -1).includes('\n')).toBe(true);
    const [cold, warm] = lines.map(line => JSON.parse(line));
    expect(validEmf(cold)).toEqual([]);
    expect(validEmf(warm)).toEqual([]);
    expect(cold).toMatchObject({ FunctionName: 'orders-api', InitType: 'on-demand', ColdStart: 1, ConnectionsOpened: 1, ConnectionsReused: 0 });
    expect(warm).toMatchObject({ ColdStart: 0, ConnectionsOpened: 0, ConnectionsReused: 2 });
    expect(cold._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'ServerlessSqlApi', Dimensions: [['FunctionName']] });
    expect(cold.ConnectTime).toBeGreaterThan(0);
    await db.close();
  });

  test('the schema check fails on documents the format refuses', () => {
    const stats = { opened: 1, reused: 0, evicted: 0, retries: 0, connectRetries: 0, authRefreshes: 0, transactionRetries: 0, timeouts: 0, invocations: 1, signingMs: 0, connectingMs: 3, waitingMs: 0 };
    const good = metricsDocument(stats, { ...stats, opened: 0, connectingMs: 0 }, { namespace: 'Custom', dimensions: { Service: 'orders' } });
    expect(validEmf(good)).toEqual([]);
    expect(good).toMatchObject({ Service: 'orders', ConnectionsOpened: 1, ConnectTime: 3 });
    const noTimestamp = JSON.parse(JSON.stringify(good));
    delete noTimestamp._aws.Timestamp;
    expect(validEmf(noTimestamp)).not.toEqual([]);
    const badUnit = JSON.parse(JSON.stringify(good));
    badUnit._aws.CloudWatchMetrics[0].Metrics[0].Unit = 'Widgets';
    expect(validEmf(badUnit)).not.toEqual([]);
    const missingMember = JSON.parse(JSON.stringify(good));
    delete missingMember.Service;
    expect(validEmf(missingMember)).toEqual(['dimension Service is not a string member of the root']);
    expect(() => metricsDocument(stats, stats, { dimensions: Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`d${i}`, 'x'])) })).toThrow(/at most 30/);
  });
});
