import { App, Duration, NestedStack, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { ApiExtension, Deployment, PipeSource, ServerlessSqlApi } from '../src';
import { nodeHandler, refereed, resourcesOf } from './util';

const ENV = { account: '111111111111', region: 'eu-west-1' };
/** CloudFormation's per-template quotas. @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html */
const LIMITS = { resources: 500, outputs: 200, parameters: 200, templateBytes: 1_000_000 };

const sourceQueue = (stack: Stack, id: string) =>
  new sqs.Queue(stack, id, { deadLetterQueue: { queue: new sqs.Queue(stack, `${id}Dlq`), maxReceiveCount: 3 } });

/** The API in one stack, 40 workers in two others, and a route with a gradual deployment in the first of them. */
function app() {
  const root = new App();
  const apiStack = new Stack(root, 'ApiStack', { env: ENV });
  const api = new ServerlessSqlApi(apiStack, 'Api', {
    handler: nodeHandler(),
    deployment: Deployment.canary({ percent: 10, interval: Duration.minutes(5) }),
  });
  const stacks = ['WorkersA', 'WorkersB'].map(name => {
    const stack = new Stack(root, name, { env: ENV });
    const extension = new ApiExtension(stack, 'Functions', { api });
    for (let i = 0; i < 20; i++) {
      extension.addWorker(`Worker${i}`, { handler: nodeHandler(), source: PipeSource.sqs(sourceQueue(stack, `Events${i}`)) });
    }
    return { stack, extension };
  });
  const route = stacks[0].extension.addRoute('POST /reports', nodeHandler(), {
    deployment: Deployment.canary({ percent: 10, interval: Duration.minutes(5) }),
    dbUser: 'reporter',
  });
  return { root, apiStack, api, stacks, route };
}

describe('an API past one template: routes and workers in other stacks', () => {
  const built = app();
  const assembly = built.root.synth();
  const templates = Object.fromEntries(['ApiStack', 'WorkersA', 'WorkersB'].map(name =>
    [name, refereed(Template.fromJSON(assembly.getStackByName(name).template))]));

  test('every template stays within CloudFormation\'s limits', () => {
    for (const [name, template] of Object.entries(templates)) {
      const json = template.toJSON();
      const figures = {
        resources: Object.keys(json.Resources).length,
        outputs: Object.keys(json.Outputs ?? {}).length,
        parameters: Object.keys(json.Parameters ?? {}).length,
        templateBytes: Buffer.byteLength(JSON.stringify(json)),
      };
      for (const [limit, value] of Object.entries(figures)) {
        expect({ name, limit, value, within: value <= LIMITS[limit as keyof typeof LIMITS] }).toMatchObject({ within: true });
      }
    }
  });

  test('every cross-stack edge points from the function stacks to the API\'s, never back', () => {
    expect(built.apiStack.dependencies).toEqual([]);
    for (const { stack } of built.stacks) expect(stack.dependencies).toEqual([built.apiStack]);
    expect(JSON.stringify(templates.ApiStack.toJSON())).not.toContain('Fn::ImportValue');
  });

  test('the rules into the proxy\'s security group, the grants and the route live in the function\'s stack', () => {
    const workers = templates.WorkersA;
    const ingress = resourcesOf(workers, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties)
      .filter(p => JSON.stringify(p.GroupId).includes('ProxySecurityGroup'));
    // 20 workers and the route's function and its hook, each let in on the engine port
    expect(ingress).toHaveLength(22);
    expect(ingress.every(p => p.FromPort === 5432 && p.ToPort === 5432 && p.GroupId['Fn::ImportValue'])).toBe(true);
    const connect = resourcesOf(workers, 'AWS::IAM::Policy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement)
      .filter((statement: any) => statement.Action === 'rds-db:connect');
    expect(connect.length).toBeGreaterThanOrEqual(22);
    workers.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /reports', ApiId: { 'Fn::ImportValue': Match.anyValue() } });
    // the API's stack holds no rule, grant or route of theirs
    expect(resourcesOf(templates.ApiStack, 'AWS::ApiGatewayV2::Route')).toHaveLength(1);
  });

  test('the bootstrap creates the route\'s user; its function goes live after it (the stack waits for the API\'s)', () => {
    const bootstrap = resourcesOf(templates.ApiStack, 'Custom::DatabaseBootstrap')[0][1];
    expect(JSON.stringify(bootstrap.Properties)).toContain('reporter');
    expect(assembly.getStackByName('WorkersA').dependencies.map(d => d.id)).toContain('ApiStack');
  });

  test('one CodeDeploy endpoint in the VPC, shared by the API\'s hook and the route\'s', () => {
    const endpoints = Object.values(templates).flatMap(t => resourcesOf(t, 'AWS::EC2::VPCEndpoint'))
      .filter(([, r]) => JSON.stringify(r.Properties.ServiceName).includes('codedeploy'));
    expect(endpoints).toHaveLength(1);
    expect(resourcesOf(templates.ApiStack, 'AWS::EC2::VPCEndpoint').map(([id]) => id)).toContainEqual(expect.stringMatching(/CodeDeployEndpoint/));
  });

  test('each extension watches its own functions in its own stack, with the API\'s alarm actions', () => {
    const [{ extension }] = built.stacks;
    const names = extension.alarms.map(alarm => alarm.node.id);
    expect(names).toEqual(expect.arrayContaining(['Worker0PipeFailures', 'Worker19Backlog', 'RoutePostReportsErrorRate']));
    expect(resourcesOf(templates.WorkersA, 'AWS::CloudWatch::Dashboard')).toHaveLength(1);
    expect(built.api.alarms.map(alarm => alarm.node.id)).not.toContain('Worker0PipeFailures');
  });

  test('the connection budget counts the functions of every stack', () => {
    const root = new App();
    const apiStack = new Stack(root, 'ApiStack', { env: ENV });
    const api = new ServerlessSqlApi(apiStack, 'Api', { handler: nodeHandler(), reservedConcurrentExecutions: 60 });
    const stack = new Stack(root, 'Workers', { env: ENV });
    new ApiExtension(stack, 'Functions', { api })
      .addWorker('Ingest', { handler: nodeHandler(), source: PipeSource.sqs(sourceQueue(stack, 'Events')), reservedConcurrentExecutions: 60 });
    Annotations.fromStack(apiStack).hasWarning('/ApiStack/Api/Database', Match.stringLikeRegexp(
      'up to 120 concurrent executions together \\(ApiStack/Api/Handler 60 \\(reserved\\), Workers/Functions/Ingest/Handler 60 \\(reserved\\)\\)'));
  });

  test('an extension in the API\'s own stack is refused with the fix', () => {
    const root = new App();
    const stack = new Stack(root, 'ApiStack', { env: ENV });
    const api = new ServerlessSqlApi(stack, 'Api', { handler: nodeHandler() });
    expect(() => new ApiExtension(stack, 'More', { api })).toThrow(/ApiStack\/More: invalid api \("ApiStack\/Api"\)\. The API is in this stack already: call api\.addRoute\(\)/);
  });

  test('a route key is unique across the API, wherever its function is', () => {
    const root = new App();
    const apiStack = new Stack(root, 'ApiStack', { env: ENV });
    const api = new ServerlessSqlApi(apiStack, 'Api', { handler: nodeHandler() });
    api.addRoute('GET /todos', nodeHandler());
    const extension = new ApiExtension(new Stack(root, 'More', { env: ENV }), 'Functions', { api });
    expect(() => extension.addRoute('GET /todos', nodeHandler())).toThrow(/The route GET \/todos was added already \(at ApiStack\/Api\/RouteGetTodos\)/);
  });
  test('a nested stack of the API\'s stack works the same way: its references come in as parameters', () => {
    const root = new App();
    const apiStack = new Stack(root, 'ApiStack', { env: ENV });
    const api = new ServerlessSqlApi(apiStack, 'Api', { handler: nodeHandler() });
    const nested = new NestedStack(apiStack, 'Workers');
    const extension = new ApiExtension(nested, 'Functions', { api });
    extension.addWorker('Ingest', { handler: nodeHandler(), source: PipeSource.sqs(sourceQueue(nested, 'Events')) });
    extension.addRoute('POST /reports', nodeHandler());
    const parent = refereed(Template.fromStack(apiStack));
    const child = refereed(Template.fromStack(nested));
    expect(resourcesOf(parent, 'AWS::CloudFormation::Stack')).toHaveLength(1);
    child.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /reports', ApiId: { Ref: Match.stringLikeRegexp('HttpApi') } });
    expect(resourcesOf(child, 'AWS::EC2::SecurityGroupIngress').filter(([, r]) => JSON.stringify(r.Properties.GroupId).includes('ProxySecurityGroup'))).toHaveLength(2);
    // the parent's template holds no rule or route of the nested functions
    expect(resourcesOf(parent, 'AWS::ApiGatewayV2::Route')).toHaveLength(1);
  });
});
