import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { metricsDocument } from '../runtime/src/client';
import { ColdStart, Deployment, FrontDoor, PipeSource, SqlEngine, StreamStartingPosition } from '../src';
import { existingCluster, importedVpc, nodeHandler, resourcesOf, synth } from './util';

/** The alarms of a template by the construct id the library gave them (the part after "Monitoring"). */
function alarmsById(template: Template): Map<string, any> {
  return new Map(resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([id, resource]) => {
    const name = /Monitoring([A-Za-z]+?)[0-9A-F]{8}$/.exec(id)?.[1] ?? id;
    return [name, resource.Properties];
  }));
}

const ref = (prefix: string) => ({ Ref: Match.stringLikeRegexp(`^${prefix}`) });
const sourceQueue = (stack: Stack) => new sqs.Queue(stack, 'Events', {
  deadLetterQueue: { queue: new sqs.Queue(stack, 'EventsDlq'), maxReceiveCount: 5 },
});

describe('metrics', () => {
  test('function metrics are on the alias: FunctionName plus Resource name:alias', () => {
    const { api, stack } = synth();
    const dims = stack.resolve(api.metricErrors().dimensions);
    expect(dims).toEqual({
      FunctionName: { Ref: expect.stringMatching(/^ApiHandlerFunction/) },
      Resource: { 'Fn::Join': ['', [{ Ref: expect.stringMatching(/^ApiHandlerFunction/) }, ':live']] },
    });
    expect(api.metricInvocations().statistic).toBe('Sum');
    expect(api.metricConcurrentExecutions().statistic).toBe('Maximum');
    expect(api.metricProvisionedConcurrencyUtilization().metricName).toBe('ProvisionedConcurrencyUtilization');
    expect(api.metricProvisionedConcurrencySpilloverInvocations().metricName).toBe('ProvisionedConcurrencySpilloverInvocations');
    // MetricOptions are honoured, like aws-cdk-lib's
    const p99 = api.metricDuration({ statistic: 'p99', period: Duration.minutes(1) });
    expect([p99.statistic, p99.period.toSeconds()]).toEqual(['p99', 60]);
  });

  test('proxy metrics carry the proxy name, database metrics the instance or the cluster', () => {
    const { api, stack } = synth();
    const db = api.database;
    const proxyName = stack.resolve(db.proxy.dbProxyName);
    for (const [metric, name] of [
      [db.metricProxyClientConnections(), 'ClientConnections'],
      [db.metricProxyDatabaseConnections(), 'DatabaseConnections'],
      [db.metricProxyPinnedConnections(), 'DatabaseConnectionsCurrentlySessionPinned'],
      [db.metricProxyBorrowLatency(), 'DatabaseConnectionsBorrowLatency'],
    ] as const) {
      expect([metric.namespace, metric.metricName]).toEqual(['AWS/RDS', name]);
      expect(stack.resolve(metric.dimensions)).toEqual({ ProxyName: proxyName });
    }
    expect(db.metricProxyBorrowLatency().statistic).toBe('Average');
    expect(db.metricProxyPinnedConnections().statistic).toBe('Sum');
    expect(stack.resolve(db.metricCpuUtilization().dimensions)).toEqual({ DBInstanceIdentifier: { Ref: expect.stringMatching(/^ApiDatabaseInstance/) } });
    expect(db.metricFreeStorageSpace().statistic).toBe('Minimum');
    expect(() => db.metricAcuUtilization()).toThrow(/metricAcuUtilization.*RDS instance.*only for Aurora clusters/s);

    const aurora = synth({ engine: SqlEngine.auroraPostgres() });
    const cluster = aurora.api.database;
    expect(aurora.stack.resolve(cluster.metricAcuUtilization().dimensions)).toEqual({ DBClusterIdentifier: { Ref: expect.stringMatching(/^ApiDatabaseCluster/) } });
    expect(cluster.metricServerlessDatabaseCapacity().metricName).toBe('ServerlessDatabaseCapacity');
    expect(() => cluster.metricFreeStorageSpace()).toThrow(/metricFreeStorageSpace.*Aurora cluster/s);
  });

  test('worker metrics: the pipe by name, the backlog of an SQS queue and of a Kinesis stream, none for DynamoDB', () => {
    const { api, stack } = synth();
    const fromQueue = api.addWorker('FromQueue', { handler: nodeHandler(), source: PipeSource.sqs(sourceQueue(stack)) });
    const fromStream = api.addWorker('FromStream', {
      handler: nodeHandler(),
      source: PipeSource.kinesis(new kinesis.Stream(stack, 'Stream'), { startingPosition: StreamStartingPosition.LATEST }),
    });
    const table = new dynamodb.Table(stack, 'Table', { partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING }, stream: dynamodb.StreamViewType.NEW_IMAGE });
    const fromTable = api.addWorker('FromTable', { handler: nodeHandler(), source: PipeSource.dynamoDbStream(table, { startingPosition: StreamStartingPosition.LATEST }) });

    const failed = fromQueue.metricPipeExecutionFailed();
    expect([failed.namespace, failed.metricName, failed.statistic]).toEqual(['AWS/EventBridge/Pipes', 'ExecutionFailed', 'Sum']);
    expect(stack.resolve(failed.dimensions)).toEqual({ PipeName: { Ref: expect.stringMatching(/^ApiFromQueuePipe/) } });
    const queueAge = fromQueue.metricSourceBacklogAge()!;
    expect([queueAge.namespace, queueAge.metricName, queueAge.statistic]).toEqual(['AWS/SQS', 'ApproximateAgeOfOldestMessage', 'Maximum']);
    const streamAge = fromStream.metricSourceBacklogAge()!;
    expect([streamAge.namespace, streamAge.metricName, streamAge.statistic]).toEqual(['AWS/Kinesis', 'GetRecords.IteratorAgeMilliseconds', 'Maximum']);
    expect(fromTable.metricSourceBacklogAge()).toBeUndefined();
  });
});

