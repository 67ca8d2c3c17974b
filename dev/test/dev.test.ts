/**
 * The dev command on the example app and on a test app, as a user runs it: the app synthesized from its own
 * directory, an embedded PostgreSQL (or a real server), requests over HTTP.
 */
import * as fs from 'fs';
import * as path from 'path';
import { connect } from 'serverless-sql-api-runtime';
import { configured, EXAMPLE, FIXTURE, ownDatabase, request, run, RunningDev, startDev } from './helpers';

const postgresUrl = configured('SQL_TEST_POSTGRES_URL');
const mysqlUrl = configured('SQL_TEST_MYSQL_URL');

/** The example's flow: create and read todos over HTTP, and feed the worker a batch. */
async function todoFlow(dev: RunningDev) {
  const created = await request(`${dev.url}/todos`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'buy milk' }) });
  expect(created.status).toBe(201);
  expect(created.json()).toMatchObject({ title: 'buy milk', done: false });
  const id = created.json().id;
  expect((await request(`${dev.url}/todos/${id}`, { method: 'PUT' })).status).toBe(204);
  expect((await request(`${dev.url}/todos/${id}`)).json()).toMatchObject({ title: 'buy milk', done: true });
  expect((await request(`${dev.url}/todos`, { method: 'POST', body: '{}' })).status).toBe(400);

  const fed = await request(`${dev.url}/__workers/Ingest`, { method: 'POST', body: JSON.stringify([{ title: 'from the queue' }, { title: 'and another' }]) });
  expect(fed.status).toBe(200);
  expect(fed.json()).toEqual({ result: { written: 2 } });
  const titles = (await request(`${dev.url}/todos`)).json().map((todo: { title: string }) => todo.title);
  expect(titles).toEqual(['buy milk', 'from the queue', 'and another']);

  // a worker batch that fails as a whole (a message without a title) writes nothing: one transaction
  const failed = await request(`${dev.url}/__workers/Ingest`, { method: 'POST', body: JSON.stringify([{ title: 'kept out' }, { note: 'no title' }]) });
  expect(failed.status).toBe(500);
  expect(failed.json().error.errorMessage).toMatch(/has no title/);
  expect((await request(`${dev.url}/todos`)).json()).toHaveLength(3);

  // one log line per request: method, path, status, duration, function, connections; the first one was a cold start
  await dev.waitFor(/POST \/todos 201 \d+ ms \[Api, cold start, 1 connection opened\]/);
  await dev.waitFor(/GET \/todos 200 \d+ ms \[Api, 0 connections opened\]/);
  await dev.waitFor(/POST \/__workers\/Ingest 200 \d+ ms \[Ingest, cold start, 1 connection opened\]/);
  await dev.waitFor(/Ingest: Error: message .* has no title/);
}

describe('the example app', () => {
  test('npm run dev, on the embedded PostgreSQL: todos created and read over HTTP, the worker fed a batch', async () => {
    const dev = await startDev(EXAMPLE, [], {}, true);
    try {
      await dev.waitFor(/database: embedded PostgreSQL \(PGlite, in memory\)/);
      await dev.waitFor(/migrations: applied 001_create_todos\.sql; users: todo_app \(read-write\), todo_reports \(read-only\)/);
      await dev.waitFor(/TodoApi\/TodoApi \(stack TodoApi\) on http/);
      await todoFlow(dev);
    } finally {
      await dev.stop();
    }
  });

  (postgresUrl ? test : test.skip)('PostgreSQL: the same, with the users created and granted as the bootstrap does', async () => {
    const database = await ownDatabase(postgresUrl!, `dev_example_${process.pid}`);
    const dev = await startDev(EXAMPLE, ['--database-url', database.url]);
    try {
      await dev.waitFor(/database: PostgreSQL at 127\.0\.0\.1:\d+, database "dev_example_\d+"/);
      await todoFlow(dev);
      // the API ran as its own user, and the read-only user may read but not write
      const admin = connect({ url: database.url });
      try {
        const { rows } = await admin.query<{ w: boolean; r: boolean; rw: boolean }>(
          `select has_table_privilege('todo_reports', 'todos', 'select') as r, has_table_privilege('todo_reports', 'todos', 'insert') as w,
             has_table_privilege('todo_app', 'todos', 'insert') as rw`);
        expect(rows[0]).toEqual({ r: true, w: false, rw: true });
      } finally {
        await admin.close();
      }
    } finally {
      await dev.stop();
      await database.drop();
    }
  });
});

