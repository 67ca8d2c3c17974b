/**
 * The catalogue of bad input: every invalid configuration fails synth with a message that names the construct, the
 * prop, the bad value and the fix (`Path: invalid prop (value). Fix.`); advice is a warning that does the same; and
 * unresolved tokens are never validated as if they were concrete values.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnParameter, Duration, Size, Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import {
  ApiHandler, ColdStart, DatabaseAccess, Deployment, ExistingDatabase, FrontDoor, Migrations, PipeFilter, PipeSource,
  ServerlessSqlApi, ServerlessSqlApiProps, SqlEngine, SqlWorkerOptions, StreamStartingPosition,
} from '../src';
import { existingCluster, existingInstance, HANDLER_ENTRY, importedVpc, newStack } from './util';

/** A handler that needs no bundling, so that the catalogue runs quickly. */
const inlineHandler = (runtime = lambda.Runtime.NODEJS_24_X) =>
  ApiHandler.fromCode({ runtime, code: lambda.Code.fromInline('exports.handler = async () => ({})'), handler: 'index.handler' });

/** Builds a ServerlessSqlApi in `stack`; `then` may call its methods. */
type PropsIn = Partial<ServerlessSqlApiProps> | ((stack: Stack) => Partial<ServerlessSqlApiProps>);
const api = (props: PropsIn, then?: (api: ServerlessSqlApi, stack: Stack) => void) =>
  (stack: Stack) => {
    const built = new ServerlessSqlApi(stack, 'Api', { handler: inlineHandler(), ...(typeof props === 'function' ? props(stack) : props) });
    then?.(built, stack);
  };

const queueWithDlq = (stack: Stack) => new sqs.Queue(stack, 'Events', { deadLetterQueue: { queue: new sqs.Queue(stack, 'EventsDlq'), maxReceiveCount: 5 } });
const worker = (options: (stack: Stack) => Partial<SqlWorkerOptions>) => api({}, (built, stack) => {
  const given = options(stack);
  built.addWorker('Worker', { handler: inlineHandler(), ...given, source: given.source ?? PipeSource.sqs(queueWithDlq(stack)) });
});
const bigFilter = PipeFilter.pattern({ body: { id: Array.from({ length: 600 }, (_, i) => `id-${i}`) } });

const migrationsDir = (files: Record<string, string>) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'catalogue-migrations-'));
  for (const [name, sql] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), sql);
  return dir;
};
/** A second stack of the same app, in another account or Region. */
const otherStack = (stack: Stack, env: { account?: string; region?: string }) =>
  new Stack(stack.node.root as App, 'Other', { env: { account: stack.account, region: stack.region, ...env } });
const param = (stack: Stack, id: string) => Token.asNumber(new CfnParameter(stack, id, { type: 'Number' }));
const hourly = appscaling.Schedule.rate(Duration.hours(1));

interface BadInput {
  /** What is wrong. */
  readonly case: string;
  /** Builds the app, calling construct methods as needed; synth follows. */
  readonly build: (stack: Stack) => void;
  /** The prop the message names. */
  readonly prop: string;
  /** The bad value as the message shows it. */
  readonly value: string;
  /** The fix the message gives. */
  readonly fix: RegExp;
}