describe('default alarms', () => {
  test('the default stack: each alarm with its metric, dimensions, threshold and period, and no action', () => {
    const { api, template } = synth();
    const alarms = alarmsById(template);
    expect([...alarms.keys()].sort()).toEqual([
      'ApiDeadLetterQueue', 'ApiDurationNearTimeout', 'ApiErrorRate', 'ApiThrottles', 'DatabaseCpu', 'DatabaseFreeStorage',
      'DatabaseFreeableMemory', 'ProxyBorrowLatency', 'ProxyConnectionsNearBudget', 'ProxySessionPinning',
    ]);
    expect(api.alarms).toHaveLength(10);
    for (const alarm of alarms.values()) {
      expect(alarm.AlarmActions).toBeUndefined();
      expect(alarm.TreatMissingData).toBe('notBreaching');
      expect(alarm.EvaluationPeriods).toBe(alarm.DatapointsToAlarm);
      expect(alarm.AlarmDescription.length).toBeGreaterThan(60);
    }
    const fn = ref('ApiHandlerFunction');
    expect(alarms.get('ApiErrorRate')).toMatchObject({
      Threshold: 5,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      Metrics: expect.arrayContaining([
        expect.objectContaining({ Expression: 'IF(invocations >= 10, 100 * errors / invocations, 0)' }),
        expect.objectContaining({ Id: 'errors', MetricStat: expect.objectContaining({ Metric: expect.objectContaining({ MetricName: 'Errors', Namespace: 'AWS/Lambda' }), Period: 300, Stat: 'Sum' }) }),
        expect.objectContaining({ Id: 'invocations', MetricStat: expect.objectContaining({ Metric: expect.objectContaining({ MetricName: 'Invocations' }) }) }),
      ]),
    });
    Template.fromJSON({ Resources: { A: { Type: 'AWS::CloudWatch::Alarm', Properties: alarms.get('ApiThrottles') } } }).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Throttles',
      Namespace: 'AWS/Lambda',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      Dimensions: Match.arrayWith([{ Name: 'FunctionName', Value: fn }, { Name: 'Resource', Value: { 'Fn::Join': ['', [fn, ':live']] } }]),
    });
    // 80% of the default 10 s timeout, p99, for 2 periods of 5 minutes
    expect(alarms.get('ApiDurationNearTimeout')).toMatchObject({ MetricName: 'Duration', ExtendedStatistic: 'p99', Threshold: 8000, EvaluationPeriods: 2 });
    expect(alarms.get('ApiDeadLetterQueue')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 1,
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [expect.stringMatching(/^ApiHandlerDeadLetterQueue/), 'QueueName'] } }],
    });
    expect(alarms.get('ProxySessionPinning')).toMatchObject({
      Namespace: 'AWS/RDS',
      MetricName: 'DatabaseConnectionsCurrentlySessionPinned',
      Statistic: 'Sum',
      Period: 60,
      Threshold: 1,
      EvaluationPeriods: 15,
      Dimensions: [{ Name: 'ProxyName', Value: { Ref: expect.stringMatching(/^ApiDatabaseProxy/) } }],
    });
    expect(alarms.get('ProxyBorrowLatency')).toMatchObject({ Statistic: 'Average', Period: 300, Threshold: 100000, EvaluationPeriods: 3 });
    // db.t4g.micro PostgreSQL: max_connections 112 (1 GiB / 9531392), all of it for the proxy by default; 80% of it
    expect(api.database.connectionBudget).toBe(112);
    expect(alarms.get('ProxyConnectionsNearBudget')).toMatchObject({ MetricName: 'DatabaseConnections', Statistic: 'Sum', Period: 60, Threshold: 90, EvaluationPeriods: 5 });
    expect(alarms.get('DatabaseCpu')).toMatchObject({
      MetricName: 'CPUUtilization',
      Threshold: 80,
      EvaluationPeriods: 3,
      Period: 300,
      Dimensions: [{ Name: 'DBInstanceIdentifier', Value: { Ref: expect.stringMatching(/^ApiDatabaseInstance/) } }],
    });
    // 10% of the class's 1 GiB; 5% of the 20 GiB allocated at creation
    expect(alarms.get('DatabaseFreeableMemory')).toMatchObject({ ComparisonOperator: 'LessThanOrEqualToThreshold', Threshold: 107374182 });
    expect(alarms.get('DatabaseFreeStorage')).toMatchObject({ MetricName: 'FreeStorageSpace', Statistic: 'Minimum', Threshold: 1073741824 });
  });

  test('a longer timeout moves the duration alarm; Aurora gets the capacity alarm instead of memory and storage', () => {
    const { template } = synth({ engine: SqlEngine.auroraMysql({ maxCapacity: 8 }), timeout: Duration.seconds(25) });
    const alarms = alarmsById(template);
    expect(alarms.get('ApiDurationNearTimeout')).toMatchObject({ Threshold: 20000 });
    expect(alarms.get('DatabaseCapacity')).toMatchObject({
      MetricName: 'ACUUtilization',
      Threshold: 90,
      EvaluationPeriods: 3,
      Dimensions: [{ Name: 'DBClusterIdentifier', Value: { Ref: expect.stringMatching(/^ApiDatabaseCluster/) } }],
    });
    expect([...alarms.keys()]).not.toContain('DatabaseFreeableMemory');
    expect([...alarms.keys()]).not.toContain('DatabaseFreeStorage');
  });

  test('an existing cluster: no capacity alarm (it may not be serverless), CPU on the cluster', () => {
    const { template } = synth({}, stack => ({ vpc: importedVpc(stack), existingDatabase: existingCluster(stack) }));
    const alarms = alarmsById(template);
    expect(alarms.get('DatabaseCpu')).toMatchObject({ Dimensions: [{ Name: 'DBClusterIdentifier', Value: expect.anything() }] });
    expect([...alarms.keys()]).not.toContain('DatabaseCapacity');
  });

  test('workers: pipe failures, backlog age (seconds for SQS, milliseconds for Kinesis) and every dead-letter queue', () => {
    const { api, stack } = synth();
    api.addWorker('FromQueue', { handler: nodeHandler(), source: PipeSource.sqs(sourceQueue(stack)) });
    api.addWorker('FromStream', {
      handler: nodeHandler(),
      source: PipeSource.kinesis(new kinesis.Stream(stack, 'Stream'), { startingPosition: StreamStartingPosition.LATEST }),
    });
    const template = Template.fromStack(stack);
    const alarms = alarmsById(template);
    expect(alarms.get('FromQueuePipeFailures')).toMatchObject({ Namespace: 'AWS/EventBridge/Pipes', MetricName: 'ExecutionFailed', Threshold: 1 });
    expect(alarms.get('FromQueueBacklog')).toMatchObject({ Namespace: 'AWS/SQS', MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 300, EvaluationPeriods: 3 });
    expect(alarms.get('FromStreamBacklog')).toMatchObject({ Namespace: 'AWS/Kinesis', MetricName: 'GetRecords.IteratorAgeMilliseconds', Threshold: 300000 });
    // the stream's dead-letter queue of failed records; a worker's asynchronous-failure queue only with destinations
    expect(alarms.get('FromStreamSourceDeadLetterQueue')).toMatchObject({
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [expect.stringMatching(/^ApiFromStreamSourceDeadLetterQueue/), 'QueueName'] } }],
    });
    expect([...alarms.keys()]).not.toContain('FromQueueDeadLetterQueue');
    expect([...alarms.keys()]).not.toContain('FromStreamDeadLetterQueue');
    expect(api.alarms.length).toBe(alarms.size);
    // the dashboard's alarm widget lists the workers' alarms too
    const body = JSON.stringify(resourcesOf(template, 'AWS::CloudWatch::Dashboard')[0][1].Properties.DashboardBody);
    expect(body).toContain('ApiMonitoringFromStreamBacklog');
  });

  test('a worker with destinations keeps its asynchronous dead-letter queue, and its alarm', () => {
    const { api, stack } = synth();
    api.addWorker('FromQueue', { handler: nodeHandler(), source: PipeSource.sqs(sourceQueue(stack)), destinations: { retryAttempts: 1 } });
    expect([...alarmsById(Template.fromStack(stack)).keys()]).toContain('FromQueueDeadLetterQueue');
  });

  test('alarmActions reach every alarm, the rollback alarms of a gradual deployment included', () => {
    const { api, stack } = synth({ deployment: Deployment.canary({ percent: 10, interval: Duration.minutes(5) }) }, s => ({
      monitoring: { alarmActions: [new actions.SnsAction(new sns.Topic(s, 'Pager', { enforceSSL: true }))] },
    }));
    api.addWorker('FromQueue', { handler: nodeHandler(), source: PipeSource.sqs(sourceQueue(stack)) });
    const template = Template.fromStack(stack);
    const all = resourcesOf(template, 'AWS::CloudWatch::Alarm');
    expect(all.map(([id]) => id)).toEqual(expect.arrayContaining([expect.stringMatching(/NewVersionErrors/), expect.stringMatching(/NewVersionThrottles/)]));
    for (const [, alarm] of all) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Pager/) }]);
    expect(api.alarms).toHaveLength(all.length);
  });

  test('provisioned concurrency: the dashboard shows utilization and spillover', () => {
    const { template } = synth({ coldStart: ColdStart.provisioned({ min: 1 }) });
    const body = JSON.stringify(resourcesOf(template, 'AWS::CloudWatch::Dashboard')[0][1].Properties.DashboardBody);
    expect(body).toContain('ProvisionedConcurrencyUtilization');
    expect(body).toContain('ProvisionedConcurrencySpilloverInvocations');
  });

  test('switched off: no alarm and no dashboard, and api.alarms is empty', () => {
    const { api, stack } = synth({ monitoring: { alarms: false, dashboard: false } });
    api.addWorker('FromQueue', { handler: nodeHandler(), source: PipeSource.sqs(sourceQueue(stack)) });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    expect(api.alarms).toEqual([]);
    expect(api.dashboard).toBeUndefined();
  });

  test('omitAlarms leaves out the alarms it names, a worker\'s included, and keeps the rest', () => {
    const { api, stack } = synth({ monitoring: { omitAlarms: ['ApiThrottles', 'OrdersBacklog'] } });
    api.addWorker('Orders', { handler: nodeHandler(), source: PipeSource.sqs(sourceQueue(stack)) });
    const names = [...alarmsById(Template.fromStack(stack)).keys()];
    expect(names).not.toContain('ApiThrottles');
    expect(names).not.toContain('OrdersBacklog');
    expect(names).toEqual(expect.arrayContaining(['ApiErrorRate', 'OrdersPipeFailures', 'ProxySessionPinning']));
    expect(api.alarms).toHaveLength(names.length);
    // the README's recipe for sending one alarm somewhere else: find it by its name
    expect(api.alarms.map(alarm => alarm.node.id).sort()).toEqual([...names].sort());
  });

  test('omitAlarms with a name that is no alarm of the API fails synth, listing the names', () => {
    const { api, stack } = synth({ monitoring: { omitAlarms: ['ApiThrotles'] } });
    api.addWorker('Orders', { handler: nodeHandler(), source: PipeSource.sqs(sourceQueue(stack)) });
    expect(() => Template.fromStack(stack)).toThrow(
      /Api: monitoring\.omitAlarms names 'ApiThrotles', which is not an alarm of this API\. Its alarms are: .*ApiThrottles.*OrdersBacklog/);
  });

  test('alarms off, dashboard on: the dashboard still graphs every part', () => {
    const { api, template } = synth({ monitoring: { alarms: false } });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    expect(api.dashboard).toBeInstanceOf(cloudwatch.Dashboard);
  });
});

