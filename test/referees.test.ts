/**
 * The referees of `referees/deploy-order.ts` on every kind of stack the library builds, and on hand-written
 * templates that show each one fails where CloudFormation would.
 */
import * as fs from 'fs';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { STACKS } from './compliance/checks';
import { deployOrderProblems, physicalNameProblems } from './referees/deploy-order';
import { existingCluster, existingInstance, importedVpc, nodeHandler, synth } from './util';
import { ApiHandler, ColdStart, Deployment, FrontDoor, PipeSource, ServerlessSqlApi, SqlEngine } from '../src';

type Json = Record<string, any>;
const templateOf = (stack: Stack): Json => Template.fromStack(stack).toJSON();

/** Stacks beyond the compliance stacks: each engine, imported databases and VPCs, every front door and cold start. */
const MORE_STACKS: ReadonlyArray<readonly [string, () => Json]> = [
  ['RDS for PostgreSQL', () => synth({ engine: SqlEngine.postgres() }).template.toJSON()],
  ['Aurora PostgreSQL', () => synth({ engine: SqlEngine.auroraPostgres({ readers: 1 }) }).template.toJSON()],
  ['RDS for MySQL, function URL, linear deployment', () => synth({
    engine: SqlEngine.mysql(),
    frontDoor: FrontDoor.functionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM }),
    deployment: Deployment.linear({ percent: 50, interval: Duration.minutes(1) }),
  }).template.toJSON()],
  ['existing instance in an imported VPC', () => synth({}, stack => ({
    vpc: importedVpc(stack), existingDatabase: existingInstance(stack),
  })).template.toJSON()],
  ['existing cluster, no front door, provisioned concurrency', () => synth({ frontDoor: FrontDoor.none(), coldStart: ColdStart.provisioned({ min: 2 }) },
    stack => ({ vpc: importedVpc(stack), existingDatabase: existingCluster(stack) })).template.toJSON()],
  ['SnapStart (Python) with a worker', () => {
    const result = synth({
      handler: ApiHandler.fromCode({ runtime: lambda.Runtime.PYTHON_3_13, code: lambda.Code.fromInline('def handler(e, c): pass'), handler: 'index.handler' }),
      coldStart: ColdStart.snapStart(),
    });
    const queue = new sqs.Queue(result.stack, 'Queue', {
      deadLetterQueue: { queue: new sqs.Queue(result.stack, 'Dlq'), maxReceiveCount: 3 },
    });
    result.api.addWorker('Worker', { handler: nodeHandler(), source: PipeSource.sqs(queue), dbUser: 'worker_user' });
    return result.template.toJSON();
  }],
];


describe('deploy order: nothing names another resource by a literal string without depending on it', () => {
  test.each(STACKS.map(([name, make]) => [name, make] as const))('%s', (_name, make) => {
    const template = JSON.parse(fs.readFileSync(make().templatePath, 'utf8'));
    expect(deployOrderProblems(template)).toEqual([]);
  });

  test.each(MORE_STACKS.map(([name, make]) => [name, make] as const))('%s', (_name, make) => {
    expect(deployOrderProblems(make())).toEqual([]);
  });
});

