import { defineConfig } from 'vitest/config'

// Unit and integration tests: pure logic, the store, services, CLI and web host in Node.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
})
