import { Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { ApiHandler, ColdStart, Deployment, PipeSource, SqlEngine, UtilizationStatistic } from '../src';
import { existingCluster, existingInstance, logicalIdOf, nodeHandler, resourcesOf, synth } from './util';

const python = () => ApiHandler.fromCode({
  runtime: lambda.Runtime.PYTHON_3_13,
  code: lambda.Code.fromInline('def handler(event, context):\n  return {}'),
  handler: 'index.handler',
});

describe('cold start', () => {
  test('on demand by default: no SnapStart, no provisioned concurrency', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::Lambda::Function', { SnapStart: Match.absent() });
    template.hasResourceProperties('AWS::Lambda::Alias', { ProvisionedConcurrencyConfig: Match.absent() });
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
  });

  test('SnapStart on published versions for a Python handler, and no provisioned concurrency', () => {
    const { template, annotations } = synth({ handler: python(), coldStart: ColdStart.snapStart() });
    // the library always publishes a version: aws-cdk-lib's warning that SnapStart needs one is acknowledged
    expect(annotations.findWarning('*', Match.stringLikeRegexp('SnapStart only supports published'))).toEqual([]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'python3.13', SnapStart: { ApplyOn: 'PublishedVersions' },
    });
    template.hasResourceProperties('AWS::Lambda::Alias', { ProvisionedConcurrencyConfig: Match.absent() });
  });

  test('fails when SnapStart and provisioned concurrency meet through an escape hatch', () => {
    const { api } = synth({ handler: python(), coldStart: ColdStart.snapStart() });
    (api.alias.node.defaultChild as lambda.CfnAlias).provisionedConcurrencyConfig = { provisionedConcurrentExecutions: 2 };
    expect(() => Template.fromStack(Stack.of(api)))
      .toThrow(/SnapStart and provisioned concurrency cannot be combined/);
  });

  test('fixed provisioned concurrency on the alias, no autoscaling', () => {
    const { template } = synth({ coldStart: ColdStart.provisioned({ min: 3 }) });
    template.hasResourceProperties('AWS::Lambda::Alias', {
      Name: 'live', ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 3 },
    });
    template.hasResourceProperties('AWS::Lambda::Function', { SnapStart: Match.absent() });
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
  });

  test('autoscaled provisioned concurrency: scalable target on the alias, tracking average utilization', () => {
    const { template } = synth({ coldStart: ColdStart.provisioned({ min: 2, max: 20 }) });
    const fn = Object.keys(template.findResources('AWS::Lambda::Function')).find(id => id.startsWith('ApiHandlerFunction'));
    const alias = Object.keys(template.findResources('AWS::Lambda::Alias')).find(id => id.startsWith('ApiHandlerAlias'))!;
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ServiceNamespace: 'lambda',
      ScalableDimension: 'lambda:function:ProvisionedConcurrency',
      ResourceId: { 'Fn::Join': ['', ['function:', { Ref: fn }, ':live']] },
      MinCapacity: 2,
      MaxCapacity: 20,
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: 0.7,
        PredefinedMetricSpecification: { PredefinedMetricType: 'LambdaProvisionedConcurrencyUtilization' },
      },
    });
    const [, target] = resourcesOf(template, 'AWS::ApplicationAutoScaling::ScalableTarget')[0];
    expect(target.DependsOn).toEqual(expect.arrayContaining([alias]));
  });

  test('tracking the maximum utilization, with a schedule', () => {
    const { template } = synth({
      coldStart: ColdStart.provisioned({
        min: 1,
        max: 10,
        utilizationTarget: 0.5,
        utilizationStatistic: UtilizationStatistic.MAXIMUM,
        schedules: [{ name: 'MorningPeak', schedule: appscaling.Schedule.cron({ hour: '7', minute: '30' }), min: 5 }],
      }),
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: 0.5,
        CustomizedMetricSpecification: Match.objectLike({
          MetricName: 'ProvisionedConcurrencyUtilization', Namespace: 'AWS/Lambda', Statistic: 'Maximum',
        }),
      },
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ScheduledActions: [Match.objectLike({ ScheduledActionName: 'MorningPeak', Schedule: 'cron(30 7 * * ? *)', ScalableTargetAction: { MinCapacity: 5 } })],
    });
  });

  test('warns, with the numbers, when concurrency can exceed the connection budget', () => {
    // db.t4g.micro: 1 GiB / 9531392 = 112 connections; 50% for the proxy = 56
    const { annotations } = synth({ proxy: { maxConnectionsPercent: 50 }, coldStart: ColdStart.provisioned({ min: 10, max: 80 }) });
    annotations.hasWarning('/Stack/Api/Database', Match.stringLikeRegexp(
      'reach up to 80 concurrent executions together \\(Stack/Api/Handler 80 \\(provisioned\\)\\).* at most 56 database connections '
      + '\\(the database\'s max_connections 112 times the proxy\'s maxConnectionsPercent 50%\\)'));
  });

  test('no budget warning within the budget, or when the budget is unknown (an Aurora maximum between the guide\'s rows)', () => {
    const within = synth({ reservedConcurrentExecutions: 50 });
    within.annotations.hasNoWarning('*', Match.stringLikeRegexp('concurrent executions'));
    const aurora = synth({ engine: SqlEngine.auroraPostgres({ maxCapacity: 6 }), reservedConcurrentExecutions: 5000 });
    expect(aurora.api.database.connectionBudget).toBeUndefined();
    aurora.annotations.hasNoWarning('*', Match.stringLikeRegexp('concurrent executions'));
  });

  test('one budget: the API function, routes, workers and pre-traffic hooks are summed, each under it alone', () => {
    const result = synth({ reservedConcurrentExecutions: 40, deployment: Deployment.canary({ percent: 10, interval: Duration.minutes(5) }) });
    result.api.addRoute('POST /reports', nodeHandler(), { reservedConcurrentExecutions: 40 });
    const queue = new sqs.Queue(result.stack, 'Events', { deadLetterQueue: { queue: new sqs.Queue(result.stack, 'EventsDlq'), maxReceiveCount: 3 } });
    result.api.addWorker('Ingest', { handler: nodeHandler(), source: PipeSource.sqs(queue), coldStart: ColdStart.provisioned({ min: 1, max: 31 }) });
    result.api.addRoute('GET /todos', nodeHandler());
    // 40 + 1 (the API's hook) + 40 + 31 = 112 = the budget: not over it
    Annotations.fromStack(result.stack).hasNoWarning('*', Match.stringLikeRegexp('concurrent executions'));

    const over = synth({ reservedConcurrentExecutions: 40, deployment: Deployment.canary({ percent: 10, interval: Duration.minutes(5) }) });
    over.api.addRoute('POST /reports', nodeHandler(), { reservedConcurrentExecutions: 40 });
    const overQueue = new sqs.Queue(over.stack, 'Events', { deadLetterQueue: { queue: new sqs.Queue(over.stack, 'EventsDlq'), maxReceiveCount: 3 } });
    over.api.addWorker('Ingest', { handler: nodeHandler(), source: PipeSource.sqs(overQueue), coldStart: ColdStart.provisioned({ min: 1, max: 32 }) });
    over.api.addRoute('GET /todos', nodeHandler());
    Annotations.fromStack(over.stack).hasWarning('/Stack/Api/Database', Match.stringLikeRegexp(
      'reach up to 113 concurrent executions together \\(Stack/Api/Handler 40 \\(reserved\\), '
      + 'Stack/Api/Handler/PreTrafficHook 1 \\(once per deployment\\), Stack/Api/RoutePostReports/Handler 40 \\(reserved\\), '
      + 'Stack/Api/Ingest/Handler 32 \\(provisioned\\)\\), and 1 more without a concurrency cap are not counted.* at most 112 database connections'));
  });

  test('Aurora Serverless v2: the budget is the guide\'s max_connections for the maximum capacity', () => {
    const budget = (engine: SqlEngine) => synth({ engine }).api.database.connectionBudget;
    expect(budget(SqlEngine.auroraPostgres())).toBe(823); // 0.5-4 ACU
    expect(budget(SqlEngine.auroraMysql())).toBe(135);
    expect(budget(SqlEngine.auroraMysql({ maxCapacity: 8 }))).toBe(1000);
    expect(budget(SqlEngine.auroraPostgres({ minCapacity: 0.5, maxCapacity: 16 }))).toBe(2000); // capped with 0.5 ACU
    expect(budget(SqlEngine.auroraPostgres({ minCapacity: 1, maxCapacity: 16 }))).toBe(3360);
    expect(budget(SqlEngine.auroraPostgres({ minCapacity: 2, maxCapacity: 40 }))).toBe(5000); // the formula's cap
    expect(budget(SqlEngine.auroraMysql({ maxCapacity: 40 }))).toBeUndefined(); // between the guide's rows
    const { annotations } = synth({ engine: SqlEngine.auroraPostgres(), reservedConcurrentExecutions: 900 });
    annotations.hasWarning('/Stack/Api/Database', Match.stringLikeRegexp('up to 900 concurrent executions .* at most 823 database connections'));
  });

  test('an existing database: the budget from its instance class or its max_connections, when given', () => {
    const withClass = synth({}, stack => ({
      existingDatabase: existingInstance(stack, {}, { instanceType: ec2.InstanceType.of(ec2.InstanceClass.R7G, ec2.InstanceSize.LARGE) }),
      reservedConcurrentExecutions: 2000,
    }));
    // db.r7g.large PostgreSQL: 16 GiB / 9531392 = 1802
    expect(withClass.api.database.connectionBudget).toBe(1802);
    withClass.annotations.hasWarning('/Stack/Api/Database', Match.stringLikeRegexp('at most 1802 database connections'));
    const given = synth({}, stack => ({
      existingDatabase: existingCluster(stack, {}, { maxConnections: 300 }),
    }));
    expect(given.api.database.connectionBudget).toBe(300);
    expect(synth({}, stack => ({ existingDatabase: existingInstance(stack) })).api.database.connectionBudget).toBeUndefined();
  });

  test('MySQL budget uses the MySQL formula', () => {
    // db.r7g.large: 16 GiB / 12582880 = 1365
    const { annotations } = synth({
      engine: SqlEngine.mysql({ instanceType: ec2.InstanceType.of(ec2.InstanceClass.R7G, ec2.InstanceSize.LARGE) }),
      reservedConcurrentExecutions: 2000,
    });
    annotations.hasWarning('/Stack/Api/Database', Match.stringLikeRegexp('up to 2000 concurrent executions .* at most 1365 database connections'));
  });
});

