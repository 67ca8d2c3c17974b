/**
 * Data and secret safety, asserted on whole synthesized templates: the default stack and one with every feature on.
 */
import * as path from 'path';
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { ColdStart, Deployment, Migrations, PipeSource, SqlEngine, StreamStartingPosition } from '../src';
import { nodeHandler, synth } from './util';

function fullStack(): { template: Template; stack: Stack } {
  const result = synth({
    engine: SqlEngine.auroraPostgres({ minCapacity: 0.5, maxCapacity: 8, readers: 1 }),
    coldStart: ColdStart.provisioned({ min: 1, max: 5 }),
    deployment: Deployment.canary({ percent: 10, interval: Duration.minutes(5) }),
    migrations: Migrations.fromDirectory(path.join(__dirname, '..', 'examples', 'todo-api', 'db', 'migrations')),
  });
  const queue = new sqs.Queue(result.stack, 'Events', {
    deadLetterQueue: { queue: new sqs.Queue(result.stack, 'EventsDlq'), maxReceiveCount: 3 },
  });
  result.api.addWorker('Ingest', { handler: nodeHandler(), source: PipeSource.sqs(queue) });
  result.api.addWorker('Stream', {
    handler: nodeHandler(),
    source: PipeSource.kinesis(new kinesis.Stream(result.stack, 'Changes'), { startingPosition: StreamStartingPosition.LATEST }),
  });
  return { template: Template.fromStack(result.stack), stack: result.stack };
}

const templates: Array<[string, () => Template]> = [
  ['default', () => synth().template],
  ['every feature', () => fullStack().template],
];

describe.each(templates)('template safety (%s)', (_name, make) => {
  let json: any;
  beforeAll(() => {
    json = make().toJSON();
  });
  const resources = (type: string) => Object.entries<any>(json.Resources).filter(([, r]) => r.Type === type);

  test('no plaintext secret: no password-like property or environment value, passwords only as dynamic references', () => {
    const walk = (value: any, trail: string[]) => {
      if (value === null || typeof value !== 'object') return;
      for (const [key, child] of Object.entries(value)) {
        if (/password|secret(?!arn|id|string|target)|token|credential/i.test(key) && typeof child === 'string') {
          throw new Error(`${[...trail, key].join('.')} holds a literal: ${child}`);
        }
        walk(child, [...trail, key]);
      }
    };
    for (const [id, resource] of Object.entries<any>(json.Resources)) walk(resource.Properties ?? {}, [id]);
    for (const [id, fn] of resources('AWS::Lambda::Function')) {
      const variables = fn.Properties.Environment?.Variables ?? {};
      for (const [name, value] of Object.entries(variables)) {
        expect(`${id}.${name}`).not.toMatch(/PASSWORD|SECRET|TOKEN/i);
        expect(JSON.stringify(value)).not.toMatch(/secretsmanager/);
      }
    }
    for (const [, db] of [...resources('AWS::RDS::DBInstance'), ...resources('AWS::RDS::DBCluster')]) {
      if (db.Properties.MasterUserPassword) expect(JSON.stringify(db.Properties.MasterUserPassword)).toMatch(/\{\{resolve:secretsmanager:/);
    }
  });

  test('nothing invokes $LATEST', () => {
    expect(JSON.stringify(json)).not.toContain('$LATEST');
  });

  test('no ingress from 0.0.0.0/0 or ::/0', () => {
    const rules = [
      ...resources('AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties),
      ...resources('AWS::EC2::SecurityGroup').flatMap(([, r]) => r.Properties.SecurityGroupIngress ?? []),
    ];
    for (const rule of rules) {
      expect(rule.CidrIp).not.toBe('0.0.0.0/0');
      expect(rule.CidrIpv6).not.toBe('::/0');
    }
  });

  test('no wildcard rds-db:connect: always a named user on a named proxy or database', () => {
    const statements = resources('AWS::IAM::Policy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement)
      .filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('rds-db:') || a === '*'));
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      const resource = JSON.stringify(statement.Resource);
      expect(resource).not.toBe('"*"');
      expect(resource).toMatch(/:dbuser:/);
      expect(resource).toMatch(/\/(app_user)"/);
    }
  });

  test('databases: deletion protection, snapshot on removal, backups, encryption with the customer managed key, IAM auth', () => {
    const standalone = resources('AWS::RDS::DBInstance').filter(([, r]) => !r.Properties.DBClusterIdentifier);
    const dbs = [...resources('AWS::RDS::DBCluster'), ...standalone];
    expect(dbs.length).toBeGreaterThan(0);
    for (const [, db] of dbs) {
      expect(db.DeletionPolicy).toBe('Snapshot');
      expect(db.UpdateReplacePolicy).toBe('Snapshot');
      expect(db.Properties).toMatchObject({
        DeletionProtection: true,
        StorageEncrypted: true,
        BackupRetentionPeriod: 7,
        EnableIAMDatabaseAuthentication: true,
        KmsKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^ApiDatabaseKey/), 'Arn'] },
      });
    }
  });

  test('dead-letter queues: encrypted, TLS only, at least 14 days', () => {
    const queues = resources('AWS::SQS::Queue').filter(([id]) => /DeadLetterQueue/.test(id));
    expect(queues.length).toBeGreaterThan(0);
    const policies = JSON.stringify(resources('AWS::SQS::QueuePolicy'));
    for (const [id, queue] of queues) {
      expect(queue.Properties.SqsManagedSseEnabled === true || queue.Properties.KmsMasterKeyId !== undefined).toBe(true);
      expect(queue.Properties.MessageRetentionPeriod).toBeGreaterThanOrEqual(14 * 24 * 3600);
      expect(policies).toContain(id);
    }
  });
});
