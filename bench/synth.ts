/**
 * Synth cost: the time `app.synth()` takes per resource for a ServerlessSqlApi with N functions (the API's and
 * N - 1 routes), next to a hand-wired aws-cdk-lib stack with the same parts (VPC with flow logs, KMS key, RDS
 * instance, IAM-only RDS Proxy, per function a security group, role, encrypted log group, function, version, alias,
 * proxy grant, HTTP API route on the alias and three alarms, database alarms and a dashboard). Both are built in the
 * same process, interleaved in rounds, with asset bundling off; the figures are medians over the rounds.
 *
 * Run: npm run bench:synth (BENCH_ROUNDS=n for more rounds; BENCH_NO_DASHBOARD=1 builds the library's API without
 * its dashboard, to see that part of the cost).
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as authorizers from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import * as integrations from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { ApiHandler, ServerlessSqlApi } from '../src';

process.env.CDK_CONTEXT_JSON = JSON.stringify({ 'aws:cdk:bundling-stacks': [] });
const ENV = { account: '111111111111', region: 'eu-west-1' };
const SIZES = [1, 5, 10, 20];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const inline = () => lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200 });');

function library(functions: number): App {
  const app = new App();
  const stack = new Stack(app, 'Library', { env: ENV });
  const handler = () => ApiHandler.fromCode({ runtime: lambda.Runtime.NODEJS_24_X, code: inline(), handler: 'index.handler' });
  const api = new ServerlessSqlApi(stack, 'Api', { handler: handler(), monitoring: process.env.BENCH_NO_DASHBOARD ? { dashboard: false } : undefined });
  for (let i = 1; i < functions; i++) api.addRoute(`POST /route${i}`, handler());
  return app;
}

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

function main() {
  // one warm-up of each, not counted
  measure(library, 1);
  measure(handWired, 1);
  const results = new Map<string, { ms: number[]; resources: number; perResource: number[] }>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const functions of SIZES) {
      // alternate which side goes first, so neither always runs on a warmer heap
      const order: Array<[string, (n: number) => App]> = round % 2 === 0
        ? [['library', library], ['hand-wired', handWired]] : [['hand-wired', handWired], ['library', library]];
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
  console.log(`synth cost, median of ${ROUNDS} interleaved rounds (asset bundling off)\n`);
  console.log('| functions | library: resources, ms, ms/resource | hand-wired: resources, ms, ms/resource | ratio per resource |');
  console.log('| --- | --- | --- | --- |');
  for (const functions of SIZES) {
    const lib = results.get(`library:${functions}`)!;
    const hand = results.get(`hand-wired:${functions}`)!;
    const ratios = lib.perResource.map((value, i) => value / hand.perResource[i]);
    console.log(`| ${functions} | ${lib.resources}, ${median(lib.ms).toFixed(0)}, ${median(lib.perResource).toFixed(2)} `
      + `| ${hand.resources}, ${median(hand.ms).toFixed(0)}, ${median(hand.perResource).toFixed(2)} `
      + `| ${median(ratios).toFixed(2)}x (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}) |`);
  }
  const first = results.get(`library:${SIZES[1]}`)!;
  const last = results.get(`library:${SIZES[SIZES.length - 1]}`)!;
  const slope = (median(last.ms) - median(first.ms)) / (SIZES[SIZES.length - 1] - SIZES[1]);
  const perResourceGrowth = median(last.perResource) / median(first.perResource);
  console.log(`\nlibrary: ${slope.toFixed(1)} ms per added function between ${SIZES[1]} and ${SIZES[SIZES.length - 1]}; `
    + `ms/resource at ${SIZES[SIZES.length - 1]} functions is ${perResourceGrowth.toFixed(2)}x that at ${SIZES[1]} (1.00x = linear)`);
}

main();
