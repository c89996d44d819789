/**
 * One token per contribution kind. Kinds are multi-bound: every plugin that contributes an Issuer binds
 * to TOKENS.Issuer, and the composition root asks for all of them (Theia's contribution points).
 */
export const TOKENS = {
  DcvMethod: Symbol.for('certsmith.DcvMethod'),
  Issuer: Symbol.for('certsmith.Issuer'),
  Installer: Symbol.for('certsmith.Installer'),
  Notifier: Symbol.for('certsmith.Notifier'),
  Scheduler: Symbol.for('certsmith.Scheduler'),
  StatusSink: Symbol.for('certsmith.StatusSink'),
  FleetLink: Symbol.for('certsmith.FleetLink'),
  Resolver: Symbol.for('certsmith.Resolver'),
  Bus: Symbol.for('certsmith.Bus'),
  Config: Symbol.for('certsmith.Config'),
  Clock: Symbol.for('certsmith.Clock'),
  /** Where faults may be injected (FaultPoints); the program binds NO_FAULTS. */
  FaultPoints: Symbol.for('certsmith.FaultPoints'),
} as const;
