/** The JSON Schema file the package ships (schema/mcp-keycloak.schema.json), built from the one zod schema. */
import { configJsonSchema } from '../config/schema.js';

/** The JSON Schema of mcp-keycloak.json, with its $id and title. */
function schemaDocument(): Record<string, unknown> {
  return {
    ...configJsonSchema(),
    $id: 'https://unpkg.com/mcp-keycloak/schema/mcp-keycloak.schema.json',
    title: 'mcp-keycloak configuration (mcp-keycloak.json)',
  };
}

/** The schema file's exact text (`npm run schema` writes it; a unit test checks the committed copy is current). */
export const schemaText = () => `${JSON.stringify(schemaDocument(), null, 2)}\n`;