describe('physical names: unique per account and Region', () => {
  test('two APIs in one stack, and that stack twice in one account and Region', () => {
    // GIVEN
    const app = new App();
    const env = { account: '111111111111', region: 'eu-west-1' };
    const stacks = ['Dev', 'Prod'].map(stage => {
      const stack = new Stack(app, `Orders-${stage}`, { env });
      const first = new ServerlessSqlApi(stack, 'Api', { handler: nodeHandler(), coldStart: ColdStart.provisioned({ min: 1 }) });
      first.addWorker('Worker', {
        handler: nodeHandler(),
        source: PipeSource.sqs(new sqs.Queue(stack, 'Queue', { deadLetterQueue: { queue: new sqs.Queue(stack, 'Dlq'), maxReceiveCount: 3 } })),
      });
      new ServerlessSqlApi(stack, 'Reports', { handler: nodeHandler(), engine: SqlEngine.auroraMysql(), deployment: Deployment.canary({ percent: 10, interval: Duration.minutes(5) }) });
      return stack;
    });
    // WHEN
    const templates = Object.fromEntries(stacks.map(stack => [stack.stackName, templateOf(stack)]));
    // THEN
    expect(physicalNameProblems(templates)).toEqual([]);
    // the proxy's name is required: it is derived from the stack and the construct path, in the form RDS accepts
    const proxyNames = stacks.flatMap(stack => Object.values(templates[stack.stackName].Resources as Json)
      .filter((r: any) => r.Type === 'AWS::RDS::DBProxy').map((r: any) => r.Properties.DBProxyName));
    expect(proxyNames).toHaveLength(4);
    for (const name of proxyNames) expect(name).toMatch(/^[a-zA-Z](?:-?[a-zA-Z0-9]+)*$/);
    for (const name of proxyNames) expect(name.length).toBeLessThanOrEqual(63);
    expect(proxyNames[0]).toMatch(/^Orders-Dev-Api-Database-[0-9A-F]{8}$/);
  });

  test('a long construct path still gives a proxy name RDS accepts', () => {
    const stack = new Stack(new App(), 'a-very-long-stack-name-that-goes-on-and-on-and-on');
    new ServerlessSqlApi(stack, 'An_API--with__odd-ids-and-a-very-long-name-too', { handler: nodeHandler() });
    const name = Object.values(templateOf(stack).Resources as Json).find((r: any) => r.Type === 'AWS::RDS::DBProxy').Properties.DBProxyName;
    expect(name).toMatch(/^[a-zA-Z](?:-?[a-zA-Z0-9]+)*$/);
    expect(name.length).toBeLessThanOrEqual(63);
  });
});

