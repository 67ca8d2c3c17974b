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
