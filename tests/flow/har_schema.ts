/** The HAR 1.2 JSON schema (npm har-schema) checked with Ajv, on Deno and Bun alike. */
import { Ajv } from "ajv";
import formats from "ajv-formats";
import draft06 from "ajv/dist/refs/json-schema-draft-06.json" with { type: "json" };
import harSchemas from "har-schema";

type Validator = ((data: unknown) => boolean) & { errors?: unknown[] | null };

let harValidator: Validator | undefined;

/** Validates a HAR document against the HAR 1.2 JSON schema (har-schema) with Ajv. */
export function validateHar(har: unknown): { valid: boolean; errors: unknown[] } {
  if (harValidator === undefined) {
    // har-schema uses draft-06 and two keywords no draft defines ("optional", "min"): not strict.
    const ajv = new Ajv({ strict: false, allErrors: true });
    // CommonJS: module.exports is the plugin and also has it as .default (typed that way).
    formats.default(ajv);
    ajv.addMetaSchema(draft06);
    const schemas = harSchemas as Record<string, object>;
    for (const [name, schema] of Object.entries(schemas)) {
      if (name !== "har") ajv.addSchema(schema);
    }
    harValidator = ajv.compile(schemas.har) as Validator;
  }
  const valid = harValidator(har);
  return { valid, errors: harValidator.errors ?? [] };
}
