/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/demos', '<rootDir>/bench', '<rootDir>/consumer'],
  testMatch: ['**/test/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }],
  },
  // Cross-process tests spawn real processes; give them room on a loaded 2-core machine.
  testTimeout: 60000,
  // Real shared-memory names are global to the machine: run test files one at a time.
  maxWorkers: 1,
  // Suites skipped for a missing system package are listed with the command that enables them.
  reporters: ['default', '<rootDir>/test-support/skipped-suites-reporter.js'],
};
