import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** The cdk-nag packs this library is checked against, by the prefix of their rule ids. */
const PACKS = {
  awsSolutions: 'AwsSolutions',
  serverless: 'Serverless',
  hipaa: 'HIPAA.Security',
  nist: 'NIST.800.53.R5',
} as const;

type Pack = keyof typeof PACKS;

/** A rule, by its name in each pack that has it, for example `{ hipaa: 'LambdaDLQ', nist: 'LambdaDLQ' }`. */
export type RuleNames = Partial<Record<Pack, string>>;

/**
 * Acknowledges compliance findings on `scope` (and so on every resource under it) with the reason they do not
 * apply. Call it on the narrowest construct the finding concerns.
 *
 * It records the construct metadata that `Validations.of(scope).acknowledge()` records and validation plugins such
 * as cdk-nag read, directly: that method refuses finding ids holding "::" more than once, as every finding about a
 * managed policy does (`IAM4[Policy::arn:<AWS::Partition>:…]`). This library depends on no plugin.
 */
export function acknowledge(scope: IConstruct, rules: RuleNames, reason: string): void {
  const acknowledged: Record<string, string> = {};
  for (const [pack, name] of Object.entries(rules)) acknowledged[`${PACKS[pack as Pack]}-${name}`] = reason;
  scope.node.addMetadata(Validations.ACKNOWLEDGED_RULES_METADATA_KEY, acknowledged);
}

/**
 * Acknowledges the inline-policy findings on a role this library creates: its policies are generated from
 * least-privilege grants on this library's resources and belong to this role alone.
 */
export function acknowledgeInlinePolicies(role: IConstruct): void {
  acknowledge(role, inHipaaNist('IAMNoInlinePolicy'),
    'The policies under this role are generated from least-privilege grants on the resources it works with and belong '
    + 'to this role alone; an inline policy keeps that one-to-one, where a customer managed policy could be attached elsewhere.');
}

/** The same rule name in the Serverless, HIPAA and NIST packs. */
export function inServerlessHipaaNist(name: string): RuleNames {
  return { serverless: name, hipaa: name, nist: name };
}

/** The same rule name in the HIPAA and NIST packs. */
export function inHipaaNist(name: string): RuleNames {
  return { hipaa: name, nist: name };
}
