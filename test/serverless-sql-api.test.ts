import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { ApiHandler, DatabaseAccess, Deployment, FrontDoor, PipeSource, ServerlessSqlApi, SqlEngine } from '../src';
import { existingCluster, existingInstance, importedVpc, logicalIdOf, newStack, nodeHandler, refereed, resourcesOf, synth } from './util';

const SG = 'AWS::EC2::SecurityGroup';
const sgId = (template: any, description: RegExp) =>
  logicalIdOf(template, SG, r => description.test(r.Properties.GroupDescription));
const groupIdOf = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'GroupId'] });
const apiAliasOf = (template: any) => Object.keys(template.findResources('AWS::Lambda::Alias')).find(id => id.startsWith('ApiHandlerAlias'))!;

describe('network', () => {
  test('default VPC: two AZs, isolated subnets only, no NAT and no internet gateway', () => {
    // WHEN
    const { template } = synth();
    // THEN
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.resourceCountIs('AWS::EC2::Route', 0);
    const subnets = resourcesOf(template, 'AWS::EC2::Subnet').map(([, r]) => r.Properties);
    expect(subnets).toHaveLength(2);
    expect(subnets.every(s => s.MapPublicIpOnLaunch === false)).toBe(true);
    expect(new Set(subnets.map(s => JSON.stringify(s.AvailabilityZone))).size).toBe(2);
  });

  test('security groups chain function → proxy → database on the engine port only', () => {
    // WHEN
    const { template } = synth();
    // THEN
    const fnSg = sgId(template, /^Function/);
    const proxySg = sgId(template, /^RDS Proxy/);
    const dbSg = sgId(template, /^Database:/);

    const bootstrapSg = sgId(template, /^Database bootstrap/);
    const rotationSg = sgId(template, /^Admin secret rotation/);
    // the deploy-time admin paths (bootstrap, secret rotation) are checked below
    const notBootstrap = (r: any) => !JSON.stringify(r).includes(bootstrapSg) && !JSON.stringify(r).includes(rotationSg);
    const egress = resourcesOf(template, 'AWS::EC2::SecurityGroupEgress').map(([, r]) => r.Properties).filter(notBootstrap);
    const ingress = resourcesOf(template, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties).filter(notBootstrap);
    expect(egress).toEqual(expect.arrayContaining([
      expect.objectContaining({ GroupId: groupIdOf(fnSg), DestinationSecurityGroupId: groupIdOf(proxySg), IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432 }),
      expect.objectContaining({ GroupId: groupIdOf(proxySg), DestinationSecurityGroupId: groupIdOf(dbSg), IpProtocol: 'tcp' }),
    ]));
    expect(egress).toHaveLength(2);
    expect(ingress).toEqual(expect.arrayContaining([
      expect.objectContaining({ GroupId: groupIdOf(proxySg), SourceSecurityGroupId: groupIdOf(fnSg), IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432 }),
      expect.objectContaining({ GroupId: groupIdOf(dbSg), SourceSecurityGroupId: groupIdOf(proxySg), IpProtocol: 'tcp' }),
    ]));
    expect(ingress).toHaveLength(2);
    // proxy → database uses the database's own port, not the engine's default, named in every rule as a number
    const dbPort = 5433;
    expect(ingress.find(r => r.SourceSecurityGroupId['Fn::GetAtt'][0] === proxySg)).toMatchObject({ FromPort: dbPort, ToPort: dbPort });
    template.hasResourceProperties('AWS::RDS::DBInstance', { Port: '5433' });
    expect(JSON.stringify(template.toJSON())).not.toContain('Endpoint.Port');
    // the bootstrap reaches the database on its port too, as the admin, and nothing else but HTTPS to the endpoints
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: groupIdOf(dbSg), SourceSecurityGroupId: groupIdOf(bootstrapSg), FromPort: dbPort, ToPort: dbPort,
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: groupIdOf(dbSg), SourceSecurityGroupId: groupIdOf(rotationSg), FromPort: dbPort, ToPort: dbPort,
    });
    // the functions that hold the admin secret reach nothing but the database, the Secrets Manager endpoint and (the
    // bootstrap, to answer CloudFormation) S3 through the gateway endpoint's prefix list: no CIDR at all
    const endpointSg = sgId(template, /Bootstrap\/SecretsManagerEndpoint/);
    const prefixList = { 'Fn::GetAtt': [logicalIdOf(template, 'Custom::AWS'), 'PrefixLists.0.PrefixListId'] };
    const allEgress = resourcesOf(template, 'AWS::EC2::SecurityGroupEgress').map(([, r]) => r.Properties);
    const egressOf = (source: string) => allEgress.filter(r => r.GroupId['Fn::GetAtt'][0] === source)
      .map(r => [r.DestinationSecurityGroupId?.['Fn::GetAtt'][0] ?? r.DestinationPrefixListId, r.CidrIp, r.FromPort, r.ToPort]);
    expect(egressOf(bootstrapSg)).toEqual(expect.arrayContaining([
      [dbSg, undefined, dbPort, dbPort], [endpointSg, undefined, 443, 443], [prefixList, undefined, 443, 443],
    ]));
    expect(egressOf(bootstrapSg)).toHaveLength(3);
    expect(egressOf(rotationSg)).toEqual(expect.arrayContaining([[dbSg, undefined, dbPort, dbPort], [endpointSg, undefined, 443, 443]]));
    expect(egressOf(rotationSg)).toHaveLength(2);
    // no inline rule either (CloudFormation drops the default allow-all rule once a rule resource exists)
    for (const id of [bootstrapSg, rotationSg]) expect(template.toJSON().Resources[id].Properties.SecurityGroupEgress).toBeUndefined();
    // the gateway endpoint lets through only the answer to CloudFormation
    const [, s3] = resourcesOf(template, 'AWS::EC2::VPCEndpoint').find(([, r]) => r.Properties.VpcEndpointType === 'Gateway')!;
    expect(s3.Properties.PolicyDocument.Statement).toEqual([{
      Action: 's3:PutObject',
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::cloudformation-custom-resource-response-euwest1/*']] },
    }]);
    // no group allows outbound traffic anywhere else
    for (const id of [fnSg, proxySg, dbSg]) {
      const props = template.toJSON().Resources[id].Properties;
      for (const rule of props.SecurityGroupEgress ?? []) {
        expect(rule).toMatchObject({ CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic' });
      }
      expect(props.SecurityGroupIngress).toBeUndefined();
    }
  });

  test('no ingress from any CIDR', () => {
    const { template } = synth();
    const all = [
      ...resourcesOf(template, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties),
      ...resourcesOf(template, SG).flatMap(([, r]) => r.Properties.SecurityGroupIngress ?? []),
    ];
    expect(all.length).toBeGreaterThan(0);
    for (const rule of all) {
      expect(rule.CidrIp).toBeUndefined();
      expect(rule.CidrIpv6).toBeUndefined();
    }
  });

  test('the function, the proxy and the database use the isolated subnets', () => {
    const { template } = synth();
    const subnets = resourcesOf(template, 'AWS::EC2::Subnet').map(([id]) => ({ Ref: id }));
    template.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: { SubnetIds: Match.arrayWith(subnets) },
    });
    template.hasResourceProperties('AWS::RDS::DBProxy', { VpcSubnetIds: Match.arrayWith(subnets) });
    template.hasResourceProperties('AWS::RDS::DBSubnetGroup', { SubnetIds: Match.arrayWith(subnets) });
  });

  test('an imported VPC is used as is; its isolated subnets are selected', () => {
    // GIVEN
    const { template } = synth({}, stack => ({
      vpc: importedVpc(stack, { publicSubnetIds: ['subnet-pa', 'subnet-pb'] }),
    }));
    // THEN
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.hasResourceProperties('AWS::Lambda::Function', { VpcConfig: { SubnetIds: ['subnet-a', 'subnet-b'] } });
    template.hasResourceProperties('AWS::RDS::DBProxy', { VpcSubnetIds: ['subnet-a', 'subnet-b'] });
    template.hasResourceProperties('AWS::RDS::DBSubnetGroup', { SubnetIds: ['subnet-a', 'subnet-b'] });
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway', RouteTableIds: ['rtb-a', 'rtb-b'] });
  });

  test('an imported VPC without route tables works when the bootstrap endpoints are off', () => {
    const { template } = synth({ bootstrapEndpoints: false }, stack => ({
      vpc: importedVpc(stack, { isolatedSubnetRouteTableIds: undefined }),
    }));
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  });
});

describe('proxy', () => {
  test('end-to-end IAM authentication and TLS are required; no secret is registered', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::RDS::DBProxy', {
      DefaultAuthScheme: 'IAM_AUTH',
      RequireTLS: true,
      EngineFamily: 'POSTGRESQL',
      DebugLogging: false,
      IdleClientTimeout: 1800,
      Auth: Match.absent(),
    });
    template.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', {
      // one second under the function's default 10 s timeout
      ConnectionPoolConfigurationInfo: { ConnectionBorrowTimeout: 9, MaxConnectionsPercent: 100, MaxIdleConnectionsPercent: 50 },
    });
  });

  test('pool settings pass through', () => {
    const { template, annotations } = synth({
      timeout: Duration.seconds(30),
      proxy: {
        borrowTimeout: Duration.seconds(30),
        maxConnectionsPercent: 60,
        maxIdleConnectionsPercent: 10,
        idleClientTimeout: Duration.minutes(5),
        debugLogging: true,
      },
    });
    template.hasResourceProperties('AWS::RDS::DBProxy', { IdleClientTimeout: 300, DebugLogging: true });
    template.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', {
      ConnectionPoolConfigurationInfo: { ConnectionBorrowTimeout: 30, MaxConnectionsPercent: 60, MaxIdleConnectionsPercent: 10 },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SQL_PROXY_IDLE_TIMEOUT: '300' }) },
    });
    expect(annotations.findWarning('*', Match.stringLikeRegexp('borrowTimeout'))).toEqual([]);
  });

  test('maxIdleConnectionsPercent defaults to half of maxConnectionsPercent', () => {
    const { template } = synth({ proxy: { maxConnectionsPercent: 40 } });
    template.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', {
      ConnectionPoolConfigurationInfo: { MaxConnectionsPercent: 40, MaxIdleConnectionsPercent: 20 },
    });
  });

  test('the default borrow timeout follows the shortest function timeout, at most 120 s', () => {
    const borrowTimeout = (build: (stack: Stack) => void) => {
      const stack = newStack();
      build(stack);
      const [, group] = resourcesOf(refereed(Template.fromStack(stack)), 'AWS::RDS::DBProxyTargetGroup')[0];
      return group.Properties.ConnectionPoolConfigurationInfo.ConnectionBorrowTimeout;
    };
    expect(borrowTimeout(stack => {
      const api = new ServerlessSqlApi(stack, 'Api', { handler: nodeHandler(), timeout: Duration.seconds(40) });
      api.addWorker('Worker', { handler: nodeHandler(), source: PipeSource.sqs(new sqs.Queue(stack, 'Q', { deadLetterQueue: { queue: new sqs.Queue(stack, 'Dlq'), maxReceiveCount: 5 } })), timeout: Duration.seconds(25) });
    })).toBe(24);
    expect(borrowTimeout(stack => new ServerlessSqlApi(stack, 'Api', { handler: nodeHandler(), timeout: Duration.minutes(15) }))).toBe(120);
    expect(borrowTimeout(stack => new ServerlessSqlApi(stack, 'Api', { handler: nodeHandler(), timeout: Duration.seconds(1) }))).toBe(1);
  });

  test('a borrow timeout longer than every function\'s timeout draws a warning with both figures', () => {
    const { template, annotations } = synth({ timeout: Duration.seconds(20), proxy: { borrowTimeout: Duration.seconds(120) } });
    template.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', {
      ConnectionPoolConfigurationInfo: Match.objectLike({ ConnectionBorrowTimeout: 120 }),
    });
    const warnings = annotations.findWarning('/Stack/Api/Database', Match.stringLikeRegexp('borrowTimeout is 120 s.*longest timeout.* is 20 s'));
    expect(warnings).toHaveLength(1);
  });

});

describe('IAM', () => {
  test('service roles whose services document it trust only this account\'s resources (confused deputy)', () => {
    const { template } = synth({
      engine: SqlEngine.postgres({ monitoringInterval: Duration.seconds(30) }),
      deployment: Deployment.canary({ percent: 10, interval: Duration.minutes(5) }),
    });
    const trust = (service: string) => resourcesOf(template, 'AWS::IAM::Role')
      .map(([, role]) => role.Properties.AssumeRolePolicyDocument.Statement)
      .flat()
      .filter((statement: any) => statement.Principal?.Service === service);
    const arn = (service: string, resource: string) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:${service}:eu-west-1:111111111111:${resource}`]],
    });
    expect(trust('monitoring.rds.amazonaws.com')).toEqual([expect.objectContaining({
      Condition: { StringEquals: { 'aws:SourceAccount': '111111111111' }, ArnLike: { 'aws:SourceArn': arn('rds', 'db:*') } },
    })]);
    expect(trust('vpc-flow-logs.amazonaws.com')).toEqual([expect.objectContaining({
      Condition: { StringEquals: { 'aws:SourceAccount': '111111111111' }, ArnLike: { 'aws:SourceArn': arn('ec2', 'vpc-flow-log/*') } },
    })]);
    const [codeDeploy] = trust('codedeploy.amazonaws.com');
    expect(codeDeploy.Condition.StringEquals).toEqual({ 'aws:SourceAccount': '111111111111' });
    // deploymentgroup:APPLICATION/* with the application the deployment group belongs to
    const applicationId = logicalIdOf(template, 'AWS::CodeDeploy::Application');
    expect(JSON.stringify(codeDeploy.Condition.ArnLike['aws:SourceArn'])).toContain(`:codedeploy:eu-west-1:111111111111:deploymentgroup:",{"Ref":"${applicationId}"},"/*"`);
    const [, group] = resourcesOf(template, 'AWS::CodeDeploy::DeploymentGroup')[0];
    expect(group.Properties.ApplicationName).toEqual({ Ref: applicationId });
    const roleId = group.Properties.ServiceRoleArn['Fn::GetAtt'][0];
    expect(template.toJSON().Resources[roleId].Properties.AssumeRolePolicyDocument.Statement[0].Principal.Service).toBe('codedeploy.amazonaws.com');
  });

  test('the function may connect only as app_user through this proxy', () => {
    const { template } = synth();
    const proxyId = logicalIdOf(template, 'AWS::RDS::DBProxy');
    const statements = resourcesOf(template, 'AWS::IAM::Policy')
      .flatMap(([, r]) => r.Properties.PolicyDocument.Statement)
      .filter((s: any) => [s.Action].flat().includes('rds-db:connect'));
    const fnRole = Object.keys(template.findResources('AWS::IAM::Role')).find(id => id.startsWith('ApiHandlerServiceRole'))!;
    const fnPolicy = resourcesOf(template, 'AWS::IAM::Policy').find(([, r]) => r.Properties.Roles[0].Ref === fnRole)![1];
    const connect = fnPolicy.Properties.PolicyDocument.Statement.filter((s: any) => s.Action === 'rds-db:connect');
    expect(connect).toEqual([{
      Action: 'rds-db:connect',
      Effect: 'Allow',
      Resource: {
        'Fn::Join': ['', [
          'arn:', { Ref: 'AWS::Partition' }, ':rds-db:eu-west-1:111111111111:dbuser:',
          { 'Fn::Select': [6, { 'Fn::Split': [':', { 'Fn::GetAtt': [proxyId, 'DBProxyArn'] }] }] },
          '/app_user',
        ]],
      },
    }]);
    expect(statements.every((s: any) => !JSON.stringify(s.Resource).includes('*'))).toBe(true);
  });

  test('function roles have no AWS managed policy; only the network-interface and X-Ray actions use "*", in a policy of their own', () => {
    // WHEN
    const { template } = synth();
    // THEN
    const json = template.toJSON();
    // (aws-cdk-lib's own provider that empties the VPC's default security group is not this library's)
    const lambdaRoles = resourcesOf(template, 'AWS::IAM::Role')
      .filter(([id, r]) => id.startsWith('Api') && r.Properties.AssumeRolePolicyDocument.Statement[0].Principal.Service === 'lambda.amazonaws.com');
    expect(lambdaRoles.length).toBeGreaterThanOrEqual(2);
    for (const [roleId, role] of lambdaRoles) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      const policies = resourcesOf(template, 'AWS::IAM::Policy').filter(([, p]) => p.Properties.Roles.some((r: any) => r.Ref === roleId));
      const [wildcardPolicies, scopedPolicies] = [
        policies.filter(([id]) => id.includes('VpcAndTracing')), policies.filter(([id]) => !id.includes('VpcAndTracing')),
      ];
      expect(wildcardPolicies).toHaveLength(1);
      expect(wildcardPolicies[0][1].Properties.PolicyDocument.Statement.map((s: any) => [s.Action, s.Resource])).toEqual([
        [expect.arrayContaining(['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface']), '*'],
        [['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], '*'],
      ]);
      for (const [, policy] of scopedPolicies) {
        for (const statement of policy.Properties.PolicyDocument.Statement) expect(statement.Resource).not.toEqual('*');
      }
      // Lambda checks the network-interface permissions when it creates the function: the function waits for them
      const fn = Object.values<any>(json.Resources).find(r => r.Type === 'AWS::Lambda::Function' && r.Properties.Role?.['Fn::GetAtt']?.[0] === roleId);
      expect(fn.DependsOn).toEqual(expect.arrayContaining([wildcardPolicies[0][0]]));
    }
  });

  test('without tracing, a function role gets no X-Ray permission and the function no tracing configuration', () => {
    const { template } = synth({ tracing: lambda.Tracing.DISABLED });
    const policy = resourcesOf(template, 'AWS::IAM::Policy').find(([id]) => id.startsWith('ApiHandlerServiceRoleVpcAndTracing'))![1];
    expect(JSON.stringify(policy)).not.toContain('xray:');
    const fn = resourcesOf(template, 'AWS::Lambda::Function').find(([id]) => id.startsWith('ApiHandlerFunction'))![1];
    expect(fn.Properties.TracingConfig).toBeUndefined();
  });

  test('the proxy role may connect to the database as app_user (end-to-end IAM), not as the admin', () => {
    const { template } = synth();
    const dbId = logicalIdOf(template, 'AWS::RDS::DBInstance');
    const proxyRole = logicalIdOf(template, 'AWS::IAM::Role', r => r.Properties.AssumeRolePolicyDocument.Statement[0].Principal.Service === 'rds.amazonaws.com');
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: proxyRole }],
      PolicyDocument: {
        Statement: [{
          Action: 'rds-db:connect',
          Effect: 'Allow',
          Resource: {
            'Fn::Join': ['', [
              'arn:', { Ref: 'AWS::Partition' }, ':rds-db:eu-west-1:111111111111:dbuser:',
              { 'Fn::GetAtt': [dbId, 'DbiResourceId'] }, '/app_user',
            ]],
          },
        }],
      },
    });
  });

  test('only the deploy-time bootstrap can read the admin secret; the API function cannot', () => {
    const { template } = synth();
    const secret = logicalIdOf(template, 'AWS::SecretsManager::Secret');
    const readers = resourcesOf(template, 'AWS::IAM::Policy')
      .filter(([, r]) => JSON.stringify(r).includes(secret) || JSON.stringify(r).includes('secretsmanager:'))
      .map(([id]) => id);
    expect(readers).toEqual([expect.stringMatching(/^ApiDatabaseBootstrapServiceRoleDefaultPolicy/)]);
  });

  test('grantConnect grants another principal the API user by default, or a named user', () => {
    // GIVEN
    const result = synth();
    const { api, stack } = result;
    const reporting = new iam.Role(stack, 'Reporting', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    // WHEN
    api.grantConnect(reporting);
    expect(() => api.grantConnect(reporting, 'report_reader')).toThrow(
      /Stack\/Api\/Database: invalid dbUser \("report_reader"\)\. The bootstrap creates only the users added with addUser \(app_user\).*call addUser\('report_reader', \{ access \}\) before granting it/);
    api.addUser('report_reader', { access: DatabaseAccess.READ_ONLY });
    api.grantConnect(reporting, 'report_reader');
    // THEN
    const t = result.template;
    const policy = resourcesOf(t, 'AWS::IAM::Policy').find(([, r]) => r.Properties.Roles[0].Ref.startsWith('Reporting'))![1];
    const users = policy.Properties.PolicyDocument.Statement.map((s: any) => s.Resource['Fn::Join'][1].at(-1));
    expect(users).toEqual(['/app_user', '/report_reader']);
    const proxyRolePolicy = JSON.stringify(resourcesOf(t, 'AWS::IAM::Policy').find(([id]) => id.includes('ProxyRole'))![1]);
    expect(proxyRolePolicy).toContain('/report_reader');
    expect(proxyRolePolicy.match(/\/app_user/g)).toHaveLength(1);
  });

});

describe('encryption and logs', () => {
  test('one customer managed key, rotated and retained, encrypts the database, the admin secret and every log group', () => {
    // WHEN
    const { template } = synth();
    // THEN
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain', Properties: Match.objectLike({ EnableKeyRotation: true }) });
    const key = { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::KMS::Key'), 'Arn'] };
    template.hasResourceProperties('AWS::RDS::DBInstance', { StorageEncrypted: true, KmsKeyId: key });
    template.hasResourceProperties('AWS::SecretsManager::Secret', { KmsKeyId: key });
    const logGroups = resourcesOf(template, 'AWS::Logs::LogGroup');
    expect(logGroups.length).toBeGreaterThanOrEqual(4); // function, bootstrap, HTTP API access logs, VPC flow logs
    for (const [, group] of logGroups) expect(group.Properties).toMatchObject({ KmsKeyId: key, RetentionInDays: 365 });
    // CloudWatch Logs may use the key for this account's log groups only
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({
          Principal: { Service: 'logs.eu-west-1.amazonaws.com' },
          Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:eu-west-1:111111111111:log-group:*']] } } },
        })]),
      },
    });
    // only AWS services (RDS, Secrets Manager) create grants on the key, on their callers' behalf
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([{
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 'kms:CreateGrant',
          Resource: '*',
          Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
        }]),
      },
    });
  });

  test('a given key is used instead; an imported one gets a warning about its key policy', () => {
    const { template, annotations } = synth({}, stack => ({
      encryptionKey: kms.Key.fromKeyArn(stack, 'Imported', 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab'),
    }));
    template.resourceCountIs('AWS::KMS::Key', 0);
    template.hasResourceProperties('AWS::RDS::DBInstance', { KmsKeyId: 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab' });
    annotations.hasWarning('/Stack/Api/Database', Match.stringLikeRegexp('is imported, so its key policy cannot be extended here: it must allow logs.eu-west-1.amazonaws.com'));
  });

  test('VPC flow logs record all traffic of the VPC this construct creates; not with vpcFlowLogs: false or an imported VPC', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC', TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs', ResourceId: { Ref: logicalIdOf(template, 'AWS::EC2::VPC') },
    });
    synth({ vpcFlowLogs: false }).template.resourceCountIs('AWS::EC2::FlowLog', 0);
    synth({}, stack => ({ vpc: importedVpc(stack) })).template.resourceCountIs('AWS::EC2::FlowLog', 0);
  });
});

describe('database', () => {
  test.each([
    ['PostgreSQL', SqlEngine.postgres(), '17', 'postgres17'],
    ['MySQL', SqlEngine.mysql(), '8.4', 'mysql8.4'],
    ['a pinned PostgreSQL minor', SqlEngine.postgres({ version: rds.PostgresEngineVersion.VER_17_7 }), '17.7', 'postgres17'],
  ])('%s: engine version and parameter group family', (_name, engine, version, family) => {
    const { template } = synth({ engine });
    template.hasResourceProperties('AWS::RDS::DBInstance', { EngineVersion: version });
    template.hasResourceProperties('AWS::RDS::DBParameterGroup', { Family: family });
  });

  test('RDS for PostgreSQL by default, with every safety setting on', () => {
    const { template } = synth();
    template.hasResource('AWS::RDS::DBInstance', {
      DeletionPolicy: 'Snapshot',
      UpdateReplacePolicy: 'Snapshot',
      Properties: Match.objectLike({
        Engine: 'postgres',
        // the major version only: RDS picks a recent minor, and minor upgrades never meet a pinned one
        EngineVersion: '17',
        DBName: 'app',
        DBInstanceClass: 'db.t4g.micro',
        StorageEncrypted: true,
        StorageType: 'gp3',
        AllocatedStorage: '20',
        MaxAllocatedStorage: 100,
        DeletionProtection: true,
        BackupRetentionPeriod: 7,
        EnableIAMDatabaseAuthentication: true,
        PubliclyAccessible: false,
        MultiAZ: false,
        CopyTagsToSnapshot: true,
        MasterUsername: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
        MasterUserPassword: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('^\\{\\{resolve:secretsmanager:')])] }),
      }),
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{"username":"sqladmin"}', GenerateStringKey: 'password' }),
    });
  });

  test('RDS for MySQL: the proxy on 3306, the database on 3307, MYSQL proxy family', () => {
    const { template } = synth({ engine: SqlEngine.mysql() });
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'mysql', Port: '3307', StorageEncrypted: true, DeletionProtection: true, EnableIAMDatabaseAuthentication: true,
    });
    template.hasResourceProperties('AWS::RDS::DBProxy', { EngineFamily: 'MYSQL', DefaultAuthScheme: 'IAM_AUTH', RequireTLS: true });
    // clients reach the proxy on 3306; the proxy reaches the database on 3307
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 3306, ToPort: 3306 });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 3307, ToPort: 3307 });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SQL_ENGINE: 'mysql', SQL_PORT: '3306' }) },
    });
  });

  test('instance options pass through', () => {
    const { template } = synth({
      engine: SqlEngine.postgres({
        version: rds.PostgresEngineVersion.VER_16_6,
        instanceType: ec2.InstanceType.of(ec2.InstanceClass.R7G, ec2.InstanceSize.LARGE),
        allocatedStorage: 50,
        maxAllocatedStorage: 500,
        multiAz: true,
      }),
      databaseName: 'orders',
    });
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      EngineVersion: '16.6', DBInstanceClass: 'db.r7g.large', AllocatedStorage: '50', MaxAllocatedStorage: 500, MultiAZ: true, DBName: 'orders',
    });
  });

  test.each([
    ['postgres', SqlEngine.postgres(), 'AWS::RDS::DBParameterGroup', { 'rds.force_ssl': '1' }],
    ['mysql', SqlEngine.mysql(), 'AWS::RDS::DBParameterGroup', { require_secure_transport: '1' }],
    ['auroraPostgres', SqlEngine.auroraPostgres(), 'AWS::RDS::DBClusterParameterGroup', { 'rds.force_ssl': '1' }],
    ['auroraMysql', SqlEngine.auroraMysql(), 'AWS::RDS::DBClusterParameterGroup',
      { require_secure_transport: 'ON', server_audit_logging: '1', server_audit_events: 'CONNECT,QUERY_DDL,QUERY_DCL' }],
  ])('%s: the database itself refuses connections without TLS', (_name, engine, type, parameters) => {
    const { template } = synth({ engine });
    template.hasResourceProperties(type, { Parameters: parameters });
  });

  test('MySQL databases export an audit log of connections, DDL and DCL', () => {
    const instance = synth({ engine: SqlEngine.mysql() }).template;
    instance.hasResourceProperties('AWS::RDS::OptionGroup', {
      EngineName: 'mysql',
      OptionConfigurations: [{ OptionName: 'MARIADB_AUDIT_PLUGIN', OptionSettings: [{ Name: 'SERVER_AUDIT_EVENTS', Value: 'CONNECT,QUERY_DDL,QUERY_DCL' }] }],
    });
    instance.hasResourceProperties('AWS::RDS::DBInstance', {
      OptionGroupName: Match.anyValue(), EnableCloudwatchLogsExports: ['audit', 'error', 'slowquery'],
    });
    synth({ engine: SqlEngine.auroraMysql() }).template.hasResourceProperties('AWS::RDS::DBCluster', {
      EnableCloudwatchLogsExports: ['audit', 'error', 'slowquery'],
    });
  });

  test.each([
    ['an instance', SqlEngine.postgres({ monitoringInterval: Duration.seconds(30) })],
    ['a cluster', SqlEngine.auroraPostgres({ monitoringInterval: Duration.seconds(30), readers: 1 })],
  ])('Enhanced Monitoring is an option for %s, with its own role', (_name, engine) => {
    const { template } = synth({ engine });
    const role = logicalIdOf(template, 'AWS::IAM::Role', r => r.Properties.AssumeRolePolicyDocument.Statement[0].Principal.Service === 'monitoring.rds.amazonaws.com');
    const instances = resourcesOf(template, 'AWS::RDS::DBInstance');
    expect(instances.length).toBeGreaterThan(0);
    for (const [, instance] of instances) {
      expect(instance.Properties).toMatchObject({ MonitoringInterval: 30, MonitoringRoleArn: { 'Fn::GetAtt': [role, 'Arn'] } });
    }
    synth().template.allResourcesProperties('AWS::RDS::DBInstance', { MonitoringInterval: Match.absent() });
  });

  test('a chosen database port is used by the database and the rules into it; the proxy keeps the engine\'s port', () => {
    const { template } = synth({ engine: SqlEngine.postgres({ port: 6543 }) });
    template.hasResourceProperties('AWS::RDS::DBInstance', { Port: '6543' });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 6543, ToPort: 6543 });
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ SQL_PORT: '5432' }) } });
  });

  test.each([
    ['auroraPostgres', SqlEngine.auroraPostgres({ minCapacity: 1, maxCapacity: 8, readers: 1 }), 'aurora-postgresql', 'POSTGRESQL', 5433],
    ['auroraMysql', SqlEngine.auroraMysql(), 'aurora-mysql', 'MYSQL', 3307],
  ])('%s: a Serverless v2 cluster with every safety setting on', (_name, engine, engineName, family, port) => {
    const { template } = synth({ engine });
    template.resourceCountIs('AWS::RDS::DBCluster', 1);
    const clusterId = logicalIdOf(template, 'AWS::RDS::DBCluster');
    template.hasResource('AWS::RDS::DBCluster', {
      DeletionPolicy: 'Snapshot',
      UpdateReplacePolicy: 'Snapshot',
      Properties: Match.objectLike({
        Engine: engineName,
        Port: port,
        DatabaseName: 'app',
        StorageEncrypted: true,
        DeletionProtection: true,
        BackupRetentionPeriod: 7,
        EnableIAMDatabaseAuthentication: true,
        ServerlessV2ScalingConfiguration: engineName === 'aurora-postgresql' ? { MinCapacity: 1, MaxCapacity: 8 } : { MinCapacity: 0.5, MaxCapacity: 4 },
      }),
    });
    template.resourceCountIs('AWS::RDS::DBInstance', engineName === 'aurora-postgresql' ? 2 : 1);
    template.allResourcesProperties('AWS::RDS::DBInstance', { DBInstanceClass: 'db.serverless' });
    template.hasResourceProperties('AWS::RDS::DBProxy', { EngineFamily: family, DefaultAuthScheme: 'IAM_AUTH', RequireTLS: true });
    template.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', { DBClusterIdentifiers: [{ Ref: clusterId }] });
    // the target is registered once the cluster's instances exist
    const targetGroup = resourcesOf(template, 'AWS::RDS::DBProxyTargetGroup')[0][1];
    for (const instance of Object.keys(template.findResources('AWS::RDS::DBInstance'))) expect(targetGroup.DependsOn).toContain(instance);
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).toContain(`"${clusterId}","DBClusterResourceId"`);
  });

  test('an existing instance is put behind the proxy instead of creating a database', () => {
    // GIVEN
    const { template } = synth({}, stack => ({
      existingDatabase: existingInstance(stack, {
        instanceIdentifier: 'orders-db',
        instanceEndpointAddress: 'orders-db.abc.eu-west-1.rds.amazonaws.com',
        port: 5433,
        instanceResourceId: 'db-ABCDEFGHIJ',
      }),
    }));
    // THEN
    template.resourceCountIs('AWS::RDS::DBInstance', 0);
    template.resourceCountIs('AWS::RDS::DBCluster', 0);
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    template.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', { DBInstanceIdentifiers: ['orders-db'] });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { GroupId: 'sg-db', FromPort: 5433, ToPort: 5433 });
    // functions connect to the proxy, which listens on the engine's port whatever the database's
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SQL_PORT: '5432', SQL_ENGINE: 'postgres' }) },
    });
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).toContain(':dbuser:db-ABCDEFGHIJ/app_user');
  });

  test('an existing Aurora cluster is put behind the proxy', () => {
    const { template } = synth({}, stack => ({ existingDatabase: existingCluster(stack) }));
    template.resourceCountIs('AWS::RDS::DBCluster', 0);
    template.hasResourceProperties('AWS::RDS::DBProxy', { EngineFamily: 'MYSQL' });
    template.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', { DBClusterIdentifiers: ['orders'] });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { GroupId: 'sg-db', FromPort: 3306 });
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ SQL_PORT: '3306' }) } });
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).toContain(':dbuser:cluster-XYZ/app_user');
  });
});

describe('function', () => {
  test('Node.js 24 on ARM64 in the VPC, traced, with the SQL_* contract and nothing secret', () => {
    const { template } = synth();
    const proxyId = logicalIdOf(template, 'AWS::RDS::DBProxy');
    const logGroup = Object.keys(template.findResources('AWS::Logs::LogGroup')).find(id => id.startsWith('ApiHandlerLogGroup'));
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 512,
      Timeout: 10,
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogGroup: { Ref: logGroup } },
      Environment: {
        Variables: {
          SQL_ENGINE: 'postgres',
          SQL_HOST: { 'Fn::GetAtt': [proxyId, 'Endpoint'] },
          SQL_PORT: '5432',
          SQL_DATABASE: 'app',
          SQL_USER: 'app_user',
          SQL_AUTH: 'iam',
          SQL_PROXY_IDLE_TIMEOUT: '1800',
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  test('settings pass through; user environment is kept', () => {
    const { template } = synth({
      memorySize: 1769,
      timeout: Duration.seconds(20),
      architecture: lambda.Architecture.X86_64,
      tracing: lambda.Tracing.PASS_THROUGH,
      environment: { FEATURE: 'on' },
      logRetention: 7,
      reservedConcurrentExecutions: 50,
      dbUser: 'orders_app',
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 1769,
      Timeout: 20,
      Architectures: ['x86_64'],
      TracingConfig: { Mode: 'PassThrough' },
      ReservedConcurrentExecutions: 50,
      Environment: { Variables: Match.objectLike({ FEATURE: 'on', SQL_USER: 'orders_app' }) },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).toContain('/orders_app');
  });

  test('any runtime through ApiHandler.fromCode', () => {
    const { template } = synth({
      handler: ApiHandler.fromCode({
        runtime: lambda.Runtime.PYTHON_3_13,
        code: lambda.Code.fromInline('def handler(event, context):\n  return {}'),
        handler: 'index.handler',
      }),
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'python3.13',
      Handler: 'index.handler',
      Architectures: ['arm64'],
      Environment: { Variables: Match.objectLike({ SQL_AUTH: 'iam' }) },
    });
  });

});

describe('versions and alias', () => {
  test('alias "live" points at the published version; every invoke target is the alias', () => {
    const { template } = synth();
    const versionId = logicalIdOf(template, 'AWS::Lambda::Version', r => JSON.stringify(r).includes('ApiHandlerFunction'));
    const aliasId = apiAliasOf(template);
    template.hasResourceProperties('AWS::Lambda::Alias', {
      Name: 'live', FunctionVersion: { 'Fn::GetAtt': [versionId, 'Version'] },
    });
    const permissions = resourcesOf(template, 'AWS::Lambda::Permission').map(([, r]) => r.Properties);
    expect(permissions.length).toBeGreaterThan(0);
    for (const permission of permissions) expect(permission.FunctionName).toEqual({ Ref: aliasId });
    // the bootstrap custom resource is invoked through its alias too
    const bootstrapAlias = Object.keys(template.findResources('AWS::Lambda::Alias')).find(id => id.startsWith('ApiDatabaseBootstrapAlias'))!;
    template.hasResource('Custom::DatabaseBootstrap', { Properties: Match.objectLike({ ServiceToken: { Ref: bootstrapAlias } }) });
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0', IntegrationUri: { Ref: aliasId },
    });
    expect(JSON.stringify(template.toJSON())).not.toContain('$LATEST');
  });

  test('a change of code or configuration publishes a new version', () => {
    const a = synth().template;
    const b = synth({ memorySize: 1024 }).template;
    const version = (t: any) => logicalIdOf(t, 'AWS::Lambda::Version', r => JSON.stringify(r).includes('ApiHandlerFunction'));
    expect(version(a)).not.toEqual(version(b));
  });

  test('a custom alias name is used', () => {
    const { template } = synth({ aliasName: 'prod' });
    template.hasResourceProperties('AWS::Lambda::Alias', { Name: 'prod' });
  });
});

describe('front door', () => {
  test('HTTP API by default: $default route to the alias, throttled stage with access logs, URL output', () => {
    const { template, api } = synth();
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$default' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 500 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 'apigateway.amazonaws.com', Action: 'lambda:InvokeFunction',
    });
    expect(api.url).toBeDefined();
    expect(Object.keys(template.findOutputs('*')).some(k => k.startsWith('ApiUrl'))).toBe(true);
  });

  test('the HTTP API is IAM-authorized by default; grantInvoke lets a principal call its $default stage', () => {
    // GIVEN
    const result = synth();
    const caller = new iam.Role(result.stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    // WHEN
    result.api.grantInvoke(caller);
    // THEN
    const { template } = result;
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$default', AuthorizationType: 'AWS_IAM' });
    const apiId = logicalIdOf(template, 'AWS::ApiGatewayV2::Api');
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalIdOf(template, 'AWS::IAM::Role', r => r.Properties.AssumeRolePolicyDocument.Statement[0].Principal.AWS !== undefined) }],
      PolicyDocument: {
        Statement: [{
          Action: 'execute-api:Invoke',
          Effect: 'Allow',
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':execute-api:eu-west-1:111111111111:', { Ref: apiId }, '/$default/*/*']] },
        }],
      },
    });
  });

  test('a public HTTP API is an explicit choice: HttpNoneAuthorizer', () => {
    const { template } = synth({ frontDoor: FrontDoor.httpApi({ defaultAuthorizer: new apigwv2.HttpNoneAuthorizer() }) });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$default', AuthorizationType: 'NONE' });
  });

  test('grantInvoke follows the front door: the URL with IAM auth, or the alias itself without a front door', () => {
    const withUrl = synth({ frontDoor: FrontDoor.functionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM }) });
    withUrl.api.grantInvoke(new iam.Role(withUrl.stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() }));
    withUrl.template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'lambda:InvokeFunctionUrl', Resource: { Ref: apiAliasOf(withUrl.template) } })]) },
    });
    const direct = synth({ frontDoor: FrontDoor.none() });
    direct.api.grantInvoke(new iam.Role(direct.stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() }));
    direct.template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{ Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { Ref: apiAliasOf(direct.template) } }] },
    });
  });

  test('function URL on the alias; a public URL gets both invoke permissions', () => {
    const { template } = synth({ frontDoor: FrontDoor.functionUrl({ authType: lambda.FunctionUrlAuthType.NONE }) });
    const aliasId = apiAliasOf(template);
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 0);
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE', Qualifier: 'live', InvokeMode: 'BUFFERED' });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunctionUrl', FunctionName: { Ref: aliasId }, FunctionUrlAuthType: 'NONE', Principal: '*',
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction', FunctionName: { Ref: aliasId }, InvokedViaFunctionUrl: true, Principal: '*',
    });
  });

  test('function URL with IAM auth and streaming grants nothing publicly', () => {
    const { template } = synth({ frontDoor: FrontDoor.functionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM, streaming: true }) });
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM', Qualifier: 'live', InvokeMode: 'RESPONSE_STREAM' });
    template.resourceCountIs('AWS::Lambda::Permission', 0);
  });

  test('none: no API, no URL', () => {
    const { template, api } = synth({ frontDoor: FrontDoor.none() });
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 0);
    template.resourceCountIs('AWS::Lambda::Url', 0);
    expect(api.url).toBeUndefined();
    expect(template.findOutputs('*')).toEqual({});
  });
});
