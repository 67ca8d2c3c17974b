import { Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { ConfigurationError } from './validation';

/** Throws when the selected subnets of `vpc` span fewer than two Availability Zones. */
export function validateSubnets(scope: Construct, prop: string, vpc: ec2.IVpc, selection: ec2.SubnetSelection) {
  let selected: ec2.SelectedSubnets;
  try {
    selected = vpc.selectSubnets(selection);
  } catch (e) {
    throw new ConfigurationError(scope, prop, JSON.stringify(selection),
      `The VPC has no such subnets (${(e as Error).message}). Pass \`vpcSubnets\` naming subnets the VPC has, in at least two Availability Zones.`);
  }
  const zones = selected.availabilityZones;
  if (zones.some(zone => Token.isUnresolved(zone))) return;
  const distinct = new Set(zones);
  if (distinct.size < 2) {
    throw new ConfigurationError(scope, prop, `${selected.subnets.length} subnet(s) in ${distinct.size} AZ(s) [${[...distinct].join(', ')}]`,
      'RDS and RDS Proxy need subnets in at least two Availability Zones; select (or add) subnets in a second AZ.');
  }
}
