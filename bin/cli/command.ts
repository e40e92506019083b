/** What every credwatch command line shares: help, usage errors on stderr, exit codes. */
import { type Command, CommanderError } from 'commander';

/**
 * Parses `argv` (the user's arguments) with the conventions of both commands: `helpAfter` after the
 * options in `--help`, a usage error followed by a hint, messages on stderr.
 * @returns undefined to go on, or the exit code to end with: 0 after `--help` or `--version`, 2 for
 *   bad usage
 */
export function parseCommandLine(
  program: Command,
  argv: readonly string[],
  helpAfter: string,
): number | undefined {
  program
    .addHelpText('after', helpAfter)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    program.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  return undefined;
}
