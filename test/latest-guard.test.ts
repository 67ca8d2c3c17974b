import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { PipeSource, ServerlessSqlApi } from '../src';
import { nodeHandler, synth } from './util';

/** Invokers created elsewhere in the stack, outside the construct, for the function `target`. */
const ELSEWHERE: ReadonlyArray<readonly [string, (stack: Stack, target: lambda.IFunction) => void, RegExp]> = [
  ['an EventBridge rule', (stack, target) => new events.Rule(stack, 'Nightly', {
    schedule: events.Schedule.rate(Duration.days(1)), targets: [new targets.LambdaFunction(target)],
  }), /Stack\/Nightly\/Resource \(AWS::Events::Rule.Targets\) targets the unqualified function/],
  ['an SNS subscription', (stack, target) => new sns.Topic(stack, 'Topic').addSubscription(new subscriptions.LambdaSubscription(target)),
    /Stack\/[^ ]*\/Topic\/Resource \(AWS::SNS::Subscription.Endpoint\) targets the unqualified function/],
  ['an S3 notification', (stack, target) => new s3.Bucket(stack, 'Uploads').addObjectCreatedNotification(new s3n.LambdaDestination(target)),
    /Stack\/Uploads\/Notifications\/Resource \(Custom::S3BucketNotifications.NotificationConfiguration\) targets the unqualified function/],
  ['a raw permission', (stack, target) => new lambda.CfnPermission(stack, 'Raw', {
    action: 'lambda:InvokeFunction', principal: 'events.amazonaws.com', functionName: `${target.functionArn}:$LATEST`,
  }), /Stack\/Raw \(AWS::Lambda::Permission.FunctionName\) targets the unqualified function/],
  // invokers of types next to those the guard skips (secrets, HTTP API stages)
  ['a secret rotation', (stack, target) => new secretsmanager.CfnRotationSchedule(stack, 'Rotation', {
    secretId: new secretsmanager.Secret(stack, 'Secret').secretArn, rotationLambdaArn: target.functionArn,
  }), /Stack\/Rotation \(AWS::SecretsManager::RotationSchedule.RotationLambdaARN\) targets the unqualified function/],
  ['an HTTP API created with a quick-create target', (stack, target) => new apigwv2.CfnApi(stack, 'Quick', {
    name: 'quick', protocolType: 'HTTP', target: target.functionArn,
  }), /Stack\/Quick \(AWS::ApiGatewayV2::Api.Target\) targets the unqualified function/],
];

describe('$LATEST guard', () => {
  test('the default stack passes', () => {
    expect(() => synth().template).not.toThrow();
  });

  test.each([
    ['a permission on the unqualified function', (api: any) => api.function.addPermission('S3', { principal: new iam.ServicePrincipal('s3.amazonaws.com') }),
      /Api\/Handler\/Function\/S3 \(AWS::Lambda::Permission.FunctionName\) targets the unqualified function/],
    ['an async invoke config on $LATEST', (api: any) => api.function.configureAsyncInvoke({ retryAttempts: 0 }),
      /Api\/Handler\/Function\/EventInvokeConfig\/Resource \(AWS::Lambda::EventInvokeConfig.FunctionName\) names \$LATEST/],
    ['an event source mapping on the unqualified function', (api: any) => api.function.addEventSourceMapping('Queue', {
      eventSourceArn: new sqs.Queue(Stack.of(api), 'Q').queueArn,
    }), /\(AWS::Lambda::EventSourceMapping.FunctionName\) targets the unqualified function/],
    ['a function URL without qualifier', (api: any) => new lambda.CfnUrl(api, 'RawUrl', { authType: 'NONE', targetFunctionArn: api.function.functionArn }),
      /Api\/RawUrl \(AWS::Lambda::Url.TargetFunctionArn\) targets the unqualified function/],
  ])('fails synth, naming the resource, for %s', (_case, add, message) => {
    const result = synth();
    add(result.api);
    expect(() => Template.fromStack(result.stack)).toThrow(message);
  });

  test.each(ELSEWHERE)('fails synth for %s elsewhere in the stack, naming it', (_case, add, message) => {
    const result = synth();
    add(result.stack, result.api.function);
    expect(() => Template.fromStack(result.stack)).toThrow(message);
  });

  test.each(ELSEWHERE)('fails synth for %s on a worker\'s function', (_case, add, message) => {
    const result = synth();
    const queue = new sqs.Queue(result.stack, 'Q', { deadLetterQueue: { queue: new sqs.Queue(result.stack, 'Dlq'), maxReceiveCount: 3 } });
    const worker = result.api.addWorker('Worker', { handler: nodeHandler(), source: PipeSource.sqs(queue) });
    add(result.stack, worker.handler.function);
    expect(() => Template.fromStack(result.stack)).toThrow(message);
  });

  test.each(ELSEWHERE.filter(([name]) => name !== 'a raw permission'))('%s on the alias passes', (_case, add) => {
    const result = synth();
    add(result.stack, result.api.alias);
    expect(() => result.template).not.toThrow();
  });

  test('functions of another stack\'s API, or of none, are not its business', () => {
    const result = synth();
    const other = new lambda.Function(result.stack, 'Plain', {
      runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => 1'),
    });
    new events.Rule(result.stack, 'Rule', { schedule: events.Schedule.rate(Duration.days(1)), targets: [new targets.LambdaFunction(other)] });
    expect(() => result.template).not.toThrow();
    expect(ServerlessSqlApi).toBeDefined();
  });

  test('the same additions on the alias pass', () => {
    const result = synth();
    result.api.alias.addPermission('S3', { principal: new iam.ServicePrincipal('s3.amazonaws.com') });
    result.api.alias.addEventSourceMapping('Queue', { eventSourceArn: new sqs.Queue(result.stack, 'Q').queueArn });
    expect(() => result.template).not.toThrow();
  });
});
