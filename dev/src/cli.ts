#!/usr/bin/env node
/**
 * serverless-sql-api dev | invoke: the APIs of a CDK app, run on this machine.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { chooseApi, LocalApi, loadApis, UsageError } from './app';
import { openEmbedded } from './database';
import { startDevServer } from './server';

const USAGE = `Usage:
  serverless-sql-api dev [options]                     serve the app's API on http://127.0.0.1:3000
  serverless-sql-api invoke <worker> --event <file>    run one batch through a worker and print its result

Run it in the directory of the CDK app (its cdk.json). Options:
  --stack <id>            the stack of the API, when the app has several APIs
  --api <path>            the API's construct path (or its last part), when the app has several
  --port <n>              the HTTP port (default 3000; 0 picks a free one)
  --host <address>        the address to listen on (default 127.0.0.1)
  --database-url <url>    postgres://… or mysql://… as an admin user, instead of the embedded PostgreSQL
  --data-dir <dir>        keep the embedded database's files here (default: in memory, fresh on every start)
  --app <command>         the command that runs the CDK app (default: cdk.json's "app")
  --context key=value     context for the app, as cdk synth -c gives it (repeatable)
  --no-watch              do not rebuild on change
  --event <file>          invoke: a JSON file of records (or of message bodies, wrapped into records)
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'stack': { type: 'string' },
      'api': { type: 'string' },
      'port': { type: 'string' },
      'host': { type: 'string' },
      'database-url': { type: 'string' },
      'data-dir': { type: 'string' },
      'app': { type: 'string' },
      'context': { type: 'string', multiple: true },
      'no-watch': { type: 'boolean' },
      'event': { type: 'string' },
      'help': { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return command || values.help ? 0 : 1;
  }
  if (command !== 'dev' && command !== 'invoke') throw new UsageError(`Unknown command "${command}".\n\n${USAGE}`);
  const context: Record<string, string> = {};
  for (const pair of values.context ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--context takes key=value (got ${JSON.stringify(pair)})`);
    context[pair.slice(0, at)] = pair.slice(at + 1);
  }
  const port = values.port === undefined ? 3000 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number (got ${values.port})`);
  const databaseUrl = values['database-url'] ?? process.env.SERVERLESS_SQL_API_DATABASE_URL;

  // the embedded database starts while the app synthesizes: each takes about as long as the other
  const embedded = databaseUrl ? undefined : openEmbedded(values['data-dir']);
  embedded?.catch(() => undefined);
  let api: LocalApi;
  try {
    api = chooseApi(await loadApis({ directory: process.cwd(), app: values.app, context }), values.stack, values.api);
  } catch (error) {
    await (await embedded?.catch(() => undefined))?.stop();
    throw error;
  }

  if (command === 'invoke') {
    const [workerId] = rest;
    if (!workerId || !values.event) throw new UsageError(`invoke takes a worker and --event <file>.\n\n${USAGE}`);
    const input = JSON.parse(fs.readFileSync(path.resolve(values.event), 'utf8')) as unknown;
    const server = await startDevServer(api, { port: 0, databaseUrl, dataDir: values['data-dir'], embedded, watch: false, log: line => console.error(line) });
    try {
      const invocation = await server.invokeWorker(workerId, input);
      process.stdout.write(`${JSON.stringify(invocation.ok ? invocation.result ?? null : { error: invocation.error }, null, 2)}\n`);
      return invocation.ok ? 0 : 1;
    } finally {
      await server.stop();
    }
  }

  const server = await startDevServer(api, { port, host: values.host, databaseUrl, dataDir: values['data-dir'], embedded, watch: !values['no-watch'] });
  const names = server.functions.map(fn => fn.fn.role === 'worker' ? `  POST ${server.url}/__workers/${fn.fn.workerId}  (worker, ${fn.fn.source})`
    : fn.fn.role === 'route' ? `  ${fn.fn.routeKey}  (route)` : `  ${api.frontDoor === 'none' ? '(no front door)' : `${server.url}/`}  ($default)`);
  console.log(`${api.path} (stack ${api.stack}) on ${server.url}\n${names.join('\n')}`);
  await new Promise<void>(resolve => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.stop();
  return 0;
}

main(process.argv.slice(2)).then(code => {
  process.exitCode = code;
}, error => {
  console.error(error instanceof UsageError || (error && (error as { name?: string }).name === 'ConfigurationError')
    ? `serverless-sql-api: ${(error as Error).message}` : error);
  process.exitCode = 1;
});
