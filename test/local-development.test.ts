/**
 * What `serverless-sql-api dev` reads from a synthesized app: recorded only when its context key asks for it, in the
 * stack's metadata, never in the template.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { ApiExtension, ApiHandler, DatabaseAccess, FrontDoor, Migrations, PipeSource, ServerlessSqlApi, SqlEngine, StreamStartingPosition } from '../src';
import { HANDLER_ENTRY, nodeHandler } from './util';
import { LOCAL_CONTEXT_KEY } from '../src/private/local-development';

const MIGRATIONS = fs.mkdtempSync(path.join(os.tmpdir(), 'local-migrations-'));
fs.writeFileSync(path.join(MIGRATIONS, '001_orders.sql'), 'create table orders (id int primary key);');

function build(context: Record<string, unknown>) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'local-metadata-'));
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const stack = new Stack(app, 'Main', { env: { account: '123456789012', region: 'eu-west-1' } });
  const queue = new sqs.Queue(stack, 'Queue');
  const api = new ServerlessSqlApi(stack, 'Api', {
    handler: ApiHandler.nodejs({ entry: HANDLER_ENTRY, handler: 'main', bundling: { define: { 'process.env.FLAG': '"1"' } } }),
    engine: SqlEngine.mysql(),
    databaseName: 'orders',
    migrations: Migrations.fromDirectory(MIGRATIONS),
    environment: { PLAIN: 'value', QUEUE_URL: queue.queueUrl },
    memorySize: 1024,
    frontDoor: FrontDoor.httpApi(),
  });
  api.addUser('reader', { access: DatabaseAccess.READ_ONLY });
  api.addRoute('GET /orders/{id}', nodeHandler(), { dbUser: 'reader' });
  const other = new Stack(app, 'Workers', { env: { account: '123456789012', region: 'eu-west-1' } });
  new ApiExtension(other, 'More', { api }).addWorker('Stream', {
    handler: nodeHandler(),
    source: PipeSource.kinesis(new kinesis.Stream(other, 'Stream'), { startingPosition: StreamStartingPosition.LATEST, batchSize: 25 }),
  });
  const assembly = app.synth();
  const entries = (stackName: string) => {
    const file = path.join(outdir, `${stackName}.metadata.json`);
    const metadata = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, Array<{ type: string; data: any }>> : {};
    return Object.values(metadata).flat().filter(entry => entry.type.startsWith('serverless-sql-api:local-'));
  };
  return { assembly, outdir, main: entries('Main'), workers: entries('Workers') };
}

describe('local-development metadata', () => {
  test('without the context key nothing is recorded', () => {
    const { main, workers } = build({});
    expect(main).toEqual([]);
    expect(workers).toEqual([]);
  });

  test('with it: the API, its database, users and front door, and every function with its handler and settings', () => {
    const { main, workers } = build({ [LOCAL_CONTEXT_KEY]: true });
    const api = main.find(entry => entry.type === 'serverless-sql-api:local-api')!.data;
    expect(api).toMatchObject({
      version: 1,
      path: 'Main/Api',
      engine: 'mysql',
      databaseName: 'orders',
      database: 'Main/Api/Database',
      frontDoor: 'httpApi',
      streaming: false,
      httpApi: 'Main/Api/HttpApi',
      migrationsDirectory: MIGRATIONS,
    });
    expect(api.users).toEqual([{ name: 'app_user', access: 'read-write' }, { name: 'reader', access: 'read-only' }]);

    const functions = [...main, ...workers].filter(entry => entry.type === 'serverless-sql-api:local-function').map(entry => entry.data);
    const apiFunction = functions.find(fn => fn.role === 'api');
    expect(apiFunction).toMatchObject({
      api: 'Main/Api',
      memoryMb: 1024,
      timeoutSeconds: 10,
      dbUser: 'app_user',
      database: 'Main/Api/Database',
      handler: {
        kind: 'nodejs',
        entry: HANDLER_ENTRY,
        handler: 'main',
        nodeMajor: 24,
        bundling: { define: { 'process.env.FLAG': '"1"' }, externalModules: ['pg-native', 'pg'], mainFields: ['module', 'main'] },
      },
      // a deploy-time value is named, not resolved
      environment: { PLAIN: 'value' },
      deployTimeEnvironment: ['QUEUE_URL'],
    });
    expect(functions.find(fn => fn.role === 'route')).toMatchObject({ routeKey: 'GET /orders/{id}', httpApi: 'Main/Api/HttpApi', dbUser: 'reader' });
    // the extension's worker is recorded in its own stack, linked by the database's path
    expect(workers.map(entry => entry.data)).toEqual([expect.objectContaining({
      role: 'worker', workerId: 'Stream', source: 'kinesis', batchSize: 25, database: 'Main/Api/Database',
    })]);
  });

  test('the templates are the same either way', () => {
    const without = build({});
    const withIt = build({ [LOCAL_CONTEXT_KEY]: true });
    for (const name of ['Main', 'Workers']) {
      expect(withIt.assembly.getStackByName(name).template).toEqual(without.assembly.getStackByName(name).template);
    }
  });

  test('handlers that do not run locally say what they are', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [], [LOCAL_CONTEXT_KEY]: true } });
    const stack = new Stack(app, 'Code');
    new ServerlessSqlApi(stack, 'Api', {
      handler: ApiHandler.fromCode({ code: lambda.Code.fromInline('x'), handler: 'app.handler', runtime: lambda.Runtime.PYTHON_3_13 }),
    });
    const metadata = app.synth().getStackByName('Code').findMetadataByType('serverless-sql-api:local-function');
    expect(metadata.map(entry => entry.data)).toEqual([expect.objectContaining({ handler: { kind: 'code', runtime: 'python3.13' } })]);
  });
});