describe('events and responses', () => {
  let dev: RunningDev;
  beforeAll(async () => {
    dev = await startDev(FIXTURE, ['--no-watch']);
  });
  afterAll(async () => dev?.stop());

  test('a request becomes a payload 2.0 event, with the function\'s environment and a Lambda context', async () => {
    const response = await request(`${dev.url}/echo?x=1&x=2&y=%C3%A9`, { headers: { cookie: 'c1=v1; c2=v2', 'x-custom': 'one' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-echo')).toBe('yes');
    expect(response.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; HttpOnly']);
    const { event, remainingMs, functionName, memory, env } = response.json();
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/echo',
      rawQueryString: 'x=1&x=2&y=%C3%A9',
      cookies: ['c1=v1', 'c2=v2'],
      queryStringParameters: { x: '1,2', y: 'é' },
      isBase64Encoded: false,
      requestContext: { http: { method: 'GET', path: '/echo', sourceIp: '127.0.0.1' }, stage: '$default', routeKey: '$default', domainName: '127.0.0.1' },
    });
    expect(event.headers['x-custom']).toBe('one');
    expect(event.headers.cookie).toBeUndefined();
    expect(event.requestContext.time).toMatch(/^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000$/);
    // the function's 2 s timeout bounds the context's remaining time
    expect(remainingMs).toBeGreaterThan(1500);
    expect(remainingMs).toBeLessThanOrEqual(2000);
    expect(functionName).toBe('DevFixture-Api');
    expect(memory).toBe('256');
    // the environment of the infra code, cdk.json's context reaching the app, the local SQL_* contract
    expect(env).toEqual({ GREETING: 'hello', FROM_CDK_JSON: 'yes', QUEUE_URL: null, SQL_USER: 'fixture_app', SQL_AUTH: 'password' });
    await dev.waitFor(/warning: DevFixture\/Api: QUEUE_URL has a value only known at deployment/);
  });

  test('request and response bodies: text as it is, binary as base64 both ways, a bare result as JSON', async () => {
    const text = await request(`${dev.url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(text.json().event).toMatchObject({ body: '{"a":1}', isBase64Encoded: false });
    const binary = await request(`${dev.url}/echo`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([0, 255, 1]) });
    expect(binary.json().event).toMatchObject({ body: Buffer.from([0, 255, 1]).toString('base64'), isBase64Encoded: true });
    const png = await fetch(`${dev.url}/binary`);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect([...new Uint8Array(await png.arrayBuffer())]).toEqual([0, 1, 2, 255]);
    const plain = await request(`${dev.url}/plain`);
    expect(plain.headers.get('content-type')).toBe('application/json');
    expect(plain.json()).toEqual({ hello: 'world' });
    const missing = await request(`${dev.url}/nothing`);
    expect(missing.status).toBe(404);
    expect(missing.text).toBe('no such path');
  });

  test('routes: the most specific match, with path parameters; everything else goes to $default', async () => {
    expect((await request(`${dev.url}/files/a/b%20c`, { method: 'DELETE' })).json())
      .toEqual({ routeKey: 'ANY /files/{path+}', pathParameters: { path: 'a/b c' }, method: 'DELETE' });
    // GET /items/{id} takes GET only; a POST falls through to $default, whose handler answers 404
    expect((await request(`${dev.url}/items/1`, { method: 'POST' })).text).toBe('no such path');
    expect((await request(`${dev.url}/items/1`)).status).toBe(404);
    await dev.waitFor(/GET \/items\/1 404 \d+ ms \[GET \/items\/\{id\}, cold start, 1 connection opened\]/);
  });

  test('a thrown error, a crash and a timeout answer 500 as API Gateway does, and the next request still works', async () => {
    const thrown = await request(`${dev.url}/throw`);
    expect(thrown.status).toBe(500);
    expect(thrown.json()).toEqual({ message: 'Internal Server Error' });
    await dev.waitFor(/Api: Error: thrown on purpose\n\s+at .*echo\.ts:\d+/);

    expect((await request(`${dev.url}/exit`)).status).toBe(500);
    await dev.waitFor(/Runtime\.ExitError|the sandbox exited \(code 3\)/);

    const started = Date.now();
    const slow = await request(`${dev.url}/slow`);
    expect(slow.status).toBe(500);
    expect(Date.now() - started).toBeLessThan(5000);
    await dev.waitFor(/Task timed out after 2\.00 seconds/);
    // the timed-out sandbox is gone: the next request starts a new one
    expect((await request(`${dev.url}/plain`)).status).toBe(200);
    await dev.waitFor(/GET \/plain 200 \d+ ms \[Api, cold start/);
  });

  test('concurrent requests get sandboxes of their own, as Lambda scales out', async () => {
    // each request waits 300 ms in the handler, so the three overlap
    const responses = await Promise.all([1, 2, 3].map(() => request(`${dev.url}/wait`)));
    expect(responses.map(r => r.status)).toEqual([200, 200, 200]);
    const pids = new Set(responses.map(r => r.json().pid));
    expect(pids.size).toBe(3);
  });

  test('invoke: a worker fed a batch from a file, its records wrapped in the source\'s shape (Kinesis here)', async () => {
    const events = path.join(fs.mkdtempSync(path.join(require('os').tmpdir(), 'dev-invoke-')), 'batch.json');
    fs.writeFileSync(events, JSON.stringify([{ name: 'one' }, { name: 'two' }]));
    const invoked = run(FIXTURE, ['invoke', 'Readings', '--event', events]);
    expect(await invoked.exit).toBe(0);
    expect(JSON.parse(invoked.output().slice(invoked.output().lastIndexOf('{\n')))).toEqual({ written: 2, sources: ['aws:kinesis'] });

    const unknown = run(FIXTURE, ['invoke', 'Nope', '--event', events]);
    expect(await unknown.exit).toBe(1);
    expect(unknown.output()).toMatch(/No worker "Nope"; the API has Readings/);
  });
});

describe('other engines and front doors', () => {
  (mysqlUrl ? test : test.skip)('MySQL (MariaDB): migrations, users with their access, routes as their own user, a worker', async () => {
    const database = await ownDatabase(mysqlUrl!, `dev_fixture_${process.pid}`);
    const dev = await startDev(FIXTURE, ['--no-watch', '--database-url', database.url, '--context', 'engine=mysql']);
    try {
      await dev.waitFor(/migrations: applied 001_items\.sql; users: fixture_app \(read-write\), fixture_reader \(read-only\)/);
      const fed = await request(`${dev.url}/__workers/Readings`, { method: 'POST', body: JSON.stringify([{ name: 'first' }]) });
      expect(fed.json()).toEqual({ result: { written: 1, sources: ['aws:kinesis'] } });
      expect((await request(`${dev.url}/whoami`)).json()).toEqual({ user: 'fixture_app@%', items: 1 });
      expect((await request(`${dev.url}/items/1`)).json()).toEqual({ routeKey: 'GET /items/{id}', item: { id: 1, name: 'first' }, user: 'fixture_reader' });
      // the route's user is read-only: the server refuses its write
      expect((await request(`${dev.url}/items/1?write=1`)).status).toBe(500);
      await dev.waitFor(/INSERT command denied to user 'fixture_reader'/);
    } finally {
      await dev.stop();
      await database.drop();
    }
  });

  test('a MySQL app without --database-url is refused with the fix', async () => {
    const refused = run(FIXTURE, ['dev', '--port', '0', '--context', 'engine=mysql']);
    expect(await refused.exit).toBe(1);
    expect(refused.output()).toMatch(/uses MySQL, and the embedded database is PostgreSQL: pass --database-url mysql:\/\//);
  });

  test('a function URL that streams: the chunks arrive as the handler writes them', async () => {
    const dev = await startDev(FIXTURE, ['--no-watch', '--context', 'frontDoor=functionUrl']);
    try {
      const started = Date.now();
      const response = await fetch(`${dev.url}/anything`);
      expect(response.status).toBe(201);
      expect(response.headers.get('x-route')).toBe('$default');
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      const first = await reader.read();
      const firstAt = Date.now() - started;
      let rest = '';
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += decoder.decode(chunk.value);
      const lastAt = Date.now() - started;
      expect(decoder.decode(first.value)).toBe('first\n');
      expect(rest).toBe('second\n');
      // the handler waits 400 ms between its two writes; a buffered answer would deliver both at once
      expect(lastAt - firstAt).toBeGreaterThanOrEqual(300);
    } finally {
      await dev.stop();
    }
  });
});

describe('development loop', () => {
  test('a changed handler is rebuilt and served; a new migration is applied', async () => {
    // a copy at the same depth as the fixture, so that its paths to the library resolve the same way
    const work = path.join(__dirname, `.work-${process.pid}`, 'app');
    fs.rmSync(path.dirname(work), { recursive: true, force: true });
    fs.cpSync(FIXTURE, work, { recursive: true });
    const dev = await startDev(work);
    try {
      expect((await request(`${dev.url}/plain`)).json()).toEqual({ hello: 'world' });
      const echo = path.join(work, 'handlers', 'echo.ts');
      fs.writeFileSync(echo, fs.readFileSync(echo, 'utf8').replace("return { hello: 'world' }", "return { hello: 'again' }"));
      await dev.waitFor(/Api: rebuilt handlers\/echo\.ts/);
      expect((await request(`${dev.url}/plain`)).json()).toEqual({ hello: 'again' });

      fs.writeFileSync(path.join(work, 'migrations', 'postgres', '002_more.sql'), 'alter table items add column note text;');
      await dev.waitFor(/migrations: applied 002_more\.sql/);
    } finally {
      await dev.stop();
      fs.rmSync(path.dirname(work), { recursive: true, force: true });
    }
  });

  test('--data-dir keeps the embedded database between runs; the runner skips what was applied', async () => {
    const dataDir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'dev-data-'));
    try {
      const first = await startDev(EXAMPLE, ['--no-watch', '--data-dir', dataDir]);
      try {
        expect((await request(`${first.url}/todos`, { method: 'POST', body: JSON.stringify({ title: 'kept' }) })).status).toBe(201);
      } finally {
        await first.stop();
      }
      const second = await startDev(EXAMPLE, ['--no-watch', '--data-dir', dataDir]);
      try {
        await second.waitFor(/migrations: none to apply \(1 already applied\)/);
        expect((await request(`${second.url}/todos`)).json()).toEqual([expect.objectContaining({ title: 'kept' })]);
      } finally {
        await second.stop();
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('outside a CDK app, the command says what it needs', async () => {
    const outside = run(require('os').tmpdir(), ['dev']);
    expect(await outside.exit).toBe(1);
    expect(outside.output()).toMatch(/No CDK app in .*: run this in the directory of your cdk\.json/);
  });
});
