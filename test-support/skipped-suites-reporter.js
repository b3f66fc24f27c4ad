// A jest reporter beside the default one: after the run it lists each suite skipped for a missing
// system package (test-support/system-needs.ts) with the command that enables it, so that
// "Test Suites: N skipped" is never a silent gap.
'use strict';
const path = require('node:path');

const SKIP_MARK = 'SKIPPED, needs';

class SkippedSuitesReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
    this.skipped = [];
  }

  onTestResult(_test, result) {
    const ran = result.numPassingTests + result.numFailingTests;
    if (ran > 0 || result.testExecError != null) return;
    const title = result.testResults.flatMap((r) => r.ancestorTitles).find((t) => t.includes(SKIP_MARK));
    if (title !== undefined) {
      this.skipped.push(`${path.relative(this.rootDir, result.testFilePath)}: ${title}`);
    }
  }

  onRunComplete() {
    if (this.skipped.length === 0) return;
    process.stderr.write(`\nSkipped suites (a system package is missing; not a failure):\n`);
    for (const line of this.skipped) process.stderr.write(`  ${line}\n`);
  }
}

module.exports = SkippedSuitesReporter;
