/** Time helpers shared by the fault tests. */

/** A Lambda-like context with `ms` left from now. */
export const context = (ms: number) => {
  const end = Date.now() + ms;
  return { getRemainingTimeInMillis: () => end - Date.now() };
};

/** How long `work` took to settle, and its error. */
export async function timed(work: Promise<unknown>): Promise<{ ms: number; error: any }> {
  const started = Date.now();
  const error = await work.then(() => undefined, e => e);
  return { ms: Date.now() - started, error };
}
