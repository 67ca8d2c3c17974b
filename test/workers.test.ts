import { Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { PipeFilter, PipeSource, StreamStartingPosition } from '../src';
import { nodeHandler, synth } from './util';

const withWorker = (source: (stack: Stack) => PipeSource, extra: object = {}) => {
  const result = synth();
  const worker = result.api.addWorker('Ingest', { handler: nodeHandler(), source: source(result.stack), ...extra });
  return { ...result, worker, template: Template.fromStack(result.stack) };
};
const sourceQueue = (stack: Stack, key?: kms.IKey) => new sqs.Queue(stack, 'Events', {
  encryptionMasterKey: key,
  encryption: key ? sqs.QueueEncryption.KMS : undefined,
  deadLetterQueue: { queue: new sqs.Queue(stack, 'EventsDlq'), maxReceiveCount: 5 },
});
const workerAlias = (template: Template) => Object.keys(template.findResources('AWS::Lambda::Alias')).find(id => id.startsWith('ApiIngestHandlerAlias'))!;
const pipeRolePolicy = (template: Template) => Object.entries<any>(template.findResources('AWS::IAM::Policy'))
  .find(([id]) => id.startsWith('ApiIngestPipeRole'))![1].Properties.PolicyDocument.Statement;

describe('workers', () => {
  test('lean: the pipe invokes synchronously, so a worker has no asynchronous-invocation config or queue unless destinations are set', () => {
    const count = (template: Template) => Object.keys(template.toJSON().Resources).length;
    const before = count(synth().template);
    const { template: lean } = withWorker(stack => PipeSource.sqs(sourceQueue(stack)));
    const ids = (template: Template, type: string) => Object.keys(template.findResources(type)).filter(id => id.startsWith('ApiIngest'));
    expect(ids(lean, 'AWS::Lambda::EventInvokeConfig')).toEqual([]);
    expect(ids(lean, 'AWS::SQS::Queue')).toEqual([]);
    // the source queue and its dead-letter queue are the test's, not the worker's
    const added = count(lean) - before - 2;

    const { template: full } = withWorker(stack => PipeSource.sqs(sourceQueue(stack)), { destinations: { retryAttempts: 1 } });
    expect(ids(full, 'AWS::Lambda::EventInvokeConfig')).toHaveLength(1);
    expect(ids(full, 'AWS::SQS::Queue')).toHaveLength(1);
    expect(count(full) - before - 2 - added).toBeGreaterThanOrEqual(3);
  });

  test('SQS: a pipe from the queue to the worker alias, least-privilege role, error logs kept', () => {
    const { template } = withWorker(stack => PipeSource.sqs(sourceQueue(stack, new kms.Key(stack, 'Key')), {
      batchSize: 50, maxBatchingWindow: Duration.seconds(5),
    }), { filters: [PipeFilter.pattern({ body: { type: ['order'] } })] });
    const alias = workerAlias(template);
    template.hasResourceProperties('AWS::Pipes::Pipe', {
      Source: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Events'), 'Arn'] },
      Target: { Ref: alias },
      SourceParameters: {
        SqsQueueParameters: { BatchSize: 50, MaximumBatchingWindowInSeconds: 5 },
        FilterCriteria: { Filters: [{ Pattern: '{"body":{"type":["order"]}}' }] },
      },
      TargetParameters: { LambdaFunctionParameters: { InvocationType: 'REQUEST_RESPONSE' } },
      LogConfiguration: { Level: 'ERROR', CloudwatchLogsLogDestination: { LogGroupArn: Match.anyValue() } },
    });
    const statements = pipeRolePolicy(template);
    const actions = statements.flatMap((s: any) => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'lambda:InvokeFunction', 'kms:Decrypt']));
    expect(actions.filter((a: string) => a.startsWith('lambda:'))).toEqual(['lambda:InvokeFunction']);
    const invoke = statements.find((s: any) => s.Action === 'lambda:InvokeFunction');
    expect(invoke.Resource).toEqual({ Ref: alias });
    // the worker: its own version and alias, in the VPC, with the database contract
    template.hasResourceProperties('AWS::Lambda::Alias', { Name: 'live', FunctionName: { Ref: Match.stringLikeRegexp('^ApiIngestHandlerFunction') } });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SQL_USER: 'app_user', SQL_AUTH: 'iam' }) },
      VpcConfig: Match.anyValue(),
    });
  });

  test('Kinesis: retries, bisect and a dead-letter queue', () => {
    const { template, worker } = withWorker(stack => PipeSource.kinesis(new kinesis.Stream(stack, 'Clicks'), {
      startingPosition: StreamStartingPosition.LATEST, batchSize: 500, parallelizationFactor: 2,
    }));
    template.hasResourceProperties('AWS::Pipes::Pipe', {
      SourceParameters: {
        KinesisStreamParameters: {
          StartingPosition: 'LATEST',
          BatchSize: 500,
          MaximumRetryAttempts: 3,
          OnPartialBatchItemFailure: 'AUTOMATIC_BISECT',
          ParallelizationFactor: 2,
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('SourceDeadLetterQueue'), 'Arn'] } },
        },
      },
    });
    expect(worker.deadLetterQueue).toBeDefined();
    const actions = pipeRolePolicy(template).flatMap((s: any) => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['kinesis:GetRecords', 'kinesis:GetShardIterator', 'sqs:SendMessage', 'lambda:InvokeFunction']));
  });

  test('DynamoDB stream', () => {
    const { template } = withWorker(stack => PipeSource.dynamoDbStream(new dynamodb.Table(stack, 'Orders', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING }, stream: dynamodb.StreamViewType.NEW_IMAGE,
    }), { startingPosition: StreamStartingPosition.TRIM_HORIZON, bisectBatchOnError: false }));
    template.hasResourceProperties('AWS::Pipes::Pipe', {
      Source: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Orders'), 'StreamArn'] },
      SourceParameters: { DynamoDBStreamParameters: Match.objectLike({ StartingPosition: 'TRIM_HORIZON', OnPartialBatchItemFailure: Match.absent() }) },
    });
  });

});

describe('worker enrichment', () => {
  test('an enrichment alias is invoked by the pipe', () => {
    const result = synth();
    const enrich = new lambda.Function(result.stack, 'Enrich', {
      runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async e => e'),
    });
    const alias = enrich.addAlias('live');
    result.api.addWorker('Ingest', { handler: nodeHandler(), source: PipeSource.sqs(sourceQueue(result.stack)), enrichment: alias });
    const template = Template.fromStack(result.stack);
    template.hasResourceProperties('AWS::Pipes::Pipe', { Enrichment: { Ref: Match.stringLikeRegexp('^EnrichAliaslive') } });
  });

});

test('warns that destinations never apply to a pipe-fed worker', () => {
  const result = synth();
  result.api.addWorker('Ingest', { handler: nodeHandler(), source: PipeSource.sqs(sourceQueue(result.stack)), destinations: { retryAttempts: 0 } });
  Annotations.fromStack(result.stack)
    .hasWarning('/Stack/Api/Ingest', Match.stringLikeRegexp('the pipe invokes the worker synchronously'));
});
