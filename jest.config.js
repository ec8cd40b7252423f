// Native ESM under jest (node --experimental-vm-modules): keeps import.meta working and
// needs no transformIgnorePatterns for the ESM-only Kubernetes client (see STACK-NOTES).
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'es6' },
        sourceMaps: 'inline',
      },
    ],
  },
  globalSetup: '<rootDir>/test/support/global-setup.js',
  globalTeardown: '<rootDir>/test/support/global-teardown.js',
  testTimeout: 20000,
  // Tests run in a worker process, recycled once it holds more than this after a test file. Run in
  // the main process (jest's choice with one worker, as on 2 cores), the ESM module registries of
  // 150 files piled up to 1.8 GB: files late in the run ran many times slower under GC (the 4,000-fold
  // hosts test: 1.6 s alone, past 20 s there), and anything a test left open kept jest itself from
  // exiting. A worker is killed at the end whatever it holds.
  workerIdleMemoryLimit: '700MB',
};
