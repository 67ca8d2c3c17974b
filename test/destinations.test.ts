import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { FrontDoor } from '../src';
import { logicalIdOf, synth } from './util';

/** The qualifier as read from the API alias's ARN: a reference, so CloudFormation creates the alias first. */
const qualifierOfApiAlias = (template: any) => ({
  'Fn::Select': [7, { 'Fn::Split': [':', { Ref: logicalIdOf(template, 'AWS::Lambda::Alias', r => JSON.stringify(r).includes('ApiHandlerFunction')) }] }],
});
const apiConfig = (template: any) => Object.entries<any>(template.findResources('AWS::Lambda::EventInvokeConfig'))
  .find(([id]) => id.startsWith('ApiHandlerAsyncInvokeConfig'))![1].Properties;

describe('asynchronous invocations', () => {
  test('on the alias, failures kept in an encrypted, TLS-only queue for 14 days', () => {
    const { template, api } = synth();
    const queue = Object.keys(template.findResources('AWS::SQS::Queue')).find(id => id.startsWith('ApiHandlerDeadLetterQueue'))!;
    expect(apiConfig(template)).toMatchObject({
      Qualifier: qualifierOfApiAlias(template),
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 21600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queue, 'Arn'] } } },
    });
    template.hasResource('AWS::SQS::Queue', {
      DeletionPolicy: 'Retain',
      Properties: { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 },
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    expect(api.deadLetterQueue).toBeDefined();
  });

  test('user destinations, retries and event age', () => {
    const { template, api } = synth({}, stack => ({
      destinations: {
        onSuccess: new destinations.SnsDestination(new sns.Topic(stack, 'Done')),
        onFailure: new destinations.SqsDestination(new sqs.Queue(stack, 'Failed')),
        retryAttempts: 0,
        maxEventAge: Duration.minutes(5),
      },
      frontDoor: FrontDoor.none(),
    }));
    const failed = logicalIdOf(template, 'AWS::SQS::Queue', r => !JSON.stringify(r).includes('DeadLetter') && r.Properties?.SqsManagedSseEnabled === undefined);
    expect(apiConfig(template)).toMatchObject({
      Qualifier: qualifierOfApiAlias(template),
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 300,
      DestinationConfig: { OnSuccess: { Destination: { Ref: expect.stringMatching(/^Done/) } }, OnFailure: { Destination: { 'Fn::GetAtt': [failed, 'Arn'] } } },
    });
    expect(api.deadLetterQueue).toBeUndefined();
  });

  test('warns that destinations do not apply to the synchronous front door', () => {
    const { annotations } = synth({ destinations: { retryAttempts: 1 } });
    annotations.hasWarning('/Stack/Api', Match.stringLikeRegexp('apply to asynchronous invocations only'));
    synth({ destinations: { retryAttempts: 1 }, frontDoor: FrontDoor.none() }).annotations
      .hasNoWarning('*', Match.stringLikeRegexp('asynchronous invocations only'));
  });

});
