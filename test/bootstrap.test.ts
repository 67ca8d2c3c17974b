import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { DatabaseAccess, Migrations, SqlEngine } from '../src';
import { logicalIdOf, resourcesOf, synth } from './util';

function migrationsDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'construct-migrations-'));
  for (const [name, sql] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), sql);
  return dir;
}

describe('database bootstrap', () => {
  test('a custom resource creates the IAM application user before the alias moves', () => {
    const { template } = synth();
    const bootstrap = logicalIdOf(template, 'Custom::DatabaseBootstrap');
    const instance = logicalIdOf(template, 'AWS::RDS::DBInstance');
    const secret = logicalIdOf(template, 'AWS::SecretsManager::Secret');
    template.hasResourceProperties('Custom::DatabaseBootstrap', {
      Engine: 'postgres',
      Host: { 'Fn::GetAtt': [instance, 'Endpoint.Address'] },
      Port: '5433',
      Database: 'app',
      SecretArn: { Ref: secret },
      Users: [{ name: 'app_user', access: 'read-write' }],
      MigrationsHash: 'none',
      // CloudFormation gives up two minutes after the function's own timeout, not after the default hour
      ServiceTimeout: '720',
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Creates the IAM application users'), Timeout: 600,
    });
    const apiAlias = Object.entries(template.findResources('AWS::Lambda::Alias')).find(([id]) => id.startsWith('ApiHandlerAlias'))![1];
    expect(apiAlias.DependsOn).toEqual(expect.arrayContaining([bootstrap]));
  });

  test('the bootstrap runs in the isolated subnets and reaches AWS through VPC endpoints, not a NAT gateway', () => {
    const { template } = synth();
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      ServiceName: 'com.amazonaws.eu-west-1.secretsmanager', VpcEndpointType: 'Interface', PrivateDnsEnabled: true,
    });
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.s3']] }, VpcEndpointType: 'Gateway',
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Creates the IAM application users'),
      VpcConfig: Match.objectLike({ SubnetIds: Match.arrayWith([{ Ref: Match.stringLikeRegexp('Isolated') }]) }),
      Timeout: 600,
    });
    const bootstrap = template.findResources('Custom::DatabaseBootstrap');
    const dependsOn: string[] = Object.values(bootstrap)[0].DependsOn;
    expect(dependsOn.some(id => id.includes('SecretsManagerEndpoint'))).toBe(true);
    expect(dependsOn.some(id => id.includes('S3Endpoint'))).toBe(true);
  });

  test('more users: a read-only reporting user, granted to another principal', () => {
    const result = synth();
    result.api.addUser('report_reader', { access: DatabaseAccess.READ_ONLY });
    const role = new iam.Role(result.stack, 'Reporting', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    result.api.grantConnect(role, 'report_reader');
    result.template.hasResourceProperties('Custom::DatabaseBootstrap', {
      Users: [{ name: 'app_user', access: 'read-write' }, { name: 'report_reader', access: 'read-only' }],
    });
    expect(JSON.stringify(result.template.findResources('AWS::IAM::Policy'))).toContain('/report_reader');
  });

  test('migrations: a hash of every file drives the custom resource; a change of content re-runs it', () => {
    const dir = migrationsDir({ '001_create.sql': 'create table a (id int);', '002_more.sql': 'create table b (id int);' });
    const first = synth({ migrations: Migrations.fromDirectory(dir) }).template;
    const hash = Object.values(first.findResources('Custom::DatabaseBootstrap'))[0].Properties.MigrationsHash;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    fs.writeFileSync(path.join(dir, '002_more.sql'), 'create table b (id bigint);');
    const second = synth({ migrations: Migrations.fromDirectory(dir) }).template;
    expect(Object.values(second.findResources('Custom::DatabaseBootstrap'))[0].Properties.MigrationsHash).not.toBe(hash);
  });

  test('works with MySQL and Aurora: engine, cluster endpoint', () => {
    const { template } = synth({ engine: SqlEngine.auroraMysql() });
    const cluster = logicalIdOf(template, 'AWS::RDS::DBCluster');
    template.hasResourceProperties('Custom::DatabaseBootstrap', {
      Engine: 'mysql', Port: '3307', Host: { 'Fn::GetAtt': [cluster, 'Endpoint.Address'] },
    });
  });

  test('no endpoints when the VPC already provides them: HTTPS to them, wherever they are, and no prefix-list lookup', () => {
    const { template } = synth({ bootstrapEndpoints: false });
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    template.resourceCountIs('Custom::AWS', 0);
    for (const description of [/^Database bootstrap/, /^Admin secret rotation/]) {
      const group = logicalIdOf(template, 'AWS::EC2::SecurityGroup', r => description.test(r.Properties.GroupDescription));
      expect(template.toJSON().Resources[group].Properties.SecurityGroupEgress).toEqual([
        expect.objectContaining({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 }),
      ]);
    }
  });

  test('the S3 prefix list is looked up in the stack\'s Region, by a function that reads nothing else', () => {
    const { template } = synth();
    const [, lookup] = resourcesOf(template, 'Custom::AWS')[0];
    const create = JSON.parse(lookup.Properties.Create);
    expect(create).toMatchObject({
      service: 'EC2',
      action: 'describeManagedPrefixLists',
      parameters: { Filters: [{ Name: 'prefix-list-name', Values: ['com.amazonaws.eu-west-1.s3'] }] },
    });
    const policy = resourcesOf(template, 'AWS::IAM::Policy').find(([id]) => id.includes('S3PrefixList'))![1];
    expect(policy.Properties.PolicyDocument.Statement).toEqual([{ Action: 'ec2:DescribeManagedPrefixLists', Effect: 'Allow', Resource: '*' }]);
  });

  test('the admin secret rotates every 30 days, from the isolated subnets through the Secrets Manager endpoint', () => {
    const { template } = synth();
    // the secret as attached to the database (its ARN, once the instance exists)
    const attachment = logicalIdOf(template, 'AWS::SecretsManager::SecretTargetAttachment');
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: { Ref: attachment },
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
    });
    // it generates passwords without the characters the secret excludes, and may use the secret's key
    const secret = resourcesOf(template, 'AWS::SecretsManager::Secret')[0][1];
    template.hasResourceProperties('AWS::Serverless::Application', {
      Parameters: Match.objectLike({
        vpcSubnetIds: Match.anyValue(),
        vpcSecurityGroupIds: Match.anyValue(),
        excludeCharacters: secret.Properties.GenerateSecretString.ExcludeCharacters,
        kmsKeyArn: { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::KMS::Key'), 'Arn'] },
      }),
    });
    // and reaches the database on its port
    const rotationSg = logicalIdOf(template, 'AWS::EC2::SecurityGroup', r => /^Admin secret rotation/.test(r.Properties.GroupDescription));
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      SourceSecurityGroupId: { 'Fn::GetAtt': [rotationSg, 'GroupId'] }, FromPort: 5433, ToPort: 5433,
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      Description: 'Admin secret rotation to Secrets Manager', FromPort: 443, ToPort: 443,
    });
  });

  test('rotation can be set or turned off', () => {
    synth({ adminSecretRotation: Duration.days(7) }).template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationRules: { ScheduleExpression: 'rate(7 days)' },
    });
    synth({ adminSecretRotation: Duration.days(0) }).template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
  });

});