describe('the referees fail where CloudFormation would', () => {
  const fn = { Type: 'AWS::Lambda::Function', Properties: {} };
  const alias = { Type: 'AWS::Lambda::Alias', Properties: { FunctionName: { Ref: 'Fn' }, FunctionVersion: '1', Name: 'live' } };

  test('an invoke config that names the alias by its literal name', () => {
    const config = { Type: 'AWS::Lambda::EventInvokeConfig', Properties: { FunctionName: { Ref: 'Fn' }, Qualifier: 'live' } };
    expect(deployOrderProblems({ Resources: { Fn: fn, Alias: alias, Config: config } })).toEqual([
      'Config (AWS::Lambda::EventInvokeConfig) Qualifier names Alias (AWS::Lambda::Alias) by "live" without depending on it',
    ]);
    // a dependency, direct or through another resource, orders them
    expect(deployOrderProblems({ Resources: { Fn: fn, Alias: alias, Config: { ...config, DependsOn: 'Alias' } } })).toEqual([]);
    const throughAnother = {
      Fn: fn, Alias: alias, Other: { Type: 'AWS::SQS::Queue', DependsOn: ['Alias'] }, Config: { ...config, DependsOn: 'Other' },
    };
    expect(deployOrderProblems({ Resources: throughAnother })).toEqual([]);
  });

  test('a scalable target or an ARN that spells FUNCTION:ALIAS', () => {
    const target = {
      Type: 'AWS::ApplicationAutoScaling::ScalableTarget',
      Properties: { ResourceId: { 'Fn::Join': ['', ['function:', { Ref: 'Fn' }, ':live']] } },
    };
    const permission = {
      Type: 'AWS::Lambda::Permission',
      Properties: { FunctionName: { 'Fn::Sub': '${Fn.Arn}:live' }, Action: 'lambda:InvokeFunction' },
    };
    expect(deployOrderProblems({ Resources: { Fn: fn, Alias: alias, Target: target, Permission: permission } })).toEqual([
      'Target (AWS::ApplicationAutoScaling::ScalableTarget) ResourceId names Alias (AWS::Lambda::Alias) by "function:«Fn»:live" without depending on it',
      'Permission (AWS::Lambda::Permission) FunctionName names Alias (AWS::Lambda::Alias) by "«Fn.Arn»:live" without depending on it',
    ]);
  });

  test('a metric dimension is no reference: CloudWatch alarms on metrics nothing has published yet', () => {
    const dimensions = [{ Name: 'FunctionName', Value: { Ref: 'Fn' } }, { Name: 'Resource', Value: { 'Fn::Join': ['', [{ Ref: 'Fn' }, ':live']] } }];
    const alarm = { Type: 'AWS::CloudWatch::Alarm', Properties: { MetricName: 'Errors', Dimensions: dimensions } };
    expect(deployOrderProblems({ Resources: { Fn: fn, Alias: alias, Alarm: alarm } })).toEqual([]);
    // only the dimensions: an alarm action that invokes FUNCTION:ALIAS still needs the alias
    const acting = { ...alarm, Properties: { ...alarm.Properties, AlarmActions: [{ 'Fn::Sub': '${Fn.Arn}:live' }] } };
    expect(deployOrderProblems({ Resources: { Fn: fn, Alias: alias, Alarm: acting } })).toEqual([
      'Alarm (AWS::CloudWatch::Alarm) AlarmActions[0] names Alias (AWS::Lambda::Alias) by "«Fn.Arn»:live" without depending on it',
    ]);
  });

  test('a role, queue or function named by a literal name', () => {
    const template = {
      Resources: {
        Role: { Type: 'AWS::IAM::Role', Properties: { RoleName: 'orders-role' } },
        Queue: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'orders' } },
        Named: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'orders-fn', Role: { 'Fn::GetAtt': ['Role', 'Arn'] } } },
        Pipe: {
          Type: 'AWS::Pipes::Pipe',
          Properties: {
            RoleArn: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/orders-role' },
            Source: { 'Fn::Sub': 'arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:orders' },
            Target: { 'Fn::Sub': 'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:orders-fn' },
          },
        },
      },
    };
    expect(deployOrderProblems(template)).toEqual([
      'Pipe (AWS::Pipes::Pipe) RoleArn names Role (AWS::IAM::Role) by "arn:«AWS::Partition»:iam::«AWS::AccountId»:role/orders-role" without depending on it',
      'Pipe (AWS::Pipes::Pipe) Source names Queue (AWS::SQS::Queue) by "arn:«AWS::Partition»:sqs:«AWS::Region»:«AWS::AccountId»:orders" without depending on it',
      'Pipe (AWS::Pipes::Pipe) Target names Named (AWS::Lambda::Function) by "arn:«AWS::Partition»:lambda:«AWS::Region»:«AWS::AccountId»:function:orders-fn" without depending on it',
    ]);
  });

  test('a fixed name in two stacks, or twice in one', () => {
    const proxy = { Type: 'AWS::RDS::DBProxy', Properties: { DBProxyName: 'Proxy' } };
    expect(physicalNameProblems({ Dev: { Resources: { Proxy: proxy } }, Prod: { Resources: { Proxy: proxy } } })).toEqual([
      'Prod/Proxy (AWS::RDS::DBProxy) DBProxyName "Proxy" is also the name of Dev/Proxy',
    ]);
    expect(physicalNameProblems({ Dev: { Resources: { A: proxy, B: proxy } } })).toEqual([
      'Dev/B (AWS::RDS::DBProxy) DBProxyName "Proxy" is also the name of Dev/A',
    ]);
    // derived from the stack's name or from another resource, it is unique
    const derived = { Type: 'AWS::RDS::DBProxy', Properties: { DBProxyName: { 'Fn::Sub': '${AWS::StackName}-proxy' } } };
    expect(physicalNameProblems({ Dev: { Resources: { Proxy: derived } }, Prod: { Resources: { Proxy: derived } } })).toEqual([]);
  });
});
