/**
 * The deploy-time handlers end to end, as the package ships them (assets/, bundled by `npx projen bundle:handlers`),
 * each run in a process of its own against real databases (an embedded PostgreSQL where none is configured): the
 * database bootstrap as CloudFormation invokes it (create, update with a new migration, a failing migration,
 * delete), reading its admin secret from a Secrets Manager stand-in and answering on an HTTPS response URL; and the
 * pre-traffic hook, through an RDS Proxy stand-in that checks its IAM token, reporting to a CodeDeploy stand-in.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AwsApi, CloudFormationResponse, LOCALHOST_CERT_FILE, ResponseUrl, TlsPostgres } from './stand-ins';
import { connect } from '../../runtime/src';
import { IamProxy } from '../../runtime/test/iam-proxy';
import { startEmbeddedPostgres } from '../../runtime/test/servers';

const ASSETS = path.join(__dirname, '..', '..', 'assets');
const DRIVER = path.join(__dirname, 'run-handler.js');
const NODE_MODULES = path.join(__dirname, '..', '..', 'node_modules');
const REQUIRE_SERVERS = process.env.SQL_TEST_REQUIRE_SERVERS === '1';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:DatabaseAdmin-AbCdEf';
const AWS_ENV = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', AWS_SESSION_TOKEN: '' };

function configured(variable: string): string | undefined {
  const value = process.env[variable];
  if (!value && REQUIRE_SERVERS) throw new Error(`${variable} is not set but SQL_TEST_REQUIRE_SERVERS=1 makes real-server tests mandatory`);
  return value || undefined;
}

/** A handler bundle copied to a directory of its own, with `migrations` next to it as the construct stages them. */
function stage(handler: string, migrations: Record<string, string> = {}): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), `${handler}-`));
  fs.copyFileSync(path.join(ASSETS, handler, 'index.js'), path.join(directory, 'index.js'));
  if (Object.keys(migrations).length) {
    fs.mkdirSync(path.join(directory, 'migrations'));
    for (const [name, sql] of Object.entries(migrations)) fs.writeFileSync(path.join(directory, 'migrations', name), sql);
  }
  return path.join(directory, 'index.js');
}

async function runHandler(bundle: string, event: unknown, env: Record<string, string | undefined>): Promise<{ result: any; output: string }> {
  const eventFile = path.join(path.dirname(bundle), `event-${Date.now()}.json`);
  fs.writeFileSync(eventFile, JSON.stringify(event));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [DRIVER], {
      // the SDK comes from NODE_PATH, as Lambda's Node.js runtime provides it to bundles that leave it out
      env: {
        PATH: process.env.PATH, NODE_PATH: NODE_MODULES, ...AWS_ENV, ...env, HANDLER_BUNDLE: bundle, EVENT_FILE: eventFile,
      } as NodeJS.ProcessEnv,
      timeout: 60_000,
    }, (error, stdout, stderr) => {
      const lines = stdout.trim().split('\n');
      try {
        resolve({ result: JSON.parse(lines[lines.length - 1]), output: stdout + stderr });
      } catch {
        reject(new Error(`the handler printed no result (${error?.message.slice(0, 500)}):\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`));
      }
    });
  });
}

function bootstrapEvent(requestType: 'Create' | 'Update' | 'Delete', responseUrl: string, properties: Record<string, unknown>, physicalId?: string) {
  return {
    RequestType: requestType,
    ResponseURL: responseUrl,
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/App/1b2c3d4e',
    RequestId: `request-${requestType}-${Date.now()}`,
    LogicalResourceId: 'ApiDatabaseBootstrap1A2B3C4D',
    ...physicalId ? { PhysicalResourceId: physicalId } : {},
    ResourceType: 'Custom::DatabaseBootstrap',
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:Bootstrap', ...properties },
  };
}

