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

/** The ids of one rule (or one finding of a rule, like `IAM5[Resource::*]`) in each of `packs`. */
export function rule(name: string, ...packs: Pack[]): string[] {
  return packs.map(pack => `${PACKS[pack]}-${name}`);
}

/** The AwsSolutions finding about the AWS managed policy `policyName` (for example `service-role/X`) on a role. */
export function managedPolicyFinding(policyName: string): string[] {
  return rule(`IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${policyName}]`, 'awsSolutions');
}

/**
 * Acknowledges compliance findings on `scope` (and so on every resource under it) with the reason they do not
 * apply. Call it on the narrowest construct the finding concerns.
 *
 * It records the construct metadata that `Validations.of(scope).acknowledge()` records and validation plugins such
 * as cdk-nag read, directly: that method refuses finding ids holding "::" more than once, as every finding about a
 * managed policy does (`IAM4[Policy::arn:<AWS::Partition>:…]`). This library depends on no plugin.
 */
export function acknowledge(scope: IConstruct, ruleIds: string[], reason: string): void {
  scope.node.addMetadata(Validations.ACKNOWLEDGED_RULES_METADATA_KEY, Object.fromEntries(ruleIds.map(id => [id, reason])));
}

/**
 * Acknowledges the inline-policy findings on a role this library creates: its policies are generated from
 * least-privilege grants on this library's resources and belong to this role alone.
 */
export function acknowledgeInlinePolicies(role: IConstruct): void {
  acknowledge(role, rule('IAMNoInlinePolicy', 'hipaa', 'nist'),
    'The policies under this role are generated from least-privilege grants on the resources it works with and belong '
    + 'to this role alone; an inline policy keeps that one-to-one, where a customer managed policy could be attached elsewhere.');
}

/**
 * Acknowledges the dead-letter-queue findings on a queue that is itself a dead-letter queue (of asynchronous
 * invocations, or of a pipe's stream source), which the packs only recognize when another queue redrives into it.
 */
export function acknowledgeDeadLetterQueue(queue: IConstruct, keeps: string): void {
  acknowledge(queue, [...rule('SQS3', 'awsSolutions'), ...rule('SQSRedrivePolicy', 'serverless')],
    `This queue is itself a dead-letter queue: it keeps ${keeps} for 14 days, to be inspected and replayed. A `
    + 'dead-letter queue of its own would only move those messages once more.');
}
