import { defineConfig } from 'vitest/config';

/**
 * Two tiers in one run. `unit` (test/unit) needs no server and takes seconds: `npm run test:unit`.
 * `keycloak` (test/integration, test/e2e) shares one real Keycloak, found or started by its globalSetup,
 * which only runs when a file of that tier is selected; each of its files works in a realm of its own.
 * The browser tier (test/browser: sign-ins through Chromium, `npm run test:browser`) is part of `keycloak`, so it
 * shares that Keycloak: a project of its own would run the globalSetup again and start a second one.
 * `npm test` runs both.
 */
export default defineConfig({
  test: {
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'keycloak',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts', 'test/browser/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 480_000,
        },
      },
    ],
  },
});
