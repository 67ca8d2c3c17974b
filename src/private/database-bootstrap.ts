import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Aws, CustomResource, Duration, Fn, Lazy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { databaseBootstrapAsset } from './assets';
import { acknowledge, managedPolicyFinding, rule } from './compliance';
import { vpcExecutionRole } from './execution-role';
import { encryptedLogGroup } from './log-group';
import { ConfigurationError } from './validation';
import { BoundMigrations } from '../migrations';

/** The bootstrap function's timeout: users and migrations of one deployment must finish within it. */
const BOOTSTRAP_TIMEOUT = Duration.minutes(10);

export interface DatabaseBootstrapProps {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly engine: string;
  readonly host: string;
  readonly port: number;
  readonly databaseName: string;
  readonly adminSecret: secretsmanager.ISecret;
  /** The database's security groups: the bootstrap function gets an ingress rule on the port. */
  readonly databaseConnections: ec2.Connections;
  readonly users: () => Array<{ name: string; access: string }>;
  readonly migrations?: BoundMigrations;
  readonly createEndpoints: boolean;
  /** Encrypts the function's log group. */
  readonly encryptionKey: kms.IKey;
}

/**
 * A custom resource that creates the application users and applies migrations at deploy time, as the admin,
 * from a function in the isolated subnets (reaching Secrets Manager and S3 through VPC endpoints).
 */
export class DatabaseBootstrap extends Construct {
  public readonly resource: CustomResource;
  public readonly function: lambda.Function;
  /** The Secrets Manager endpoint, when this construct created it. */
  public readonly secretsEndpoint?: ec2.InterfaceVpcEndpoint;

  constructor(scope: Construct, id: string, props: DatabaseBootstrapProps) {
    super(scope, id);
    const asset = databaseBootstrapAsset(props.engine);
    if (!fs.existsSync(path.join(asset, 'index.js'))) {
      throw new ConfigurationError(this, 'bootstrap', 'code missing',
        `The bootstrap bundle is not at ${asset}; run \`npx projen bundle:handlers\` (a packaged release ships it).`);
    }

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: props.createEndpoints
        ? 'Database bootstrap: the database port, the Secrets Manager endpoint and S3 through its gateway endpoint, nothing else'
        : 'Database bootstrap: the database port, and HTTPS to the Secrets Manager and S3 endpoints the VPC provides',
      allowAllOutbound: false,
    });
    props.databaseConnections.allowDefaultPortFrom(securityGroup, 'Deploy-time bootstrap as the admin');

    const dependencies: Construct[] = [securityGroup, ...props.databaseConnections.securityGroups];
    if (props.createEndpoints) {
      const secretsEndpoint = new ec2.InterfaceVpcEndpoint(this, 'SecretsManagerEndpoint', {
        vpc: props.vpc,
        service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
        subnets: props.vpcSubnets,
        privateDnsEnabled: true,
        open: false,
      });
      secretsEndpoint.connections.allowDefaultPortFrom(securityGroup, 'Database bootstrap to Secrets Manager');
      this.secretsEndpoint = secretsEndpoint;
      const subnets = props.vpc.selectSubnets(props.vpcSubnets).subnets;
      if (subnets.some(subnet => !subnet.routeTable?.routeTableId)) {
        throw new ConfigurationError(this, 'vpc', 'imported without route table ids',
          'The bootstrap answers CloudFormation through an S3 gateway endpoint, which needs the subnets\' route tables: '
          + 'import the VPC with its route table ids, or set bootstrapEndpoints: false if it already reaches S3 and Secrets Manager.');
      }
      const s3Endpoint = new ec2.GatewayVpcEndpoint(this, 'S3Endpoint', {
        vpc: props.vpc,
        service: ec2.GatewayVpcEndpointAwsService.S3,
        subnets: [props.vpcSubnets],
      });
      // The bootstrap's only S3 request is the answer to CloudFormation, a PUT to a presigned URL of the Region's
      // cloudformation-custom-resource-response-REGION bucket, REGION written without dashes
      // (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cfn-vpce-bucketnames.html)
      s3Endpoint.addToPolicy(new iam.PolicyStatement({
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [`arn:${Aws.PARTITION}:s3:::cloudformation-custom-resource-response-${regionWithoutDashes(this)}/*`],
      }));
      securityGroup.addEgressRule(ec2.Peer.prefixList(s3PrefixListId(this, props.encryptionKey)), ec2.Port.tcp(443),
        'HTTPS to S3 through the gateway endpoint: the answer to CloudFormation');
      dependencies.push(secretsEndpoint, s3Endpoint);
    } else {
      securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to the Secrets Manager and S3 endpoints of the VPC');
    }

    const logGroup = encryptedLogGroup(this, 'LogGroup', props.encryptionKey);
    const executionRole = vpcExecutionRole(this, logGroup, lambda.Tracing.ACTIVE);
    this.function = new lambda.Function(this, 'Function', {
      role: executionRole.role,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(stage(asset, props.migrations)),
      memorySize: 512,
      timeout: BOOTSTRAP_TIMEOUT,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: [securityGroup],
      logGroup,
      description: 'Creates the IAM application users and applies migrations, as the database admin, at deploy time',
    });
    executionRole.configureTracing(this.function);
    acknowledge(this.function, [...rule('LambdaDLQ', 'serverless', 'hipaa', 'nist'), ...rule('LambdaConcurrency', 'hipaa', 'nist')],
      'Invoked only by CloudFormation, once per deployment that changes users or migrations: a failure fails that '
      + 'deployment, which CloudFormation reports and rolls back, so there is no event to keep and no concurrency to cap.');
    props.adminSecret.grantRead(this.function);
    const alias = new lambda.Alias(this, 'Alias', { aliasName: 'live', version: this.function.currentVersion });

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: alias.functionArn,
      resourceType: 'Custom::DatabaseBootstrap',
      // CloudFormation waits an hour by default for an answer that never comes (a function killed mid-migration):
      // ServiceTimeout, 1 to 3600 seconds, bounds it
      // (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-cloudformation-customresource.html)
      serviceTimeout: BOOTSTRAP_TIMEOUT.plus(Duration.minutes(2)),
      properties: {
        Engine: props.engine,
        Host: props.host,
        Port: String(props.port),
        Database: props.databaseName,
        SecretArn: props.adminSecret.secretArn,
        Users: Lazy.any({ produce: () => props.users() }),
        MigrationsHash: props.migrations?.hash ?? 'none',
      },
    });
    for (const dependency of dependencies) this.resource.node.addDependency(dependency);
    this.resource.node.addDependency(this.function);
  }
}