const CATALOGUE: BadInput[] = [
  // function
  { case: 'memory below 128 MiB', build: api({ memorySize: 64 }), prop: 'memorySize', value: '64', fix: /Use a value from 128 to 10240 MiB/ },
  { case: 'memory above 10 GiB', build: api({ memorySize: 10241 }), prop: 'memorySize', value: '10241', fix: /from 128 to 10240 MiB/ },
  { case: 'fractional memory', build: api({ memorySize: 512.5 }), prop: 'memorySize', value: '512.5', fix: /Use a whole number/ },
  { case: 'a zero timeout', build: api({ timeout: Duration.seconds(0) }), prop: 'timeout', value: '0 seconds', fix: /whole number of seconds from 1 to 900/ },
  { case: 'a timeout over 15 minutes', build: api({ timeout: Duration.minutes(16) }), prop: 'timeout', value: '16 minutes', fix: /from 1 to 900 \(15 minutes\)/ },
  { case: 'a negative reserved concurrency', build: api({ reservedConcurrentExecutions: -1 }), prop: 'reservedConcurrentExecutions', value: '-1', fix: /from 0 to 1000000/ },
  { case: 'ephemeral storage under 512 MiB', build: api({ ephemeralStorageSize: Size.mebibytes(256) }), prop: 'ephemeralStorageSize', value: '256', fix: /from 512 to 10240 MiB/ },
  { case: 'ephemeral storage over 10 GiB', build: api({ ephemeralStorageSize: Size.gibibytes(11) }), prop: 'ephemeralStorageSize', value: '11264', fix: /from 512 to 10240 MiB/ },
  { case: 'environment variables in the SQL_ namespace', build: api({ environment: { SQL_HOST: 'x', sql_user: 'y' } }), prop: 'environment', value: '"SQL_HOST, sql_user"', fix: /rename these variables/ },
  // names
  { case: 'the alias $LATEST', build: api({ aliasName: '$LATEST' }), prop: 'aliasName', value: '"$LATEST"', fix: /"\$LATEST" is never served/ },
  { case: 'an alias of digits only', build: api({ aliasName: '42' }), prop: 'aliasName', value: '"42"', fix: /not only digits/ },
  { case: 'an empty alias', build: api({ aliasName: '' }), prop: 'aliasName', value: '""', fix: /1–128 letters, digits/ },
  { case: 'the admin user as dbUser', build: api({ dbUser: 'sqladmin' }), prop: 'dbUser', value: '"sqladmin"', fix: /functions never connect as one. Use an application user such as "app_user"/ },
  { case: 'a reserved user as dbUser', build: api({ dbUser: 'rdsproxyadmin' }), prop: 'dbUser', value: '"rdsproxyadmin"', fix: /admin or reserved account/ },
  { case: 'a dbUser with a dash', build: api({ dbUser: 'app-user' }), prop: 'dbUser', value: '"app-user"', fix: /letters, digits or underscores, starting with a letter/ },
  { case: 'a database name starting with a digit', build: api({ databaseName: '1orders' }), prop: 'databaseName', value: '"1orders"', fix: /starting with a letter \(for example "app"\)/ },
  { case: 'a database name of 64 characters', build: api({ databaseName: 'a'.repeat(64) }), prop: 'databaseName', value: `"${'a'.repeat(64)}"`, fix: /1–63 letters/ },
  { case: 'a PostgreSQL role name under pg_', build: api({ dbUser: 'pg_app' }), prop: 'dbUser', value: '"pg_app"', fix: /PostgreSQL reserves role names starting with "pg_"/ },
  { case: 'a PostgreSQL role name under rds_', build: api({ dbUser: 'rds_app' }), prop: 'dbUser', value: '"rds_app"', fix: /keeps its own roles under the "rds_" prefix/ },
  { case: 'a MySQL user name over 32 characters', build: api({ engine: SqlEngine.mysql(), dbUser: 'u'.repeat(33) }), prop: 'dbUser', value: `"${'u'.repeat(33)}"`, fix: /MySQL user names hold at most 32 characters \(this one has 33\)/ },
  { case: 'a worker user over 32 characters on Aurora MySQL', build: api({ engine: SqlEngine.auroraMysql() }, (built, stack) => built.addWorker('W', { handler: inlineHandler(), source: PipeSource.sqs(queueWithDlq(stack)), dbUser: 'w'.repeat(40) })), prop: 'W.dbUser', value: `"${'w'.repeat(40)}"`, fix: /at most 32 characters/ },
  { case: 'a PostgreSQL reserved word as database name', build: api({ databaseName: 'user' }), prop: 'databaseName', value: '"user"', fix: /PostgreSQL reserves that word, and RDS refuses a reserved word as the database name/ },
  { case: 'a MySQL reserved word as database name', build: api({ engine: SqlEngine.mysql(), databaseName: 'order' }), prop: 'databaseName', value: '"order"', fix: /MySQL reserves that word/ },
  { case: 'a grant for a user the bootstrap never creates', build: api({}, (built, stack) => built.grantConnect(new iam.Role(stack, 'R', { assumedBy: new iam.AccountRootPrincipal() }), 'ghost')), prop: 'dbUser', value: '"ghost"', fix: /call addUser\('ghost', \{ access \}\) before granting it/ },
  { case: 'zero reserved concurrency', build: api({ reservedConcurrentExecutions: 0 }), prop: 'reservedConcurrentExecutions', value: '0', fix: /throttles every invocation/ },
  { case: 'a reserved database name', build: api({ databaseName: 'template1' }), prop: 'databaseName', value: '"template1"', fix: /reserved by the engine or RDS; choose another/ },
  { case: 'addUser with the admin user', build: api({}, built => built.addUser('sqladmin')), prop: 'user', value: '"sqladmin"', fix: /admin or reserved account/ },
  { case: 'addUser with a space in the name', build: api({}, built => built.addUser('bad name')), prop: 'user', value: '"bad name"', fix: /letters, digits or underscores/ },
  { case: 'a user added twice with different access', build: api({}, built => built.addUser('app_user', { access: DatabaseAccess.READ_ONLY })), prop: 'user', value: '"app_user"', fix: /already added with read-write access; add each user once/ },
  { case: 'grantConnect as the admin user', build: api({}, (built, stack) => built.grantConnect(new iam.Role(stack, 'R', { assumedBy: new iam.AccountRootPrincipal() }), 'postgres')), prop: 'dbUser', value: '"postgres"', fix: /admin or reserved account/ },
  // handler and runtimes
  { case: 'a Node.js entry that does not exist', build: api({ handler: ApiHandler.nodejs({ entry: 'does/not/exist.ts' }) }), prop: 'handler.entry', value: '"does/not/exist.ts"', fix: /No such file .*give the path of the handler's .ts or .js file/ },
  { case: 'ApiHandler.nodejs with Python', build: api({ handler: ApiHandler.nodejs({ entry: HANDLER_ENTRY, runtime: lambda.Runtime.PYTHON_3_13 }) }), prop: 'handler.runtime', value: '"python3.13"', fix: /use ApiHandler.fromCode\(\) for other runtimes/ },
  { case: 'a retired Node.js runtime', build: api({ handler: ApiHandler.nodejs({ entry: HANDLER_ENTRY, runtime: lambda.Runtime.NODEJS_18_X }) }), prop: 'handler.runtime', value: '"nodejs18.x"', fix: /use lambda.Runtime.NODEJS_24_X or newer/ },
  { case: 'a blank handler name', build: api({ handler: ApiHandler.fromCode({ runtime: lambda.Runtime.PYTHON_3_13, code: lambda.Code.fromInline('x'), handler: ' ' }) }), prop: 'handler.handler', value: '" "', fix: /in the runtime's notation, for example "app.handler"/ },
  // cold starts
  { case: 'SnapStart on Node.js', build: api({ coldStart: ColdStart.snapStart() }), prop: 'coldStart', value: '"ColdStart.snapStart() with nodejs24.x"', fix: /SnapStart supports Java 11\+, Python 3.12\+ and .NET 8\+ zip functions and container images, not nodejs24.x from a zip.*use ColdStart.provisioned\(\{ min \}\)/ },
  { case: 'SnapStart on Python 3.11', build: api({ handler: inlineHandler(lambda.Runtime.PYTHON_3_11), coldStart: ColdStart.snapStart() }), prop: 'coldStart', value: '"ColdStart.snapStart() with python3.11"', fix: /ApiHandler.fromCode\(\) with a supported runtime/ },
  { case: 'SnapStart with 1 GiB of ephemeral storage', build: api({ handler: inlineHandler(lambda.Runtime.PYTHON_3_13), coldStart: ColdStart.snapStart(), ephemeralStorageSize: Size.mebibytes(1024) }), prop: 'ephemeralStorageSize', value: '"1024 MiB with ColdStart.snapStart()"', fix: /at most 512 MiB of ephemeral storage/ },
  { case: 'provisioned concurrency of 0', build: api({ coldStart: ColdStart.provisioned({ min: 0 }) }), prop: 'coldStart.min', value: '0', fix: /use ColdStart.onDemand\(\) for none/ },
  { case: 'fractional provisioned concurrency', build: api({ coldStart: ColdStart.provisioned({ min: 1.5 }) }), prop: 'coldStart.min', value: '1.5', fix: /Use a whole number/ },
  { case: 'a provisioned maximum under the minimum', build: api({ coldStart: ColdStart.provisioned({ min: 5, max: 4 }) }), prop: 'coldStart.max', value: '4', fix: /Use a maximum of at least min \(5\)/ },
  { case: 'a utilization target of 0.95', build: api({ coldStart: ColdStart.provisioned({ min: 1, max: 5, utilizationTarget: 0.95 }) }), prop: 'coldStart.utilizationTarget', value: '0.95', fix: /from 0.1 to 0.9/ },
  { case: 'provisioned concurrency above the reserved', build: api({ reservedConcurrentExecutions: 5, coldStart: ColdStart.provisioned({ min: 2, max: 10 }) }), prop: 'coldStart', value: '"provisioned up to 10 with reservedConcurrentExecutions 5"', fix: /raise reservedConcurrentExecutions or lower min\/max/ },
  { case: 'a schedule that changes nothing', build: api({ coldStart: ColdStart.provisioned({ min: 1, schedules: [{ name: 'Empty', schedule: hourly }] }) }), prop: 'coldStart.schedules[Empty]', value: '"no min and no max"', fix: /must change min, max or both/ },
  { case: 'a schedule with max under min', build: api({ coldStart: ColdStart.provisioned({ min: 1, schedules: [{ name: 'Peak', schedule: hourly, min: 5, max: 2 }] }) }), prop: 'coldStart.schedules[Peak].max', value: '2', fix: /Use a maximum of at least 5/ },
  // deployments
  { case: 'a canary of 0%', build: api({ deployment: Deployment.canary({ percent: 0, interval: Duration.minutes(5) }) }), prop: 'deployment.percent', value: '0', fix: /from 1 to 99%/ },
  { case: 'a linear step of 100%', build: api({ deployment: Deployment.linear({ percent: 100, interval: Duration.minutes(5) }) }), prop: 'deployment.percent', value: '100', fix: /from 1 to 99%/ },
  { case: 'a canary interval of 30 seconds', build: api({ deployment: Deployment.canary({ percent: 10, interval: Duration.seconds(30) }) }), prop: 'deployment.interval', value: '30 seconds', fix: /whole number of minutes from 1 to 2880 \(48 hours\)/ },
  { case: 'a linear interval of 3 days', build: api({ deployment: Deployment.linear({ percent: 10, interval: Duration.days(3) }) }), prop: 'deployment.interval', value: '3 days', fix: /from 1 to 2880/ },
  // database and proxy
  { case: 'engine and existingDatabase together', build: api(stack => ({ engine: SqlEngine.postgres(), existingDatabase: existingInstance(stack, {}) })), prop: 'engine', value: '"set together with existingDatabase"', fix: /Give either `engine` .* or `existingDatabase` .*, not both/ },
  { case: 'a borrow timeout over 300 s', build: api({ proxy: { borrowTimeout: Duration.seconds(301) } }), prop: 'proxy.borrowTimeout', value: '5 minutes 1 second', fix: /from 1 to 300 \(5 minutes\)/ },
  { case: 'a borrow timeout of 0 (no limit)', build: api({ proxy: { borrowTimeout: Duration.seconds(0) } }), prop: 'proxy.borrowTimeout', value: '0 seconds', fix: /from 1 to 300.*past any function's timeout/ },
  { case: 'a borrow timeout in milliseconds', build: api({ proxy: { borrowTimeout: Duration.millis(1500) } }), prop: 'proxy.borrowTimeout', value: '1 second 500 millis', fix: /whole number of seconds/ },
  { case: 'an idle client timeout over 8 hours', build: api({ proxy: { idleClientTimeout: Duration.hours(9) } }), prop: 'proxy.idleClientTimeout', value: '9 hours', fix: /from 1 to 28800 \(8 hours\)/ },
  { case: 'a proxy pool of 0%', build: api({ proxy: { maxConnectionsPercent: 0 } }), prop: 'proxy.maxConnectionsPercent', value: '0', fix: /from 1 to 100%/ },
  { case: 'more idle connections than connections', build: api({ proxy: { maxConnectionsPercent: 50, maxIdleConnectionsPercent: 60 } }), prop: 'proxy.maxIdleConnectionsPercent', value: '60', fix: /from 0 to 50% \(it may not exceed maxConnectionsPercent\)/ },
  { case: 'admin secret rotation of 36 hours', build: api({ adminSecretRotation: Duration.hours(36) }), prop: 'adminSecretRotation', value: '1 day 12 hours', fix: /whole number of days from 1 to 1000, or Duration.days\(0\) for no rotation/ },
  { case: 'storage under 20 GiB', build: api({ engine: SqlEngine.postgres({ allocatedStorage: 10 }) }), prop: 'engine.allocatedStorage', value: '10', fix: /from 20 to 65536 GiB/ },
  { case: 'a storage limit under the storage', build: api({ engine: SqlEngine.mysql({ allocatedStorage: 200, maxAllocatedStorage: 100 }) }), prop: 'engine.maxAllocatedStorage', value: '100', fix: /from 200 to 65536 GiB/ },
  { case: 'a database port below 1150', build: api({ engine: SqlEngine.postgres({ port: 80 }) }), prop: 'engine.port', value: '80', fix: /from 1150 to 65535/ },
  { case: 'an Enhanced Monitoring interval of 7 seconds', build: api({ engine: SqlEngine.mysql({ monitoringInterval: Duration.seconds(7) }) }), prop: 'engine.monitoringInterval', value: '7 seconds', fix: /Use 1, 5, 10, 15, 30 or 60 seconds/ },
  { case: 'Aurora auto-pause', build: api({ engine: SqlEngine.auroraPostgres({ minCapacity: 0 }) }), prop: 'engine.minCapacity', value: '0', fix: /Auto-pause .* never happens behind RDS Proxy.*use 0.5 or more/ },
  { case: 'Aurora capacity in quarter steps', build: api({ engine: SqlEngine.auroraMysql({ minCapacity: 1.25 }) }), prop: 'engine.minCapacity', value: '1.25', fix: /multiple of 0.5 ACU/ },
  { case: 'Aurora capacity over 256 ACU', build: api({ engine: SqlEngine.auroraMysql({ maxCapacity: 300 }) }), prop: 'engine.maxCapacity', value: '300', fix: /from 1 to 256 ACU/ },
  { case: 'an Aurora maximum under the minimum', build: api({ engine: SqlEngine.auroraPostgres({ minCapacity: 8, maxCapacity: 4 }) }), prop: 'engine.maxCapacity', value: '4', fix: /from 8 to 256 ACU/ },
  { case: '16 Aurora readers', build: api({ engine: SqlEngine.auroraMysql({ readers: 16 }) }), prop: 'engine.readers', value: '16', fix: /from 0 to 15/ },
  // imported resources
  { case: 'an existing instance without its engine', build: api(stack => ({ existingDatabase: existingInstance(stack, { engine: undefined }) })), prop: 'existingDatabase.instance.engine', value: 'undefined', fix: /Import the database with its `engine`/ },
  { case: 'an existing instance without its resource id', build: api(stack => ({ existingDatabase: existingInstance(stack, { instanceResourceId: undefined }) })), prop: 'existingDatabase.instance.instanceResourceId', value: 'undefined', fix: /DbiResourceId, "db-…"\): rds-db:connect grants name it/ },
  { case: 'an existing instance without security groups', build: api(stack => ({ existingDatabase: existingInstance(stack, { securityGroups: [] }) })), prop: 'existingDatabase.instance.securityGroups', value: '"[]"', fix: /the proxy needs an ingress rule on them/ },
  {
    case: 'an existing cluster without its endpoint',
    build: api(stack => ({ existingDatabase: existingCluster(stack, { clusterEndpointAddress: undefined }) })),
    prop: 'existingDatabase.cluster.clusterEndpointAddress',
    value: 'undefined',
    fix: /Import the cluster with `clusterEndpointAddress`/,
  },
  { case: 'subnets in a single AZ', build: api(stack => ({ vpc: importedVpc(stack, { availabilityZones: ['eu-west-1a'], isolatedSubnetIds: ['subnet-a'], isolatedSubnetRouteTableIds: ['rtb-a'] }) })), prop: 'vpcSubnets', value: '"1 subnet(s) in 1 AZ(s) [eu-west-1a]"', fix: /select \(or add\) subnets in a second AZ/ },
  { case: 'a VPC without isolated subnets', build: api(stack => ({ vpc: importedVpc(stack, { isolatedSubnetIds: undefined, isolatedSubnetRouteTableIds: undefined, publicSubnetIds: ['subnet-a', 'subnet-b'] }) })), prop: 'vpcSubnets', value: '"{\\"subnetType\\":\\"Isolated\\"}"', fix: /Pass `vpcSubnets` naming subnets the VPC has/ },
  { case: 'an imported VPC without route tables', build: api(stack => ({ vpc: importedVpc(stack, { isolatedSubnetRouteTableIds: undefined }) })), prop: 'vpc', value: '"imported without route table ids"', fix: /set bootstrapEndpoints: false/ },
  // front doors and asynchronous invocations
  { case: 'an HTTP API rate limit of 0', build: api({ frontDoor: FrontDoor.httpApi({ throttlingRateLimit: 0 }) }), prop: 'frontDoor.throttlingRateLimit', value: '0', fix: /from 1 to 100000 requests\/s/ },
  { case: 'an HTTP API burst of 60,000', build: api({ frontDoor: FrontDoor.httpApi({ throttlingBurstLimit: 60000 }) }), prop: 'frontDoor.throttlingBurstLimit', value: '60000', fix: /from 1 to 50000 requests/ },
  { case: '3 async retries', build: api({ destinations: { retryAttempts: 3 } }), prop: 'destinations.retryAttempts', value: '3', fix: /from 0 to 2/ },
  { case: 'an event age of 30 seconds', build: api({ destinations: { maxEventAge: Duration.seconds(30) } }), prop: 'destinations.maxEventAge', value: '30 seconds', fix: /from 60 to 21600 \(6 hours\)/ },
  { case: 'a FIFO queue as destination', build: api(stack => ({ destinations: { onFailure: new destinations.SqsDestination(new sqs.Queue(stack, 'Fifo', { fifo: true })) } })), prop: 'destinations.onFailure', value: '"a FIFO queue or topic"', fix: /use a standard queue or topic/ },
  { case: 'a FIFO topic as destination', build: api(stack => ({ destinations: { onSuccess: new destinations.SnsDestination(new sns.Topic(stack, 'Fifo', { fifo: true })) } })), prop: 'destinations.onSuccess', value: '"a FIFO queue or topic"', fix: /use a standard queue or topic/ },
  // workers
  { case: 'an SQS source without a dead-letter queue', build: worker(stack => ({ source: PipeSource.sqs(new sqs.Queue(stack, 'Plain')) })), prop: 'source', value: '"queue Stack/Plain without a dead-letter queue"', fix: /`deadLetterQueue: \{ queue, maxReceiveCount \}`/ },
  { case: 'an SQS batch over 10 without a window', build: worker(stack => ({ source: PipeSource.sqs(queueWithDlq(stack), { batchSize: 20 }) })), prop: 'source.batchSize', value: '20', fix: /needs maxBatchingWindow of at least 1 second; set one or use 10 or fewer/ },
  { case: 'an SQS batch of 0', build: worker(stack => ({ source: PipeSource.sqs(queueWithDlq(stack), { batchSize: 0 }) })), prop: 'source.batchSize', value: '0', fix: /from 1 to 10000/ },
  { case: 'a batching window over 5 minutes', build: worker(stack => ({ source: PipeSource.sqs(queueWithDlq(stack), { maxBatchingWindow: Duration.minutes(6) }) })), prop: 'source.maxBatchingWindow', value: '6 minutes', fix: /from 0 to 300/ },
  { case: 'a parallelization factor of 11', build: worker(stack => ({ source: PipeSource.kinesis(new kinesis.Stream(stack, 'S'), { startingPosition: StreamStartingPosition.LATEST, parallelizationFactor: 11 }) })), prop: 'source.parallelizationFactor', value: '11', fix: /from 1 to 10/ },
  { case: 'negative stream retries', build: worker(stack => ({ source: PipeSource.kinesis(new kinesis.Stream(stack, 'S'), { startingPosition: StreamStartingPosition.LATEST, maxRetryAttempts: -1 }) })), prop: 'source.maxRetryAttempts', value: '-1', fix: /from 0 to 10000/ },
  { case: 'a table without a stream', build: worker(stack => ({ source: PipeSource.dynamoDbStream(new dynamodb.Table(stack, 'T', { partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING } }), { startingPosition: StreamStartingPosition.LATEST }) })), prop: 'source', value: '"a table without a stream"', fix: /`stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES`/ },
  { case: 'six filters', build: worker(() => ({ filters: Array.from({ length: 6 }, (_, i) => PipeFilter.pattern({ body: { n: [i] } })) })), prop: 'filters', value: '"6 filters"', fix: /at most 5 filters; combine patterns/ },
  { case: 'a filter over 4096 characters', build: worker(() => ({ filters: [bigFilter] })), prop: 'filters[0]', value: `"${bigFilter.rendered.length} characters"`, fix: /at most 4096 characters rendered; simplify it/ },
  {
    case: 'an unqualified enrichment function',
    build: worker(stack => ({ enrichment: new lambda.Function(stack, 'Enrich', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('x') }) })),
    prop: 'enrichment',
    value: '"Stack/Enrich"',
    fix: /Give the enrichment function's alias or version: an unqualified function is invoked as \$LATEST/,
  },
  // migrations
  { case: 'a missing migrations directory', build: api({ migrations: Migrations.fromDirectory('no/such/migrations') }), prop: 'migrations', value: '"no/such/migrations"', fix: /No such directory .*give the folder of your .sql migrations/ },
  { case: 'a README among the migrations', build: api(() => ({ migrations: Migrations.fromDirectory(migrationsDir({ '001_a.sql': 'x', 'README.md': 'x' })) })), prop: 'migrations', value: 'README.md"', fix: /holds only NNN_description.sql files .*; move other files out/ },
  { case: 'two migrations with one number', build: api(() => ({ migrations: Migrations.fromDirectory(migrationsDir({ '001_a.sql': 'x', '1_b.sql': 'y' })) })), prop: 'migrations', value: '"001_a.sql and 1_b.sql"', fix: /Both are number 1; give each migration its own number/ },
  // tokens where a number is required
  { case: 'a VPC of a stack in another Region', build: api(stack => ({ vpc: new ec2.Vpc(otherStack(stack, { region: 'us-east-1' }), 'Vpc') })), prop: 'vpc', value: '"Other/Vpc in us-east-1"', fix: /This stack deploys to eu-west-1, .* must be in the same Region/ },
  { case: 'an imported VPC with zones of another Region', build: api(stack => ({ vpc: importedVpc(stack, { availabilityZones: ['us-east-1a', 'us-east-1b'] }) })), prop: 'vpc.availabilityZones', value: '"us-east-1a, us-east-1b"', fix: /not in eu-west-1, where this stack deploys/ },
  { case: 'an existing instance of another account', build: api(stack => ({ existingDatabase: existingInstance(otherStack(stack, { account: '222222222222' })) })), prop: 'existingDatabase.instance', value: '"Other/Db in account 222222222222"', fix: /deploy this API in a stack of account 222222222222/ },
  { case: 'an existing cluster of another Region', build: api(stack => ({ existingDatabase: existingCluster(otherStack(stack, { region: 'us-east-1' })) })), prop: 'existingDatabase.cluster', value: '"Other/Db in us-east-1"', fix: /deploy this API in a stack of us-east-1/ },
  { case: 'an existing instance whose endpoint names another Region', build: api(stack => ({ existingDatabase: existingInstance(stack, { instanceEndpointAddress: 'db.c9akciq32.us-east-1.rds.amazonaws.com' }) })), prop: 'existingDatabase.instance.endpoint', value: '"db.c9akciq32.us-east-1.rds.amazonaws.com"', fix: /The endpoint is in us-east-1 but this stack deploys to eu-west-1/ },
  {
    case: 'an admin secret of another Region',
    build: api(stack => ({
      existingDatabase: ExistingDatabase.instance({
        instance: rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, 'Db', {
          instanceIdentifier: 'db',
          instanceEndpointAddress: 'db.example',
          port: 5432,
          securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'DbSg', 'sg-db')],
          engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16_6 }),
          instanceResourceId: 'db-X',
        }),
        adminSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Secret', 'arn:aws:secretsmanager:us-east-1:111111111111:secret:admin-AbCdEf'),
      }),
    })),
    prop: 'existingDatabase.adminSecret',
    value: '"Stack/Secret in us-east-1"',
    fix: /must be in the same Region/,
  },
  // routes
  { case: 'a route behind a function URL', build: api({ frontDoor: FrontDoor.functionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM }) }, built => built.addRoute('POST /todos', inlineHandler())), prop: 'frontDoor', value: '"a function URL"', fix: /Only an HTTP API routes requests by method and path; a function URL sends every request to the API's own handler, so 'POST \/todos' cannot have a function of its own\. Use FrontDoor\.httpApi\(\)/ },
  { case: 'a route without a front door', build: api({ frontDoor: FrontDoor.none() }, built => built.addRoute('GET /todos', inlineHandler())), prop: 'frontDoor', value: '"no front door (FrontDoor.none())"', fix: /Use FrontDoor\.httpApi\(\)/ },
  { case: 'a route key in lower case', build: api({}, built => built.addRoute('post /todos', inlineHandler())), prop: 'routeKey', value: '"post /todos"', fix: /Methods are written in capitals: "POST"/ },
  { case: 'a route key with an unknown method', build: api({}, built => built.addRoute('FETCH /todos', inlineHandler())), prop: 'routeKey', value: '"FETCH /todos"', fix: /The method must be one of ANY, DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT/ },
  { case: 'a route key without a method', build: api({}, built => built.addRoute('/todos', inlineHandler())), prop: 'routeKey', value: '"/todos"', fix: /A route key is an HTTP method, one space and a path\. Give a method and a path, for example "GET \/todos"/ },
  { case: 'a route path without its leading slash', build: api({}, built => built.addRoute('GET todos', inlineHandler())), prop: 'routeKey', value: '"GET todos"', fix: /must start with "\/"/ },
  { case: 'a route path with a trailing slash', build: api({}, built => built.addRoute('GET /todos/', inlineHandler())), prop: 'routeKey', value: '"GET /todos/"', fix: /not end with "\/"/ },
  { case: 'a route path with an empty segment', build: api({}, built => built.addRoute('GET /todos//x', inlineHandler())), prop: 'routeKey', value: '"GET /todos//x"', fix: /empty segment/ },
  { case: 'a greedy path variable before the end', build: api({}, built => built.addRoute('ANY /{proxy+}/x', inlineHandler())), prop: 'routeKey', value: '"ANY /{proxy+}/x"', fix: /The greedy path variable \{proxy\+\} must be the last segment/ },
  { case: 'a path variable twice', build: api({}, built => built.addRoute('GET /a/{id}/b/{id}', inlineHandler())), prop: 'routeKey', value: '"GET /a/{id}/b/{id}"', fix: /The path variable \{id\} appears twice/ },
  { case: 'a path variable inside a segment', build: api({}, built => built.addRoute('GET /todo{id}', inlineHandler())), prop: 'routeKey', value: '"GET /todo{id}"', fix: /a variable is a whole segment, \{name\} or \{name\+\}/ },
  { case: 'the $default route key', build: api({}, built => built.addRoute('$default', inlineHandler())), prop: 'routeKey', value: '"$default"', fix: /\$default is the route of the API's own handler/ },
  { case: 'a route key added twice', build: api({}, built => { built.addRoute('GET /todos', inlineHandler()); built.addRoute('GET /todos', inlineHandler()); }), prop: 'routeKey', value: '"GET /todos"', fix: /The route GET \/todos was added already/ },
  { case: 'two route keys with one construct id', build: api({}, built => { built.addRoute('GET /todos', inlineHandler()); built.addRoute('GET /Todos', inlineHandler()); }), prop: 'routeKey', value: '"GET /Todos"', fix: /would share the construct id 'RouteGetTodos' with the route GET \/todos/ },
  { case: 'a route user over 32 characters on MySQL', build: api({ engine: SqlEngine.mysql() }, built => built.addRoute('GET /x', inlineHandler(), { dbUser: 'r'.repeat(33) })), prop: 'GET /x.dbUser', value: `"${'r'.repeat(33)}"`, fix: /at most 32 characters/ },
  { case: 'a route with an invalid memory size', build: api({}, built => built.addRoute('GET /x', inlineHandler(), { memorySize: 64 })), prop: 'memorySize', value: '64', fix: /from 128 to 10240 MiB/ },
  { case: 'an existing database with max_connections 0', build: api(stack => ({ existingDatabase: existingInstance(stack, {}, { maxConnections: 0 }) })), prop: 'existingDatabase.maxConnections', value: '0', fix: /Use a value from 1 to 262143/ },
  { case: 'an existing database with a fractional max_connections', build: api(stack => ({ existingDatabase: existingCluster(stack, {}, { maxConnections: 10.5 }) })), prop: 'existingDatabase.maxConnections', value: '10.5', fix: /Use a whole number/ },
  { case: 'a key of another Region', build: api(stack => ({ encryptionKey: kms.Key.fromKeyArn(stack, 'Key', 'arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab') })), prop: 'encryptionKey', value: '"Stack/Key in us-east-1"', fix: /must be in the same Region/ },
  { case: 'an existing database whose port is a token', build: api(stack => ({ existingDatabase: existingInstance(stack, { port: param(stack, 'Port') }) })), prop: 'existingDatabase.instance.port', value: '"an unresolved token"', fix: /Import the database with its port as a number/ },
  { case: 'a number of Aurora readers that is a token', build: api(stack => ({ engine: SqlEngine.auroraPostgres({ readers: param(stack, 'Readers') }) })), prop: 'engine.readers', value: '"an unresolved token"', fix: /Give engine.readers as a number, not a token: it decides how many instances are created/ },
  { case: 'an Aurora capacity that is a token', build: api(stack => ({ engine: SqlEngine.auroraPostgres({ minCapacity: param(stack, 'Min') }) })), prop: 'engine.minCapacity', value: '"an unresolved token"', fix: /Give engine.minCapacity as a number, not a token: aws-cdk-lib checks the capacity range/ },
  { case: 'provisioned concurrency that is a token', build: api(stack => ({ coldStart: ColdStart.provisioned({ min: param(stack, 'Min') }) })), prop: 'coldStart.min', value: '"an unresolved token"', fix: /Give coldStart.min as a number, not a token/ },
  { case: 'async retries that are a token', build: api(stack => ({ destinations: { retryAttempts: param(stack, 'Retries') } })), prop: 'destinations.retryAttempts', value: '"an unresolved token"', fix: /Give destinations.retryAttempts as a number, not a token/ },
  { case: 'an event age that is a token', build: api(stack => ({ destinations: { maxEventAge: Duration.seconds(param(stack, 'Age')) } })), prop: 'destinations.maxEventAge', value: '"an unresolved token"', fix: /Give destinations.maxEventAge as a duration, not a token/ },
];

