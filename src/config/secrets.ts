/**
 * Secrets come from env (or an interactive prompt), never from argv or the config file, and are never
 * printed. They live in this small object so that the rest of the code can pass them around without
 * ever formatting them.
 */
export const SECRET_ENV = {
  adminPassword: 'KEYCLOAK_ADMIN_PASSWORD',
  adminClientSecret: 'KEYCLOAK_ADMIN_CLIENT_SECRET',
  testUserPassword: 'MCP_KEYCLOAK_TEST_USER_PASSWORD',
} as const;

export interface Secrets {
  adminPassword?: string;
  adminClientSecret?: string;
  testUserPassword?: string;
}

/** The secrets set in `env` (empty values count as unset). */
export function secretsFromEnv(env: Record<string, string | undefined> = process.env): Secrets {
  const secrets: Secrets = {};
  const adminPassword = env[SECRET_ENV.adminPassword];
  const adminClientSecret = env[SECRET_ENV.adminClientSecret];
  const testUserPassword = env[SECRET_ENV.testUserPassword];
  if (adminPassword) secrets.adminPassword = adminPassword;
  if (adminClientSecret) secrets.adminClientSecret = adminClientSecret;
  if (testUserPassword) secrets.testUserPassword = testUserPassword;
  return secrets;
}

/** Replaces every known secret in a string: a last line of defence for error messages. */
export function redact(text: string, secrets: Secrets): string {
  let out = text;
  for (const value of Object.values(secrets)) {
    if (typeof value === 'string' && value.length >= 4) out = out.split(value).join('***');
  }
  return out.replace(/eyJ[\w-]+\.[\w-]+\.[\w-]*/g, '<token>');
}
