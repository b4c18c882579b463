/** The JSON Schema file the package ships (schema/mcp-keycloak.schema.json), built from the one zod schema. */
import { configJsonSchema } from '../config/schema.js';

export function schemaDocument(): Record<string, unknown> {
  return {
    ...configJsonSchema(),
    $id: 'https://unpkg.com/mcp-keycloak/schema/mcp-keycloak.schema.json',
    title: 'mcp-keycloak configuration (mcp-keycloak.json)',
  };
}

export const schemaText = () => `${JSON.stringify(schemaDocument(), null, 2)}\n`;