describe('bad input fails synth, naming the prop, the bad value and the fix', () => {
  test('the catalogue holds at least 40 distinct bad configurations', () => {
    expect(new Set(CATALOGUE.map(entry => entry.case)).size).toBe(CATALOGUE.length);
    expect(CATALOGUE.length).toBeGreaterThanOrEqual(40);
  });

  test.each(CATALOGUE.map(entry => [entry.case, entry] as const))('fails when given %s', (_case, entry) => {
    const stack = newStack();
    let error: Error | undefined;
    try {
      entry.build(stack);
      Template.fromStack(stack);
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toMatch(/^Stack\/Api[\w/]*: invalid /);
    expect(error?.message).toContain(`invalid ${entry.prop} (`);
    expect(error?.message).toContain(`${entry.value}). `);
    expect(error?.message).toMatch(entry.fix);
  });
});

interface Advice {
  readonly case: string;
  readonly build: (stack: Stack) => void;
  /** Where the warning is. */
  readonly path: string;
  /** The warning: what was given and what to do. */
  readonly warning: RegExp;
}

const ADVICE: Advice[] = [
  { case: 'a timeout longer than an HTTP API waits', build: api({ timeout: Duration.seconds(60) }), path: '/Stack/Api', warning: /timeout is 1 minute but an HTTP API answers 503 after 30 seconds; lower the timeout or use FrontDoor.functionUrl\(\)/ },
  { case: 'concurrency beyond the connection budget', build: api({ reservedConcurrentExecutions: 500 }), path: '/Stack/Api/Database', warning: /up to 500 concurrent executions .* at most 112 database connections.*size the database up, raise maxConnectionsPercent, or lower the concurrency/ },
  { case: 'destinations with a synchronous front door', build: api({ destinations: { retryAttempts: 0 } }), path: '/Stack/Api', warning: /destinations are set, but they apply to asynchronous invocations only/ },
  { case: 'a short gradual deployment with provisioned concurrency', build: api({ coldStart: ColdStart.provisioned({ min: 2 }), deployment: Deployment.linear({ percent: 10, interval: Duration.minutes(1) }) }), path: '/Stack/Api/Handler', warning: /deployment.interval is 1 minute with provisioned concurrency.*Use an interval of 5 minutes or more/ },
  { case: 'streaming on a runtime without it', build: api({ handler: inlineHandler(lambda.Runtime.PYTHON_3_13), frontDoor: FrontDoor.functionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM, streaming: true }) }), path: '/Stack/Api', warning: /frontDoor.streaming is set but python3.13 has no native response streaming/ },
  { case: 'an imported source queue', build: worker(stack => ({ source: PipeSource.sqs(sqs.Queue.fromQueueArn(stack, 'Q', 'arn:aws:sqs:eu-west-1:111111111111:events')) })), path: '/Stack/Api/Worker', warning: /source queue events is imported: make sure it has a redrive policy/ },
  { case: 'an imported key', build: api(stack => ({ encryptionKey: kms.Key.fromKeyArn(stack, 'K', 'arn:aws:kms:eu-west-1:111111111111:key/k') })), path: '/Stack/Api/Database', warning: /encryptionKey .* is imported, so its key policy cannot be extended here: it must allow logs.eu-west-1.amazonaws.com/ },
];

