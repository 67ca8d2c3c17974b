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

  test.each([
    ['an SQS queue without a dead-letter queue', (stack: Stack) => PipeSource.sqs(new sqs.Queue(stack, 'Plain')),
      /invalid source \("queue Stack\/Plain without a dead-letter queue"\).*deadLetterQueue: \{ queue, maxReceiveCount \}/],
    ['an SQS batch over 10 without a window', (stack: Stack) => PipeSource.sqs(sourceQueue(stack), { batchSize: 20 }),
      /invalid source.batchSize \(20\).*maxBatchingWindow of at least 1 second/],
    ['an SQS batch over 10,000', (stack: Stack) => PipeSource.sqs(sourceQueue(stack), { batchSize: 10001, maxBatchingWindow: Duration.seconds(1) }),
      /invalid source.batchSize \(10001\)/],
    ['a batching window over 300 s', (stack: Stack) => PipeSource.sqs(sourceQueue(stack), { maxBatchingWindow: Duration.minutes(6) }),
      /invalid source.maxBatchingWindow \(6 minutes\)/],
    ['a parallelization factor of 11', (stack: Stack) => PipeSource.kinesis(new kinesis.Stream(stack, 'S'), { startingPosition: StreamStartingPosition.LATEST, parallelizationFactor: 11 }),
      /invalid source.parallelizationFactor \(11\)/],
    ['a table without a stream', (stack: Stack) => PipeSource.dynamoDbStream(new dynamodb.Table(stack, 'T', { partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING } }), { startingPosition: StreamStartingPosition.LATEST }),
      /invalid source \("a table without a stream"\)/],
  ])('fails for %s', (_case, source, message) => {
    expect(() => withWorker(source)).toThrow(message);
  });

  test('fails with more than 5 filters or a filter over 4096 characters', () => {
    const six = Array.from({ length: 6 }, (_, i) => PipeFilter.pattern({ body: { n: [i] } }));
    expect(() => withWorker(stack => PipeSource.sqs(sourceQueue(stack)), { filters: six })).toThrow(/invalid filters \("6 filters"\).*at most 5/);
    const big = PipeFilter.pattern({ body: { id: Array.from({ length: 600 }, (_, i) => `id-${i}`) } });
    expect(() => withWorker(stack => PipeSource.sqs(sourceQueue(stack)), { filters: [big] })).toThrow(/invalid filters\[0\] \("\d+ characters"\).*at most 4096/);
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

  test('fails when the enrichment is an unqualified function', () => {
    const result = synth();
    const enrich = new lambda.Function(result.stack, 'Enrich', {
      runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async e => e'),
    });
    expect(() => result.api.addWorker('Ingest', { handler: nodeHandler(), source: PipeSource.sqs(sourceQueue(result.stack)), enrichment: enrich }))
      .toThrow(/invalid enrichment \("Stack\/Enrich"\).*alias or version/);
  });
});

test('warns that destinations never apply to a pipe-fed worker', () => {
  const result = synth();
  result.api.addWorker('Ingest', { handler: nodeHandler(), source: PipeSource.sqs(sourceQueue(result.stack)), destinations: { retryAttempts: 0 } });
  Annotations.fromStack(result.stack)
    .hasWarning('/Stack/Api/Ingest', Match.stringLikeRegexp('the pipe invokes the worker synchronously'));
});
