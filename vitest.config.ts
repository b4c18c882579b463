import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // One Keycloak serves every file; each file works in a realm of its own.
    testTimeout: 60_000,
    hookTimeout: 480_000,
    maxWorkers: 2,
    reporters: ['default'],
  },
});
