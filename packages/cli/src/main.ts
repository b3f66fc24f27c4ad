// The `shmlink` command: the argument parser (commander) and the mapping of errors to exit
// statuses. Each command's work is in commands.ts, talk.ts and stat.ts.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { Side } from '@shmlink/core';
import { gc, inspect, ls, rm, type Output } from './commands';
import { EXIT, describeError, exitCodeOf } from './exit-codes';
import { stat } from './stat';
import { listen, send, type ListenFormat } from './talk';

const EXIT_CODES_HELP = `
Exit status: 0 ok, 1 failure, 2 usage or invalid argument (ERR_INVALID_ARGUMENT, ERR_INVALID_NAME),
3 ERR_SHM_NOT_FOUND, 4 in use by a live process (ERR_INVALID_STATE), 5 corrupt or not a channel
(ERR_CORRUPT, ERR_LAYOUT_MISMATCH), 6 ERR_PERMISSION, 7 ERR_TIMEOUT, 8 ERR_CLOSED,
9 ERR_MESSAGE_TOO_LARGE. Errors go to stderr as "shmlink: CODE: message".`;

function integer(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

const sideOption = (): Option => new Option('--side <side>', 'which side to take (default: the free one, a first)').choices(['a', 'b']);

/** Builds the program; `done` receives each command's exit status. */
function program(io: Output, done: (code: number) => void): Command {
  const cli = new Command('shmlink')
    .description('List, inspect, clean up and talk to shmlink channels (shared-memory objects on this machine).')
    .version(VERSION)
    .addHelpText('after', EXIT_CODES_HELP)
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) })
    .exitOverride();

  cli
    .command('ls')
    .description('list every shmlink object: channels, plain regions, named events and mutexes, segmented files, orphan doorbells')
    .option('--json', 'print JSON')
    .option('--prefix <prefix>', 'only objects whose name starts with this')
    .action((options: { json?: boolean; prefix?: string }) => done(ls(options, io)));

  cli
    .command('inspect')
    .description('decode a channel header field by field, with a verdict: healthy, stale (every attached process dead) or corrupt (what is wrong; exit 5)')
    .argument('<name>', 'the channel')
    .option('--json', 'print JSON')
    .action((name: string, options: { json?: boolean }) => done(inspect(name, options, io)));

  cli
    .command('rm')
    .description('remove a channel and its doorbells; refused (exit 4) while a live process holds it')
    .argument('<name>', 'the channel')
    .action((name: string) => done(rm(name, io)));

  cli
    .command('gc')
    .description('remove every channel no live process holds, and doorbells of missing channels; never one a live process holds (reported, exit 4)')
    .option('--dry-run', 'only say what would be removed')
    .option('--prefix <prefix>', 'only objects whose name starts with this')
    .action((options: { dryRun?: boolean; prefix?: string }) => done(gc(options, io)));

  cli
    .command('send')
    .description('send TEXT as one message, or each line of stdin ("-" or no TEXT) as a message')
    .argument('<name>', 'the channel')
    .argument('[text]', 'the message, or - for stdin (the default)')
    .addOption(sideOption())
    .addOption(new Option('--timeout <ms>', 'give up on a message not committed in time (exit 7)').default(5000).argParser(integer(1, 2 ** 31)))
    .action(async (name: string, text: string | undefined, options: { side?: Side; timeout: number }) => done(await send(name, text, options, io, process.stdin)));

  cli
    .command('listen')
    .description('print each message as it arrives (UTF-8 text by default), until Ctrl-C')
    .argument('<name>', 'the channel')
    .addOption(sideOption())
    .addOption(new Option('--json', 'one JSON object per message: time, length, text (or base64)').conflicts('hex'))
    .addOption(new Option('--hex', 'each message in hexadecimal'))
    .action(async (name: string, options: { side?: Side; json?: boolean; hex?: boolean }) => {
      const format: ListenFormat = options.json ? 'json' : options.hex ? 'hex' : 'text';
      done(await listen(name, { ...(options.side === undefined ? {} : { side: options.side }), format }, io));
    });

  cli
    .command('stat')
    .description('live message and byte rates and queue depth per direction; redrawn in place on a terminal, a line per interval when piped')
    .argument('<name>', 'the channel')
    .addOption(new Option('--interval <ms>', 'sampling interval').default(1000).argParser(integer(10, 3_600_000)))
    .addOption(new Option('--count <n>', 'stop after n samples').argParser(integer(1, 2 ** 31)))
    .action(async (name: string, options: { interval: number; count?: number }) => done(await stat(name, options, io, process.stdout.isTTY === true)));

  return cli;
}

const VERSION: string = (require('../package.json') as { version: string }).version;

/** Runs the command line `argv` (process.argv); resolves with the exit status. */
export async function main(argv: string[]): Promise<number> {
  const io: Output = {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
  };
  let code: number = EXIT.ok;
  try {
    await program(io, (c) => (code = c)).parseAsync(argv);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version end the parse by "throwing" with exit code 0.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    io.err(`shmlink: ${describeError(err)}`);
    return exitCodeOf(err);
  }
}