describe('database bootstrap (PostgreSQL)', () => {
  const serverUrl = configured('SQL_TEST_POSTGRES_URL');
  const databaseName = serverUrl ? `bootstrap_e2e_${process.pid}` : 'postgres';
  let backend: { url: string; stop: () => Promise<void> };
  let tlsEndpoint: TlsPostgres;
  let secrets: AwsApi;
  let cloudformation: ResponseUrl;
  let admin: ReturnType<typeof connect>;
  let secret = { username: 'postgres', password: 'from-the-secret' };

  beforeAll(async () => {
    backend = serverUrl ? { url: serverUrl, stop: async () => {} } : await startEmbeddedPostgres();
    const server = new URL(backend.url);
    if (serverUrl) {
      server.pathname = '/postgres';
      const root = connect({ url: server.href });
      await root.query(`drop database if exists "${databaseName}" with (force)`);
      await root.query(`create database "${databaseName}"`);
      await root.close();
    }
    server.pathname = `/${databaseName}`;
    admin = connect({ url: server.href });
    // RDS for PostgreSQL has the rds_iam role; a local server needs a stand-in for it
    await admin.query("do $$ begin if not exists (select from pg_roles where rolname = 'rds_iam') then create role rds_iam; end if; end $$");
    tlsEndpoint = await TlsPostgres.start({ host: server.hostname, port: Number(server.port) });
    secrets = await AwsApi.start((target, body) => target === 'secretsmanager.GetSecretValue'
      ? { status: 200, body: { ARN: body.SecretId, Name: 'DatabaseAdmin', SecretString: JSON.stringify(secret), VersionId: 'v1' } }
      : { status: 400, body: { __type: 'UnknownOperationException' } });
    cloudformation = await ResponseUrl.start();
  });

  afterAll(async () => {
    await admin?.close();
    await tlsEndpoint?.stop();
    await secrets?.stop();
    await cloudformation?.stop();
    if (serverUrl) {
      const server = new URL(serverUrl);
      server.pathname = '/postgres';
      const root = connect({ url: server.href });
      await root.query(`drop database if exists "${databaseName}" with (force)`);
      await root.close();
    }
    await backend?.stop();
  });

  const properties = (users: Array<{ name: string; access: string }>) => ({
    Engine: 'postgres', Host: 'localhost', Port: String(tlsEndpoint.port), Database: databaseName, SecretArn: SECRET_ARN, Users: users, MigrationsHash: 'h',
  });
  const env = () => ({ AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url, NODE_EXTRA_CA_CERTS: LOCALHOST_CERT_FILE, DATABASE_CA: LOCALHOST_CERT_FILE });
  const lastResponse = (): CloudFormationResponse => cloudformation.responses[cloudformation.responses.length - 1];
  const applied = async () => (await admin.query<{ name: string }>('select name from serverless_sql_api_migrations order by name')).rows.map(r => r.name);
  const USERS = [{ name: 'e2e_app', access: 'read-write' }, { name: 'e2e_reader', access: 'read-only' }];
  const FIRST = { '001_notes.sql': 'create table notes (id serial primary key, body text not null);' };
  const SECOND = { ...FIRST, '002_tags.sql': 'create table tags (note int references notes (id), tag text);' };

  test('create: users, migrations and grants, read with the secret over TLS; SUCCESS on the response URL', async () => {
    const { result, output } = await runHandler(stage('database-bootstrap-postgres', FIRST), bootstrapEvent('Create', cloudformation.url, properties(USERS)), env());
    expect(result).toBeNull();
    const response = lastResponse();
    expect(response.method).toBe('PUT');
    // a pre-signed S3 URL: the signature covers an empty content type
    expect(response.headers['content-type']).toBe('');
    expect(response.body).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: 'ApiDatabaseBootstrap1A2B3C4D-database-bootstrap',
      LogicalResourceId: 'ApiDatabaseBootstrap1A2B3C4D',
      StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/App/1b2c3d4e',
      Data: { Applied: '001_notes.sql', Users: 'e2e_app,e2e_reader' },
    });
    expect(output).toMatch(/"users":\["e2e_app","e2e_reader"\],"applied":\["001_notes.sql"\]/);
    // the secret was read once, by its ARN, with a signed request; the session was TLS
    expect(secrets.calls).toEqual([{ target: 'secretsmanager.GetSecretValue', body: { SecretId: SECRET_ARN }, signed: true }]);
    expect(tlsEndpoint.tlsSessions).toBeGreaterThanOrEqual(1);
    expect(tlsEndpoint.plainAttempts).toBe(0);
    expect(await applied()).toEqual(['001_notes.sql']);
    const { rows } = await admin.query<Record<string, boolean>>(`select
      has_table_privilege('e2e_app', 'notes', 'insert') as app_writes, has_table_privilege('e2e_reader', 'notes', 'select') as reader_reads,
      has_table_privilege('e2e_reader', 'notes', 'insert') as reader_writes, pg_has_role('e2e_app', 'rds_iam', 'member') as iam,
      (select rolcanlogin and rolpassword is null from pg_authid where rolname = 'e2e_app') as iam_only`);
    if (serverUrl) expect(rows[0]).toEqual({ app_writes: true, reader_reads: true, reader_writes: false, iam: true, iam_only: true });
    else expect(rows[0]).toMatchObject({ app_writes: true, reader_reads: true, reader_writes: false, iam: true });
  });

  test('update with a new migration: only that one is applied, the physical id is kept, grants cover the new table', async () => {
    const physicalId = 'ApiDatabaseBootstrap1A2B3C4D-database-bootstrap';
    await runHandler(stage('database-bootstrap-postgres', SECOND), bootstrapEvent('Update', cloudformation.url, properties(USERS), physicalId), env());
    expect(lastResponse().body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: physicalId, Data: { Applied: '002_tags.sql' } });
    expect(await applied()).toEqual(['001_notes.sql', '002_tags.sql']);
    const { rows } = await admin.query<{ reads: boolean }>("select has_table_privilege('e2e_reader', 'tags', 'select') as reads");
    expect(rows[0].reads).toBe(true);
  });

  test('a failing migration: FAILED with its name and the server\'s error, nothing of it left behind', async () => {
    const physicalId = 'ApiDatabaseBootstrap1A2B3C4D-database-bootstrap';
    const bad = { ...SECOND, '003_broken.sql': 'create table half (id int); insert into no_such_table values (1);' };
    await runHandler(stage('database-bootstrap-postgres', bad), bootstrapEvent('Update', cloudformation.url, properties(USERS), physicalId), env());
    const { body } = lastResponse();
    expect(body.Status).toBe('FAILED');
    expect(body.PhysicalResourceId).toBe(physicalId);
    expect(body.Reason).toMatch(/003_broken\.sql/);
    expect(body.Reason).toMatch(/no_such_table/);
    expect(await applied()).toEqual(['001_notes.sql', '002_tags.sql']);
    const { rows } = await admin.query("select 1 from information_schema.tables where table_name = 'half'");
    expect(rows).toEqual([]);
  });

  test('a secret without a password: FAILED, saying so', async () => {
    const kept = secret;
    secret = { username: 'postgres' } as typeof secret;
    try {
      await runHandler(stage('database-bootstrap-postgres', FIRST), bootstrapEvent('Create', cloudformation.url, properties(USERS)), env());
    } finally {
      secret = kept;
    }
    expect(lastResponse().body).toMatchObject({ Status: 'FAILED', Reason: 'the admin secret has no username and password' });
  });

  test('a server whose certificate the pinned authorities do not sign: FAILED, nothing sent in plain text', async () => {
    const sessions = tlsEndpoint.tlsSessions;
    const { DATABASE_CA: _replaced, ...pinned } = env();
    await runHandler(stage('database-bootstrap-postgres', FIRST), bootstrapEvent('Create', cloudformation.url, properties(USERS)), pinned);
    const { body } = lastResponse();
    expect(body.Status).toBe('FAILED');
    expect(body.Reason).toMatch(/certificate/i);
    expect(tlsEndpoint.tlsSessions).toBe(sessions);
    expect(tlsEndpoint.plainAttempts).toBe(0);
  });

  test('delete: SUCCESS without reading the secret or touching the database', async () => {
    const calls = secrets.calls.length;
    const physicalId = 'ApiDatabaseBootstrap1A2B3C4D-database-bootstrap';
    await runHandler(stage('database-bootstrap-postgres', SECOND), bootstrapEvent('Delete', cloudformation.url, properties(USERS), physicalId), env());
    expect(lastResponse().body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: physicalId });
    expect(secrets.calls.length).toBe(calls);
    expect(await applied()).toEqual(['001_notes.sql', '002_tags.sql']);
  });
});

