import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ApiHandler, ExistingClusterOptions, ExistingDatabase, ExistingInstanceOptions, ServerlessSqlApi, ServerlessSqlApiProps } from '../src';
import { deployOrderProblems } from './referees/deploy-order';

/** A VPC imported with isolated subnets (and their route tables) in two AZs; `attrs` override or remove parts. */
export function importedVpc(stack: Stack, attrs: Partial<ec2.VpcAttributes> = {}): ec2.IVpc {
  return ec2.Vpc.fromVpcAttributes(stack, 'Imported', {
    vpcId: 'vpc-1234',
    availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    isolatedSubnetIds: ['subnet-a', 'subnet-b'],
    isolatedSubnetRouteTableIds: ['rtb-a', 'rtb-b'],
    ...attrs,
  });
}

/** An existing PostgreSQL instance imported with everything the proxy needs; `attrs` override or remove parts. */
export function existingInstance(stack: Stack, attrs: Partial<rds.DatabaseInstanceAttributes> = {},
  options: Partial<ExistingInstanceOptions> = {}): ExistingDatabase {
  return ExistingDatabase.instance({
    instance: rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, 'Db', {
      instanceIdentifier: 'db',
      instanceEndpointAddress: 'db.example',
      port: 5432,
      securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'DbSg', 'sg-db')],
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16_6 }),
      instanceResourceId: 'db-X',
      ...attrs,
    }),
    adminSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Admin', 'admin'),
    ...options,
  });
}

/** An existing Aurora MySQL cluster imported with everything the proxy needs; `attrs` override or remove parts. */
export function existingCluster(stack: Stack, attrs: Partial<rds.DatabaseClusterAttributes> = {},
  options: Partial<ExistingClusterOptions> = {}): ExistingDatabase {
  return ExistingDatabase.cluster({
    cluster: rds.DatabaseCluster.fromDatabaseClusterAttributes(stack, 'Db', {
      clusterIdentifier: 'orders',
      clusterEndpointAddress: 'orders.cluster-abc.eu-west-1.rds.amazonaws.com',
      port: 3306,
      securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'DbSg', 'sg-db')],
      engine: rds.DatabaseClusterEngine.auroraMysql({ version: rds.AuroraMysqlEngineVersion.VER_3_10_3 }),
      clusterResourceIdentifier: 'cluster-XYZ',
      ...attrs,
    }),
    adminSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Admin', 'admin'),
    ...options,
  });
}

/**
 * Construct tests skip asset bundling (aws-cdk-lib's `aws:cdk:bundling-stacks` context, read from CDK_CONTEXT_JSON by
 * every App): a test about bundling gives its App `{ context: BUNDLE_EVERYTHING }`, which takes precedence.
 */
process.env.CDK_CONTEXT_JSON ??= JSON.stringify({ 'aws:cdk:bundling-stacks': [] });
export const BUNDLE_EVERYTHING = { 'aws:cdk:bundling-stacks': ['**'] };

export const HANDLER_ENTRY = path.join(__dirname, 'fixtures', 'handler.ts');

export function nodeHandler() {
  return ApiHandler.nodejs({ entry: HANDLER_ENTRY });
}

export function newStack(): Stack {
  return new Stack(new App(), 'Stack', { env: { account: '111111111111', region: 'eu-west-1' } });
}

export interface Synthesized {
  readonly stack: Stack;
  readonly api: ServerlessSqlApi;
  readonly template: Template;
  readonly annotations: Annotations;
}

/** Builds a ServerlessSqlApi in a fresh stack; `setup` may create what the props need inside that stack. */
export function synth(props: Partial<ServerlessSqlApiProps> = {}, setup?: (stack: Stack) => Partial<ServerlessSqlApiProps>): Synthesized {
  const stack = newStack();
  const extra = setup ? setup(stack) : {};
  const api = new ServerlessSqlApi(stack, 'Api', { handler: nodeHandler(), ...props, ...extra });
  let template: Template | undefined;
  return {
    stack,
    api,
    // synthesized on first use, so that a test may still add to the stack before reading the template; every
    // stack a test reads goes through the deploy-order referee
    get template() {
      return template ??= refereed(Template.fromStack(stack));
    },
    get annotations() {
      this.template;
      return Annotations.fromStack(stack);
    },
  };
}

/** `template`, once the deploy-order referee found nothing that CloudFormation could create in the wrong order. */
export function refereed(template: Template): Template {
  const problems = deployOrderProblems(template.toJSON());
  if (problems.length > 0) throw new Error(`CloudFormation could create these in the wrong order:\n${problems.join('\n')}`);
  return template;
}

/** Resources of one type, as [logicalId, resource] pairs. */
export function resourcesOf(template: Template, type: string): Array<[string, any]> {
  return Object.entries(template.findResources(type));
}

export function logicalIdOf(template: Template, type: string, match: (r: any) => boolean = () => true): string {
  const found = resourcesOf(template, type).filter(([, r]) => match(r));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0][0];
}
