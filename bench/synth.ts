/**
 * Synth cost: the time `app.synth()` takes per resource for a ServerlessSqlApi with N functions (the API's and
 * N - 1 routes), next to two hand-wired aws-cdk-lib stacks: one with the same features (handWiredSameFeatures: the
 * goal's baseline, with about as many resources), and one with the same parts only (VPC with flow logs, KMS key, RDS
 * instance, IAM-only RDS Proxy, per function a security group, role, encrypted log group, function, version, alias,
 * proxy grant, HTTP API route on the alias and three alarms, three database alarms and two widgets per function). All
 * are built in the same process, interleaved in rounds, with asset bundling off; the figures are medians over the
 * rounds.
 *
 * Run: npm run bench:synth (BENCH_ROUNDS=n for more rounds; BENCH_NO_DASHBOARD=1 builds the library's API without
 * its dashboard, to see that part of the cost).
 */
import * as path from 'path';
import { App, CustomResource, Duration, Stack } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as authorizers from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import * as integrations from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { ApiHandler, ServerlessSqlApi } from '../src';

process.env.CDK_CONTEXT_JSON = JSON.stringify({ 'aws:cdk:bundling-stacks': [] });
const ENV = { account: '111111111111', region: 'eu-west-1' };
const SIZES = [1, 5, 10, 20];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 11);
const inline = () => lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200 });');

function library(functions: number): App {
  const app = new App();
  const stack = new Stack(app, 'Library', { env: ENV });
  const handler = () => ApiHandler.fromCode({ runtime: lambda.Runtime.NODEJS_24_X, code: inline(), handler: 'index.handler' });
  const api = new ServerlessSqlApi(stack, 'Api', { handler: handler(), monitoring: process.env.BENCH_NO_DASHBOARD ? { dashboard: false } : undefined });
  for (let i = 1; i < functions; i++) api.addRoute(`POST /route${i}`, handler());
  return app;
}

/** The same parts, fewer features: no bootstrap, rotation, access logs, restricted default security group; a small dashboard. */
function handWired(functions: number): App {
  const app = new App();
  const stack = new Stack(app, 'HandWired', { env: ENV });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
  });
  vpc.addFlowLog('FlowLog', { destination: ec2.FlowLogDestination.toCloudWatchLogs(new logs.LogGroup(stack, 'FlowLogs', { encryptionKey: key })) });
  const instance = new rds.DatabaseInstance(stack, 'Db', {
    engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17 }),
    instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO),
    vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    storageEncrypted: true, storageEncryptionKey: key, iamAuthentication: true,
  });
  const proxy = instance.addProxy('Proxy', { vpc, secrets: [instance.secret!], iamAuth: true, requireTLS: true });
  const httpApi = new apigwv2.HttpApi(stack, 'HttpApi', { defaultAuthorizer: new authorizers.HttpIamAuthorizer() });
  const dashboard = new cloudwatch.Dashboard(stack, 'Dashboard');
  const dlq = new sqs.Queue(stack, 'Dlq', { encryptionMasterKey: key });
  for (const [id, metric] of [['Cpu', instance.metricCPUUtilization()], ['Memory', instance.metricFreeableMemory()], ['Storage', instance.metricFreeStorageSpace()]] as const) {
    new cloudwatch.Alarm(stack, id, { metric, threshold: 1, evaluationPeriods: 3 });
  }
  for (let i = 0; i < functions; i++) {
    const securityGroup = new ec2.SecurityGroup(stack, `Sg${i}`, { vpc, allowAllOutbound: false });
    const fn = new lambda.Function(stack, `Fn${i}`, {
      runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: inline(), architecture: lambda.Architecture.ARM_64,
      vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }, securityGroups: [securityGroup],
      logGroup: new logs.LogGroup(stack, `Logs${i}`, { encryptionKey: key }), tracing: lambda.Tracing.ACTIVE,
      timeout: Duration.seconds(10), memorySize: 512, environment: { SQL_HOST: proxy.endpoint, SQL_USER: 'app_user' },
    });
    const alias = new lambda.Alias(stack, `Alias${i}`, { aliasName: 'live', version: fn.currentVersion });
    if (i === 0) alias.configureAsyncInvoke({ onFailure: new destinations.SqsDestination(dlq), retryAttempts: 2 });
    proxy.grantConnect(fn, 'app_user');
    proxy.connections.allowFrom(fn, ec2.Port.tcp(5432));
    const integration = new integrations.HttpLambdaIntegration(`Integration${i}`, alias);
    if (i === 0) {
      httpApi.addRoutes({ path: '/', methods: [apigwv2.HttpMethod.ANY], integration });
    } else {
      httpApi.addRoutes({ path: `/route${i}`, methods: [apigwv2.HttpMethod.POST], integration });
    }
    const alarms = [alias.metricErrors(), alias.metricThrottles(), alias.metricDuration({ statistic: 'p99' })]
      .map((metric, n) => new cloudwatch.Alarm(stack, `Alarm${i}-${n}`, { metric, threshold: 1, evaluationPeriods: 1 }));
    dashboard.addWidgets(new cloudwatch.GraphWidget({ left: [alias.metricInvocations(), alias.metricErrors()] }),
      new cloudwatch.AlarmStatusWidget({ alarms }));
  }
  return app;
}

