/**
 * Named points of a run where a fault may be injected: an install calls `reached("<service>:<step>")` after each
 * step. The shipped program binds NO_FAULTS; only a test composition binds another (one that kills the process at
 * a point, to prove that the next run recovers).
 */
export interface FaultPoints {
  reached(point: string): void;
}

/** The program's binding: every point passes. */
export const NO_FAULTS: FaultPoints = { reached: () => undefined };
