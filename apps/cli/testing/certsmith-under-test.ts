#!/usr/bin/env node
// certsmith as the tests run it: the built program (../dist) with the test composition's bindings, the only place that
// reads them from the environment. Bundled by build.mjs to testing/dist/certsmith-under-test.js; never shipped.
//   CERTSMITH_FAKE_NOW=<ISO date>            the clock stands still at that time (expiry rules without waiting)
//   CERTSMITH_FAULT_KILL_AT=<service>:<step>  the process kills itself (SIGKILL) when an install reaches that point
// DNS queries and updates go to loopback addresses only: a config that keeps the IANA root hints fails at once.
import { NO_FAULTS, UsageError, type Clock, type FaultPoints } from '@certsmith/core';
import { LOOPBACK_ONLY } from '@certsmith/dns';
import { start, type Overrides } from '../src/program.js';
import { reportUsageError } from '../src/command-line.js';
import { commandArgs, exitWith } from '../src/entry.js';
import { USAGE, answeredAtOnce, version } from '../src/usage.js';

function fixedClock(at: string | undefined): Clock | undefined {
  if (!at) return undefined;
  const now = new Date(at);
  if (Number.isNaN(now.getTime())) throw new UsageError('BAD_FAKE_NOW', `CERTSMITH_FAKE_NOW="${at}" is not a date`);
  return { now: () => new Date(now) };
}

function killAt(point: string | undefined): FaultPoints {
  if (!point) return NO_FAULTS;
  return {
    reached: (at) => {
      if (at === point) process.kill(process.pid, 'SIGKILL');
    },
  };
}

async function main(argv: string[]): Promise<number> {
  const args = commandArgs(argv);
  if (answeredAtOnce(args)) return 0;
  let overrides: Overrides;
  try {
    overrides = {
      clock: fixedClock(process.env.CERTSMITH_FAKE_NOW),
      faults: killAt(process.env.CERTSMITH_FAULT_KILL_AT),
      dnsAddresses: LOOPBACK_ONLY,
    };
  } catch (error) {
    return reportUsageError(error);
  }
  return start(args, { usage: USAGE, version }, overrides);
}

exitWith(main(process.argv.slice(2)));
