/**
 * A todo API: an HTTP API in front of a Node.js handler that reads and writes PostgreSQL through RDS Proxy with
 * IAM authentication, and a worker that writes todos arriving on a queue. `app.ts` synthesizes it.
 */
import * as path from 'path';
import { Duration, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ApiHandler, ColdStart, DatabaseAccess, Deployment, FrontDoor, Migrations, PipeFilter, PipeSource, ServerlessSqlApi, SqlEngine } from 'cdk-serverless-sql-api';

export class TodoApiStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    const api = new ServerlessSqlApi(this, 'TodoApi', {
      // bundled with the PostgreSQL driver only: the MySQL one stays out of the bundle, installed or not
      handler: ApiHandler.nodejs({ entry: path.join(__dirname, 'src', 'api.ts') }),
      // production settings: a standby in a second AZ, and OS metrics every minute
      engine: SqlEngine.postgres({ multiAz: true, monitoringInterval: Duration.minutes(1) }),
      databaseName: 'todos',
      // created at deploy time as an IAM-only user with read-write access to the tables (no password exists)
      dbUser: 'todo_app',
      // applied at deploy time, before the new version receives traffic
      migrations: Migrations.fromDirectory(path.join(__dirname, 'db', 'migrations')),
      timeout: Duration.seconds(10),
      // Node.js has no SnapStart: keep two sandboxes warm, scaling to ten on load
      coldStart: ColdStart.provisioned({ min: 2, max: 10 }),
      // 10% of traffic for 5 minutes first; errors or throttles of the new version roll it back, and a hook checks
      // the database path before any traffic moves
      deployment: Deployment.canary({ percent: 10, interval: Duration.minutes(5) }),
      // IAM-authorized (the default): callers sign their requests with SigV4; let one in with api.grantInvoke(role)
      frontDoor: FrontDoor.httpApi({ throttlingRateLimit: 200, throttlingBurstLimit: 100 }),
    });

    // a worker: todos sent to a queue are written to the database through an EventBridge Pipe to the worker's alias
    const failedTodos = new sqs.Queue(this, 'IncomingTodosDlq', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(failedTodos).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason: 'This queue is the dead-letter queue of IncomingTodos; it keeps the messages that failed 5 times.',
    });
    const incoming = new sqs.Queue(this, 'IncomingTodos', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: failedTodos, maxReceiveCount: 5 },
    });
    api.addWorker('Ingest', {
      handler: ApiHandler.nodejs({ entry: path.join(__dirname, 'src', 'ingest.ts') }),
      source: PipeSource.sqs(incoming, { batchSize: 10 }),
      filters: [PipeFilter.pattern({ body: { title: [{ exists: true }] } })],
      dbUser: 'todo_app',
    });

    // a read-only user for reporting; grant principals with api.grantConnect(principal, 'todo_reports')
    api.addUser('todo_reports', { access: DatabaseAccess.READ_ONLY });
  }
}