describe('deployment', () => {
  test('all at once by default: no CodeDeploy', () => {
    const { template, api } = synth();
    template.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 0);
    expect(api.deploymentGroup).toBeUndefined();
  });

  test('canary: CodeDeploy on the alias with rollbacks, alarms on the new version, and a pre-traffic hook', () => {
    const userAlarm = (stack: any) => new cloudwatch.Alarm(stack, 'Latency', {
      metric: new cloudwatch.Metric({ namespace: 'App', metricName: 'Latency' }), threshold: 1000, evaluationPeriods: 1,
    });
    const { template, api } = synth({}, stack => ({
      deployment: Deployment.canary({ percent: 10, interval: Duration.minutes(5), alarms: [userAlarm(stack)] }),
    }));
    expect(api.deploymentGroup).toBeDefined();
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentConfig', {
      ComputePlatform: 'Lambda',
      TrafficRoutingConfig: { Type: 'TimeBasedCanary', TimeBasedCanary: { CanaryInterval: 5, CanaryPercentage: 10 } },
    });
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      AutoRollbackConfiguration: { Enabled: true, Events: Match.arrayWith(['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM']) },
      AlarmConfiguration: { Enabled: true, Alarms: Match.arrayWith([{ Name: { Ref: Match.stringLikeRegexp('^Latency') } }]) },
    });
    const alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([, r]) => r.Properties);
    const version = logicalIdOf(template, 'AWS::Lambda::Version', r => r.Properties.FunctionName.Ref.startsWith('ApiHandlerFunction'));
    const fn = Object.keys(template.findResources('AWS::Lambda::Function')).find(id => id.startsWith('ApiHandlerFunction'));
    for (const metric of ['Errors', 'Throttles']) {
      expect(alarms).toEqual(expect.arrayContaining([expect.objectContaining({
        MetricName: metric,
        Threshold: 1,
        Dimensions: expect.arrayContaining([{
          Name: 'Resource',
          Value: { 'Fn::Join': ['', [{ Ref: fn }, ':', { 'Fn::GetAtt': [version, 'Version'] }]] },
        }]),
      })]));
    }
    // the API alias is handed over to CodeDeploy
    const apiAlias = resourcesOf(template, 'AWS::Lambda::Alias').find(([id]) => id.startsWith('ApiHandlerAlias'))![1];
    expect(apiAlias.UpdatePolicy.CodeDeployLambdaAliasUpdate).toBeDefined();
    // the hook: in the VPC, connecting as the same user, invoked by CodeDeploy through its own alias
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      Description: Match.stringLikeRegexp('^Pre-traffic check of Stack/Api/Handler'),
      VpcConfig: Match.objectLike({ SubnetIds: Match.anyValue() }),
      Environment: { Variables: Match.objectLike({ SQL_USER: 'app_user', SQL_AUTH: 'iam' }) },
    });
    const hookAlias = Object.keys(template.findResources('AWS::Lambda::Alias')).find(id => id.startsWith('ApiHandlerPreTrafficHookAlias'));
    expect(hookAlias).toBeDefined();
    expect(JSON.stringify(apiAlias.UpdatePolicy)).toContain(hookAlias!);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      ServiceName: 'com.amazonaws.eu-west-1.codedeploy', VpcEndpointType: 'Interface', PrivateDnsEnabled: true,
    });
    const hookPolicies = JSON.stringify(resourcesOf(template, 'AWS::IAM::Policy').filter(([id]) => id.includes('PreTrafficHook')));
    expect(hookPolicies).toContain('codedeploy:PutLifecycleEventHookExecutionStatus');
    expect(hookPolicies).toContain('/app_user');
  });

  test('linear without the hook or its endpoint', () => {
    const { template } = synth({ deployment: Deployment.linear({ percent: 25, interval: Duration.minutes(2), preTrafficCheck: false }) });
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentConfig', {
      TrafficRoutingConfig: { Type: 'TimeBasedLinear', TimeBasedLinear: { LinearInterval: 2, LinearPercentage: 25 } },
    });
    expect(JSON.stringify(template.findResources('AWS::EC2::VPCEndpoint'))).not.toContain('codedeploy');
    expect(JSON.stringify(template.toJSON())).not.toContain('PreTrafficHook');
  });

  test('the hook without a new endpoint when the VPC already reaches CodeDeploy', () => {
    const { template } = synth({ deployment: Deployment.canary({ percent: 10, interval: Duration.minutes(5), codeDeployEndpoint: false }) });
    expect(JSON.stringify(template.findResources('AWS::EC2::VPCEndpoint'))).not.toContain('codedeploy');
    expect(JSON.stringify(template.toJSON())).toContain('PreTrafficHook');
  });

  test('warns when a short gradual deployment meets provisioned concurrency', () => {
    const { annotations } = synth({
      coldStart: ColdStart.provisioned({ min: 2 }),
      deployment: Deployment.linear({ percent: 50, interval: Duration.minutes(1) }),
    });
    annotations.hasWarning('/Stack/Api/Handler', Match.stringLikeRegexp('deployment.interval is 1 minute with provisioned concurrency'));
    const long = synth({
      coldStart: ColdStart.provisioned({ min: 2 }),
      deployment: Deployment.linear({ percent: 50, interval: Duration.minutes(10) }),
    });
    long.annotations.hasNoWarning('*', Match.stringLikeRegexp('with provisioned concurrency'));
  });

});