function regionWithoutDashes(scope: Construct): string {
  const region = Stack.of(scope).region;
  return Token.isUnresolved(region) ? Fn.join('', Fn.split('-', region)) : region.replace(/-/g, '');
}

/**
 * The id of the Region's S3 prefix list (`com.amazonaws.REGION.s3`), which a security group rule needs to reach the
 * S3 gateway endpoint and which CloudFormation exposes on no resource: read once per stack with
 * DescribeManagedPrefixLists, by aws-cdk-lib's AwsCustomResource (a function outside the VPC that holds no secret).
 */
function s3PrefixListId(scope: Construct, encryptionKey: kms.IKey): string {
  const serviceName = `com.amazonaws.${Stack.of(scope).region}.s3`;
  const call: cr.AwsSdkCall = {
    service: 'EC2',
    action: 'describeManagedPrefixLists',
    parameters: { Filters: [{ Name: 'prefix-list-name', Values: [serviceName] }] },
    physicalResourceId: cr.PhysicalResourceId.fromResponse('PrefixLists.0.PrefixListId'),
    outputPaths: ['PrefixLists.0.PrefixListId'],
  };
  const lookup = new cr.AwsCustomResource(scope, 'S3PrefixList', {
    onCreate: call,
    onUpdate: call,
    policy: cr.AwsCustomResourcePolicy.fromStatements([new iam.PolicyStatement({
      // DescribeManagedPrefixLists has no resource-level permissions
      actions: ['ec2:DescribeManagedPrefixLists'],
      resources: ['*'],
    })]),
    installLatestAwsSdk: false,
    logGroup: encryptedLogGroup(scope, 'S3PrefixListLogGroup', encryptionKey),
    memorySize: 256,
    timeout: Duration.minutes(2),
  });
  acknowledge(lookup, [...rule('IAM5[Resource::*]', 'awsSolutions'), ...rule('IAMNoInlinePolicy', 'hipaa', 'nist')],
    'ec2:DescribeManagedPrefixLists has no resource-level permissions, so its resource is "*"; it is the only action of '
    + 'this inline policy, which belongs to the lookup function alone and reads the id of an AWS-managed, public prefix list.');
  // aws-cdk-lib keeps one function for every AwsCustomResource of a stack, at the stack's root
  const provider = Stack.of(scope).node.tryFindChild(`AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`);
  if (provider) {
    acknowledge(provider, [
      ...rule('L1', 'awsSolutions'), ...rule('LambdaLatestVersion', 'serverless'),
      ...managedPolicyFinding('service-role/AWSLambdaBasicExecutionRole'),
      ...rule('LambdaDLQ', 'serverless', 'hipaa', 'nist'), ...rule('LambdaTracing', 'serverless'),
      ...rule('LambdaConcurrency', 'hipaa', 'nist'), ...rule('LambdaInsideVPC', 'hipaa', 'nist'),
    ], 'aws-cdk-lib\'s AwsCustomResource function, which chooses its runtime and role and runs only when CloudFormation '
      + 'creates or updates the stack, to read the public id of the Region\'s S3 prefix list: it holds no secret and no data, '
      + 'a failure fails that deployment (so there is no event to keep, trace or throttle), and it runs outside the VPC '
      + 'because the isolated subnets have no route to the EC2 API.');
  }
  return lookup.getResponseField('PrefixLists.0.PrefixListId');
}

/** The function's code: the bundled handler, with the migrations next to it. */
function stage(asset: string, migrations: BoundMigrations | undefined): string {
  if (!migrations) return asset;
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'sql-api-bootstrap-'));
  fs.copyFileSync(path.join(asset, 'index.js'), path.join(directory, 'index.js'));
  fs.mkdirSync(path.join(directory, 'migrations'));
  for (const file of migrations.files) {
    fs.copyFileSync(path.join(migrations.directory, file), path.join(directory, 'migrations', file));
  }
  return directory;
}
