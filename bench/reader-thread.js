'use strict';
// reader: 'event-loop' against reader: 'worker', in one run, alternating (docs/decisions.md §35).
// Plain JavaScript beside the bench (whose own report has a shorter comparison):
//
//   node scripts/pnpm.js run build && node bench/reader-thread.js [--rounds 3] [--count 200000] [--rtt 5000]
//
// This process is the measured receiver; a forked peer sends (throughput) or echoes (round trip).
// Per mode and size (64 B, 1 KiB, 64 KiB, 1 MiB, a small JSON object): throughput; the main
// thread's CPU per message (/proc/self/task/<pid>/schedstat, Linux — process.cpuUsage() would add
// the reader thread's); the whole process's
// CPU per message; event-loop utilisation; event-loop lag (a 1 ms interval timer's lateness, p99
// and max) while messages flow; and the round trip p50/p99 at 64 B with both sides in the mode.
// Ratios are worker / event-loop within the same round; the table shows medians over rounds.
const { fork } = require('node:child_process');
const fs = require('node:fs');
const { Communicator } = require('@shmlink/core');

// --worker-poll N: the reader thread's poll window (µs, `poll` and `pollBusy`) instead of the defaults.
const MODES = ['event-loop', 'worker'];
function modeOptions(mode) {
  const i = process.argv.indexOf('--worker-poll');
  if (mode !== 'worker' || i < 0) return { reader: mode };
  const us = Number(process.argv[i + 1]);
  return { reader: mode, poll: us, pollBusy: us };
}
let seq = 0;
const CAPACITY = 8 * 1024 * 1024;
// The 'json' case: a small object, decoded by the receiver's json codec (in the reader thread with
// reader: 'worker', whose values reach the event loop by structured clone).
const JSON_VALUE = { seq: 12345, name: 'sensor-7', ok: true, values: [1.5, 2.25, -3, 4e10], tags: ['a', 'bb', 'ccc'] };

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
}


// ---- the peer: opens side b with the mode it is told; blasts or echoes -----------------------
function peer() {
  let comm;
  process.on('message', async (cmd) => {
    if (cmd.op === 'open') {
      comm = new Communicator(cmd.name, CAPACITY, { side: 'b', ...(cmd.options ?? {}) });
      comm.on('error', (e) => console.error('peer error', e.code, e.message));
      if (cmd.echo) {
        comm.on('data', (d) => comm.send(d));
        comm.startReader();
      }
      process.send({ ok: true });
    } else if (cmd.op === 'blast') {
      const message = cmd.json ? Buffer.from(JSON.stringify(JSON_VALUE)) : Buffer.alloc(cmd.size, 7);
      for (let i = 0; i < cmd.count; i++) {
        if (!comm.send(message)) await new Promise((resolve) => comm.once('drain', resolve));
      }
      await comm.write(cmd.json ? Buffer.from('"end"') : Buffer.alloc(0)); // the end marker
      process.send({ ok: true });
    } else if (cmd.op === 'close') {
      comm.dispose();
      process.send({ ok: true });
    }
  });
}

// ---- the measured side ----------------------------------------------------------------------
function ask(child, cmd) {
  return new Promise((resolve) => {
    child.once('message', resolve);
    child.send(cmd);
  });
}

/** CPU time of this process's main thread in µs (utime + stime of /proc/self/task/<pid>/stat). */
function mainThreadCpuUs() {
  const stat = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15)
  return (ticks * 1e6) / 100; // USER_HZ is 100 on Linux
}

function percentile(sorted, p) {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Lateness of a 1 ms interval timer, sampled while a measurement runs. */
function lagSampler() {
  const lags = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    lags.push(Math.max(0, now - last - 1));
    last = now;
  }, 1);
  return () => {
    clearInterval(timer);
    lags.sort((a, b) => a - b);
    return { p99: percentile(lags, 99), max: lags[lags.length - 1] ?? NaN };
  };
}