/**
 * The same API wired by hand with the library's features as well as its parts, so that the time per resource compares
 * equal work: the VPC's default security group restricted; the database parameter group that requires TLS, secret
 * rotation and the secret's resource policy; a deploy-time bootstrap (the library's bundled code as an asset, its
 * function in the VPC behind Secrets Manager and S3 endpoints, the prefix-list lookup, a custom resource); the HTTP API's access logs; per function its own
 * security group rules both ways and an execution role with its log group grant; the same alarms (error rate as a
 * math expression, throttles, duration near the timeout, the dead-letter queue, proxy pinning, borrow latency and
 * connections, database CPU, memory and storage) and the same dashboard (a section of graphs per function, the front
 * door, the proxy and the database), rendered by cloudwatch.Dashboard.
 */
function handWiredSameFeatures(functions: number): App {
  const app = new App();
  const stack = new Stack(app, 'HandWiredSameFeatures', { env: ENV });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2, natGateways: 0, restrictDefaultSecurityGroup: true,
    subnetConfiguration: [{ name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
  });
  const isolated = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  vpc.addFlowLog('FlowLog', { destination: ec2.FlowLogDestination.toCloudWatchLogs(new logs.LogGroup(stack, 'FlowLogs', { encryptionKey: key })) });
  const instance = new rds.DatabaseInstance(stack, 'Db', {
    engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17 }),
    instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO),
    vpc, vpcSubnets: isolated, storageEncrypted: true, storageEncryptionKey: key, iamAuthentication: true,
    parameterGroup: new rds.ParameterGroup(stack, 'Params', {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17 }), parameters: { 'rds.force_ssl': '1' },
    }),
  });
  instance.addRotationSingleUser();
  instance.secret!.addToResourcePolicy(new iam.PolicyStatement({
    effect: iam.Effect.DENY, principals: [new iam.AnyPrincipal()], actions: ['secretsmanager:*'], resources: ['*'],
    conditions: { Bool: { 'aws:SecureTransport': 'false' } },
  }));
  const proxy = instance.addProxy('Proxy', { vpc, secrets: [instance.secret!], iamAuth: true, requireTLS: true });

  // the deploy-time bootstrap
  const bootstrapSg = new ec2.SecurityGroup(stack, 'BootstrapSg', { vpc, allowAllOutbound: false });
  instance.connections.allowDefaultPortFrom(bootstrapSg);
  const secretsEndpoint = vpc.addInterfaceEndpoint('SecretsManager', { service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER, subnets: isolated, open: false });
  secretsEndpoint.connections.allowDefaultPortFrom(bootstrapSg);
  const s3Endpoint = vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3, subnets: [isolated] });
  s3Endpoint.addToPolicy(new iam.PolicyStatement({ principals: [new iam.AnyPrincipal()], actions: ['s3:PutObject'], resources: ['arn:aws:s3:::cloudformation-custom-resource-response-euwest1/*'] }));
  const call: cr.AwsSdkCall = {
    service: 'EC2', action: 'describeManagedPrefixLists', parameters: { Filters: [{ Name: 'prefix-list-name', Values: ['com.amazonaws.eu-west-1.s3'] }] },
    physicalResourceId: cr.PhysicalResourceId.fromResponse('PrefixLists.0.PrefixListId'), outputPaths: ['PrefixLists.0.PrefixListId'],
  };
  const prefixList = new cr.AwsCustomResource(stack, 'S3PrefixList', {
    onCreate: call, onUpdate: call, installLatestAwsSdk: false, logGroup: new logs.LogGroup(stack, 'PrefixListLogs', { encryptionKey: key }),
    policy: cr.AwsCustomResourcePolicy.fromStatements([new iam.PolicyStatement({ actions: ['ec2:DescribeManagedPrefixLists'], resources: ['*'] })]),
  });
  bootstrapSg.addEgressRule(ec2.Peer.prefixList(prefixList.getResponseField('PrefixLists.0.PrefixListId')), ec2.Port.tcp(443));
  const bootstrap = new lambda.Function(stack, 'Bootstrap', {
    runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', architecture: lambda.Architecture.ARM_64,
    // the same bundled code the library ships, as an asset
    code: lambda.Code.fromAsset(path.join(__dirname, '..', 'assets', 'database-bootstrap-postgres')),
    vpc, vpcSubnets: isolated, securityGroups: [bootstrapSg], tracing: lambda.Tracing.ACTIVE, timeout: Duration.minutes(10),
    logGroup: new logs.LogGroup(stack, 'BootstrapLogs', { encryptionKey: key }),
  });
  instance.secret!.grantRead(bootstrap);
  const bootstrapAlias = new lambda.Alias(stack, 'BootstrapAlias', { aliasName: 'live', version: bootstrap.currentVersion });
  const bootstrapResource = new CustomResource(stack, 'BootstrapResource', {
    serviceToken: bootstrapAlias.functionArn, resourceType: 'Custom::DatabaseBootstrap', serviceTimeout: Duration.minutes(12),
    properties: { Host: instance.dbInstanceEndpointAddress, SecretArn: instance.secret!.secretArn, Users: [{ name: 'app_user', access: 'readwrite' }] },
  });
  bootstrapResource.node.addDependency(secretsEndpoint, s3Endpoint, bootstrapSg);

  const httpApi = new apigwv2.HttpApi(stack, 'HttpApi', { defaultAuthorizer: new authorizers.HttpIamAuthorizer(), createDefaultStage: false });
  new apigwv2.HttpStage(stack, 'Stage', {
    httpApi, stageName: '$default', autoDeploy: true,
    accessLogSettings: { destination: new apigwv2.LogGroupLogDestination(new logs.LogGroup(stack, 'AccessLogs', { encryptionKey: key })) },
  });
  const dlq = new sqs.Queue(stack, 'Dlq', { encryptionMasterKey: key, enforceSSL: true });
  const alarms: cloudwatch.Alarm[] = [];
  const alarm = (id: string, metric: cloudwatch.IMetric, threshold: number, periods: number) => {
    alarms.push(new cloudwatch.Alarm(stack, id, {
      metric, threshold, evaluationPeriods: periods, datapointsToAlarm: periods, treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `${id}: what broke and what to do`,
    }));
  };
  const minute = { period: Duration.minutes(1) };
  const graph = (title: string, metrics: cloudwatch.IMetric[], lines: cloudwatch.HorizontalAnnotation[] = []) =>
    new cloudwatch.GraphWidget({ title, left: metrics, leftAnnotations: lines, width: 6, height: 6 });
  const dashboard = new cloudwatch.Dashboard(stack, 'Dashboard', { defaultInterval: Duration.hours(3) });
  dashboard.addWidgets(new cloudwatch.TextWidget({ markdown: '# API', width: 12, height: 3 }), new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms, width: 12, height: 3 }));
  const section = (title: string, widgets: cloudwatch.IWidget[]) => {
    dashboard.addWidgets(new cloudwatch.TextWidget({ markdown: `## ${title}`, width: 24, height: 1 }));
    for (let i = 0; i < widgets.length; i += 4) dashboard.addWidgets(...widgets.slice(i, i + 4));
  };
  section('Front door', [
    graph('Requests', [httpApi.metricCount(minute)]), graph('Errors', [httpApi.metricClientError(minute), httpApi.metricServerError(minute)]),
    graph('Latency', [httpApi.metricLatency({ statistic: 'p50', ...minute }), httpApi.metricLatency({ statistic: 'p99', ...minute })]),
    graph('Integration latency', [httpApi.metricIntegrationLatency({ statistic: 'p99', ...minute })]),
  ]);
  const proxyMetric = (metricName: string, statistic = 'Maximum') => new cloudwatch.Metric({ namespace: 'AWS/RDS', metricName, dimensionsMap: { ProxyName: proxy.dbProxyName }, statistic, ...minute });
  for (let i = 0; i < functions; i++) {
    const securityGroup = new ec2.SecurityGroup(stack, `Sg${i}`, { vpc, allowAllOutbound: false });
    const logGroup = new logs.LogGroup(stack, `Logs${i}`, { encryptionKey: key });
    const role = new iam.Role(stack, `Role${i}`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);
    new iam.Policy(stack, `VpcAndTracing${i}`, {
      roles: [role], statements: [new iam.PolicyStatement({
        actions: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface', 'xray:PutTraceSegments'], resources: ['*'],
      })],
    });
    const fn = new lambda.Function(stack, `Fn${i}`, {
      runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: inline(), architecture: lambda.Architecture.ARM_64,
      vpc, vpcSubnets: isolated, securityGroups: [securityGroup], role, logGroup, tracing: lambda.Tracing.ACTIVE,
      timeout: Duration.seconds(10), memorySize: 512, environment: { SQL_HOST: proxy.endpoint, SQL_USER: 'app_user' },
    });
    const alias = new lambda.Alias(stack, `Alias${i}`, { aliasName: 'live', version: fn.currentVersion });
    if (i === 0) alias.configureAsyncInvoke({ onFailure: new destinations.SqsDestination(dlq), retryAttempts: 2 });
    proxy.grantConnect(fn, 'app_user');
    fn.connections.allowTo(proxy, ec2.Port.tcp(5432));
    bootstrapResource.node.addDependency(alias);
    const integration = new integrations.HttpLambdaIntegration(`Integration${i}`, alias);
    httpApi.addRoutes(i === 0 ? { path: '/', methods: [apigwv2.HttpMethod.ANY], integration } : { path: `/route${i}`, methods: [apigwv2.HttpMethod.POST], integration });
    alarm(`ErrorRate${i}`, new cloudwatch.MathExpression({
      expression: 'IF(invocations >= 10, 100 * errors / invocations, 0)', usingMetrics: { invocations: alias.metricInvocations(), errors: alias.metricErrors() }, period: Duration.minutes(5),
    }), 5, 1);
    alarm(`Throttles${i}`, alias.metricThrottles(), 1, 1);
    alarm(`DurationNearTimeout${i}`, alias.metricDuration({ statistic: 'p99' }), 8000, 2);
    const widgets: cloudwatch.IWidget[] = [
      graph('Invocations, errors, throttles', [alias.metricInvocations(minute), alias.metricErrors(minute), alias.metricThrottles(minute)]),
      graph('Duration', [alias.metricDuration({ statistic: 'p50', ...minute }), alias.metricDuration({ statistic: 'p99', ...minute })], [{ value: 10000, label: 'timeout' }]),
      graph('By version', ['Invocations', 'Errors'].map(metricName => new cloudwatch.MathExpression({
        expression: `SEARCH('{AWS/Lambda,ExecutedVersion,FunctionName,Resource} MetricName="${metricName}" FunctionName="${fn.functionName}" Resource="${fn.functionName}:live"', 'Sum', 60)`,
        label: metricName, period: Duration.minutes(1),
      }))),
      graph('Concurrent executions', [alias.metric('ConcurrentExecutions', { statistic: 'Maximum', ...minute })]),
    ];
    if (i === 0) {
      alarm('DeadLetterQueue', dlq.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', ...minute }), 1, 1);
      widgets.push(graph('Dead-letter queue', [dlq.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', ...minute })]));
    }
    const runtime = (metricName: string, statistic = 'Sum') => new cloudwatch.Metric({
      namespace: 'ServerlessSqlApi', metricName, dimensionsMap: { FunctionName: fn.functionName }, statistic, ...minute,
    });
    widgets.push(
      graph('Runtime: connections', ['ColdStart', 'ConnectionsOpened', 'ConnectionsReused', 'ConnectionsEvicted'].map(name => runtime(name))),
      graph('Runtime: retries', ['StatementRetries', 'ConnectRetries', 'AuthRefreshes', 'TransactionRetries', 'Timeouts'].map(name => runtime(name))),
      graph('Runtime: times', ['SigningTime', 'ConnectTime', 'WaitTime'].map(name => runtime(name, 'p99'))),
    );
    section(`Function ${i}`, widgets);
  }
  alarm('ProxySessionPinning', proxyMetric('DatabaseConnectionsCurrentlySessionPinned', 'Sum'), 1, 15);
  alarm('ProxyBorrowLatency', proxyMetric('DatabaseConnectionsBorrowLatency', 'Average'), 100000, 3);
  alarm('ProxyConnectionsNearBudget', proxyMetric('DatabaseConnections'), 90, 5);
  section('RDS Proxy', [
    graph('Connections', [proxyMetric('ClientConnections'), proxyMetric('DatabaseConnections')], [{ value: 112, label: 'connection budget' }]),
    graph('Pinned', [proxyMetric('DatabaseConnectionsCurrentlySessionPinned', 'Sum')]), graph('Borrow latency', [proxyMetric('DatabaseConnectionsBorrowLatency', 'Average')]),
  ]);
  alarm('DatabaseCpu', instance.metricCPUUtilization(), 80, 3);
  alarm('DatabaseFreeableMemory', instance.metricFreeableMemory(), 100_000_000, 3);
  alarm('DatabaseFreeStorage', instance.metricFreeStorageSpace(), 1_000_000_000, 3);
  section('Database', [
    graph('CPU', [instance.metricCPUUtilization(minute)], [{ value: 80, label: 'alarm' }]), graph('Connections', [instance.metricDatabaseConnections(minute)]),
    graph('Freeable memory', [instance.metricFreeableMemory(minute)]), graph('Free storage', [instance.metricFreeStorageSpace(minute)]),
  ]);
  return app;
}

/** Synthesizes the app built by `build` and returns the milliseconds and the number of resources. */
function measure(build: (n: number) => App, functions: number): { ms: number; resources: number } {
  const start = process.hrtime.bigint();
  const app = build(functions);
  const assembly = app.synth();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const resources = assembly.stacks.reduce((sum, stack) => sum + Object.keys(stack.template.Resources ?? {}).length, 0);
  return { ms, resources };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

type Build = (n: number) => App;
const SIDES: Array<[string, Build]> = [['library', library], ['same features', handWiredSameFeatures], ['parts only', handWired]];

function main() {
  // one warm-up of each, not counted
  for (const [, build] of SIDES) measure(build, 1);
  const results = new Map<string, { ms: number[]; resources: number; perResource: number[] }>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const functions of SIZES) {
      // rotate which side goes first, so that none always runs on a warmer heap
      const order = SIDES.map((_, i) => SIDES[(i + round) % SIDES.length]);
      for (const [name, build] of order) {
        const { ms, resources } = measure(build, functions);
        const key = `${name}:${functions}`;
        const entry = results.get(key) ?? { ms: [], resources, perResource: [] };
        entry.ms.push(ms);
        entry.perResource.push(ms / resources);
        results.set(key, entry);
      }
    }
  }
  const cell = (name: string, functions: number) => {
    const entry = results.get(`${name}:${functions}`)!;
    return `${entry.resources}, ${median(entry.ms).toFixed(0)}, ${median(entry.perResource).toFixed(2)}`;
  };
  /** per round, the library's ms/resource over the other side's: median (min-max) */
  const ratio = (name: string, functions: number) => {
    const lib = results.get(`library:${functions}`)!.perResource;
    const other = results.get(`${name}:${functions}`)!.perResource;
    const ratios = lib.map((value, i) => value / other[i]);
    return `${median(ratios).toFixed(2)}x (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})`;
  };
  console.log(`synth cost, median of ${ROUNDS} interleaved rounds (asset bundling off); each cell: resources, ms, ms/resource\n`);
  console.log('| functions | library | hand-wired, same features | ratio per resource (goal <= 1.00x) | hand-wired, parts only | ratio |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const functions of SIZES) {
    console.log(`| ${functions} | ${cell('library', functions)} | ${cell('same features', functions)} | ${ratio('same features', functions)} `
      + `| ${cell('parts only', functions)} | ${ratio('parts only', functions)} |`);
  }
  const first = results.get(`library:${SIZES[1]}`)!;
  const last = results.get(`library:${SIZES[SIZES.length - 1]}`)!;
  const slope = (median(last.ms) - median(first.ms)) / (SIZES[SIZES.length - 1] - SIZES[1]);
  const perResourceGrowth = median(last.perResource) / median(first.perResource);
  console.log(`\nlibrary: ${slope.toFixed(1)} ms per added function between ${SIZES[1]} and ${SIZES[SIZES.length - 1]}; `
    + `ms/resource at ${SIZES[SIZES.length - 1]} functions is ${perResourceGrowth.toFixed(2)}x that at ${SIZES[1]} (1.00x = linear)`);
}

main();
