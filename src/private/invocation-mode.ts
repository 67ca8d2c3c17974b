import { IConstruct } from 'constructs';

/**
 * Scopes whose `SqlFunction` is invoked synchronously only (a worker, which its pipe invokes with the batch): it gets
 * no asynchronous-invocation configuration or dead-letter queue unless `destinations` are set.
 */
const synchronousOnly = new WeakSet<IConstruct>();

export function markSynchronousOnly(scope: IConstruct): void {
  synchronousOnly.add(scope);
}

export function isSynchronousOnly(scope: IConstruct): boolean {
  return synchronousOnly.has(scope);
}

/** Scopes whose `SqlFunction` runs once per deployment (a pre-traffic hook): it holds one connection at most. */
const oncePerDeployment = new WeakSet<IConstruct>();

export function markOncePerDeployment(scope: IConstruct): void {
  oncePerDeployment.add(scope);
}

export function isOncePerDeployment(scope: IConstruct): boolean {
  return oncePerDeployment.has(scope);
}