async function throughput(child, mode, size, count) {
  const name = `rt${process.pid}-${++seq}`;
  const json = size === 'json';
  const comm = new Communicator(name, CAPACITY, { side: 'a', ...modeOptions(mode), codec: json ? 'json' : 'bytes' });
  await ask(child, { op: 'open', name });
  let received = 0;
  let done;
  const finished = new Promise((resolve) => (done = resolve));
  comm.on('data', (d) => {
    if (json ? d === 'end' : d.length === 0) done();
    else received++;
  });
  comm.startReader();
  await new Promise((resolve) => setTimeout(resolve, 50)); // the thread is up
  const stopLag = lagSampler();
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuUs();
  const t0 = performance.now();
  const blasting = ask(child, { op: 'blast', size, count, json });
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  const mainUs = mainThreadCpuUs() - main0;
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  const lag = stopLag();
  await blasting;
  await ask(child, { op: 'close' });
  comm.dispose();
  if (received !== count) throw new Error(`${mode} ${size}: received ${received} of ${count}`);
  return {
    rate: count / seconds,
    mainNsPerMsg: (mainUs * 1000) / count,
    processNsPerMsg: ((cpu.user + cpu.system) * 1000) / count,
    elu: elu.utilization,
    lagP99: lag.p99,
    lagMax: lag.max,
  };
}

async function roundTrip(child, mode, samples) {
  const name = `rt${process.pid}-${++seq}`;
  const comm = new Communicator(name, CAPACITY, { side: 'a', ...modeOptions(mode) });
  await ask(child, { op: 'open', name, options: modeOptions(mode), echo: true });
  const times = [];
  const ping = Buffer.alloc(64, 1);
  let sent = 0;
  let done;
  const finished = new Promise((resolve) => (done = resolve));
  const warmup = Math.min(2000, samples);
  comm.on('data', () => {
    const now = performance.now();
    if (sent > warmup) times.push(now - t);
    if (sent === samples + warmup) return done();
    sent++;
    t = performance.now();
    comm.send(ping);
  });
  comm.startReader();
  await new Promise((resolve) => setTimeout(resolve, 50));
  let t = performance.now();
  sent = 1;
  comm.send(ping);
  await finished;
  await ask(child, { op: 'close' });
  comm.dispose();
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50) * 1000, p99: percentile(times, 99) * 1000 };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main() {
  const rounds = arg('rounds', 3);
  const count = arg('count', 200_000);
  const rttSamples = arg('rtt', 5000);
  const sizes = [64, 1024, 65536, 1048576, 'json'];
  const child = fork(__filename, ['--peer'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const results = {}; // key -> mode -> [values per round]
  const put = (key, mode, value) => (((results[key] ??= {})[mode] ??= []).push(value));
  for (let round = 0; round < rounds; round++) {
    for (const size of sizes) {
      const n = size === 65536 ? Math.max(1000, Math.floor(count / 50)) : size === 1048576 ? Math.max(200, Math.floor(count / 1000)) : count;
      // Alternating which mode goes first, so that neither always meets a warmer machine.
      for (const mode of round % 2 === 0 ? MODES : [...MODES].reverse()) {
        const r = await throughput(child, mode, size, n);
        for (const [k, v] of Object.entries(r)) put(`${size === 'json' ? 'json' : `${size} B`} ${k}`, mode, v);
      }
    }
    for (const mode of round % 2 === 0 ? MODES : [...MODES].reverse()) {
      const r = await roundTrip(child, mode, rttSamples);
      put('rtt 64 B p50 µs', mode, r.p50);
      put('rtt 64 B p99 µs', mode, r.p99);
    }
    process.stderr.write(`round ${round + 1} of ${rounds} done\n`);
  }
  child.kill();
  const fmt = (v) => (Math.abs(v) >= 1000 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(3));
  console.log(`| measure (median of ${rounds}) | event-loop | worker | worker / event-loop (median of per-round ratios) |`);
  console.log('|---|---:|---:|---:|');
  for (const [key, byMode] of Object.entries(results)) {
    const ratios = byMode.worker.map((w, i) => w / byMode['event-loop'][i]);
    console.log(`| ${key} | ${fmt(median(byMode['event-loop']))} | ${fmt(median(byMode.worker))} | ${median(ratios).toFixed(2)}× |`);
  }
  const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`\n${new Date().toISOString()}, node ${process.version}, ${require('node:os').cpus().length} CPUs, load average ${load}`);
}

if (process.argv[2] === '--peer') peer();
else void main();