const mysqlTlsUrl = configured('SQL_TEST_MYSQL_TLS_URL');
const mysqlCa = configured('SQL_TEST_TLS_CA');

(mysqlTlsUrl ? describe : describe.skip)('database bootstrap (MySQL: MariaDB with TLS)', () => {
  const databaseName = `bootstrap_e2e_${process.pid}`;
  let secrets: AwsApi;
  let cloudformation: ResponseUrl;
  let root: ReturnType<typeof connect>;

  beforeAll(async () => {
    root = connect({ url: mysqlTlsUrl!, ssl: { ca: fs.readFileSync(mysqlCa!), checkServerIdentity: () => undefined } });
    await root.query(`drop database if exists \`${databaseName}\``);
    await root.query(`create database \`${databaseName}\``);
    secrets = await AwsApi.start((_target, body) => ({ status: 200, body: { ARN: body.SecretId, SecretString: JSON.stringify({ username: 'root', password: '' }) } }));
    cloudformation = await ResponseUrl.start();
  });
  afterAll(async () => {
    await root?.query(`drop database if exists \`${databaseName}\``);
    await root?.close();
    await secrets?.stop();
    await cloudformation?.stop();
  });

  const port = () => new URL(mysqlTlsUrl!).port;
  // the server's certificate names db.example.invalid only: the bootstrap connects by that name and checks it
  const env = () => ({
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url, NODE_EXTRA_CA_CERTS: LOCALHOST_CERT_FILE, DATABASE_CA: mysqlCa!, HOST_MAP: 'db.example.invalid=127.0.0.1',
  });
  const properties = (users: Array<{ name: string; access: string }>) => ({
    Engine: 'mysql', Host: 'db.example.invalid', Port: port(), Database: databaseName, SecretArn: SECRET_ARN, Users: users, MigrationsHash: 'h',
  });
  const response = () => cloudformation.responses[cloudformation.responses.length - 1].body;

  test('migrations applied over verified TLS, then a new one on update', async () => {
    const first = { '001_orders.sql': 'create table orders (id int primary key, total decimal(10, 2));' };
    await runHandler(stage('database-bootstrap-mysql', first), bootstrapEvent('Create', cloudformation.url, properties([])), env());
    expect(response()).toMatchObject({ Status: 'SUCCESS', Data: { Applied: '001_orders.sql', Users: '' } });
    const second = { ...first, '002_lines.sql': 'create table order_lines (orders_id int, sku varchar(40));' };
    await runHandler(stage('database-bootstrap-mysql', second), bootstrapEvent('Update', cloudformation.url, properties([]), 'x'), env());
    expect(response()).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'x', Data: { Applied: '002_lines.sql' } });
    const { rows } = await root.query(`select table_name as t from information_schema.tables where table_schema = '${databaseName}' order by 1`);
    expect(rows.map((r: any) => r.t).sort()).toEqual(['order_lines', 'orders', 'serverless_sql_api_migrations']);
  });

  test('a connection by a name the certificate does not hold is refused: FAILED', async () => {
    await runHandler(stage('database-bootstrap-mysql'), bootstrapEvent('Create', cloudformation.url, { ...properties([]), Host: 'localhost' }),
      { ...env(), HOST_MAP: '' });
    expect(response().Status).toBe('FAILED');
    expect(response().Reason).toMatch(/localhost|altnames|certificate/i);
  });

  test('an IAM user on a server without RDS\'s AWSAuthenticationPlugin: FAILED with the server\'s reason', async () => {
    await runHandler(stage('database-bootstrap-mysql'), bootstrapEvent('Create', cloudformation.url, properties([{ name: 'e2e_app', access: 'read-write' }])), env());
    expect(response().Status).toBe('FAILED');
    expect(response().Reason).toMatch(/AWSAuthenticationPlugin/);
  });
});

