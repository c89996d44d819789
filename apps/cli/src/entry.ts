// What every entry of the program does around its command: the arguments as invoked, and the exit code.

/** The arguments as the program was invoked: as `checkallsslcerts` (cPanel's name) it runs `check`. */
export function commandArgs(argv: string[]): string[] {
  const invokedAs = (process.argv[1] ?? '').split('/').pop() ?? '';
  return invokedAs.startsWith('checkallsslcerts') ? ['check', ...argv] : argv;
}

/** Sets the exit code the command returned; anything thrown this far is a bug, said as one and exit 1. */
export function exitWith(run: Promise<number>): void {
  run.then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`certsmith: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
