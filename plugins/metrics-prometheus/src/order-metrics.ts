import type { StatusReport } from '@certsmith/core';
import type { GaugeDeclarer } from './gauges.js';

/** Orders the CA is still working on, per target and issuer: how many, and the longest wait. */
export function recordPendingOrders(gauge: GaugeDeclarer, status: StatusReport): void {
  const count = gauge('pending_orders', 'Orders placed with the issuer that the CA has not finished yet.', ['target', 'issuer']);
  const longest = gauge('pending_order_longest_wait_seconds', 'How long the oldest of those orders has waited, in seconds.', ['target', 'issuer']);
  for (const target of status.targets) {
    const byIssuer = new Map<string, { orders: number; waited: number }>();
    for (const order of target.pending) {
      const entry = byIssuer.get(order.issuer) ?? { orders: 0, waited: 0 };
      entry.orders++;
      entry.waited = Math.max(entry.waited, order.waitedSeconds);
      byIssuer.set(order.issuer, entry);
    }
    for (const [issuer, { orders, waited }] of byIssuer) {
      count.set({ target: target.target, issuer }, orders);
      longest.set({ target: target.target, issuer }, waited);
    }
  }
}