describe('advice is a warning that says what was given and what to do', () => {
  test.each(ADVICE.map(entry => [entry.case, entry] as const))('warns about %s', (_case, entry) => {
    const stack = newStack();
    entry.build(stack);
    Annotations.fromStack(stack).hasWarning(entry.path, Match.stringLikeRegexp(entry.warning.source));
  });
});

describe('unresolved tokens are never validated as if they were concrete', () => {
  test.each<[string, (stack: Stack) => Partial<ServerlessSqlApiProps>]>([
    ['function settings', stack => ({
      memorySize: param(stack, 'Memory'),
      timeout: Duration.seconds(param(stack, 'Timeout')),
      reservedConcurrentExecutions: param(stack, 'Reserved'),
      ephemeralStorageSize: Size.mebibytes(param(stack, 'Tmp')),
      aliasName: new CfnParameter(stack, 'Alias').valueAsString,
    })],
    ['names', stack => ({ dbUser: new CfnParameter(stack, 'User').valueAsString, databaseName: new CfnParameter(stack, 'Db').valueAsString })],
    ['proxy settings', stack => ({
      proxy: {
        borrowTimeout: Duration.seconds(param(stack, 'Borrow')),
        idleClientTimeout: Duration.seconds(param(stack, 'Idle')),
        maxConnectionsPercent: param(stack, 'Pct'),
        maxIdleConnectionsPercent: param(stack, 'IdlePct'),
      },
    })],
    ['instance settings', stack => ({
      engine: SqlEngine.postgres({
        allocatedStorage: param(stack, 'Storage'),
        maxAllocatedStorage: param(stack, 'MaxStorage'),
        port: param(stack, 'DbPort'),
        monitoringInterval: Duration.seconds(param(stack, 'Monitoring')),
      }),
      // aws-cdk-lib converts a token duration only from milliseconds
      adminSecretRotation: Duration.millis(param(stack, 'Rotation')),
    })],
    ['cold start and deployment', stack => ({
      coldStart: ColdStart.provisioned({ min: 2, max: param(stack, 'PcMax'), utilizationTarget: param(stack, 'Target') }),
      deployment: Deployment.canary({ percent: param(stack, 'Percent'), interval: Duration.minutes(param(stack, 'Minutes')) }),
    })],
    ['front door', stack => ({
      frontDoor: FrontDoor.httpApi({ throttlingRateLimit: param(stack, 'Rate'), throttlingBurstLimit: param(stack, 'Burst') }),
    })],
  ])('%s', (_case, props) => {
    const stack = newStack();
    api(props)(stack);
    expect(() => Template.fromStack(stack)).not.toThrow();
  });

  test('worker source settings', () => {
    const stack = newStack();
    worker(s => ({
      source: PipeSource.sqs(queueWithDlq(s), { batchSize: param(s, 'Batch'), maxBatchingWindow: Duration.seconds(param(s, 'Window')) }),
    }))(stack);
    expect(() => Template.fromStack(stack)).not.toThrow();
  });
});

describe('resources of other stacks', () => {
  test('a VPC of another stack in the same account and Region is accepted', () => {
    const stack = newStack();
    api({ vpc: new ec2.Vpc(otherStack(stack, {}), 'Vpc', { subnetConfiguration: [{ name: 'db', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] }) })(stack);
    expect(() => Template.fromStack(stack)).not.toThrow();
  });

  test('an environment-agnostic stack checks nothing it cannot know', () => {
    const stack = new Stack(new App(), 'Agnostic');
    api({ vpc: importedVpc(stack, { availabilityZones: ['us-east-1a', 'us-east-1b'] }), existingDatabase: existingInstance(stack, { instanceEndpointAddress: 'db.c9akciq32.us-east-1.rds.amazonaws.com' }) })(stack);
    expect(() => Template.fromStack(stack)).not.toThrow();
  });
});
