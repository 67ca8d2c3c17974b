import { App, Duration, Lazy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ApiExtension, ColdStart, Deployment, PipeSource, ServerlessSqlApi } from '../src';
import { nodeHandler, resourcesOf } from './util';
import { ApiDashboard, dashboardRendering } from '../src/private/dashboard';

const ENV = { account: '111111111111', region: 'eu-west-1' };
const queue = (scope: Construct, id: string) =>
  new sqs.Queue(scope, id, { deadLetterQueue: { queue: new sqs.Queue(scope, `${id}Dlq`), maxReceiveCount: 3 } });

/**
 * An app whose dashboards hold everything the rendering must carry: routes, a provisioned function, a canary, workers
 * in the API's stack and in another stack, widgets a user added (with a literal "${", CloudWatch's own "${MAX}" label
 * syntax, a metric of another account and region), and an environment-agnostic stack with a number token in a widget.
 */
function app(): App {
  const root = new App();
  const apiStack = new Stack(root, 'ApiStack', { env: ENV });
  const events = queue(apiStack, 'Events');
  const api = new ServerlessSqlApi(apiStack, 'Api', {
    handler: nodeHandler(),
    coldStart: ColdStart.provisioned({ min: 1 }),
    deployment: Deployment.canary({ percent: 10, interval: Duration.minutes(5) }),
  });
  api.addRoute('POST /todos', nodeHandler());
  api.addWorker('Ingest', { handler: nodeHandler(), source: PipeSource.sqs(events) });
  api.dashboard!.addWidgets(
    new cloudwatch.TextWidget({ markdown: 'Literal ${braces}, ${!bang} and $ alone', width: 24 }),
    new cloudwatch.GraphWidget({
      left: [new cloudwatch.Metric({
        namespace: 'Other',
        metricName: 'Depth',
        account: '222222222222',
        region: 'us-east-1',
        label: 'Depth (max ${MAX})',
        dimensionsMap: { Queue: events.queueName },
      })],
    }),
  );

  const extension = new ApiExtension(new Stack(root, 'Workers', { env: ENV }), 'Functions', { api });
  extension.addRoute('POST /reports', nodeHandler());
  extension.addWorker('Export', { handler: nodeHandler(), source: PipeSource.sqs(queue(extension, 'Exports')) });

  const agnostic = new ServerlessSqlApi(new Stack(root, 'Agnostic'), 'Api', { handler: nodeHandler() });
  agnostic.dashboard!.addWidgets(new cloudwatch.GraphWidget({
    left: [agnostic.metricErrors()],
    leftAnnotations: [{ value: Lazy.number({ produce: () => 3 }), label: 'a number token' }],
  }));
  // a widget of the user's own with a token as a key: no Fn::Sub variable can stand there
  const keys = new Stack(root, 'Keys', { env: ENV });
  const name = new sqs.Queue(keys, 'Named').queueName;
  new ApiDashboard(keys, 'Dashboard', Duration.hours(1)).addWidgets({
    width: 24,
    height: 2,
    warnings: undefined,
    warningsV2: undefined,
    position: () => undefined,
    toJson: () => [{ type: 'text', width: 24, height: 2, x: 0, y: 0, properties: { markdown: name, [name]: 'a key' } }],
  });
  return root;
}

/** What CloudFormation makes of a dashboard body: Fn::Join and Fn::Sub evaluated, other intrinsics kept as markers. */
function evaluate(value: unknown): string {
  if (typeof value === 'string') return value;
  const [[fn, arg]] = Object.entries(value as Record<string, any>);
  if (fn === 'Fn::Join') return (arg[1] as unknown[]).map(evaluate).join(arg[0]);
  if (fn === 'Fn::Sub') {
    const [text, variables] = arg as [string, Record<string, unknown>];
    return text.replace(/\$\{(!?)([^}]*)\}/g, (_m, bang: string, name: string) => {
      if (bang) return `\${${name}}`;
      if (!(name in variables)) throw new Error(`Fn::Sub names \${${name}}, which is not among its variables`);
      return evaluate(variables[name]);
    });
  }
  return `<${JSON.stringify(value).replace(/"/g, "'")}>`;
}

/** Every dashboard body of the app, by stack and logical id. */
function bodies(root: App): Map<string, unknown> {
  const found = new Map<string, unknown>();
  for (const stack of root.node.children.filter(Stack.isStack)) {
    for (const [id, resource] of resourcesOf(Template.fromStack(stack), 'AWS::CloudWatch::Dashboard')) {
      found.set(`${stack.stackName}/${id}`, resource.Properties.DashboardBody);
    }
  }
  return found;
}

describe('dashboard body', () => {
  const literal = bodies(app());
  dashboardRendering.literal = false;
  let standard: Map<string, unknown>;
  try {
    standard = bodies(app());
  } finally {
    dashboardRendering.literal = true;
  }

  test('CloudFormation produces the same body as from cloudwatch.Dashboard\'s rendering, for every dashboard', () => {
    expect([...literal.keys()].sort()).toEqual([...standard.keys()].sort());
    expect(literal.size).toBe(4);
    for (const [id, body] of literal) {
      const text = evaluate(body);
      expect({ id, text }).toEqual({ id, text: evaluate(standard.get(id)) });
      expect(() => JSON.parse(text)).not.toThrow();
    }
    // what the user wrote comes through as written
    const api = evaluate([...literal].find(([id]) => id.startsWith('ApiStack/'))![1]);
    expect(api).toContain('Literal ${braces}, ${!bang} and $ alone');
    expect(api).toContain('"label":"Depth (max ${MAX})"');
    expect(api).toContain('"accountId":"222222222222","region":"us-east-1"');
  });

  test('a body is one literal text with a variable per distinct token; a number token or a token as a key falls back to Fn::Join', () => {
    for (const [id, body] of literal) {
      const [fn, arg] = Object.entries(body as Record<string, any>)[0];
      if (id.startsWith('Agnostic/') || id.startsWith('Keys/')) {
        expect(fn).toBe('Fn::Join');
        continue;
      }
      expect(fn).toBe('Fn::Sub');
      const [text, variables] = arg as [string, Record<string, unknown>];
      expect(typeof text).toBe('string');
      // one variable per function name, alarm ARN, queue, API id..., not per occurrence
      const distinct = new Set(Object.values(variables).map(v => JSON.stringify(v)));
      expect(distinct.size).toBe(Object.keys(variables).length);
    }
  });
});
