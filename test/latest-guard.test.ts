import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { synth } from './util';

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

  test('the same additions on the alias pass', () => {
    const result = synth();
    result.api.alias.addPermission('S3', { principal: new iam.ServicePrincipal('s3.amazonaws.com') });
    result.api.alias.addEventSourceMapping('Queue', { eventSourceArn: new sqs.Queue(result.stack, 'Q').queueArn });
    expect(() => result.template).not.toThrow();
  });
});
