/** What a lab starts and must stop again. */
export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * Two servers started side by side. When one fails to start, the other is stopped once it has started, before the
 * failure is thrown: else it would outlive the lab (its processes, its ports, a lock such as ::1's) with no one to
 * stop it.
 */
export async function startBoth<A extends Stoppable, B extends Stoppable>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [first, second] = await Promise.allSettled([a, b]);
  if (first.status === 'fulfilled' && second.status === 'fulfilled') return [first.value, second.value];
  for (const started of [first, second]) if (started.status === 'fulfilled') await started.value.stop().catch(() => undefined);
  throw first.status === 'rejected' ? first.reason : (second as PromiseRejectedResult).reason;
}
