#!/usr/bin/env node
import { fork } from 'node:child_process';
import readline from 'node:readline';
import { Communicator, type Side } from '@shmlink/core';
import { USAGE, UsageError, parseConsoleArgs, type ConsoleArgs } from './args';
import { Output } from './output';

function answerFor(text: string): string {
  return `Received "${text}" at ${new Date().toLocaleTimeString()}`;
}

function startPartner(args: ConsoleArgs, mySide: Side): void {
  const other: Side = mySide === 'a' ? 'b' : 'a';
  const child = fork(__filename, ['--answer', '--name', args.name, '--side', other, '--capacity', String(args.capacity)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, SHMLINK_CONSOLE_ROLE: 'partner' },
  });
  child.on('error', (err) => console.error(`partner failed: ${err.message}`));
  // The partner leaves when we do (it sees 'disconnected'); make sure of it on the way out.
  process.once('exit', () => child.kill());
}

async function run(args: ConsoleArgs): Promise<number> {
  const partnerRole = process.env.SHMLINK_CONSOLE_ROLE === 'partner';
  const out = new Output(partnerRole ? '    partner | ' : '');
  const comm = new Communicator(args.name, args.capacity, args.side === undefined ? {} : { side: args.side });
  let sent = 0;
  let received = 0;
  let lastActivity = Date.now();
  let peerGone = false;

  comm.on('data', (data) => {
    const text = data.toString('utf8');
    received++;
    lastActivity = Date.now();
    out.incoming(text);
    if (args.answer) void comm.write(answerFor(text)).catch(() => undefined);
  });
  comm.on('peer', (event) => {
    out.status(`peer ${event.type} (pid ${event.pid})`);
    peerGone = event.type === 'disconnected' || event.type === 'died';
    if (peerGone && args.answer) shutdown(0);
  });
  comm.on('error', (err) => out.status(`error ${err.code}: ${err.message}`));

  let finishing = false;
  const shutdown = (code: number): void => {
    if (finishing) return;
    finishing = true;
    comm
      .disposeAsync()
      .catch(() => undefined)
      .finally(() => process.exit(code));
  };
  process.on('SIGINT', () => shutdown(0));
  process.on('SIGTERM', () => shutdown(0));

  const interactive = process.stdin.isTTY === true;
  const send = async (line: string): Promise<void> => {
    sent++;
    lastActivity = Date.now();
    // A typed line is already on the screen; a piped or scripted one is not.
    if (!interactive || args.say.length > 0) out.sent(line);
    await comm.write(line);
  };
  const side = comm.writePosition === 0 ? 'a' : 'b';
  out.status(`'${args.name}' as side ${side} (pid ${process.pid})${interactive && !args.answer ? '; type a line and press Enter' : ''}`);
  comm.startReader();
  if (args.partner) startPartner(args, side);
  for (const line of args.say) await send(line);

  if (args.answer) return new Promise<number>(() => undefined); // runs until the peer leaves
  const rl = readline.createInterface({ input: process.stdin, terminal: interactive });
  for await (const line of rl) await send(line);
  if (interactive) {
    shutdown(0);
    return 0;
  }
  // Input ended (piped): wait for the replies, the peer leaving, or a quiet spell.
  while (!peerGone && received < sent && Date.now() - lastActivity < args.linger) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  shutdown(0);
  return 0;
}

try {
  const args = parseConsoleArgs(process.argv.slice(2));
  if (args.help) {
    console.log(USAGE);
  } else {
    run(args).catch((err: unknown) => {
      const code = (err as { code?: string }).code;
      console.error(`shmlink-console: ${code !== undefined ? `${code}: ` : ''}${(err as Error).message}`);
      process.exit(1);
    });
  }
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  console.error(`shmlink-console: ${err.message}\n\n${USAGE}`);
  process.exitCode = 2;
}