describe('pre-traffic hook', () => {
  const serverUrl = configured('SQL_TEST_POSTGRES_URL');
  let backend: { url: string; stop: () => Promise<void> };
  let codedeploy: AwsApi;

  beforeAll(async () => {
    backend = serverUrl ? { url: serverUrl, stop: async () => {} } : await startEmbeddedPostgres();
    codedeploy = await AwsApi.start(() => ({ status: 200, body: { lifecycleEventHookExecutionId: 'hook-1' } }));
  });
  afterAll(async () => {
    await codedeploy?.stop();
    await backend?.stop();
  });

  async function hookThrough(proxyCredentials: { accessKeyId: string; secretAccessKey: string }) {
    const server = new URL(backend.url);
    const proxy = await IamProxy.start({
      backend: { host: server.hostname, port: Number(server.port), user: 'postgres', database: server.pathname.slice(1) },
      region: 'us-east-1',
      credentials: proxyCredentials,
    });
    try {
      const { result, output } = await runHandler(stage('pre-traffic-hook-postgres'), { DeploymentId: 'd-ABC123', LifecycleEventHookExecutionId: 'hook-1' }, {
        AWS_ENDPOINT_URL_CODEDEPLOY: codedeploy.url,
        NODE_EXTRA_CA_CERTS: LOCALHOST_CERT_FILE,
        SQL_ENGINE: 'postgres',
        SQL_HOST: 'localhost',
        SQL_PORT: String(proxy.port),
        SQL_DATABASE: 'app',
        SQL_USER: 'app_user',
        SQL_AUTH: 'iam',
      });
      return { result, output, proxy };
    } finally {
      await proxy.stop();
    }
  }

  test('a working path: a query as the application user with a checked IAM token, Succeeded reported to CodeDeploy', async () => {
    const { result, proxy } = await hookThrough({ accessKeyId: AWS_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: AWS_ENV.AWS_SECRET_ACCESS_KEY });
    expect(result).toEqual({ status: 'Succeeded' });
    expect(proxy.tokens.length).toBeGreaterThanOrEqual(1);
    expect(proxy.rejections).toEqual([]);
    expect(codedeploy.calls[codedeploy.calls.length - 1]).toEqual({
      target: 'CodeDeploy_20141006.PutLifecycleEventHookExecutionStatus',
      body: { deploymentId: 'd-ABC123', lifecycleEventHookExecutionId: 'hook-1', status: 'Succeeded' },
      signed: true,
    });
  });

  test('a refused login (the proxy expects other credentials): Failed reported, so CodeDeploy stops the deployment', async () => {
    const { result, output, proxy } = await hookThrough({ accessKeyId: 'AKIDOTHER', secretAccessKey: 'other-secret' });
    expect(result).toEqual({ status: 'Failed' });
    expect(proxy.rejections.length).toBeGreaterThanOrEqual(1);
    expect(output).toMatch(/"status":"Failed","user":"app_user"/);
    expect(codedeploy.calls[codedeploy.calls.length - 1].body).toEqual({ deploymentId: 'd-ABC123', lifecycleEventHookExecutionId: 'hook-1', status: 'Failed' });
  });
});
