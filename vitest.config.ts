import { defineConfig } from 'vitest/config'

// Every test: pure logic and services (unit, integration) and the UI in Chromium through
// the web host (e2e; needs `electron-vite build` first, which `npm test` runs).
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 90_000,
    pool: 'forks',
    maxWorkers: 2,
    // Worker threads start TypeScript through tsx and the machine may be busy: wait generously
    // for what a test polls (jobs finishing, the page updating).
    expect: { poll: { timeout: 30_000, interval: 50 } },
  },
})
