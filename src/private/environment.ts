import { IResource, Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { ConfigurationError } from './validation';

/** What must match the stack's environment: the Region alone, or the account too. */
export type EnvironmentScope = 'region' | 'account and region';

/**
 * Refuses an imported resource whose account or Region is known and differs from the stack's. An RDS Proxy must be
 * in the same VPC as its database (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.html, "Quotas
 * and limitations"), so in the stack's Region; the target group names the database by identifier, which resolves
 * only in the stack's account; a KMS key, a secret read through the VPC's Secrets Manager endpoint and an event
 * source are regional. Nothing is checked where either side is an unresolved token (an environment-agnostic stack).
 */
export function checkSameEnvironment(scope: IConstruct, prop: string, resource: IResource, scopeOf: EnvironmentScope): void {
  const stack = Stack.of(scope);
  const { account, region } = resource.env;
  if (known(region) && known(stack.region) && region !== stack.region) {
    throw new ConfigurationError(scope, prop, `${resource.node.path} in ${region}`,
      `This stack deploys to ${stack.region}, and ${what(prop)} must be in the same Region: import one from ${stack.region}, or `
      + `deploy this API in a stack of ${region}.`);
  }
  if (scopeOf === 'account and region' && known(account) && known(stack.account) && account !== stack.account) {
    throw new ConfigurationError(scope, prop, `${resource.node.path} in account ${account}`,
      `This stack deploys to account ${stack.account}, and ${what(prop)} must be in the same account: deploy this API in a stack `
      + `of account ${account}.`);
  }
}

/**
 * Refuses an RDS endpoint host name (`name.id.REGION.rds.amazonaws.com`) of another Region than the stack's.
 *
 * @see https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ConnectToInstance.html (endpoint format)
 */
export function checkEndpointRegion(scope: IConstruct, prop: string, hostname: string): void {
  const stack = Stack.of(scope);
  if (!known(hostname) || !known(stack.region)) return;
  const region = /\.([a-z]{2}(?:-[a-z]+)+-\d+)\.rds\.amazonaws\.com(?:\.cn)?$/.exec(hostname)?.[1];
  if (region && region !== stack.region) {
    throw new ConfigurationError(scope, prop, hostname,
      `The endpoint is in ${region} but this stack deploys to ${stack.region}, and RDS Proxy must be in the database's VPC: `
      + `deploy this API in a stack of ${region}.`);
  }
}

/** Refuses Availability Zones that are not in the stack's Region (an imported VPC's `availabilityZones`). */
export function checkAvailabilityZones(scope: IConstruct, prop: string, zones: readonly string[]): void {
  const stack = Stack.of(scope);
  if (!known(stack.region)) return;
  // zone names are the Region's name and a letter (us-east-1a), Local Zones the Region's name and more (us-west-2-lax-1a)
  // aws-cdk-lib answers an unresolved context lookup with placeholder zones (dummy1a…) until the CLI fills it in
  const foreign = zones.filter(zone => known(zone) && !zone.startsWith('dummy') && !zone.startsWith(stack.region));
  if (foreign.length > 0) {
    throw new ConfigurationError(scope, prop, foreign.join(', '),
      `These Availability Zones are not in ${stack.region}, where this stack deploys: import the VPC with the zones of its own `
      + 'Region, and deploy this API in a stack of that Region.');
  }
}

function known(value: string | undefined): value is string {
  return value !== undefined && !Token.isUnresolved(value);
}

function what(prop: string): string {
  return `the resource given as ${prop}`;
}