describe('dashboard', () => {
  test('follows the request path: front door, function (by version too), proxy, database', () => {
    const { template } = synth();
    const [, dashboard] = resourcesOf(template, 'AWS::CloudWatch::Dashboard')[0];
    expect(dashboard.Properties.DashboardName).toBeUndefined();
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    const order = ['## Front door: HTTP API', '## API function', '## RDS Proxy', '## Database'].map(title => body.indexOf(title));
    expect(order.every(i => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(body).toContain('SEARCH(\'{AWS/Lambda,ExecutedVersion,FunctionName,Resource} MetricName=\\\\\\"Invocations\\\\\\"');
    expect(body).toContain('DatabaseConnectionsCurrentlySessionPinned');
    expect(body).toContain('Dead-letter queue: failed asynchronous events');
  });

  test('a function URL front door graphs the URL metrics of the alias', () => {
    const { template } = synth({ frontDoor: FrontDoor.functionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM }) });
    const body = JSON.stringify(resourcesOf(template, 'AWS::CloudWatch::Dashboard')[0][1].Properties.DashboardBody);
    expect(body).toContain('## Front door: function URL');
    expect(body).toContain('UrlRequestCount');
    expect(body).not.toContain('AWS/ApiGateway');
  });
});

describe('runtime metrics', () => {
  test('metricRuntime reads what the runtime\'s emitMetrics() writes: its namespace, FunctionName the function\'s name', () => {
    const { api, stack } = synth();
    const metric = api.metricRuntime('ConnectionsOpened');
    expect([metric.namespace, metric.metricName, metric.statistic]).toEqual(['ServerlessSqlApi', 'ConnectionsOpened', 'Sum']);
    expect(stack.resolve(metric.dimensions)).toEqual({ FunctionName: { Ref: expect.stringMatching(/^ApiHandlerFunction/) } });
  });

  test('the runtime\'s default namespace, dimension and metric names are the ones the construct reads', () => {
    // the construct and the runtime are separate packages: hold them to one contract through the runtime's own output
    const zero = new Proxy({}, { get: () => 0 }) as any;
    const previous = process.env.AWS_LAMBDA_FUNCTION_NAME;
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'fn';
    try {
      const doc = metricsDocument(zero, zero) as any;
      const [directive] = doc._aws.CloudWatchMetrics;
      expect(directive.Dimensions).toEqual([['FunctionName']]);
      expect(doc.FunctionName).toBe('fn');
      const written = directive.Metrics.map((m: { Name: string }) => m.Name);
      const { template } = synth();
      const body = JSON.stringify(resourcesOf(template, 'AWS::CloudWatch::Dashboard')[0][1].Properties.DashboardBody);
      const graphed = [...body.matchAll(/\[\\"([A-Za-z]+)\\",\\"([A-Za-z]+)\\",\\"FunctionName\\"/g)]
        .filter(([, namespace]) => namespace === directive.Namespace).map(([, , name]) => name);
      expect(graphed.length).toBeGreaterThan(0);
      expect(new Set(graphed)).toEqual(new Set(written));
    } finally {
      if (previous === undefined) delete process.env.AWS_LAMBDA_FUNCTION_NAME; else process.env.AWS_LAMBDA_FUNCTION_NAME = previous;
    }
  });

  test('the dashboard graphs them for the API function and each worker', () => {
    const { api, stack } = synth();
    api.addWorker('Orders', { handler: nodeHandler(), source: PipeSource.sqs(sourceQueue(stack)) });
    const body = JSON.stringify(resourcesOf(Template.fromStack(stack), 'AWS::CloudWatch::Dashboard')[0][1].Properties.DashboardBody);
    expect(body.split('Runtime: cold starts and connections').length - 1).toBe(2);
  });
});
